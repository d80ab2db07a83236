"""``aio-classify create``'s pieces: rules from options or a file, creations in input order."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from pathlib import Path

import pytest

from aio_classify import ClassifyClient, ClassifyConfiguration, ClassifyJob, ClassifyRule
from aio_classify.cli._create import configuration_from, created_in_order, rule_option
from aio_classify.testing import FakeClassifyServer

INVOICE = ClassifyRule(type="invoice", description="Has an invoice number and a total")


def test_a_rule_option_splits_at_the_first_equals_sign() -> None:
    assert rule_option("invoice=Has an invoice number and a total") == INVOICE
    assert rule_option(" memo = Says x=1 somewhere ") == ClassifyRule(
        type="memo", description="Says x=1 somewhere"
    )
    for bad in ("invoice", "=Has an invoice number", " =x"):
        with pytest.raises(argparse.ArgumentTypeError, match="TYPE=DESCRIPTION"):
            rule_option(bad)


def test_the_configuration_comes_from_exactly_one_option(tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.json"
    rules_file.write_text(json.dumps([{"type": "invoice", "description": INVOICE.description}]))
    expected = (ClassifyConfiguration(rules=[INVOICE]), None)
    assert configuration_from([INVOICE], None, None) == expected
    assert configuration_from(None, str(rules_file), None) == expected
    assert configuration_from(None, None, "cfg-1") == (None, "cfg-1")
    for options in (
        (None, None, None),
        ([INVOICE], None, "cfg-1"),
        ([INVOICE], str(rules_file), None),
    ):
        with pytest.raises(ValueError, match="--rule TYPE=DESCRIPTION, --rules-file or"):
            configuration_from(*options)


def test_a_rule_without_a_field_is_named_by_its_place_and_type(tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.json"
    good = {"type": "invoice", "description": INVOICE.description}
    rules_file.write_text(json.dumps([good, {"type": "memo"}]))
    with pytest.raises(ValueError, match="lacks") as caught:
        configuration_from(None, str(rules_file), None)
    assert str(caught.value) == (
        "configuration.rules[1] (type 'memo') lacks the field 'description'"
    )
    rules_file.write_text(json.dumps([good, {"description": INVOICE.description}]))
    with pytest.raises(ValueError, match=r"^configuration.rules\[1\] lacks the field 'type'$"):
        configuration_from(None, str(rules_file), None)


def test_a_whole_configuration_in_the_rules_file(tmp_path: Path) -> None:
    rules_file = tmp_path / "configuration.json"
    whole = {"rules": [{"type": "invoice", "description": INVOICE.description}], "mode": "FAST"}
    rules_file.write_text(json.dumps(whole))
    configuration, _ = configuration_from(None, str(rules_file), None)
    assert configuration is not None
    assert configuration.rules == (INVOICE,)
    assert configuration.mode == "FAST"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the rules file: No such file"),
        ("{not json", "the rules file is not JSON"),
        ('{"type": "invoice"}', "must hold a JSON file: a list of"),
        ('"invoice"', "must hold a JSON file: a list of"),
        ("[]", "at least one rule"),
        ('[{"type": "invoice", "description": "short"}]', r"rules\[0\].description"),
    ],
)
def test_a_bad_rules_file_is_a_message_for_the_user(
    tmp_path: Path, content: str | None, message: str
) -> None:
    rules_file = tmp_path / "rules.json"
    if content is not None:
        rules_file.write_text(content)
    with pytest.raises(ValueError, match=message):
        configuration_from(None, str(rules_file), None)


def test_bad_rules_on_the_command_line_name_the_rule() -> None:
    with pytest.raises(ValueError, match=r"rules\[1\].description must be"):
        configuration_from([INVOICE, rule_option("memo=short")], None, None)


async def test_creations_run_a_few_at_a_time_and_come_out_in_input_order(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    server.latency = 0.05
    inputs = [f"dfl-invoice-{n:03d}.pdf" for n in range(40)]
    configuration = ClassifyConfiguration(rules=[INVOICE])

    async def create(file_input: str) -> ClassifyJob:
        return await client.create_job(file_input, configuration)

    jobs = [job async for job in created_in_order(create, inputs, 4)]
    assert [job.file_input for job in jobs] == inputs
    assert len(set(server.job_ids)) == 40
    assert server.max_in_flight == 4


async def test_after_a_failure_the_jobs_in_flight_are_still_handed_out_then_the_error(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    server.latency = 0.05
    configuration = ClassifyConfiguration(rules=[INVOICE])

    async def create(file_input: str) -> ClassifyJob:
        if file_input == "dfl-2":
            await asyncio.sleep(0.01)
            raise RuntimeError("the service failed")
        return await client.create_job(file_input, configuration)

    created: list[str | None] = []

    async def consume() -> None:
        async for job in created_in_order(create, [f"dfl-{n}" for n in range(10)], 3):
            created.append(job.file_input)

    with pytest.raises(RuntimeError, match="the service failed"):
        await consume()
    # dfl-3 and dfl-4 started before the failure was seen, and finished; nothing started after.
    assert created == ["dfl-0", "dfl-1", "dfl-3", "dfl-4"]
    assert sorted(server.job(i)["file_input"] for i in server.job_ids) == created  # type: ignore[index]


async def test_a_consumer_that_stops_early_cancels_the_creations_still_running(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    server.latency = 0.05
    configuration = ClassifyConfiguration(rules=[INVOICE])

    async def create(file_input: str) -> ClassifyJob:
        return await client.create_job(file_input, configuration)

    async with contextlib.aclosing(created_in_order(create, ["a", "b", "c", "d"], 2)) as jobs:
        async for _ in jobs:
            break
    creating = [t for t in asyncio.all_tasks() if "create" in repr(t.get_coro())]
    assert creating == []

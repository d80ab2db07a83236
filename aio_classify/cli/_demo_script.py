"""``aio-classify demo``: the whole client at work against the fake server, in one process.

No key and no network: a ``FakeClassifyServer`` on 127.0.0.1 is seeded with a few thousand
realistic jobs; the demo lists and filters them, creates a few hundred more, waits for those with
the progress bar while the fake finishes them over a few seconds, compares waiting by polling with
waiting on webhook events, and sums up what happened.
"""

from __future__ import annotations

import asyncio
import io
import random
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TextIO

from .._client import ClassifyClient
from .._core.models import ClassifyConfiguration, ClassifyJob, ClassifyRule
from .._core.sanitize import one_line
from ..testing import FakeClassifyServer
from ._demo_webhooks import compare_waits
from ._output import NO_RULE_MATCHED, TableWriter
from ._progress import watch_with_progress

__all__ = ["run"]

Say = Callable[[str], None]

#: Every line the demo prints fits an 80-column terminal.
WIDTH = 79
#: Where the text of a step starts: after ``  list      ``.
INDENT = " " * 12

DEMO_KEY = "demo-key"
SAVED_CONFIGURATION = "cfg-demo-invoices"
RULES = (
    ClassifyRule(type="invoice", description="Has an invoice number, line items and a total."),
    ClassifyRule(type="receipt", description="Proof of purchase with items, taxes and payment."),
    ClassifyRule(type="contract", description="Legal agreement between parties, with signatures."),
    ClassifyRule(type="resume", description="A CV with work experience, education and skills."),
)
#: File names the fake classifies by: a rule's type in the name matches that rule.
#: Seconds the fake adds to each request, so concurrency has something to overlap.
LATENCY = 0.02
STEMS = ("invoice", "invoice", "receipt", "contract", "resume", "scan", "memo")


async def run(
    *, jobs: int = 3000, new_jobs: int = 300, seed: int = 0, out: TextIO | None = None
) -> None:
    out = out or sys.stdout
    started = time.monotonic()

    def say(text: str = "") -> None:  # flushed, so a pipe shows each step as it happens
        out.write(text + "\n")
        out.flush()

    say("aio-classify demo: a fake Classify server on this machine; no key, no network.")
    say()
    async with FakeClassifyServer(api_key=DEMO_KEY, seed=seed, latency=LATENCY) as server:
        saved = jobs // 6
        server.seed_jobs(jobs - saved)
        server.seed_jobs(saved, configuration_id=SAVED_CONFIGURATION)
        say(f"  server    {server.url}  ({jobs:,} jobs seeded over the last 30 days,")
        say(f"            {LATENCY * 1000:.0f} ms added to each request, like a nearby service)")
        async with ClassifyClient(DEMO_KEY, base_url=server.url) as client:
            await _list_everything(client, say)
            await _filters(client, say)
            created = await _create(client, new_jobs, seed, say)
            # The fake moves each new job to RUNNING, then COMPLETED (or FAILED), within 4 s.
            server.finish_later(created, within=4.0, fail_ratio=0.06, seed=seed)
            say(f"  wait      for the {len(created)} new jobs (progress on stderr)")
            finished = await watch_with_progress(
                client, created, poll_interval=0.25, max_interval=0.5
            )
            await compare_waits(server, client, ClassifyConfiguration(rules=RULES), new_jobs, say)
        routes = server.stats.by_route()
        most_in_flight = server.max_in_flight
    say()
    say("Summary")
    summary = "  {:<21}{}".format
    say(summary("new jobs by status", _counts(str(job.status) for job in finished.values())))
    types = (_type_of(job) for job in finished.values() if job.result is not None)
    wrapped(say, summary("new jobs by type", _counts(types)), indent=23)
    requests = sum(routes.values())
    made = f"{requests:,} ({_format(routes)}), at most {most_in_flight} at once"
    wrapped(say, summary("requests made", made), indent=23)
    say(summary("time taken", f"{time.monotonic() - started:.1f} s"))
    say()
    say("Next, as the README's walkthrough does: serve the fake until Ctrl-C with")
    say("  aio-classify fake-server --port 8787 --jobs 1000 --finish-after 5")
    say("then, in another terminal, point the command line at it and try it:")
    say("  export LLAMA_CLOUD_BASE_URL=http://127.0.0.1:8787")
    say("  export LLAMA_CLOUD_API_KEY=test-key")
    say("  aio-classify list --limit 5")


def wrapped(say: Say, text: str, *, indent: int = len(INDENT)) -> None:
    """``text`` in lines of at most ``WIDTH``, the later ones indented by ``indent``."""
    for line in textwrap.wrap(text, WIDTH, subsequent_indent=" " * indent, drop_whitespace=True):
        say(line)


async def _list_everything(client: ClassifyClient, say: Say) -> None:
    """Page through every job once, counting as it goes: memory holds one page at a time."""
    started = time.monotonic()
    by_status: Counter[str] = Counter()
    pages = 0
    async for page in client.list_jobs(page_size=100).pages():
        pages += 1
        by_status.update(str(job.status) for job in page.items)
    seconds = time.monotonic() - started
    total = sum(by_status.values())
    say(
        f"  list      {total:,} jobs in {pages} pages, {seconds:.2f} s "
        f"({total / seconds:,.0f} jobs/s)"
    )
    say(f"            {_format(by_status)}")


async def _filters(client: ClassifyClient, say: Say) -> None:
    failed = [job async for job in client.list_jobs(status="FAILED", page_size=100)]
    week_ago = datetime.now(UTC) - timedelta(days=7)
    recent = [job async for job in client.list_jobs(created_at_on_or_after=week_ago)]
    saved = client.list_jobs(configuration_id=SAVED_CONFIGURATION, page_size=100)
    saved_count = sum([len(page.items) async for page in saved.pages()])
    reasons = Counter(job.error_message or "-" for job in failed)
    say(f"  filter    status=FAILED: {len(failed)}, most often because:")
    reason = reasons.most_common(1)[0][0] if reasons else "-"
    say(INDENT + one_line(reason, WIDTH - len(INDENT)))
    say(f"            created in the last 7 days: {len(recent)}")
    say(f"            configuration_id={SAVED_CONFIGURATION}: {saved_count}")
    say("            the 5 newest COMPLETED jobs:")
    page = await client.list_jobs(status="COMPLETED", page_size=5).first_page()
    rendered = io.StringIO()
    table = TableWriter(rendered, width=WIDTH - len(INDENT), fields=("id", "type", "confidence"))
    for job in page.items:
        table.write(job)
    table.finish()
    for line in rendered.getvalue().splitlines():
        say(INDENT + line)


async def _create(client: ClassifyClient, count: int, seed: int, say: Say) -> list[str]:
    """Create ``count`` jobs, 16 requests at a time, through the one shared client."""
    configuration = ClassifyConfiguration(rules=RULES)
    limit = asyncio.Semaphore(16)
    names = random.Random(seed)
    started = time.monotonic()

    async def create(number: int) -> ClassifyJob:
        stem = names.choice(STEMS)
        async with limit:
            return await client.create_job(
                file_input=f"dfl-{stem}-2026-{number:04d}.pdf", configuration=configuration
            )

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(create(number)) for number in range(count)]
    seconds = time.monotonic() - started
    say(f"  create    {count} jobs in {seconds:.2f} s ({count / seconds:,.0f} jobs/s)")
    return [task.result().id for task in tasks]


def _type_of(job: ClassifyJob) -> str:
    return (job.result.type if job.result is not None else None) or NO_RULE_MATCHED


def _counts(names: Iterable[str]) -> str:
    return _format(Counter(names))


def _format(counter: Counter[str] | dict[str, int]) -> str:
    """``COMPLETED 2,412, FAILED 150, ...``: most frequent first."""
    return ", ".join(f"{name} {number:,}" for name, number in Counter(counter).most_common())

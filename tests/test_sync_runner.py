"""The sync client's loop thread (``aio_classify._sync.runner``) across a fork and a Ctrl-C.

Each runs in a child Python process of its own (a fork or a SIGINT inside pytest's process would
hit pytest too), against the fake serving from a thread of this process.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from helpers import ThreadedFake, child_env


@pytest.fixture
def fake() -> Iterator[ThreadedFake]:
    with ThreadedFake(jobs=20, seed=5) as fake:
        yield fake


def child(fake: ThreadedFake, script: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-W", "error::ResourceWarning", "-c", textwrap.dedent(script)],
        env=child_env(fake.server),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


FORK = """
    import os, threading
    from aio_classify.sync import ClassifyClient

    def threads():
        return sum(t.name == "aio_classify.sync" for t in threading.enumerate())

    client = ClassifyClient()
    first = next(iter(client.list_jobs(limit=1)))
    assert threads() == 1
    pid = os.fork()
    if pid == 0:  # the child: no loop thread inherited; it makes its own
        code = 1
        try:
            assert threads() == 0
            assert client.get_job(first.id).id == first.id
            assert len(list(client.list_jobs())) == 20
            assert threads() == 1
            client.close()
            assert threads() == 0
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert client.get_job(first.id).id == first.id  # the parent's thread still serves
    client.close()
    print("child exit", os.waitstatus_to_exitcode(status), "threads", threads())
"""


def test_a_forked_child_makes_its_own_thread(fake: ThreadedFake) -> None:
    process = child(fake, FORK)
    out, err = process.communicate(timeout=120)
    assert (process.returncode, out.strip()) == (0, "child exit 0 threads 0"), err


SIGINT = """
    import asyncio, sys, threading
    from aio_classify.sync import ClassifyClient

    client = ClassifyClient()
    pending = client.create_job("dfl-1", {"rules": [{"type": "a", "description": "a long one"}]})
    try:
        print("waiting", flush=True)
        client.wait_for_job(pending.id, poll_interval=3600, max_interval=3600)
        print("not interrupted")
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    # the wait's task was cancelled on the loop; the client still serves
    print("usable", client.get_job(pending.id).id == pending.id)
    tasks = client._runner.call(lambda: len(asyncio.all_tasks()))
    print("tasks", tasks)  # the loop's own and this call's: the wait is gone
    client.close()
    print("threads", sum(t.name == "aio_classify.sync" for t in threading.enumerate()))
"""


def test_ctrl_c_interrupts_a_blocking_call_and_leaves_the_client_usable(
    fake: ThreadedFake,
) -> None:
    process = child(fake, SIGINT)
    assert process.stdout is not None
    assert process.stdout.readline() == "waiting\n"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert out.splitlines() == ["interrupted", "usable True", "tasks 2", "threads 0"], err
    assert process.returncode == 0, err
    assert "Task was destroyed" not in err and "Unclosed" not in err

"""Every failure becomes its exit code and one line on stderr, whatever the text it carries."""

from __future__ import annotations

import pytest

from aio_classify import ClassifyError
from aio_classify.cli import ExitCode
from aio_classify.cli._exit import UsageError, exit_code_of


def _raising(exc: BaseException) -> int:
    raise exc


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (UsageError("no ids"), ExitCode.USAGE),
        (ValueError("bad\x1b[31m value"), ExitCode.USAGE),
        (ClassifyError("refused"), ExitCode.FAILED),
        (OSError("port taken"), ExitCode.FAILED),
    ],
)
def test_a_failure_is_its_code_and_one_printable_line(
    exc: Exception, code: ExitCode, capsys: pytest.CaptureFixture[str]
) -> None:
    assert exit_code_of(lambda: _raising(exc), debug=False) == code
    err = capsys.readouterr().err
    assert err.startswith("aio-classify: error: ") and err.count("\n") == 1
    assert "\x1b" not in err


def test_ctrl_c_is_130_and_success_passes_through(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code_of(lambda: _raising(KeyboardInterrupt()), debug=False) == 130
    assert capsys.readouterr().err == "aio-classify: interrupted\n"
    assert exit_code_of(lambda: ExitCode.JOBS_FAILED, debug=False) == ExitCode.JOBS_FAILED


def test_debug_adds_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    exit_code_of(lambda: _raising(UsageError("no ids")), debug=True)
    err = capsys.readouterr().err
    assert "Traceback" in err and err.endswith("aio-classify: error: no ids\n")


def test_a_usage_error_is_told_under_its_command(capsys: pytest.CaptureFixture[str]) -> None:
    usage = UsageError("--parallel needs both --created-after and --created-before")
    assert exit_code_of(lambda: _raising(usage), False, "aio-classify list") == ExitCode.USAGE
    assert capsys.readouterr().err == f"aio-classify list: error: {usage}\n"
    assert exit_code_of(lambda: _raising(ClassifyError("refused")), False, "aio-classify list") == 1
    assert capsys.readouterr().err == "aio-classify: error: refused\n"

"""``python -m aio_classify.testing``: run the fake server until SIGINT or SIGTERM."""

from ._standalone import run_standalone

raise SystemExit(run_standalone())

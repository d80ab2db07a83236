"""A fake LlamaCloud Classify v2 server for tests, benchmarks and demos.

``async with FakeClassifyServer(api_key="test-key", jobs=100) as server:`` serves 100 seeded jobs
at ``server.url``; ``python -m aio_classify.testing`` runs it standalone.
"""

from aio_classify.testing.faults import RecordedRequest
from aio_classify.testing.server import FakeClassifyServer, Lifecycle
from aio_classify.testing.standalone import add_arguments, run_standalone

__all__ = ["FakeClassifyServer", "Lifecycle", "RecordedRequest", "add_arguments", "run_standalone"]

"""A fake LlamaCloud Classify v2 server for tests, benchmarks and demos.

``async with FakeClassifyServer(api_key="test-key", jobs=100) as server:`` serves 100 seeded jobs
at ``server.url``; ``python -m aio_classify.testing`` runs it standalone.
"""

from .faults import RecordedRequest
from .server import FakeClassifyServer, Lifecycle
from .standalone import run_standalone

__all__ = ["FakeClassifyServer", "Lifecycle", "RecordedRequest", "run_standalone"]

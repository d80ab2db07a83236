"""The same client for code that cannot ``await``: scripts, Django and Flask views, Celery tasks,
notebooks and threads.

``from aio_classify.sync import ClassifyClient`` gives a blocking ``ClassifyClient`` with the
async client's arguments, and a blocking twin of each of its methods (same names, arguments,
results and exceptions). It drives the one async client on a private event loop in a background
thread, so every feature (batched lookups, coalesced waits, rate limits, webhooks) is there, by
one code path, and it works even where an event loop is already running.
"""

from typing import TYPE_CHECKING

from ._sync.iterators import LazyIterator

if TYPE_CHECKING:  # the same classes, typed method by method (generated from the async ones)
    from ._sync.typed import ClassifyClient, JobPager
else:
    from ._sync.client import ClassifyClient, JobPager

__all__ = ["ClassifyClient", "JobPager", "LazyIterator"]

"""The Redis backend of ``aio_classify.redis``: the connection and its outages (``link``), the
shared limiter (``limiter``, one Lua script per turn) and the webhook event bus (``events``)."""

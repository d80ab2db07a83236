"""Everything about one HTTP exchange with the service: building it, sending it, reading the
answer, and deciding what an answer means (retry, throttle, error).

``protocol`` (the sans-I/O core), ``retry``, ``throttle``, ``sessions`` (one aiohttp session
per event loop) and ``transport`` (the thin aiohttp adapter).
"""

"""Everything about one HTTP exchange with the service: building it, sending it, reading the
answer, and deciding what an answer means (retry, throttle, error).

``protocol`` (the sans-I/O core), ``answers`` (what an answer means, decided once), ``retry``,
``throttle`` (over ``rate_curve`` and ``pacer``), ``sessions`` (one aiohttp session per event
loop), ``exchange`` (the one aiohttp call) and ``transport`` (one request, end to end).
"""

"""A call kind's limiter shared by every process through Redis: one Lua script per turn.

Why: processes that each learn the rate alone each hit the server's limit (measured: 4
processes, 81-93 answers 429 where one process had 28-36). Here the state of a call kind (the
pace, the slow-start window, the last cut and the rate learned since) lives in one Redis hash,
and ``RATE_SCRIPT`` both applies the outcomes reported so far and reserves send slots, atomically
and on the server's clock (``TIME``), so machine clocks do not matter. It follows the local
limiter's rules (``throttle``, ``rate_curve``), with their constants:

- a slow start (a window of turns in flight across all processes, one more per success),
- a cut of the rate on a 429 whose turn was granted after the last cut (granted, not sent: a turn
  reserved before the cut belongs to the same congestion event, else the rate ratchets down),
- the cubic climb on success, never above ``w_max`` or twice the rate being sent,
- the caller's cap, and a pause of the whole kind for a hint longer than ``PAUSE_HINT``.

The hash expires ``STATE_TTL`` seconds after its last turn, so a burst within that time starts
from what was learned. In a process, only the head of the line talks to Redis: it reserves up to
``BATCH`` slots for the tasks behind it (one while the rate recovers from a 429), and outcomes
ride along with the next reservation or go out in the background (``report`` is synchronous);
``aclose`` flushes them. While Redis is unavailable (``link``) turns come from the local limiter.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
import time
from typing import Any

import redis.asyncio as aioredis
from attrs import frozen
from redis.commands.core import AsyncScript

from .._http.answers import Outcome
from .._http.rate_curve import BETA, MEASURE_WINDOW, MIN_RATE, C
from .._http.throttle import INITIAL_WINDOW, PAUSE_HINT, AdaptiveLimiter
from .link import Link, Unavailable

__all__ = ["BATCH", "RATE_SCRIPT", "STATE_TTL", "SharedLimiter", "SharedTurn"]

#: Most send slots one process reserves in one round trip.
BATCH = 4
#: Seconds a call kind's learned state outlives its last turn.
STATE_TTL = 600
#: Seconds an in-flight count may go without any report before it is presumed leaked (a process
#: that died, or reports lost in an outage) and reset.
STALE_IN_FLIGHT = 10.0
#: Seconds the head waits before asking again when the shared slow-start window is full.
WINDOW_FULL_WAIT = 0.02

_OUTCOME_CODES = {Outcome.SUCCESS: "s", Outcome.THROTTLED: "t", Outcome.INCONCLUSIVE: "i"}

#: KEYS[1]: the kind's hash. ARGV: wanted slots, cap (0: none), adaptive (1/0), longest pause,
#: then a triple per report: outcome code, granted (microseconds), hint (seconds, -1: none).
#: Returns {granted (us), wait (us, when no slot), delay of each slot from now (us)...}.
RATE_SCRIPT = f"""
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local key = KEYS[1]
local wanted = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local adaptive = ARGV[3] == '1'
local max_pause = tonumber(ARGV[4])
local f = {{'rate', 'win', 'infl', 'wmax', 'k', 'cut', 'next', 'pause', 'bt', 'bn', 'pn', 'seen',
  'ft'}}
local s = redis.call('HMGET', key, unpack(f))
local rate = tonumber(s[1])
local win = tonumber(s[2]) or {INITIAL_WINDOW}
local infl = tonumber(s[3]) or 0
local wmax = tonumber(s[4]) or 0
local k = tonumber(s[5]) or 0
local cut = tonumber(s[6]) or -1
local nxt = tonumber(s[7]) or 0
local pause = tonumber(s[8]) or 0
local bt = tonumber(s[9]) or now
local bn = tonumber(s[10]) or 0
local pn = tonumber(s[11]) or 0
local seen = tonumber(s[12]) or now
local ft = tonumber(s[13]) or now

-- The rate being sent, from the slots granted: over a span holding two batches at the pace in
-- force (slots go out a batch at a time), and since the first grant while the meter is young.
local pace = math.huge
if cap > 0 then pace = cap end
if rate ~= nil and rate < pace then pace = rate end
local span = {MEASURE_WINDOW}
if pace < math.huge then span = math.max(span, 2 * {BATCH} / pace) end
if now - bt >= 2 * span then pn = 0; bn = 0; bt = now; ft = now
elseif now - bt >= span then pn = bn; bn = 0; bt = now end
local function sending()
  if now - ft < span then return (bn + pn) / math.max(now - ft, 0.05) end
  return (bn + pn * math.max(0, 1 - (now - bt) / span)) / span
end
if now - seen > {STALE_IN_FLIGHT} then infl = 0 end

local i = 5
while ARGV[i] do
  local outcome, granted, hint = ARGV[i], tonumber(ARGV[i + 1]) / 1e6, tonumber(ARGV[i + 2])
  i = i + 3
  seen = now
  if infl > 0 then infl = infl - 1 end
  if outcome == 's' and adaptive then
    if rate == nil then win = win + 1
    else
      local curve = {C} * (now - cut - k) ^ 3 + wmax
      rate = math.max({MIN_RATE}, math.min(curve, math.max(wmax, 2 * sending())))
    end
  elseif outcome == 't' then
    if hint > {PAUSE_HINT} then pause = math.max(pause, now + math.min(hint, max_pause)) end
    if adaptive and granted >= cut then
      local w = sending()
      if rate ~= nil then w = math.min(rate, w) end
      wmax = math.max({MIN_RATE}, w)
      k = (wmax * (1 - {BETA}) / {C}) ^ (1 / 3)
      cut = now
      rate = math.max({MIN_RATE}, wmax * {BETA})
    end
  end
end

pace = math.huge
if cap > 0 then pace = cap end
if rate ~= nil and rate < pace then pace = rate end
local n = wanted
if rate ~= nil and now - cut < k then n = math.min(n, 1) end
if rate == nil and adaptive then n = math.min(n, math.floor(win - infl)) end
local reply = {{math.floor(now * 1e6), 0}}
if n > 0 then
  local start = math.max(nxt, now, pause)
  local step = 0
  if pace < math.huge then step = 1 / pace end
  for j = 0, n - 1 do reply[#reply + 1] = math.floor((start + j * step - now) * 1e6) end
  nxt = start + n * step
  bn = bn + n
  if rate == nil and adaptive then infl = infl + n end
elseif wanted > 0 then
  reply[2] = math.floor({WINDOW_FULL_WAIT} * 1e6)
end

redis.call('HSET', key, 'win', win, 'infl', infl, 'wmax', wmax, 'k', k, 'cut', cut,
  'next', nxt, 'pause', pause, 'bt', bt, 'bn', bn, 'pn', pn, 'seen', seen, 'ft', ft)
if rate ~= nil then redis.call('HSET', key, 'rate', rate) end
redis.call('EXPIRE', key, {STATE_TTL})
return reply
"""


@frozen
class SharedTurn:
    """A turn: granted by Redis (``granted``: the server's microseconds) or, while Redis was
    unavailable, by the local limiter (``local``: its turn)."""

    granted: int | None = None
    local: Any = None


@frozen
class _Slot:
    at: float  # time.monotonic() when it may be used
    granted: int


class SharedLimiter:
    """The limiter of one call kind, shared through Redis, falling back to ``local``."""

    def __init__(self, link: Link, key: str, local: AdaptiveLimiter) -> None:
        self.key = key
        self.kind = local.kind
        self._link = link
        self._local = local
        self._queue: collections.deque[asyncio.Future[None]] = collections.deque()
        self._slots: collections.deque[_Slot] = collections.deque()
        self._reports: list[str] = []
        self._flushes: set[asyncio.Task[None]] = set()
        self._script: AsyncScript | None = None

    def __repr__(self) -> str:
        return f"SharedLimiter({self.kind!r}, key={self.key!r}, {len(self._slots)} slot(s))"

    async def acquire(self) -> SharedTurn:
        """Wait in line; the head takes a reserved slot, reserves more, or asks the local
        limiter while Redis is unavailable."""
        loop = asyncio.get_running_loop()
        me: asyncio.Future[None] = loop.create_future()
        self._queue.append(me)
        try:
            if self._queue[0] is not me:
                await me
            return await self._take_turn()
        finally:
            was_head = self._queue[0] is me
            self._queue.remove(me)
            if was_head and self._queue:
                head = self._queue[0]
                if not head.done() and not head.get_loop().is_closed():
                    head.set_result(None)

    async def _take_turn(self) -> SharedTurn:
        while True:
            if self._slots:
                slot = self._slots.popleft()
                wait = slot.at - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                return SharedTurn(granted=slot.granted)
            if not self._link.available:
                self._reports.clear()  # the outage lost them; the stale in-flight reset copes
                return SharedTurn(local=await self._local.acquire())
            try:
                wait = await self._reserve(min(BATCH, len(self._queue)))
            except Unavailable:
                continue
            if wait > 0:
                await asyncio.sleep(wait)

    async def _reserve(self, wanted: int) -> float:
        """Reserve up to ``wanted`` slots (and send the reports so far); the seconds to wait
        before asking again when none was given."""
        reports, self._reports = self._reports, []
        reply = await self._link.run(lambda client: self._call(client, wanted, reports))
        returned = time.monotonic()
        granted = int(reply[0])
        self._slots.extend(_Slot(returned + int(delay) / 1e6, granted) for delay in reply[2:])
        return int(reply[1]) / 1e6

    def _call(self, client: aioredis.Redis, wanted: int, reports: list[str]) -> Any:
        if self._script is None:  # its SHA is all it keeps: any loop's client may run it
            self._script = client.register_script(RATE_SCRIPT)
        cap = self._local.cap or 0
        adaptive = "1" if self._local.adaptive else "0"
        args = [wanted, cap, adaptive, self._local.max_pause, *reports]
        return self._script(keys=[self.key], args=args, client=client)

    def report(self, turn: SharedTurn, outcome: Outcome, retry_after: float | None = None) -> None:
        if turn.granted is None:
            self._local.report(turn.local, outcome, retry_after)
            return
        hint = retry_after if retry_after is not None and math.isfinite(retry_after) else -1.0
        self._reports += [_OUTCOME_CODES[outcome], str(turn.granted), repr(hint)]
        if not self._queue and not self._flushes:  # no head will carry them soon: send now
            task = asyncio.get_running_loop().create_task(self._flush())
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def _flush(self) -> None:
        with contextlib.suppress(Unavailable, RuntimeError):  # RuntimeError: closed
            while self._reports and not self._queue:
                if not self._link.available:
                    self._reports.clear()
                    return
                await self._reserve(0)

    async def aclose(self) -> None:
        """Wait for the reports still going out (each bounded by the link's timeout)."""
        if self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)
        await self._flush()

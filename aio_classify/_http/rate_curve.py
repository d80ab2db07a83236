"""The adaptive rate's curve: where a 429 cuts the rate and how successes raise it again.

Why apart: these are the rules worth checking number by number, and they need no queue, no event
loop and no clock; every function takes the time it is asked about. The curve is CUBIC, as in the
AWS SDKs' "adaptive" retry mode (botocore's ``CubicCalculator``), with their constants, chosen over
additive-increase / multiplicative-decrease by measurement (see docs/guides/rate-limits.md):

- A 429 cuts the rate to ``BETA`` times the rate it was sending at (remembered as ``w_max``).
- Successes raise it along ``C * (t - K)**3 + w_max`` (``t``: seconds since the cut): quickly
  back towards ``w_max``, flat near it, then probing above it. It never climbs above ``w_max`` or
  twice the rate actually sent, whichever is higher, so a quiet spell does not unleash a burst.

``SendMeter`` measures the rate actually sent, which both rules read.
"""

from __future__ import annotations

import collections

from attrs import frozen

__all__ = ["BETA", "MEASURE_WINDOW", "MIN_RATE", "C", "Cut", "SendMeter", "climb", "cut"]

#: The cubic curve's scale (rate units per second cubed) and the cut factor on a 429.
C = 0.4
BETA = 0.7
#: The adaptive rate never drops below this many requests per second.
MIN_RATE = 0.5
#: The window over which the sending rate is measured, in seconds.
MEASURE_WINDOW = 1.0


@frozen
class Cut:
    """The last cut of the rate: when it was made (``at``), the rate it cut from (``w_max``),
    the rate it cut to (``rate``) and the seconds the curve takes to climb back (``k``)."""

    at: float
    w_max: float
    k: float
    rate: float

    def recovered(self, now: float) -> bool:
        """Whether the curve is back at ``w_max`` by ``now``."""
        return now - self.at >= self.k


def cut(now: float, *, rate: float | None, sending: float) -> Cut:
    """The cut a 429 at ``now`` makes: from the rate being sent (``sending``, measured), or from
    the learned ``rate`` if that is lower (``None`` before the first cut)."""
    w_max = max(MIN_RATE, sending if rate is None else min(rate, sending))
    k = (w_max * (1.0 - BETA) / C) ** (1.0 / 3.0)
    return Cut(at=now, w_max=w_max, k=k, rate=max(MIN_RATE, w_max * BETA))


def climb(last: Cut, now: float, *, sending: float) -> float:
    """The rate at ``now`` after a success, on the curve from ``last``, never above ``w_max`` or
    twice the rate being sent (``sending``), whichever is higher."""
    curve = C * (now - last.at - last.k) ** 3 + last.w_max
    ceiling = max(last.w_max, 2.0 * sending)
    return max(MIN_RATE, min(curve, ceiling))


class SendMeter:
    """Send times, and the rate they make over the last ``MEASURE_WINDOW`` seconds."""

    def __init__(self) -> None:
        self._sends: collections.deque[float] = collections.deque(maxlen=100_000)

    def record(self, now: float) -> None:
        """One send at ``now``."""
        self._sends.append(now)

    def rate(self, now: float) -> float:
        """Sends per second over the last ``MEASURE_WINDOW`` seconds before ``now``."""
        while self._sends and self._sends[0] < now - MEASURE_WINDOW:
            self._sends.popleft()
        if not self._sends:
            return 0.0
        span = min(MEASURE_WINDOW, max(now - self._sends[0], 0.05))
        return len(self._sends) / span

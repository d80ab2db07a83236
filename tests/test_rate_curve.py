"""The adaptive rate's curve (``aio_classify._http.rate_curve``), number by number: no clock, no
loop; every rule is a function of the state and the time it is asked about."""

from __future__ import annotations

import pytest

from aio_classify._http.rate_curve import BETA, MEASURE_WINDOW, MIN_RATE, SendMeter, climb, cut


def test_a_cut_goes_to_beta_times_the_rate_sent() -> None:
    made = cut(10.0, rate=None, sending=20.0)
    assert (made.at, made.w_max, made.rate) == (10.0, 20.0, 20.0 * BETA)


def test_a_cut_starts_from_the_learned_rate_when_it_is_lower_than_the_rate_sent() -> None:
    assert cut(0.0, rate=8.0, sending=20.0).w_max == 8.0
    assert cut(0.0, rate=30.0, sending=20.0).w_max == 20.0


def test_the_rate_never_drops_below_the_floor() -> None:
    made = cut(0.0, rate=None, sending=0.0)
    assert made.w_max == MIN_RATE and made.rate == MIN_RATE


def test_the_climb_starts_at_the_cut_and_reaches_w_max_after_k() -> None:
    made = cut(0.0, rate=None, sending=20.0)
    assert climb(made, 0.0, sending=20.0) == pytest.approx(made.rate)
    assert climb(made, made.k, sending=20.0) == pytest.approx(20.0)
    assert not made.recovered(made.k - 0.01)
    assert made.recovered(made.k)


def test_the_climb_is_fast_then_flat_near_w_max() -> None:
    made = cut(0.0, rate=None, sending=20.0)
    early = climb(made, made.k / 4, sending=20.0) - made.rate
    late = 20.0 - climb(made, 3 * made.k / 4, sending=20.0)
    assert early > late > 0


def test_the_climb_probes_above_w_max_only_as_far_as_twice_the_rate_sent() -> None:
    made = cut(0.0, rate=None, sending=20.0)
    later = made.k + 5.0
    assert climb(made, later, sending=20.0) > 20.0  # probing
    assert climb(made, later, sending=3.0) == 20.0  # a quiet spell: w_max, no burst
    assert climb(made, made.k + 100.0, sending=12.0) == 24.0


def test_the_meter_counts_sends_over_the_last_window() -> None:
    meter = SendMeter()
    assert meter.rate(0.0) == 0.0
    for tick in range(10):
        meter.record(tick * 0.1)
    assert meter.rate(0.9) == pytest.approx(10 / 0.9)
    assert meter.rate(1.0) == pytest.approx(10 / MEASURE_WINDOW)
    assert meter.rate(5.0) == 0.0  # every send is older than the window

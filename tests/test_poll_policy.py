"""The poll policy (bot.engine.poll_policy): what it predicts and when it asks, as pure functions.

Behaviour only, no timing: bench/bench_polling.py measures the lag and the request count.
"""

from __future__ import annotations

import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.poll_policy import (
    EARLY_CHECK_SECONDS,
    MAX_BACKOFF_SECONDS,
    MIN_STEP,
    WINDOW_AFTER_SIGMAS,
    WINDOW_BEFORE_SIGMAS,
    Estimate,
    fit_estimate,
    next_poll_delay,
    prior_estimate,
)

TYPICAL = 85.0


def schedule(estimate: Estimate, base: float, done_at: float) -> list[float]:
    """The poll times the runner would use for a generation that completes at `done_at`."""
    polls: list[float] = []
    now = next_poll_delay(0.0, estimate, base)
    while True:
        polls.append(now)
        if now >= done_at or len(polls) > 1000:
            return polls
        now += next_poll_delay(now, estimate, base)


# ---- fit_estimate ----


def test_no_history_falls_back_to_the_models_prior() -> None:
    assert fit_estimate([], 1000, TYPICAL) == prior_estimate(TYPICAL)
    prior = prior_estimate(TYPICAL)
    assert prior.mean == TYPICAL and prior.samples == 0
    assert prior.std == pytest.approx(0.3 * TYPICAL)


@pytest.mark.parametrize("count", [1, 2])
def test_one_or_two_samples_beat_the_prior_but_with_a_wide_spread(count: int) -> None:
    """A burst learns from its first song: 30 s observed beats an 85 s prior, but one sample
    says little about the spread, so the window stays wide (half the mean, then a quarter)."""
    estimate = fit_estimate([(1000, 30.0)] * count, 1000, TYPICAL)
    assert estimate.mean == pytest.approx(30.0) and estimate.samples == count
    assert estimate.std == pytest.approx(0.5 * 30.0 / count)


def test_with_no_history_it_is_fixed_polling_at_the_base() -> None:
    prior = prior_estimate(TYPICAL)
    assert [next_poll_delay(t, prior, 5.0) for t in (0.0, 5.0, 33.0, 140.0, 400.0)] == [5.0] * 5


def test_past_a_window_drawn_from_few_samples_it_keeps_the_base_pace() -> None:
    """Running past an estimate from 3 songs is evidence the estimate is short: no back-off."""
    few = Estimate(mean=30.0, std=5.0, samples=3)
    assert next_poll_delay(200.0, few, 5.0) == 5.0
    many = Estimate(mean=30.0, std=5.0, samples=50)
    assert next_poll_delay(200.0, many, 5.0) > 5.0


def test_a_line_through_the_history_predicts_longer_lyrics_take_longer() -> None:
    history = [(n, 60.0 + 0.03 * n) for n in range(300, 3000, 100)]
    short = fit_estimate(history, 400, TYPICAL)
    long = fit_estimate(history, 2800, TYPICAL)
    assert short.mean == pytest.approx(72.0)
    assert long.mean == pytest.approx(144.0)
    assert short.samples == long.samples == len(history)
    assert short.std == 1.5  # a perfect fit still keeps a minimum spread


def test_a_negative_trend_is_not_believed() -> None:
    history = [(n, 150.0 - 0.02 * n) for n in range(300, 3000, 300)]
    estimate = fit_estimate(history, 3000, TYPICAL)
    mean = sum(y for _, y in history) / len(history)
    assert estimate.mean == pytest.approx(mean)  # flat: longer lyrics are never predicted faster


def test_few_samples_use_the_mean_and_widen_the_spread() -> None:
    history = [(500, 80.0), (2500, 100.0), (1500, 90.0), (1000, 85.0)]  # 4 < 6: no slope yet
    estimate = fit_estimate(history, 2900, TYPICAL)
    assert estimate.mean == pytest.approx(88.75)
    plain_std = math.sqrt(sum((y - 88.75) ** 2 for _, y in history) / 3)
    assert estimate.std == pytest.approx(plain_std * (1 + 2 / 4))


def test_the_spread_follows_the_noise() -> None:
    rng = random.Random(7)
    xs = [rng.randint(300, 2900) for _ in range(200)]
    quiet = fit_estimate([(x, 60 + 0.03 * x + rng.gauss(0, 2)) for x in xs], 1500, TYPICAL)
    noisy = fit_estimate([(x, 60 + 0.03 * x + rng.gauss(0, 12)) for x in xs], 1500, TYPICAL)
    assert quiet.std >= 1.5 and quiet.std < 3.0
    assert 10.0 < noisy.std < 14.0
    assert quiet.mean == pytest.approx(105.0, abs=1.0)
    assert noisy.mean == pytest.approx(105.0, abs=3.0)


def test_the_prediction_never_drops_below_a_second() -> None:
    history = [(10, 0.2), (20, 0.1), (30, 0.3), (40, 0.2)]
    assert fit_estimate(history, 10, TYPICAL).mean == 1.0


# ---- next_poll_delay ----


def test_the_first_check_comes_early_to_catch_fast_failures() -> None:
    estimate = Estimate(mean=100.0, std=6.0, samples=50)
    for base in (0.5, 2.0, 5.0, 10.0):
        first = next_poll_delay(0.0, estimate, base)
        assert first <= EARLY_CHECK_SECONDS
        assert first == pytest.approx(min(EARLY_CHECK_SECONDS, 1.6 * base))


def test_before_the_window_checks_thin_out_then_land_on_its_start() -> None:
    estimate = Estimate(mean=100.0, std=6.0, samples=50)
    start = estimate.mean - WINDOW_BEFORE_SIGMAS * estimate.std
    polls = schedule(estimate, 5.0, done_at=1e9)
    before = [t for t in polls if t < start - 1e-9]
    gaps = [b - a for a, b in itertools.pairwise(before)]
    assert gaps == sorted(gaps)  # geometric ramp: each wait at least as long as the last
    assert len(before) <= 4  # 8, 24, 72 s: a handful of checks for a 90 s job
    assert start in [pytest.approx(t) for t in polls]  # the window opens with a check


def test_inside_the_window_it_polls_every_base_seconds() -> None:
    estimate = Estimate(mean=100.0, std=6.0, samples=50)
    end = estimate.mean + WINDOW_AFTER_SIGMAS * estimate.std
    for elapsed in (91.0, 95.0, 100.0, 110.0, end - 0.01):
        assert next_poll_delay(elapsed, estimate, 5.0) == 5.0


def test_past_the_window_it_backs_off_up_to_a_cap() -> None:
    estimate = Estimate(mean=100.0, std=6.0, samples=50)
    end = estimate.mean + WINDOW_AFTER_SIGMAS * estimate.std
    delays = [next_poll_delay(end + k * 10.0, estimate, 5.0) for k in range(100)]
    assert delays == sorted(delays)
    assert delays[0] == 5.0
    assert delays[-1] == MAX_BACKOFF_SECONDS
    assert max(delays) == MAX_BACKOFF_SECONDS


def test_a_tiny_base_is_clamped() -> None:
    estimate = Estimate(mean=100.0, std=6.0, samples=50)
    assert next_poll_delay(100.0, estimate, 0.0) == 0.05


@settings(max_examples=300, deadline=None)
@given(
    elapsed=st.floats(0.0, 2000.0),
    mean=st.floats(1.0, 600.0),
    std=st.floats(1.5, 200.0),
    base=st.floats(0.05, 60.0),
)
def test_delays_are_positive_bounded_and_never_below_half_the_step(
    elapsed: float, mean: float, std: float, base: float
) -> None:
    """The step is `base`, or the spread when that is tighter (never below MIN_STEP)."""
    delay = next_poll_delay(elapsed, Estimate(mean, std, 10), base)
    assert delay >= 0.5 * min(base, max(MIN_STEP, std))
    assert delay <= max(base, MAX_BACKOFF_SECONDS, mean)


@settings(max_examples=200, deadline=None)
@given(
    mean=st.floats(20.0, 300.0),
    std=st.floats(1.5, 20.0),
    base=st.sampled_from([0.5, 2.0, 5.0, 10.0]),
    where=st.floats(-1.0, 1.0),
)
def test_a_song_finishing_inside_the_window_is_seen_within_one_base_interval(
    mean: float, std: float, base: float, where: float
) -> None:
    estimate = Estimate(mean, std, 50)
    start = mean - WINDOW_BEFORE_SIGMAS * std
    end = mean + WINDOW_AFTER_SIGMAS * std
    done_at = max(start, min(end - base, mean + where * std))
    polls = schedule(estimate, base, done_at)
    assert polls[-1] - done_at <= base + 1e-9
    # A handful of checks on the way, then one every `base` seconds through the window.
    assert len(polls) <= 12 + math.ceil((done_at - start) / base)


def test_a_song_finishing_long_after_the_window_is_still_seen() -> None:
    estimate = Estimate(mean=100.0, std=6.0, samples=50)
    polls = schedule(estimate, 5.0, done_at=600.0)
    assert polls[-1] >= 600.0
    assert polls[-1] - 600.0 <= MAX_BACKOFF_SECONDS
    assert len(polls) < 40


def test_the_policy_beats_fixed_15s_polling_on_lag_and_requests() -> None:
    """The issue's comparison in miniature: with a fitted estimate, lower mean lag than polling
    every 15 s (the provider's examples) and no more requests."""
    rng = random.Random(3)
    jobs = []
    for _ in range(200):
        n = rng.randint(300, 2900)
        jobs.append((n, min(150.0, max(60.0, 60 + 0.03 * n + rng.gauss(0, 6)))))
    history = jobs[:50]
    lags, counts, fixed_lags, fixed_counts = [], [], [], []
    for n, seconds in jobs[50:]:
        polls = schedule(fit_estimate(history, n, TYPICAL), 5.0, seconds)
        lags.append(polls[-1] - seconds)
        counts.append(len(polls))
        fixed = math.ceil(seconds / 15.0)
        fixed_lags.append(fixed * 15.0 - seconds)
        fixed_counts.append(fixed)
    assert sum(lags) / len(lags) < 0.5 * sum(fixed_lags) / len(fixed_lags)
    assert sum(counts) / len(counts) <= sum(fixed_counts) / len(fixed_counts)
    assert max(counts) <= 12


def test_known_fast_generations_are_polled_at_their_own_pace() -> None:
    """Songs that take about a second are looked at every spread, not every `base` seconds."""
    fast = Estimate(mean=0.6, std=0.2, samples=40)
    assert next_poll_delay(0.0, fast, 5.0) <= 0.3  # the window opens at 0.28 s
    assert next_poll_delay(0.5, fast, 5.0) == MIN_STEP
    assert next_poll_delay(30.0, fast, 5.0) > 5.0  # long past it, with trusted history: back off

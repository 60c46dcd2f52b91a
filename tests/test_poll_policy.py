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
    RAMP,
    WINDOW_AFTER_SIGMAS,
    WINDOW_BEFORE_SIGMAS,
    Estimate,
    cold_floor,
    earlier_than_expected,
    fit_estimate,
    next_poll_delay,
    on_ramp,
    prior_estimate,
    since_shift,
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


def test_with_no_history_it_ramps_to_a_quarter_of_the_docs_figure_then_polls_at_the_base() -> None:
    """Cold: one early check (fast failures), checks thinning towards the floor, no song is
    expected before (a quarter of the docs' typical duration), then fixed polling at `base`."""
    prior = prior_estimate(TYPICAL)
    floor = cold_floor(TYPICAL)
    assert floor == pytest.approx(TYPICAL / 4)
    polls = schedule(prior, 5.0, done_at=1e9)[:12]
    assert polls[0] == pytest.approx(8.0)
    before = [t for t in polls if t < floor - 1e-9]
    assert before == [8.0, 12.0, 18.0]  # a fixed 5 s loop spends 4 checks here
    after = [t for t in polls if t >= before[-1]]
    assert [b - a for a, b in itertools.pairwise(after)] == [pytest.approx(5.0)] * (len(after) - 1)
    # The docs' figure is not trusted beyond the floor: a song three times slower is still
    # looked at every `base` seconds, not backed off from.
    assert next_poll_delay(3 * TYPICAL, prior, 5.0) == 5.0


def test_a_fast_model_is_cold_polled_at_the_base_from_the_first_check() -> None:
    """A quarter of a 20 s figure is below the early check: nothing to skip."""
    prior = prior_estimate(20.0)
    assert next_poll_delay(0.0, prior, 5.0) == 5.0
    assert next_poll_delay(5.0, prior, 5.0) == 5.0


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
    # 8, 12, 18, 27, 40.5, 60.75 s: a handful of checks for a 90 s job, none waiting more than
    # half as long as the job has run (a history that is far off costs at most that)
    assert len(before) <= 6
    assert all(b - a <= (RAMP - 1) * a + 1e-9 for a, b in itertools.pairwise(before))
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
    ramp = math.ceil(math.log(max(1.0, start / min(EARLY_CHECK_SECONDS, 1.6 * base)), RAMP))
    assert len(polls) <= ramp + 3 + math.ceil((done_at - start) / base)


def test_a_song_finishing_long_after_the_window_is_still_seen() -> None:
    estimate = Estimate(mean=100.0, std=6.0, samples=50)
    polls = schedule(estimate, 5.0, done_at=600.0)
    assert polls[-1] >= 600.0
    assert polls[-1] - 600.0 <= MAX_BACKOFF_SECONDS
    assert len(polls) < 40


def fixed_loop(durations: list[float], every: float) -> tuple[float, float]:
    """(mean lag, mean checks) of checking every `every` seconds."""
    checks = [math.ceil(d / every) for d in durations]
    lags = [c * every - d for c, d in zip(checks, durations, strict=True)]
    return sum(lags) / len(lags), sum(checks) / len(checks)


def fixed_lag_at_as_many_checks(durations: list[float], checks: float) -> float:
    """The lag of the slowest fixed loop that spends at least `checks` per job."""
    every = 30.0
    while fixed_loop(durations, every)[1] < checks:
        every -= 0.05
    return fixed_loop(durations, every)[0]


def test_the_policy_beats_fixed_polling_at_as_many_requests() -> None:
    """The issue's comparison in miniature: with a fitted estimate, less than half the lag of
    polling every 15 s (the provider's examples), and less lag than a fixed loop spending as
    many requests on the same jobs."""
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
    lag = sum(lags) / len(lags)
    assert lag < 0.5 * sum(fixed_lags) / len(fixed_lags)
    durations = [seconds for _, seconds in jobs[50:]]
    assert lag < fixed_lag_at_as_many_checks(durations, sum(counts) / len(counts))
    assert max(counts) <= 16


def test_known_fast_generations_are_polled_at_their_own_pace() -> None:
    """Songs that take about a second are looked at every spread, not every `base` seconds."""
    fast = Estimate(mean=0.6, std=0.2, samples=40)
    assert next_poll_delay(0.0, fast, 5.0) <= 0.3  # the window opens at 0.28 s
    assert next_poll_delay(0.5, fast, 5.0) == MIN_STEP
    assert next_poll_delay(30.0, fast, 5.0) > 5.0  # long past it, with trusted history: back off


def test_a_cold_start_beats_the_fixed_loop_spending_as_many_checks() -> None:
    """Issue #28: 20-40 s generations, no history, an 85 s docs' figure. Each job's own cold
    schedule (no learning at all) has less lag than the fixed loop at the same cost, and under
    0.4x the lag of fixed 15 s polling with at most 8 checks per job."""
    rng = random.Random(5)
    durations = [rng.uniform(20.0, 40.0) for _ in range(300)]
    prior = prior_estimate(TYPICAL)
    runs = [schedule(prior, 5.0, d) for d in durations]
    lag = sum(r[-1] - d for r, d in zip(runs, durations, strict=True)) / len(runs)
    checks = sum(len(r) for r in runs) / len(runs)
    assert checks <= 8
    assert lag < fixed_lag_at_as_many_checks(durations, checks)
    assert lag <= 0.4 * fixed_loop(durations, 15.0)[0]


def history_of(rng: random.Random, count: int, lo: float, hi: float) -> list[tuple[int, float]]:
    return [(rng.randint(300, 2900), rng.uniform(lo, hi)) for _ in range(count)]


def music_history(rng: random.Random, count: int) -> list[tuple[int, float]]:
    """60-150 s, longer lyrics slower: the bench's main workload."""
    out = []
    for _ in range(count):
        n = rng.randint(300, 2900)
        out.append((n, min(150.0, max(60.0, 60 + 0.03 * n + rng.gauss(0, 6)))))
    return out


def test_two_newest_completions_far_below_the_history_start_a_new_estimate() -> None:
    """The provider got faster: 200 samples of 60-150 s must not outvote the two newest 30 s."""
    rng = random.Random(11)
    old = music_history(rng, 200)
    new = [(1000, 31.0), (2000, 28.0)]
    assert since_shift(new + old) == new  # newest first
    estimate = fit_estimate(new + old, 1500, TYPICAL)
    assert estimate.samples == 2
    assert estimate.mean == pytest.approx(29.5)


def test_one_outlier_is_not_a_shift() -> None:
    rng = random.Random(12)
    old = music_history(rng, 200)
    assert since_shift([(1000, 20.0), *old]) == [(1000, 20.0), *old]
    assert since_shift([(1000, 20.0), (1000, 400.0), *old]) == [(1000, 20.0), (1000, 400.0), *old]


def test_once_the_new_regime_has_many_samples_the_old_one_stays_forgotten() -> None:
    """However many new samples follow the shift, none of the old regime comes back."""
    rng = random.Random(13)
    old = music_history(rng, 150)
    new = history_of(rng, 50, 20.0, 40.0)
    kept = since_shift(new + old)
    assert kept == new
    assert 20.0 <= fit_estimate(new + old, 1500, TYPICAL).mean <= 40.0


def test_only_a_completion_before_its_window_is_news_to_other_jobs() -> None:
    trusted = Estimate(mean=100.0, std=6.0, samples=50)
    start = trusted.mean - WINDOW_BEFORE_SIGMAS * trusted.std
    assert earlier_than_expected(start - 1.0, trusted)
    assert not earlier_than_expected(start + 1.0, trusted)
    assert not earlier_than_expected(150.0, trusted)
    prior = prior_estimate(TYPICAL)
    assert earlier_than_expected(cold_floor(TYPICAL) - 1.0, prior)
    assert not earlier_than_expected(cold_floor(TYPICAL) + 1.0, prior)


def test_the_ramp_is_a_grid_counted_from_the_submit() -> None:
    """A job picked up again at any moment (a restart) lands on the checks of one never
    interrupted, and a check that ran late does not push the later ones back."""
    assert on_ramp(0.0, 8.0) == 8.0
    assert on_ramp(8.0, 8.0) == pytest.approx(12.0)
    assert on_ramp(8.3, 8.0) == pytest.approx(12.0)
    assert on_ramp(12.0, 8.0) == pytest.approx(18.0)
    prior = prior_estimate(TYPICAL)
    assert next_poll_delay(1.7, prior, 5.0) + 1.7 == pytest.approx(8.0)
    assert 8.4 + next_poll_delay(8.4, prior, 5.0) == pytest.approx(12.0)


def test_a_queued_generation_is_never_backed_off_from() -> None:
    """Queued: the provider has not started it, so it is not overdue, however long it waits."""
    trusted = Estimate(mean=100.0, std=6.0, samples=50)
    late = trusted.mean + WINDOW_AFTER_SIGMAS * trusted.std + 60.0
    assert next_poll_delay(late, trusted, 5.0) > 5.0
    assert next_poll_delay(late, trusted, 5.0, queued=True) == 5.0
    # Before the window the ramp is kept: the history counts from the submit, queue included.
    assert next_poll_delay(20.0, trusted, 5.0, queued=True) == next_poll_delay(20.0, trusted, 5.0)


def test_just_past_a_window_from_few_samples_the_gaps_grow_back_to_the_base() -> None:
    """Four songs of about 4 s: a job at 7.5 s is most likely just late, so it is looked at
    again within the window's step or so, not a whole base interval later."""
    few = fit_estimate([(100, 4.0)] * 4, 100, TYPICAL)
    end = few.mean + WINDOW_AFTER_SIGMAS * few.std
    step = min(5.0, max(MIN_STEP, few.std))
    assert next_poll_delay(end, few, 5.0) == pytest.approx(step)
    gaps = [next_poll_delay(end + k, few, 5.0) for k in range(0, 20)]
    assert gaps == sorted(gaps)
    assert gaps[-1] == 5.0

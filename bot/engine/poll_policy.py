"""When to ask the provider about a pending generation next.

Why not a fixed interval: the provider's own examples poll every 15 s, so a finished song waits
7.5 s on average, and polling every second would hammer a free endpoint for nothing. Generation
time is predictable (per model, from the lyrics length and the bot's own history), so the policy
checks once early (to surface fast failures), sleeps until shortly before the predicted finish,
polls densely (`base` seconds apart) through the window where the song is likely to finish, and
backs off beyond it once the history is large enough to trust.

Why it beats a fixed loop that spends as many checks, even on a cold start: with no history
(`samples == 0`) the only thing the docs' typical duration is trusted for is a floor, a quarter of
it (generations 3x faster than the docs were seen, never 4x): one early check for fast failures,
a 1.5x ramp up to the floor, then the `base` pace. The checks a fixed loop spends before any
song can be done are saved; from the floor on it is the fixed loop itself, so a prior that is far
off (too slow or too fast) costs nothing. Once history exists, the checks before the window ramp
up by doubling (a generation far faster than the history still waits at most about as long as it
ran), a job still running past a window drawn from few samples goes from the window's step back to
the `base` pace (never slower), and when
the newest completions all fall far outside what the older history predicts (the provider got
faster or slower), the older history is dropped and the estimate starts again from them
(`since_shift`). A completion earlier than its own window (`earlier_than_expected`) is the one
that says something about the jobs sleeping towards a later check: the engine wakes those
(bot/engine/poll.py); any other completion wakes nobody. Pure functions: the engine feeds in the
numbers, tests and benches can too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

EARLY_CHECK_SECONDS = 8.0
MAX_BACKOFF_SECONDS = 30.0
WINDOW_BEFORE_SIGMAS = 1.6
WINDOW_AFTER_SIGMAS = 2.2
RAMP = 1.5  # each check before the window waits half as long as all before it together
COLD_FLOOR = 0.25  # no history: no song before this share of the docs' typical duration
SHIFT_SIGMAS = 3.0
TRUSTED_SAMPLES = 10  # history size from which a job past the window is taken as an outlier
MIN_STEP = 0.25  # seconds: the densest polling, for generations known to take a second or two


@dataclass(frozen=True, slots=True)
class Estimate:
    """Predicted generation time (seconds) and its spread."""

    mean: float
    std: float
    samples: int = 0


def prior_estimate(typical_seconds: float) -> Estimate:
    """What we assume before the bot has history for a model: the docs' figure, wide spread."""
    return Estimate(mean=typical_seconds, std=max(3.0, 0.3 * typical_seconds), samples=0)


def fit_estimate(
    history: Sequence[tuple[int, float]], lyrics_length: int, typical_seconds: float
) -> Estimate:
    """Predict from (lyrics length, seconds) pairs, newest first, with a least-squares line.

    Longer lyrics make longer songs and longer generations; a line through the bot's own
    history captures that, and its residual spread sets how wide the dense window is. History
    from before a shift in the provider's speed is left out (`since_shift`). No history: the
    prior.
    """
    return _fit(since_shift(history), lyrics_length, typical_seconds)


def since_shift(history: Sequence[tuple[int, float]]) -> Sequence[tuple[int, float]]:
    """The part of `history` (newest first) since the provider's speed last shifted.

    Why: 200 samples of 60-150 s would otherwise keep predicting 60-150 s long after the
    provider started answering in 30 s, and every job in between would sleep through its own
    completion. Read oldest to newest: two consecutive samples both beyond SHIFT_SIGMAS of what
    the samples since the last shift predict, on the same side, start a new segment (one alone
    is just an outlier). One pass with running sums, so it is cheap on every poll.
    """
    chron = list(reversed(history))
    start = 0
    segment = _Sums()
    for i, sample in enumerate(chron):
        if segment.n >= 3 and i + 1 < len(chron):
            side = segment.side(sample)
            if side != 0 and segment.side(chron[i + 1]) == side:
                start, segment = i, _Sums()
        segment.add(sample)
    return history[: len(chron) - start]


@dataclass(slots=True)
class _Sums:
    """Running sums of a segment of history: its least-squares line and spread in O(1)."""

    n: int = 0
    sx: float = 0.0
    sy: float = 0.0
    sxx: float = 0.0
    sxy: float = 0.0
    syy: float = 0.0

    def add(self, sample: tuple[int, float]) -> None:
        x, y = float(sample[0]), sample[1]
        self.n += 1
        self.sx += x
        self.sy += y
        self.sxx += x * x
        self.sxy += x * y
        self.syy += y * y

    def side(self, sample: tuple[int, float]) -> int:
        """-1 / +1 if `sample` lies far below / above this segment's line, else 0."""
        n = self.n
        mx, my = self.sx / n, self.sy / n
        vxx = self.sxx - n * mx * mx
        vxy = self.sxy - n * mx * my
        vyy = max(0.0, self.syy - n * my * my)
        slope = max(0.0, vxy / vxx) if n >= 6 and vxx > 1e-9 else 0.0
        sse = max(0.0, vyy - 2 * slope * vxy + slope * slope * vxx)
        std = math.sqrt(sse / max(1, n - (2 if slope else 1))) * (1.0 + 2.0 / n)
        std = max(1.5, 0.5 * my / n if n < TRUSTED_SAMPLES else 0.0, std)
        predicted = my + slope * (sample[0] - mx)
        if sample[1] < predicted - SHIFT_SIGMAS * std:
            return -1
        if sample[1] > predicted + SHIFT_SIGMAS * std:
            return 1
        return 0


def _fit(
    history: Sequence[tuple[int, float]], lyrics_length: int, typical_seconds: float
) -> Estimate:
    n = len(history)
    if n == 0:
        return prior_estimate(typical_seconds)
    xs = [float(x) for x, _ in history]
    ys = [y for _, y in history]
    mean_x = sum(xs) / n
    mean_y = sum(ys) / n
    var_x = sum((x - mean_x) ** 2 for x in xs)
    if n >= 6 and var_x > 1e-9:
        slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var_x
        slope = max(0.0, slope)
        intercept = mean_y - slope * mean_x
    else:
        slope, intercept = 0.0, mean_y
    residuals = [y - (intercept + slope * x) for x, y in zip(xs, ys, strict=True)]
    dof = max(1, n - (2 if slope else 1))
    std = math.sqrt(sum(r * r for r in residuals) / dof)
    predicted = intercept + slope * lyrics_length
    # Few samples: widen the spread so an unlucky fit does not make us miss the window, and
    # never trust one or two samples to be tighter than half (a quarter …) of their mean.
    widen = 1.0 + 2.0 / n
    floor = 0.5 * mean_y / n if n < TRUSTED_SAMPLES else 0.0
    return Estimate(mean=max(1.0, predicted), std=max(1.5, floor, std * widen), samples=n)


def next_poll_delay(
    elapsed: float, estimate: Estimate, base: float, *, queued: bool = False
) -> float:
    """Seconds from now until the next status check, given seconds since submission.

    No history: one early check, a 1.5x ramp to the cold floor, then every `base` seconds.
    With history: before the likely window the checks ramp up geometrically (early, 1.5x, 2.25x
    … elapsed), so a fast failure or an estimate that is far too high is noticed soon without many
    requests; inside the window they come every `step` seconds (`base`, or the spread when
    generations are known to be tighter than that); past it the gaps grow back to `base` until the
    history is large enough to call this job an outlier, and then back off. `queued`: the
    provider has not started it, so it is no outlier yet: no back-off (the ramp before the
    window is kept: the history counts from the submit, queue included).
    """
    base = max(0.05, base)
    if estimate.samples == 0:
        return _cold_delay(elapsed, estimate.mean, base)
    step = min(base, max(MIN_STEP, estimate.std))
    start = estimate.mean - WINDOW_BEFORE_SIGMAS * estimate.std
    end = estimate.mean + WINDOW_AFTER_SIGMAS * estimate.std
    early = min(EARLY_CHECK_SECONDS, base * 1.6)
    if elapsed < start - step:
        return max(step * 0.5, min(start, on_ramp(elapsed, early)) - elapsed)
    if elapsed < end:
        return step
    if queued:
        return base
    if estimate.samples < TRUSTED_SAMPLES:
        # Past a window drawn from few samples: most likely just a little late, so the gaps
        # grow from the window's step back to `base` (never beyond: no back-off on few samples).
        return min(base, step + (RAMP - 1.0) * (elapsed - end))
    # Beyond the window: the prediction was wrong; back off geometrically, capped.
    overdue = elapsed - end
    return min(MAX_BACKOFF_SECONDS, max(base, base * (1.0 + overdue / max(base, estimate.std))))


def cold_floor(typical_seconds: float) -> float:
    """Before this, with no history, no song is expected (checks ramp up to it)."""
    return COLD_FLOOR * typical_seconds


def _cold_delay(elapsed: float, typical_seconds: float, base: float) -> float:
    """No history: early check, a 1.5x ramp to the floor, then the fixed `base` pace."""
    floor = cold_floor(typical_seconds)
    early = min(EARLY_CHECK_SECONDS, base * 1.6)
    if elapsed < floor - base:
        return max(base * 0.5, min(floor, on_ramp(elapsed, early)) - elapsed)
    return base


def on_ramp(elapsed: float, early: float) -> float:
    """The first point of the ramp early, early x RAMP, early x RAMP^2 … after `elapsed`.

    A fixed grid counted from the submit, not "RAMP x whenever we last looked": a job picked up
    again after a restart (bot/engine/reconcile.py) lands on the same checks as one never
    interrupted, and a check that ran a little late does not push all later ones back.
    """
    if elapsed < early:
        return early
    point = early * RAMP ** math.floor(math.log(elapsed / early, RAMP))
    while point <= elapsed + 1e-9:
        point *= RAMP
    return point


def earlier_than_expected(took: float, estimate: Estimate) -> bool:
    """Did a generation that took `took` s finish before the window planned for it opened?

    Only such a completion says something about the other jobs of its model: those that have
    run as long may be done too, yet sleep towards a later check. A completion inside or after
    its window tells them nothing their own schedule does not already cover.
    """
    if estimate.samples == 0:
        return took < cold_floor(estimate.mean)
    return took < estimate.mean - WINDOW_BEFORE_SIGMAS * estimate.std

"""When to ask the provider about a pending generation next.

Why not a fixed interval: the provider's own examples poll every 15 s, so a finished song waits
7.5 s on average, and polling every second would hammer a free endpoint for nothing. Generation
time is predictable (per model, from the lyrics length and the bot's own history), so the policy
checks once early (to surface fast failures), sleeps until shortly before the predicted finish,
polls densely (`base` seconds apart) through the window where the song is likely to finish, and
backs off beyond it once the history is large enough to trust.

Why it is never worse than fixed polling: with no history at all (`samples == 0`) it *is* fixed
polling at `base` (the docs' prior can be far off: generations 3x faster than it were seen), and
a job still running past a window drawn from few samples keeps the `base` pace instead of backing
off (that job is itself evidence the estimate is too short). Every completion refreshes the
estimate for all jobs in flight (bot/engine/poll.py). Pure functions: the engine feeds in the
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
RAMP = 3.0  # each check before the window waits twice as long as all before it
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
    """Predict from (lyrics length, seconds) pairs with a least-squares line, else the prior.

    Longer lyrics make longer songs and longer generations; a line through the bot's own
    history captures that, and its residual spread sets how wide the dense window is.
    """
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


def next_poll_delay(elapsed: float, estimate: Estimate, base: float) -> float:
    """Seconds from now until the next status check, given seconds since submission.

    Before the likely window the checks ramp up geometrically (early, 2x, 4x … elapsed), so a
    fast failure or an estimate that is far too high is noticed soon without many requests;
    inside the window they come every `step` seconds (`base`, or the spread when generations are
    known to be tighter than that); past it they keep the `base` pace until the history is large
    enough to call this job an outlier, and then back off.
    """
    base = max(0.05, base)
    if estimate.samples == 0:
        return base  # no history: fixed polling, the one policy that cannot be misled
    step = min(base, max(MIN_STEP, estimate.std))
    start = estimate.mean - WINDOW_BEFORE_SIGMAS * estimate.std
    end = estimate.mean + WINDOW_AFTER_SIGMAS * estimate.std
    early = min(EARLY_CHECK_SECONDS, base * 1.6)
    if elapsed < start - step:
        target = min(start, max(early, elapsed * RAMP))
        return max(step * 0.5, target - elapsed)
    if elapsed < end:
        return step
    if estimate.samples < TRUSTED_SAMPLES:
        return base
    # Beyond the window: the prediction was wrong; back off geometrically, capped.
    overdue = elapsed - end
    return min(MAX_BACKOFF_SECONDS, max(base, base * (1.0 + overdue / max(base, estimate.std))))

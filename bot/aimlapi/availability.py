"""Which registry models the provider still serves, and which model takes over a retired one.

Why: music-01 (the voice-note model) may be retired: its docs page has been hidden since
2026-08-17 and it is missing from the complete model list. When one of its calls is answered
with "the model is gone" (`responses.model_gone`), the request is routed to its fallback
(music-cover, which takes the reference inline, 6 s to 6 min) and the fact is remembered:
in memory for this process, and as one row of the `meta` table, so a restart does not spend a
refused call per job to find it out again. The operator is told once: one WARNING line when a
process records the fact first, and a `/healthz` notice (`notices`) for as long as it holds.

To try the model again (say the provider brought it back), delete the row:
`DELETE FROM meta WHERE key = 'model-retired:music-01'`, then restart.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from bot.aimlapi.models import MODELS, ModelSpec
from bot.textutil import shortest_length

log = logging.getLogger(__name__)

# A retired model's requests go here; a model without an entry has no fallback.
FALLBACKS: Final[Mapping[str, str]] = {"music-01": "minimax/music-cover"}
KEY_PREFIX: Final = "model-retired:"
# What a request rerouted to a model that needs a style says when the user gave none (or too
# little): music-01 sang "like the reference" without one, so that is what is asked for.
FALLBACK_STYLE: Final = "in the style and voice of the reference recording"


def fallback_prompt(style: str, spec: ModelSpec) -> str:
    """`style`, lengthened with `FALLBACK_STYLE` when `spec` needs a longer one."""
    style = style.strip()
    if not spec.takes_prompt or shortest_length(style) >= spec.prompt_min:
        return style
    return f"{style}, {FALLBACK_STYLE}" if style else FALLBACK_STYLE


class Notes(Protocol):
    """The durable store (storage/meta.py `MetaStore`); `add` is True only for the first."""

    async def with_prefix(self, prefix: str) -> dict[str, str]: ...

    async def add(self, key: str, value: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class Retirement:
    model: str
    fallback: str | None
    since: float
    reason: str

    def notice(self) -> str:
        """One line for an operator (`/healthz`, `songbot check`)."""
        if self.fallback is None:
            return f"{self.model} is unavailable at the provider ({self.reason})"
        return (
            f"{self.model} is unavailable at the provider ({self.reason}); "
            f"voice-note references now go to {self.fallback}"
        )


class ModelAvailability:
    """The retired models, loaded once at start and kept in memory (see the module doc)."""

    def __init__(self, notes: Notes) -> None:
        self._notes = notes
        self._retired: dict[str, Retirement] = {}

    async def load(self) -> None:
        """Read what earlier runs learnt; said once at INFO (the WARNING was said when found)."""
        for key, value in (await self._notes.with_prefix(KEY_PREFIX)).items():
            retirement = _parse(key.removeprefix(KEY_PREFIX), value)
            self._retired[retirement.model] = retirement
            log.info("remembered: %s", retirement.notice())

    def retirement(self, model: str) -> Retirement | None:
        return self._retired.get(model)

    def route(self, spec: ModelSpec) -> ModelSpec:
        """The model that serves a request for `spec` now: its fallback once it is retired."""
        retirement = self._retired.get(spec.id)
        if retirement is None or retirement.fallback is None:
            return spec
        return MODELS[retirement.fallback]

    def moved(self) -> dict[str, str]:
        """Retired model id -> the id of the model that takes its requests now."""
        return {m: r.fallback for m, r in self._retired.items() if r.fallback is not None}

    def notices(self) -> list[str]:
        return [r.notice() for r in sorted(self._retired.values(), key=lambda r: r.model)]

    async def retire(self, model: str, *, reason: str, now: float) -> Retirement:
        """Record that the provider refused `model` as gone; the operator hears of it once."""
        known = self._retired.get(model)
        if known is not None:
            return known
        retirement = Retirement(model, FALLBACKS.get(model), now, " ".join(reason.split())[:200])
        self._retired[model] = retirement
        value = json.dumps(
            {"since": now, "reason": retirement.reason, "fallback": retirement.fallback},
            sort_keys=True,
        )
        if await self._notes.add(KEY_PREFIX + model, value):
            log.warning("OPERATOR: %s", retirement.notice())
        return retirement


def _parse(model: str, value: str) -> Retirement:
    try:
        data = json.loads(value)
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    since = data.get("since")
    fallback = data.get("fallback", FALLBACKS.get(model))
    return Retirement(
        model=model,
        fallback=fallback if isinstance(fallback, str) and fallback in MODELS else None,
        since=float(since) if isinstance(since, int | float) else 0.0,
        reason=str(data.get("reason") or "refused earlier"),
    )

"""A request kept for later as a row (storage/flows.py): its `Origin` and `Draft` as JSON data.

Why apart from kept.py: the intake keeps a request that met the paywall (accept.py), and kept.py
makes kept requests through the intake; this half needs neither, so neither imports the other.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from bot.aimlapi.models import MODELS
from bot.intake.references import TelegramReference
from bot.intake.request import Draft, Origin
from bot.services import Services
from storage.flows import Flow, Kind


def origin_data(origin: Origin) -> dict[str, Any]:
    return asdict(origin)


def origin_from(data: dict[str, Any]) -> Origin:
    return Origin(**data)


def reference_data(ref: TelegramReference | None) -> dict[str, Any] | None:
    return None if ref is None else asdict(ref)


def reference_from(data: object) -> TelegramReference | None:
    return TelegramReference(**data) if isinstance(data, dict) else None


def draft_data(draft: Draft) -> dict[str, Any]:
    return {
        "model": draft.spec.id,
        "style": draft.style,
        "lyrics": draft.lyrics,
        "reference_url": draft.reference_url,
        "reference": reference_data(draft.reference),
        "purpose": draft.purpose,
        "title": draft.title,
    }


def draft_from(data: dict[str, Any]) -> Draft | None:
    """The kept draft; None if its model is gone from the registry (an older version's row)."""
    spec = MODELS.get(str(data.get("model")))
    if spec is None:
        return None
    return Draft(
        spec=spec,
        style=str(data.get("style") or ""),
        lyrics=data.get("lyrics"),
        reference_url=data.get("reference_url"),
        reference=reference_from(data.get("reference")),
        purpose=data.get("purpose"),
        title=data.get("title"),
    )


async def keep(services: Services, kind: Kind, origin: Origin, draft: Draft) -> Flow | None:
    """Keep a request (`ask`: waiting for an answer; `paywall`: waiting for a payment); None
    when this request's question was asked already (the same update twice)."""
    return await services.flows.add(
        kind,
        chat_id=origin.chat_id,
        user_id=origin.user_id,
        request_message_id=origin.request_message_id,
        data={"origin": origin_data(origin), "draft": draft_data(draft)},
        now=time.time(),
    )

"""The one name a user reads for each music model (issue #25 item 13).

Why a registry here: the model catalogue (bot/aimlapi/models.py) sits above the i18n layer, yet
every message that names a model passes the model's *id* (`model=job.model`), from dozens of
places including errors raised deep in the API client. `t()` swaps a known id in a `MODEL_PARAMS`
field for its display name, so ids stay where operators read them (logs, CLI) and users see one
short name that they can also type after `model:`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

MODEL_PARAMS: Final = frozenset({"model", "previous", "old"})

_NAMES: dict[str, str] = {}


def register_model_names(names: Mapping[str, str]) -> None:
    """Called once by the model catalogue: id → display name."""
    _NAMES.update(names)


def model_name(model_id: str) -> str:
    """The display name of `model_id`; anything unknown (what a user typed) as it is."""
    return _NAMES.get(model_id, model_id)

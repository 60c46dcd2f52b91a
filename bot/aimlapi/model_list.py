"""Which models the key can use: `GET /v1/models` (free, read-only).

Why: music-01's documentation has been hidden since 2026-08-17 and it is missing from the
complete model list, so `songbot check` shows which registry models are listed for this key
and flags a configured or reference model that is not.
"""

from __future__ import annotations

from typing import Final

import httpx

from bot.aimlapi.responses import Malformed, json_body
from bot.aimlapi.session import ApiSession

MODELS_PATH: Final = "/v1/models"


class ModelList(ApiSession):
    """`list_models`: the ids `GET /v1/models` lists."""

    async def list_models(self) -> frozenset[str]:
        """The model ids the key can use, from `GET /v1/models` (free, read-only).

        Accepts the OpenAI-style `{"data": [{"id": ...}]}` and a bare list of objects or ids.
        """

        async def parse(response: httpx.Response) -> frozenset[str]:
            body = json_body(response)
            rows = body.get("data") if isinstance(body, dict) else body
            if not isinstance(rows, list):
                raise Malformed("GET /v1/models: no list of models")
            ids = set()
            for row in rows:
                value = row.get("id") if isinstance(row, dict) else row
                if isinstance(value, str) and value:
                    ids.add(value)
            return frozenset(ids)

        return await self._call("GET", MODELS_PATH, timeout=self._timeouts.logs, parse=parse)

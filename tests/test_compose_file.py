"""compose.yaml as a newcomer meets it: `docker compose up -d --build` with only the variables the
docs ask for (TELEGRAM_BOT_TOKEN and AIMLAPI_KEY, read from .env by the container) must start.

Compose interpolates `${...}` in the WHOLE file before it looks at profiles, so one required
variable (`${X:?msg}` or `${X?msg}`) of the optional replicas profile stops the single bot too.
Every interpolated variable therefore needs a default. (Checked with Compose v2.40: `docker
compose config` without POSTGRES_PASSWORD fails on the required form and passes with `:-`.)
"""

from __future__ import annotations

import re
from pathlib import Path

COMPOSE = Path(__file__).resolve().parent.parent / "compose.yaml"
# ${NAME}, ${NAME:-x}, ${NAME-x}, ${NAME:?err}, ${NAME?err}, ${NAME:+alt}; `$$` escapes.
_INTERPOLATION = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?")


def interpolations(text: str) -> list[tuple[str, str]]:
    """(variable, operator) of every interpolation outside comments."""
    found = []
    for line in text.splitlines():
        code = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
        found += [(m["name"], m["op"] or "") for m in _INTERPOLATION.finditer(code)]
    return found


def test_the_parser_sees_every_form() -> None:
    text = "a: ${A}\nb: ${B:-x}\nc: ${C:?say}\nd: $${D}\n# e: ${E:?no}\n"
    assert interpolations(text) == [("A", ""), ("B", ":-"), ("C", ":?")]


def test_every_interpolated_variable_has_a_default() -> None:
    found = interpolations(COMPOSE.read_text())
    assert ("POSTGRES_PASSWORD", ":-") in found  # the replicas profile still uses it
    missing = sorted({name for name, op in found if op not in (":-", "-")})
    assert missing == [], f"compose.yaml needs these set even without the profile: {missing}"

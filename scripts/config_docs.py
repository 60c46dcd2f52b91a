"""Write docs/configuration.md from the code: every variable `bot/config.py` reads, its default.

Why generated: a default written twice drifts. Each default is read from the call that parses its
variable in `config._parse` (`_int(env, "NAME", 5, …)`, `env.get("NAME", "") … or "x"`), the
meaning from `bot/config_help.py`; a variable without a meaning, or a meaning for a variable the
code no longer reads, fails `--check` (and the test that runs it).

    .venv/bin/python scripts/config_docs.py            # rewrite docs/configuration.md
    .venv/bin/python scripts/config_docs.py --check    # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config_help import DEFAULT_TEXT, MEANING  # noqa: E402

CONFIG: Final = ROOT / "bot" / "config.py"
OUTPUT: Final = ROOT / "docs" / "configuration.md"
PARSERS: Final = frozenset(
    {"_int", "_float", "_model", "_chat_model", "_url", "_required", "_id_set", "_packs"}
)
INTRO: Final = """# Configuration

Every setting comes from the environment, or from a `.env` file in the working directory (the
environment wins). A missing or malformed value stops the bot at start with exit code 2 and one
line naming the variable. Secrets print as `***` everywhere: in the config's repr, in every log
line (a redacting filter covers PTB's and httpx's messages too), and in messages to users.

This page is generated from `bot/config.py` (the defaults) and `bot/config_help.py` (the meanings)
by `scripts/config_docs.py`; edit those, not this page.

| variable | default | meaning |
|---|---|---|
"""


def _literal(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)):
        value = node.value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return f"`{value}`" if value != "" else None
    return None


def read_defaults(source: str) -> dict[str, str | None]:
    """Variable name -> its default as Markdown (None: computed, see DEFAULT_TEXT), in order."""
    found: dict[str, str | None] = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or len(node.args) < 2:
            continue
        name_node = node.args[1]
        if not (isinstance(name_node, ast.Constant) and isinstance(name_node.value, str)):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in PARSERS:
            name = name_node.value
            default = "required" if func.id == "_required" else None
            if len(node.args) >= 3:
                default = _literal(node.args[2])
            found.setdefault(name, default)
    # `env.get("NAME", "").strip() or "default"`: the default is the right side of the `or`.
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and len(node.values) == 2:
            name = _env_get_name(node.values[0])
            if name is not None:
                found[name] = _literal(node.values[1])
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = _env_get_name(node)
            if name is not None:
                found.setdefault(name, None)
    return dict(sorted(found.items(), key=lambda item: _order(item[0])))


def _env_get_name(node: ast.expr) -> str | None:
    """NAME when `node` is `env.get("NAME", …)` (possibly followed by `.strip()` / `.lower()`)."""
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("strip", "lower", "upper")
    ):
        node = node.func.value
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "env"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def _order(name: str) -> tuple[int, str]:
    """The order of the meanings catalogue (a reading order), unknown names last."""
    names = list(MEANING)
    return (names.index(name) if name in names else len(names), name)


def render() -> str:
    defaults = read_defaults(CONFIG.read_text(encoding="utf-8"))
    missing = sorted(set(defaults) - set(MEANING))
    stale = sorted(set(MEANING) - set(defaults))
    if missing or stale:
        raise SystemExit(
            f"bot/config_help.py is out of step with bot/config.py: no meaning for {missing}, "
            f"meanings for variables the code does not read: {stale}"
        )
    rows = []
    for name, default in defaults.items():
        shown = DEFAULT_TEXT.get(name) or default
        if shown is None:
            raise SystemExit(f"{name}: its default is computed; describe it in DEFAULT_TEXT")
        rows.append(f"| `{name}` | {shown} | {MEANING[name]} |")
    return INTRO + "\n".join(rows) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the page is out of date")
    args = parser.parse_args()
    page = render()
    if args.check:
        if OUTPUT.read_text(encoding="utf-8") != page:
            print(
                "docs/configuration.md is out of date: run scripts/config_docs.py", file=sys.stderr
            )
            return 1
        return 0
    OUTPUT.write_text(page, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({page.count(chr(10)) - INTRO.count(chr(10))} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""docs/configuration.md is generated from the code, so a default is written once (config.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "config_docs", ROOT / "scripts" / "config_docs.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_configuration_page_is_up_to_date() -> None:
    script = load_script()
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert script.render() == page, "run .venv/bin/python scripts/config_docs.py"


def test_defaults_are_read_from_the_parsing_calls() -> None:
    script = load_script()
    source = """
def _parse(env):
    return Config(
        a=_int(env, "SONGBOT_A", 5, minimum=0),
        b=_float(env, "SONGBOT_B", 2.0, minimum=0.0),
        c=env.get("SONGBOT_C", "").strip() or "x.db",
        d=_required(env, "SONGBOT_D"),
        e=env.get("SONGBOT_E", "").strip(),
    )
"""
    assert script.read_defaults(source) == {
        "SONGBOT_A": "`5`",
        "SONGBOT_B": "`2`",
        "SONGBOT_C": "`x.db`",
        "SONGBOT_D": "required",
        "SONGBOT_E": None,
    }


def test_a_variable_without_a_meaning_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    script = load_script()
    monkeypatch.setattr(
        script, "MEANING", {k: v for k, v in script.MEANING.items() if k != "AIMLAPI_KEY"}
    )
    with pytest.raises(SystemExit, match="AIMLAPI_KEY"):
        script.render()

"""The repository's own promises: CI runs exactly the README's test command, that command
installs the locked versions, and a failed start's lock file is not offered to git."""

from __future__ import annotations

import ast
import fnmatch
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text("utf-8")
    after = readme.split("**Run the tests**", 1)[1]
    block = re.search(r"```sh\n(.+?)\n```", after, re.DOTALL)
    assert block is not None, "no test command under **Run the tests**"
    return block.group(1).strip()


def test_ci_runs_the_readmes_test_command_verbatim_with_the_lock() -> None:
    command = readme_test_command()
    lines = [ln for ln in (ROOT / ".ci" / "run").read_text("utf-8").splitlines() if ln.strip()]
    assert lines[-1].strip() == command
    install = command.split("&&")[1]
    assert "pip install -c requirements.lock" in install, command


def test_gitignore_covers_the_instance_lock_a_failed_start_leaves() -> None:
    patterns = [
        ln.strip()
        for ln in (ROOT / ".gitignore").read_text("utf-8").splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    for name in ("songbot.db.lock", "demo.db.lock"):
        assert any(fnmatch.fnmatch(name, p) for p in patterns), name


def _test_module_imports(path: Path) -> set[str]:
    """The test modules (`tests.test_*`) that one file imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "tests":
            found |= {f"tests.{a.name}" for a in node.names if a.name.startswith("test_")}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} if node.module.startswith("tests.test_") else set()
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("tests.test_")}
    return found


def test_test_modules_do_not_import_each_other() -> None:
    """Shared test code lives in tests/support/: importing a test module runs its tests twice
    under two names' fixtures and ties two unrelated files together."""
    pairs = {
        (path.stem, imported)
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for imported in _test_module_imports(path)
    }
    assert pairs == set(), "import shared code from tests/support/ instead"
    assert not list((ROOT / "tests" / "support").glob("test_*.py")), "support code is not a test"

"""Issue #16.11: a missing TMPDIR (a bind-mounted, empty /data) is created, or one line says why.

Runs the real `songbot` entry point in a subprocess, as the image does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _songbot(tmp_path: Path, tmpdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SONGBOT_", "TELEGRAM_"))}
    env.update(TMPDIR=str(tmpdir), SONGBOT_DB=str(tmp_path / "songbot.db"))
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_missing_tmpdir_is_created(tmp_path: Path) -> None:
    tmpdir = tmp_path / "data" / "tmp"
    done = _songbot(tmp_path, tmpdir, "jobs")
    assert tmpdir.is_dir()
    assert "TMPDIR" not in done.stderr


def test_an_impossible_tmpdir_is_one_line_and_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the folder should be")
    done = _songbot(tmp_path, blocker / "tmp", "jobs")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("songbot: TMPDIR ")
    assert "Traceback" not in done.stderr

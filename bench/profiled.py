"""Run a program under cProfile that is switched on and off by signals (for the benchmarks).

Run: .venv/bin/python bench/profiled.py OUT.prof -m bot run
SIGUSR1 starts profiling, SIGUSR2 stops it and writes OUT.prof. Why: a whole-run profile is
dominated by imports and startup; the benchmarks want exactly the measured span.
"""

from __future__ import annotations

import cProfile
import runpy
import signal
import sys
from types import FrameType


def main() -> None:
    out, rest = sys.argv[1], sys.argv[2:]
    profiler = cProfile.Profile()

    def start(signum: int, frame: FrameType | None) -> None:
        profiler.enable()

    def stop(signum: int, frame: FrameType | None) -> None:
        profiler.disable()
        profiler.dump_stats(out)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    if rest[:1] == ["-m"]:
        sys.argv = [rest[1], *rest[2:]]
        runpy.run_module(rest[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = rest
        runpy.run_path(rest[0], run_name="__main__")


if __name__ == "__main__":
    main()

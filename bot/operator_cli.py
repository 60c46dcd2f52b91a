"""Operator subcommands of `songbot` (check, jobs, stats, backup, demo) — filled in by issue #10."""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(sub: Any) -> None:
    del sub


def dispatch(args: argparse.Namespace) -> int:
    raise SystemExit(f"unknown command {args.command!r}")

"""`python -m bot` is the same program as the `songbot` console script."""

from bot.ops.cli import main

raise SystemExit(main())

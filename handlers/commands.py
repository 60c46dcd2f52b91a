"""A command's declaration, kept beside the handler that serves it.

Why: the menu registered with `setMyCommands` and the `CommandHandler`s must name the same
commands; declaring each command once, in its handler's module, and building the menu from those
declarations keeps the two from drifting apart (a test checks every declaration against the
handlers the real Application registers).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Command:
    """One slash command. `private`/`group` are its place in that scope's menu (None: not shown
    there); a command in neither scope is served but not advertised (operators', /refund)."""

    name: str
    private: int | None = None
    group: int | None = None
    paid: bool = False  # shown only while the bot sells songs (SONGBOT_STARS_PER_SONG > 0)

    @property
    def key(self) -> str:
        """The catalogue key of its menu description."""
        return f"cmd_{self.name}"

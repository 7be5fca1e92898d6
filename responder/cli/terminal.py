"""What only a person at a terminal sees: statuses in colour, and a progress line on stderr. Nothing of it reaches
a pipe or a file, and NO_COLOR (https://no-color.org) or --no-color turns colour off."""

from __future__ import annotations

import os
import sys
import time

import typer

COLOUR = {"off": False}  # set by --no-color, wherever it is written

# Bad news red, good news green, waiting or partial yellow; the rest stays plain.
_COLOURS = {
    "failed": "red",
    "rollback-failed": "red",
    "undo failed": "red",
    "interrupted": "yellow",
    "cancelled": "yellow",
    "rejected": "yellow",
    "partial": "yellow",
    "planned": "cyan",
    "dry-run": "cyan",
    "completed": "green",
    "verified": "green",
    "rolled-back": "green",
    "ok": "green",
    "active": "red",  # a leaked key still active is the thing to look at
    "inactive": "green",
}


def colour_on(err: bool = False) -> bool:
    if COLOUR["off"] or os.environ.get("NO_COLOR"):
        return False
    stream = sys.stderr if err else sys.stdout
    return stream.isatty()


def paint(text: str, status: str | None = None, err: bool = False) -> str:
    """`text` in the colour of `status` (default: the text itself), on a terminal only."""
    colour = _COLOURS.get((status or text).strip().lower())
    if colour is None or not colour_on(err):
        return text
    return typer.style(text, fg=colour, bold=colour == "red")


_ON_SCREEN: list[ProgressLine] = []  # the line on screen now, if any


def clear_progress() -> None:
    """Before other text reaches the terminal: take the progress line off it (it is drawn again on its next
    change)."""
    for line in list(_ON_SCREEN):
        line.clear()


class ProgressLine:
    """`what: done/total, N failed, 12.3 s` rewritten in place on stderr while many things run; nothing when
    stderr is not a terminal (a pipe or a CI log gets the result alone)."""

    def __init__(self, what: str, total: int = 0, enabled: bool | None = None) -> None:
        self.what, self.total, self.done, self.failed = what, total, 0, 0
        self.started = time.monotonic()
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._drawn = False

    def update(self, done: int, total: int, failed: int) -> None:
        self.done, self.total, self.failed = done, total, failed
        self.draw()

    def advance(self, failed: bool = False) -> None:
        self.done += 1
        self.failed += int(failed)
        self.draw()

    def text(self) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        return f"{self.what}: {self.done}/{self.total}{failed}, {time.monotonic() - self.started:.1f} s"

    def clear(self) -> None:
        self._leave("\r\x1b[2K")

    def _leave(self, ending: str) -> None:
        """Take the line off the screen (ending erases it) or leave it standing (ending is a newline)."""
        if self.enabled and self._drawn:
            sys.stderr.write(ending)
            sys.stderr.flush()
            self._drawn = False
            _ON_SCREEN.remove(self)

    def draw(self) -> None:
        if self.enabled:
            sys.stderr.write(f"\r\x1b[2K{self.text()}")  # back to the line's start, clear it, redraw
            sys.stderr.flush()
            if not self._drawn:
                _ON_SCREEN.append(self)
            self._drawn = True

    def close(self) -> None:
        """Leave the last figures on their own line before anything else is written."""
        self._leave("\n")

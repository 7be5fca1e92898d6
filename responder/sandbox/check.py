"""What a rehearsal checks: one sentence, and whether the emulated account, read afresh, bears it out."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Check:
    what: str
    ok: bool

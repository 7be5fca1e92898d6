"""When this process started: the zero of every "time to containment" figure a run reports; and reading the
times the journal and CloudTrail write."""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

_IMPORTED_AT = time.time()


def _age_from_proc() -> float | None:
    """Linux knows when the process was born, before the interpreter loaded anything: count from there."""
    try:
        stat = Path(f"/proc/{os.getpid()}/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, starttime: clock ticks after boot
        return time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


_age = _age_from_proc()
PROCESS_STARTED = _IMPORTED_AT if _age is None or _age < 0 else min(_IMPORTED_AT, time.time() - _age)


def start_timing_now() -> None:
    """Count from now instead: for a rehearsal, whose emulator is set up in the same process before its run starts
    (that wait is not the time to containment an operator would see)."""
    global PROCESS_STARTED
    PROCESS_STARTED = time.time()


def since_start() -> float:
    """Seconds since this process started."""
    return round(time.time() - PROCESS_STARTED, 3)


def parse_time(value: Any) -> datetime | None:
    """A time as the journal or CloudTrail writes it (ISO 8601, `Z` or an offset), or None for none or nonsense."""
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None

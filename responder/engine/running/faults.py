"""Fault injection for the crash-safety tests, kept off the journal's path: a listener the CLI installs only when
RESPONDER_FAULT_KILL_AFTER is set. RESPONDER_FAULT_KILL_AFTER=step.applying:2 makes the process SIGKILL itself
right after writing the 2nd step.applying record, as a power cut or an out-of-memory kill would."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from responder.engine.journal.writer import Listener

VARIABLE = "RESPONDER_FAULT_KILL_AFTER"
# RESPONDER_FAULT_PAUSE_AFTER=run.resumed:1=2.0 sleeps 2 s after that record: a run kept live for a racing command.
PAUSE = "RESPONDER_FAULT_PAUSE_AFTER"


def kill_after_from_env() -> Listener | None:
    target = os.environ.get(VARIABLE)
    pause = os.environ.get(PAUSE)
    if not target and not pause:
        return None
    name, _, nth = (target or "").partition(":")
    paused, _, count_seconds = (pause or "").partition(":")
    count, _, seconds = count_seconds.partition("=")
    written: dict[str, int] = {}

    def listen(event: str, _: dict[str, Any]) -> None:
        written[event] = written.get(event, 0) + 1
        if event == name and written[event] == int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)
        if event == paused and written[event] == int(count or 1):
            time.sleep(float(seconds or 1))

    return listen

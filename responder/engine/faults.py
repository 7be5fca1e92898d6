"""Fault injection for the crash-safety tests, kept off the journal's path: a listener the CLI installs only when
RESPONDER_FAULT_KILL_AFTER is set. RESPONDER_FAULT_KILL_AFTER=step.applying:2 makes the process SIGKILL itself
right after writing the 2nd step.applying record, as a power cut or an out-of-memory kill would."""

from __future__ import annotations

import os
import signal
from typing import Any

from responder.engine.journal import Listener

VARIABLE = "RESPONDER_FAULT_KILL_AFTER"


def kill_after_from_env() -> Listener | None:
    target = os.environ.get(VARIABLE)
    if not target:
        return None
    name, _, nth = target.partition(":")
    written: dict[str, int] = {}

    def listen(event: str, _: dict[str, Any]) -> None:
        written[event] = written.get(event, 0) + 1
        if event == name and written[event] == int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)

    return listen

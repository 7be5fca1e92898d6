"""Tell people the moment containment holds, not only when the run ends (reading what the key did can take
minutes): a journal listener that watches the run's containment steps (those whose action names a milestone)
and, when every one of them has been applied (or found in place, or skipped by its condition) and none failed,
sends one message on its own thread. It starts only after the last containment change AWS answered, so it adds
nothing to the time to containment; the run's end waits for it (a bounded time) before its own message.

A listener sees records, not the run's directory: the deliveries are kept here and written to
notifications.jsonl by whoever finishes the run (`record`)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from responder.actions.registry import get_action
from responder.engine.commands.notify import Channel, deliver
from responder.engine.journal import events as j
from responder.engine.journal.notifications import Delivery, record_deliveries
from responder.redaction import SECRETS

_TERMINAL = {j.APPLIED, j.UNCHANGED, j.SKIPPED}
WAIT_SECONDS = 60.0  # the longest the run's end waits for the containment message (three attempts, with backoff)


def _milestones(steps: Any) -> set[str]:
    """The ids of the steps that contain (their action names a milestone), and of groups not yet expanded."""
    found = set()
    for step in steps if isinstance(steps, list) else []:
        action = get_action(str(step.get("action") or ""))
        if step.get("action") == "group" or (action is not None and action.milestone is not None):
            found.add(str(step.get("id")))
    return found


class ContainmentNotice:
    """The listener. `channels`: whom to tell; `delays`: the retries' backoff (tests pass zeros)."""

    def __init__(self, channels: Sequence[Channel], delays: Sequence[float] | None = None) -> None:
        self.channels, self.delays = list(channels), delays
        self.pending: set[str] = set()
        self.contained: list[str] = []
        self.order: dict[str, int] = {}  # each step's place in the plan: concurrent changes answer in any order
        self.failed = False
        self.started: dict[str, Any] = {}
        self.deliveries: list[Delivery] = []
        self.thread: threading.Thread | None = None

    def __call__(self, event: str, fields: dict[str, Any]) -> None:
        if event == j.RUN_STARTED:
            self.started = fields
            self.pending = set() if fields.get("dry_run") else _milestones(fields.get("steps"))
            self._place(fields.get("steps"))
            return
        step = str(fields.get("step") or fields.get("group") or "")
        if event == j.EXPANDED and step in self.pending:
            self.pending.discard(step)
            self.pending |= _milestones(fields.get("steps"))
            self._place(fields.get("steps"))
        elif event == j.FAILED and step in self.pending:
            self.failed = True
        elif event in _TERMINAL and step in self.pending:
            self.pending.discard(step)
            if event != j.SKIPPED:
                self.contained.append(step)
            if not self.pending and self.contained and not self.failed and self.thread is None:
                at = datetime.now(timezone.utc).isoformat(timespec="microseconds")
                self.thread = threading.Thread(target=self._send, args=(at,), daemon=True)
                self.thread.start()

    def _place(self, steps: Any) -> None:
        for step in steps if isinstance(steps, list) else []:
            self.order.setdefault(str(step.get("id")), len(self.order))

    def _send(self, at: str) -> None:
        key = self.started.get("key") or {}
        public = {k: key.get(k) for k in ("kind", "family", "fingerprint", "account_id", "user_name") if key.get(k)}
        body = SECRETS.redact_value(
            {
                "source": "responder",
                "moment": "contained",
                "run_id": self.started.get("run_id") or "(named when the run ends)",
                "playbook": self.started.get("playbook"),
                "status": "contained",
                "exit_code": None,
                "account": self.started.get("account_id"),
                "key": public or None,
                "contained_steps": sorted(self.contained, key=lambda s: self.order.get(s, len(self.order))),
                "contained_at": at,
                "opening": f"Containment holds: {len(self.contained)} change(s) applied; the run goes on.",
                "report": "written when the run ends",
            }
        )
        for channel in self.channels:
            if getattr(channel, "attaches_report", False):
                continue  # a ticket wants the report: it is told once, at the end
            self.deliveries.append(deliver(channel, body, Path("/nonexistent"), self.delays))

    def record(self, directory: Path) -> list[Delivery]:
        """Wait (bounded) for the message, and write what it did beside the run's journal."""
        if self.thread is not None:
            self.thread.join(WAIT_SECONDS)
        if self.deliveries:
            record_deliveries(directory, "contained", self.deliveries)
        return list(self.deliveries)

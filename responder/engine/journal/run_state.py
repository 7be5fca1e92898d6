"""A run's journal read back as state: what each step did, for resume, rollback and the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from responder.engine.journal.events import (
    APPLIED,
    APPLYING,
    APPROVED,
    EXPANDED,
    FAILED,
    FINISHED,
    PLANNED,
    READ,
    ROLLBACK_STARTED,
    RUN_RESUMED,
    RUN_STARTED,
    SKIPPED,
    UNCHANGED,
    UNDO_FAILED,
    UNDONE,
    VERIFIED,
)
from responder.engine.journal.opening import Opening


@dataclass
class StepState:
    id: str
    action: str = ""
    status: str = "pending"
    outputs: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] | None = None
    first_snapshot: dict[str, Any] | None = None  # the state before this run touched it: undo's target
    applied: dict[str, Any] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)
    undo_request_ids: list[str] = field(default_factory=list)
    error: str | None = None
    undo_status: str | None = None
    undo_message: str | None = None
    reversible: bool = True
    unanswered: bool = False  # its last change was sent and no answer came (the connection broke): unknown
    # What it changes, as journaled (target_to_journal); None in a journal written before targets were journaled.
    targets: list[dict[str, Any]] | None = None

    @property
    def touched(self) -> bool:
        """A mutating call may have been sent (journaled write-ahead), so rollback must consider it."""
        return self.first_snapshot is not None

    @property
    def done(self) -> bool:
        return self.status in ("read", "unchanged", "verified", "skipped")


@dataclass
class RunState:
    run_id: str
    started: Opening  # the opening record, typed (records[0] is as written)
    steps: dict[str, StepState]
    records: list[dict[str, Any]]
    status: str
    warnings: list[str]
    expansions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def playbook(self) -> str:
        return self.started.playbook


_STATUS_OF = {
    PLANNED: "planned",
    SKIPPED: "skipped",
    READ: "read",
    UNCHANGED: "unchanged",
    APPLYING: "in-flight",
    APPLIED: "applied",
    VERIFIED: "verified",
    FAILED: "failed",
}


def load_run(path: Path) -> RunState:
    from responder.engine.journal.audit import read_records

    records, warnings = read_records(path)
    if not records or records[0].get("event") != RUN_STARTED:
        raise ValueError(f"{path} is not a responder audit log")
    return state_from_records(records, warnings)


def state_from_records(records: list[dict[str, Any]], warnings: list[str]) -> RunState:
    """A run's state from its journal's records (read from an audit log, or translated from another engine's
    history: `responder report --execution`)."""
    started = Opening.from_record(records[0])
    reversible = started.reversible
    steps = {s["id"]: StepState(s["id"], s["action"], reversible=reversible.get(s["id"], True)) for s in started.steps}
    expansions: dict[str, list[dict[str, Any]]] = {}
    status = "interrupted"  # no finished record after the last start: the process died
    for rec in records[1:]:
        event = rec.get("event", "")
        if event == EXPANDED:
            expansions[rec["group"]] = rec["items"]
            steps = _expand(steps, rec["group"], rec["steps"])
        if event in (RUN_RESUMED, ROLLBACK_STARTED):
            status = "interrupted"
        if event == FINISHED:
            status = rec["status"]
        step = steps.get(rec.get("step", ""))
        if step is None:
            continue
        if event in _STATUS_OF:
            step.unanswered = event == FAILED and step.status == "in-flight" and rec.get("answered") is False
            step.status = _STATUS_OF[event]
        if event == SKIPPED and step.action == "group":
            expansions.setdefault(step.id, [])  # a group skipped when planned lists nothing, then or on resume
        if "outputs" in rec:
            step.outputs = rec["outputs"]
        if "notes" in rec:
            step.notes = rec["notes"]
        if event in (PLANNED, APPLYING):
            step.params, step.changes = rec.get("params"), rec.get("changes", [])
            step.targets = rec.get("targets", step.targets)
        if event == APPLYING and step.first_snapshot is None:
            step.first_snapshot = rec["snapshot"]
        if event == APPLIED:
            step.applied.update(rec.get("details", {}))
            step.changes = rec.get("changes", step.changes)
            step.request_ids.extend(rec.get("request_ids", []))
        if event == FAILED:
            step.error = rec.get("error")
        if event == UNDONE:
            step.undo_status, step.undo_message = rec["status"], rec.get("message")
            step.undo_request_ids.extend(rec.get("request_ids", []))
        if event == UNDO_FAILED:
            step.undo_status, step.undo_message = "failed", rec.get("error")
    if status == "interrupted" and not started.dry_run and not started.is_fanout and not approved(records):
        # It stopped before anyone approved its plan (a signal at the prompt, kill -9): nothing was changed.
        status = "cancelled"
    return RunState(started.run_id, started, steps, records, status, warnings, expansions)


def approved(records: list[dict[str, Any]]) -> bool:
    """The run's plan was approved: --yes or a saved plan (in run.started), a prompt's yes (run.approved); or, in
    a journal written before approvals were recorded, a change was sent (only an approved run sends one)."""
    return bool(records[0].get("approved")) or any(r.get("event") in (APPROVED, APPLYING) for r in records)


def _expand(steps: dict[str, StepState], group: str, concrete: list[dict[str, Any]]) -> dict[str, StepState]:
    """The step list with a group's placeholder replaced, in place, by the steps its items made."""
    expanded: dict[str, StepState] = {}
    for step_id, step in steps.items():
        if step_id != group:
            expanded[step_id] = step
            continue
        for s in concrete:
            expanded[s["id"]] = StepState(s["id"], s["action"], reversible=s.get("reversible", True))
    return expanded

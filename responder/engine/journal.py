"""The run journal: the audit log read back as state, for resume, rollback and the report.

Writing goes through structlog (responder.engine.audit); this module names the records and derives, from them,
what each step did. The journal is the only memory a run has: nothing is kept anywhere else.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from responder.errors import JournalUnwritable

Listener = Callable[[str, dict[str, Any]], None]

# Step records, in the order a step writes them.
PLANNED = "step.planned"  # dry-run / plan phase: what would change
SKIPPED = "step.skipped"  # its `when` was false
READ = "step.read"  # a read-only step finished (outputs)
UNCHANGED = "step.unchanged"  # already in place: nothing to do (idempotent re-run)
APPLYING = "step.applying"  # write-ahead: the snapshot and the calls about to be made
APPLIED = "step.applied"  # the calls returned (request ids)
VERIFIED = "step.verified"  # read back: the goal state holds
FAILED = "step.failed"
UNDOING = "step.undoing"  # write-ahead for undo
UNDONE = "step.undone"  # undo finished; `status` says how (undone, withheld, irreversible, nothing-to-undo)
UNDO_FAILED = "step.undo_failed"
FINISHED = "run.finished"
ACCOUNT_FINISHED = "account.finished"  # a fan-out's parent run: one account's run ended (or could not start)
EXPANDED = "group.expanded"  # a for_each group's items, and the steps they make (in place of the group)


# Records fsynced before the run goes on: a write-ahead record must be on disk before its request leaves, and the
# end of a run before the process says it is done. The others are flushed to the kernel, which keeps them if the
# process is killed; only a power cut could lose them, and then the write-ahead records still explain every change.
DURABLE = frozenset({"run.started", "step.applying", "step.undoing", "run.finished", "rollback.started"})


class JournalNotStarted(RuntimeError):
    """The run never began (who the operator is could not be learned): nothing may be recorded."""


class Journal:
    """Appends records to a run's audit log; listeners see each record (the CLI shows progress).

    Steps record from several threads: one lock keeps the hash chain in order. A journal made `pending` opens its
    file at `begin` (the run.started record, once the operator's identity is known); records made before wait.
    """

    def __init__(self, path: Path, run_id: str, listeners: list[Listener] | None = None, pending: bool = False) -> None:
        self.path = path
        self.run_id = run_id
        self._listeners = listeners or []
        self._lock = threading.RLock()
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._logger: Any = None
        self._out: Any = None
        if not pending:
            self._open()
            self._ready.set()

    def _open(self) -> None:
        from responder.engine.audit import open_audit_logger  # structlog stays out of `responder --help`

        self._logger, self._out = open_audit_logger(self.path, run_id=self.run_id)

    def begin(self, **started: Any) -> None:
        with self._lock:
            try:
                self._open()
            except OSError as exc:
                raise _unwritable(self.path, exc) from None
            self._write("run.started", started)
        self._ready.set()

    def abandon(self, cause: BaseException) -> None:
        """The run cannot begin: release whoever waits to record, with the cause."""
        self._failed = cause
        self._ready.set()

    @property
    def started(self) -> bool:
        return self._ready.is_set() and self._failed is None

    def record(self, event: str, **fields: Any) -> None:
        self._ready.wait()
        if self._failed is not None:
            raise JournalNotStarted(str(self._failed)) from self._failed
        with self._lock:
            self._write(event, fields)

    def _write(self, event: str, fields: dict[str, Any]) -> None:
        self._out.durable = event in DURABLE
        try:
            self._logger.info(event, **fields)
        except OSError as exc:  # a full or read-only disk: the caller sends nothing after a refused record
            raise _unwritable(self.path, exc) from None
        for listener in self._listeners:
            listener(event, fields)
        _crash_point(event)

    def close(self) -> None:
        if self._out is not None:
            self._out.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _unwritable(path: Path, exc: OSError) -> JournalUnwritable:
    return JournalUnwritable(f"cannot write the audit log {path}: {exc.strerror or exc}")


# Fault injection for the crash-safety tests: RESPONDER_FAULT_KILL_AFTER=step.applying:2 makes the process
# SIGKILL itself right after writing the 2nd step.applying record, as a power cut or OOM kill would.
_written: dict[str, int] = {}


def _crash_point(event: str) -> None:
    target = os.environ.get("RESPONDER_FAULT_KILL_AFTER")
    if not target:
        return
    _written[event] = _written.get(event, 0) + 1
    name, _, nth = target.partition(":")
    if event == name and str(_written[event]) == (nth or "1"):
        os.kill(os.getpid(), signal.SIGKILL)


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
    started: dict[str, Any]
    steps: dict[str, StepState]
    records: list[dict[str, Any]]
    status: str
    warnings: list[str]
    expansions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def playbook(self) -> str:
        return str(self.started.get("playbook", "?"))


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
    from responder.engine.audit import read_records

    records, warnings = read_records(path)
    if not records or records[0].get("event") != "run.started":
        raise ValueError(f"{path} is not a responder audit log")
    started = records[0]
    reversible = started.get("reversible", {})
    steps = {
        s["id"]: StepState(s["id"], s["action"], reversible=reversible.get(s["id"], True))
        for s in started.get("steps", [])
    }
    expansions: dict[str, list[dict[str, Any]]] = {}
    status = "interrupted"  # no finished record after the last start: the process died
    for rec in records[1:]:
        event = rec.get("event", "")
        if event == EXPANDED:
            expansions[rec["group"]] = rec["items"]
            steps = _expand(steps, rec["group"], rec["steps"])
        if event in ("run.resumed", "rollback.started"):
            status = "interrupted"
        if event == FINISHED:
            status = rec["status"]
        step = steps.get(rec.get("step", ""))
        if step is None:
            continue
        if event in _STATUS_OF:
            step.status = _STATUS_OF[event]
        if event == SKIPPED and step.action == "group":
            expansions.setdefault(step.id, [])  # a group skipped when planned lists nothing, then or on resume
        if "outputs" in rec:
            step.outputs = rec["outputs"]
        if "notes" in rec:
            step.notes = rec["notes"]
        if event in (PLANNED, APPLYING):
            step.params, step.changes = rec.get("params"), rec.get("changes", [])
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
    return RunState(str(started["run_id"]), started, steps, records, status, warnings, expansions)


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

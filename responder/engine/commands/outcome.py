"""How a run ends: its last record, its report files, and the outcome the CLI prints; and how one stands."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from responder.actions.targets import ChangeTarget
from responder.engine.journal import events as j
from responder.engine.journal.locks import holder
from responder.engine.journal.run_state import RunState, load_run
from responder.engine.journal.runs import RunPaths
from responder.engine.journal.writer import Journal
from responder.engine.running.claims import claims_of
from responder.engine.running.context import lock_names, run_lock
from responder.engine.running.executor import Executor, StepError
from responder.engine.running.step_targets import step_targets
from responder.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_ROLLBACK_INCOMPLETE,
    EXIT_STEP_FAILED,
    Interrupted,
    JournalUnwritable,
    UserError,
)

if TYPE_CHECKING:  # the report's layer loads after containment: only its type is named here
    from responder.engine.report.model import Report


@dataclass
class Outcome:
    run_id: str
    status: str
    exit_code: int
    message: str
    state: RunState
    paths: RunPaths
    report: Report


def finish(journal: Journal, paths: RunPaths, status: str, exit_code: int, message: str, **extra: Any) -> Outcome:
    journal.record(j.FINISHED, status=status, message=message, exit_code=exit_code, **extra)
    journal.close()
    state, report = save_report(paths)
    return Outcome(state.run_id, status, exit_code, message, state, paths, report)


def save_report(paths: RunPaths, status: str | None = None) -> tuple[RunState, Report]:
    """The report files, rewritten from the journal: at every end, and when a resume or rollback begins (as
    `running`), so a report never says COMPLETED about a run whose rollback is under way or was cut short."""
    # The report, the evidence and the words load here, at a run's end: nothing of them is on the way to the first
    # request (tests/test_first_request.py keeps that list).
    from responder.engine.report.build import build_report, render_markdown, save_reports
    from responder.engine.report.evidence import collect_events, containment_moment

    state = load_run(paths.audit_log)
    if status is not None:
        state.status = status
    events = collect_events(state, containment_moment(state))  # once, for the report and for events.jsonl
    report = build_report(state, paths, events)
    save_reports(paths, report, render_markdown(report), events)
    return state, report


def lock_targets(state: RunState) -> list[str]:
    """What this run changes, as lock names, from each step's journaled targets (or what its action declares)."""
    targets: list[ChangeTarget] = []
    for step in state.steps.values():
        targets += step_targets(step)
    return lock_names(state.started.account_id, targets)


def current_status(state: RunState, locks_root: Path) -> str:
    """A run without an end record is `running` while a live process holds one of its locks, else `interrupted`
    (or `cancelled`, when nobody approved its plan)."""
    if state.status not in ("interrupted", "cancelled") or state.records[-1].get("event") == j.FINISHED:
        return state.status
    for target in [run_lock(state.run_id), *lock_targets(state)]:
        held = holder(locks_root, target)
        if held is not None and held.get("run_id") == state.run_id:
            return "running"
    return state.status


def rejected(journal: Journal, paths: RunPaths, exc: UserError) -> Outcome:
    finish(journal, paths, "rejected", exc.exit_code, str(exc))
    exc.run_id = paths.run_id
    raise exc


def interrupted(journal: Journal, paths: RunPaths, message: str) -> NoReturn:
    """Ctrl-C: record it as the run's end (resume and rollback still work), write the report, say how to go on."""
    finish(journal, paths, "interrupted", EXIT_INTERRUPTED, message)
    exc = Interrupted(f"run {paths.run_id} {message}")
    exc.run_id = paths.run_id
    raise exc


def journal_failed(paths: RunPaths, cause: JournalUnwritable) -> NoReturn:
    """The disk refused a record: nothing was sent after it. Say what the journal holds and how to finish."""
    state = load_run(paths.audit_log)
    done = [s.id for s in state.steps.values() if s.status in ("verified", "applied", "in-flight")]
    held = f"changes made before it: {', '.join(done)}" if done else "no change was made"
    exc = JournalUnwritable(
        f"run {paths.run_id} stopped: {cause.message}; {held} (the audit log says which are verified). Free space, "
        f"then `responder resume {paths.run_id}`"
    )
    exc.run_id = paths.run_id
    raise exc


def apply_steps(
    executor: Executor, journal: Journal, paths: RunPaths, scope: dict[str, Any], done: dict[str, Any]
) -> Outcome:
    run_id = paths.run_id
    try:
        executor.apply(scope, done)
    except KeyboardInterrupt:
        interrupted(
            journal,
            paths,
            f"interrupted: {_in_flight(paths)}nothing more was sent. Finish with `responder resume {run_id}` (it reads "
            f"AWS first), or undo with `responder rollback {run_id}`",
        )
    except JournalUnwritable as exc:
        journal_failed(paths, exc)
    except UserError as exc:
        if not executor.touched and not done:  # e.g. the key matches no credential: bad input, nothing changed
            return rejected(journal, paths, exc)
        return finish(journal, paths, "failed", EXIT_STEP_FAILED, str(exc))
    except StepError as exc:
        if not executor.touched and not done:  # a read failed before any change: as a plan that failed
            return finish(journal, paths, "failed", EXIT_STEP_FAILED, f"planning failed: {exc.description}")
        failed = f"step {exc.step_id} failed: {exc.description}"
        if executor.playbook.on_failure == "rollback":
            journal.record(j.ROLLBACK_STARTED, reason=failed, reactivate_keys=False)
            return roll_back(executor, journal, paths, load_run(paths.audit_log), failed)
        return finish(
            journal,
            paths,
            "failed",
            EXIT_STEP_FAILED,
            f"{failed}. The steps applied before it are kept (partial containment beats none). "
            f"Fix the cause, then `responder resume {run_id}`; or undo with `responder rollback {run_id}`",
        )
    return finish(journal, paths, "completed", EXIT_OK, "every step is done and verified")


def _in_flight(paths: RunPaths) -> str:
    """What the journal says of the changes sent when the stop came: answered, or unknown (no answer recorded)."""
    if not paths.audit_log.exists():  # stopped before the journal began: nothing was sent
        return ""
    unknown = claims_of(load_run(paths.audit_log)).unknown
    if not unknown:
        return "every change sent was answered and is journaled; "
    steps = ", ".join(u.step for u in unknown)
    return f"the answer to {steps} never came: unknown whether AWS holds it; "


def roll_back(executor: Executor, journal: Journal, paths: RunPaths, state: RunState, cause: str | None) -> Outcome:
    try:
        return _undo(executor, journal, paths, state, cause)
    except KeyboardInterrupt:
        interrupted(
            journal,
            paths,
            f"rollback interrupted: finish it with `responder rollback {paths.run_id}` (it is safe twice)",
        )
    except JournalUnwritable as exc:
        journal_failed(paths, exc)


def _undo(executor: Executor, journal: Journal, paths: RunPaths, state: RunState, cause: str | None) -> Outcome:
    failures = executor.undo(state)
    after = load_run(paths.audit_log)
    withheld = [s for s in after.steps.values() if s.undo_status == "withheld"]
    lost = [s for s in after.steps.values() if s.undo_status == "irreversible"]
    notes = [s.undo_message or "" for s in withheld + lost]
    prefix = f"{cause}; " if cause else ""
    if failures:
        message = prefix + "rollback incomplete, a human must look: " + "; ".join(failures)
        return finish(journal, paths, "rollback-incomplete", EXIT_ROLLBACK_INCOMPLETE, message, failures=failures)
    touched = any(s.touched for s in after.steps.values())
    undone = any(s.undo_status == "undone" for s in after.steps.values())
    until = executor.ctx.key_alive_until
    if touched and not undone and withheld and not lost and until is not None:
        # A short-term key's containment is kept while the key lives: say so once, not once per step.
        message = (
            f"{prefix}nothing undone: containment withheld, the leaked key being valid until {until.isoformat()} at "
            f"the latest. To lift it now: responder rollback {paths.run_id} --reactivate-keys"
        )
        return finish(journal, paths, "rolled-back", EXIT_STEP_FAILED if cause else EXIT_OK, message)
    message = prefix + ("rolled back" if touched else "nothing to undo: this run changed nothing")
    message += ": " + "; ".join(dict.fromkeys(notes)) if notes else ""
    if withheld:
        message += f". To re-activate: responder rollback {paths.run_id} --reactivate-keys"
    code = EXIT_STEP_FAILED if cause else EXIT_OK
    return finish(journal, paths, "rolled-back", code, message)

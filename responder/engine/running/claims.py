"""What a run may say about the account: each state claim defined once, from AWS's answers in the journal.

Every output (the terminal's last lines, report.md, report.json, `-o json`, the ASFF findings, a Step Functions
run's report) reads these and nothing else. A claim is made only from a change AWS answered (`step.applied`,
`step.verified`) or a read that found the goal in place (`step.unchanged`), and only while no later undo took it
away; never from the plan, and never from another milestone ("key inactive" says nothing about the principal).
A change whose answer never came (the process stopped mid-call) is *unknown*: `responder resume` reads AWS and
settles it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from responder.actions.registry import get_action
from responder.clock import parse_time
from responder.engine.journal import events as j
from responder.engine.journal.run_state import RunState, StepState
from responder.engine.running.step_targets import step_principals

Stops = Literal["key", "principal"]
KEY_INACTIVE = "key inactive"
SESSIONS_REVOKED = "older sessions revoked"
# A step's standing, read from its journal: in force (AWS answered), unknown (sent, no answer), or not in force.
HELD_STATUSES = ("applied", "verified", "unchanged")


@dataclass(frozen=True)
class Change:
    """One containment change in force, as the journal recorded AWS's answer to it."""

    step: str
    milestone: str
    stops: Stops
    at: str | None  # when AWS answered (or the read that found it in place)
    seconds_after_start: float | None  # from the start of the process that made it; None when not timed
    process: str  # which process made it: "run" (the one that started the run) or "resume 1", "resume 2", ...
    already: bool  # in place before this run changed anything: nothing to time
    seconds_after_approval: float | None = None  # for a run approved at a prompt: from the operator's yes
    principals: tuple[str, ...] = ()  # what it changed, as the action declares it: "user/NAME", "role/NAME"


@dataclass(frozen=True)
class Claim:
    """A state the run may claim: every step that reaches it is in force. `at`/`seconds` are the last of them."""

    holds: bool
    changes: tuple[Change, ...] = ()
    expected: bool = True  # the run has a step reaching it (a short-term key's run deactivates no key)

    @property
    def timed(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if not c.already and c.seconds_after_start is not None)

    @property
    def seconds(self) -> float | None:
        """From its process's start, the last change's: the figure on-call quotes (None when nothing was timed)."""
        timed = self.timed
        return max(c.seconds_after_start for c in timed if c.seconds_after_start is not None) if timed else None

    @property
    def at(self) -> str | None:
        moments = [c.at for c in self.changes if c.at and not c.already]
        return max(moments) if moments else None

    @property
    def already(self) -> bool:
        return self.holds and bool(self.changes) and all(c.already for c in self.changes)


@dataclass(frozen=True)
class Unknown:
    """A change sent whose answer never came: it may or may not be in AWS."""

    step: str
    milestone: str | None
    settle: str  # the command that reads AWS and settles it
    stops: Stops | None = None


@dataclass(frozen=True)
class Claims:
    key_inactive: Claim
    principal_denied: Claim  # every change that stops the principal (bearer-token deny, session revocation, ...)
    sessions_revoked: Claim
    contained: Claim  # the key and the principal both: every containment change of the run in force
    rolled_back: bool  # a rollback undid every change it could (the run's status says `rolled-back`)
    unknown: tuple[Unknown, ...] = ()
    in_force: tuple[Change, ...] = field(default_factory=tuple)

    @property
    def nothing_contained(self) -> bool:
        """No containment change of this run holds, and none is in doubt."""
        return not self.in_force and not self.unknown

    def as_json(self) -> dict[str, Any]:
        def claim(c: Claim) -> dict[str, Any]:
            return {
                "holds": c.holds,
                "expected": c.expected,
                "already": c.already,
                "seconds_after_start": c.seconds,
                "at": c.at,
            }

        return {
            "key_inactive": claim(self.key_inactive),
            "principal_denied": claim(self.principal_denied),
            "sessions_revoked": claim(self.sessions_revoked),
            "contained": claim(self.contained),
            "rolled_back": self.rolled_back,
            "nothing_contained": self.nothing_contained,
            "unknown": [asdict(u) for u in self.unknown],
            "in_force": [asdict(c) for c in self.in_force],
        }


def _principals(step: StepState) -> tuple[str, ...]:
    return step_principals(step)


def _milestone(step: StepState) -> tuple[str, Stops] | None:
    action = get_action(step.action)
    if action is None or action.milestone is None or action.stops is None:
        return None
    return action.milestone, action.stops


def _processes(state: RunState) -> dict[int, tuple[str, str | None]]:
    """Record index -> (the process that wrote it, when that process was approved), by run.started/run.resumed."""
    names: dict[int, tuple[str, str | None]] = {}
    name, approved, resumes = "run", None, 0
    for index, record in enumerate(state.records):
        event = record.get("event")
        if event == j.RUN_RESUMED:
            resumes += 1
            name, approved = f"resume {resumes}", None
        elif event == j.APPROVED:
            approved = record.get("ts") if record.get("how") == "prompt" else None
        names[index] = (name, approved)
    return names


def _since(at: str | None, origin: str | None) -> float | None:
    start, end = parse_time(origin), parse_time(at)
    return round((end - start).total_seconds(), 3) if start is not None and end is not None else None


@dataclass(frozen=True)
class _Journal:
    """The journal read once for every step (a sweep has thousands): each step's records, and each record's process."""

    by_step: dict[str, list[tuple[int, dict[str, Any]]]]
    processes: dict[int, tuple[str, str | None]]

    @classmethod
    def of(cls, state: RunState) -> _Journal:
        by_step: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for index, record in enumerate(state.records):
            if record.get("step"):
                by_step.setdefault(str(record["step"]), []).append((index, record))
        return cls(by_step, _processes(state))


def _change(journal: _Journal, step: StepState, milestone: str, stops: Stops) -> Change | None:
    """The step's change in force, from its last answer; None when AWS holds no answer for it (or it was undone)."""
    if step.status not in HELD_STATUSES or step.undo_status in ("undone", "failed"):
        return None
    processes = journal.processes
    touched = False
    answer: tuple[int, dict[str, Any]] | None = None
    for index, record in journal.by_step.get(step.id, []):
        event = record.get("event")
        if event == j.APPLYING:
            touched = True
        if event in (j.APPLIED, j.UNCHANGED):
            answer = index, record
            if event == j.UNCHANGED and not touched:
                break  # read in place before this run touched it
    if answer is None:
        return None
    index, record = answer
    process, approved = processes[index]
    applied = record.get("event") == j.APPLIED
    return Change(
        step=step.id,
        milestone=milestone,
        stops=stops,
        at=record.get("ts"),
        seconds_after_start=record.get("seconds_after_start") if applied else None,
        process=process,
        # "already in place before this run" only for a state read before this run sent anything to it: a
        # resumed run that finds its own earlier (unanswered) change in place made it itself.
        already=not applied and not touched,
        seconds_after_approval=_since(record.get("ts"), approved) if applied else None,
        principals=_principals(step),
    )


def claims_of(state: RunState) -> Claims:
    """Every claim the run's outputs may make, from its journal as it stands now."""
    relevant = [(s, m) for s in state.steps.values() if (m := _milestone(s)) and s.status != "skipped"]
    in_force: list[Change] = []
    missing: set[str] = set()
    unknown: list[Unknown] = []
    journal = _Journal.of(state)
    for step, (milestone, stops) in relevant:
        change = _change(journal, step, milestone, stops)
        if change is not None:
            in_force.append(change)
            continue
        missing.add(step.id)
        if step.status == "in-flight" or step.unanswered or step.undo_status == "failed":
            unknown.append(Unknown(step.id, milestone, f"responder resume {state.run_id}", stops))

    def claim(steps: list[StepState]) -> Claim:
        ids = {s.id for s in steps}
        changes = tuple(c for c in in_force if c.step in ids)
        return Claim(bool(ids) and not (ids & missing), changes, bool(ids))

    key = [s for s, (m, _) in relevant if m == KEY_INACTIVE]
    principal = [s for s, (_, stops) in relevant if stops == "principal"]
    sessions = [s for s, (m, _) in relevant if m == SESSIONS_REVOKED]
    contained = claim([s for s, _ in relevant])
    return Claims(
        key_inactive=claim(key),
        principal_denied=claim(principal),
        sessions_revoked=claim(sessions),
        contained=Claim(contained.holds and bool(principal), contained.changes, contained.expected),
        rolled_back=state.status == "rolled-back",
        unknown=tuple(unknown),
        in_force=tuple(in_force),
    )

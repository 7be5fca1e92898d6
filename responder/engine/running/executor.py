"""The executor: plan (read-only), apply with a write-ahead journal, verify, and undo in reverse.

Steps run as soon as the steps they reference are done (`step_graph`), several at once: independent reads go
out together, and so do independent changes. It knows actions only through their interface and the registry,
so a new action never changes it.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from responder.actions.base import Action, ActionContext, ActionParams, Applied, StepPlan
from responder.actions.registry import get_action
from responder.actions.targets import ChangeTarget, target_to_journal
from responder.aws.clients import error_code
from responder.clock import since_start
from responder.engine.journal import events as j
from responder.engine.journal.run_state import RunState
from responder.engine.journal.writer import Journal, JournalNotStarted
from responder.engine.running.concurrency import DEFAULT_CONCURRENCY
from responder.engine.running.failures import describe_failure
from responder.engine.running.own_session import check_not_self
from responder.engine.running.read_ahead import ReadAhead
from responder.engine.running.scheduler import Node, Schedule
from responder.engine.running.skip_words import condition_words
from responder.engine.running.step_graph import (
    asked_before_applying,
    changes_something,
    deferred_steps,
    depends_on,
)
from responder.errors import JournalUnwritable, ResponderError, UserError
from responder.playbook.model import Playbook, Step, describe_when, expand_group
from responder.playbook.refs import resolve

# IAM is eventually consistent: a read right after a write may show the old state for a few seconds.
VERIFY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)

Hold = Callable[[list[ChangeTarget]], None]  # takes the locks a step's targets need, or raises TargetBusy


class StepError(Exception):
    """A step failed while applying; carries the step id and a one-line description."""

    def __init__(self, step_id: str, description: str) -> None:
        super().__init__(description)
        self.step_id = step_id
        self.description = description


@dataclass(frozen=True)
class _Planned:
    """What a plan pass read and decided for a step, kept for the apply pass of the same process."""

    params: dict[str, Any]
    snapshot: Any  # the action's Snapshot model (a dict for an action that has none yet)
    plan: StepPlan


class Executor:
    def __init__(
        self,
        playbook: Playbook,
        ctx: ActionContext,
        journal: Journal,
        verify_delays: tuple[float, ...] = VERIFY_DELAYS,
        sleep: Callable[[float], None] = time.sleep,
        expansions: dict[str, list[dict[str, Any]]] | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        hold: Hold | None = None,
        allow_self: bool = False,
    ) -> None:
        self.playbook = playbook
        self.allow_self = allow_self  # --allow-self: a step may deny or revoke the operator's own principal
        self.ctx = ctx
        self.journal = journal
        self.verify_delays = verify_delays
        self.sleep = sleep
        # group id -> its items, fixed when first planned: apply contains exactly the keys the plan showed.
        self.expansions = dict(expansions or {})
        self.concurrency = max(1, concurrency)
        self.hold = hold
        self.deferred = deferred_steps(playbook)
        self.asked_first = asked_before_applying(playbook)  # deferred, yet in the plan the operator approves
        self._planned: dict[str, _Planned] = {}
        self._scope: dict[str, Any] = {}
        self._done: dict[str, Any] = {}
        self._applying = False
        self._ahead: ReadAhead | None = None  # in a run that applies: changes' snapshots read on a guess
        self.touched = False  # a write-ahead record was made: from then on the account may differ
        # After a plan pass, apply reuses its snapshots unless time passed (an operator read the plan).
        self.reuse_snapshots = True

    # ---- the passes

    def plan(self, scope: dict[str, Any], include_deferred: bool = True) -> None:
        """Read-only: record what every step would change. Sends no mutating request. Without the deferred steps
        (what the key did), it is the plan a run that applies shows before it changes anything."""
        self._run(scope, {}, applying=False, include_deferred=include_deferred)

    def apply(self, scope: dict[str, Any], done: dict[str, dict[str, Any]]) -> None:
        """Apply every step not already done (`done` maps step id -> outputs, for resume)."""
        self._run(scope, done, applying=True, include_deferred=True)

    # ---- scheduling (responder.engine.running.scheduler decides when; these say how)

    def _run(self, scope: dict[str, Any], done: dict[str, Any], applying: bool, include_deferred: bool) -> None:
        self._scope, self._done, self._applying = scope, done, applying
        self._ahead = ReadAhead(self.ctx, scope.get("key")) if applying else None
        steps = [
            s for s in self.playbook.steps if include_deferred or s.id not in self.deferred or s.id in self.asked_first
        ]
        Schedule([self._node(s) for s in steps], self, applying, self.concurrency).run()

    def _node(self, step: Step) -> Node:
        node = Node(step, depends_on(step), step.id in self.deferred, changes_something(step))
        if step.id in self._done:
            node.status = "done"
            self._scope["steps"][step.id] = self._done[step.id]
        return node

    def bind(self, node: Node) -> bool:
        """Bind the step's arguments; False (journaled as skipped) when its `when` is false."""
        bound = self._bind(node.step, self._scope)
        if bound is None:
            node.pending.append(_skipped(node.step, self._scope))
            return False
        node.bound = bound
        node.targets = bound[0].targets(bound[1]) if bound[0].mutating else []
        if self._ahead is not None:
            self._ahead.bound(node.step, *bound)
        return True

    def read_ahead(self, node: Node) -> None:
        """A change still waiting for its inputs: read its snapshot now if what it waits for is known already."""
        ahead = self._ahead
        if ahead is None or node.step.id in self._planned:
            return
        scope = ahead.guess_scope(node.step, self._scope)
        try:
            bound = None if scope is None else self._bind(node.step, scope)
        except UserError:  # arguments that do not validate on the guess: the step binds for real later
            return
        if bound is not None and bound[0].mutating:
            ahead.start(node.step, *bound)

    def lock(self, targets: list[ChangeTarget]) -> None:
        if self.hold is not None:
            self.hold(targets)

    def flush(self, node: Node) -> None:
        while node.pending:
            event, fields = node.pending.pop(0)
            self.journal.record(event, **fields)

    def expand(self, node: Node) -> list[Node]:
        """A group's steps, once per item: listed now, or as the journal fixed them when first planned."""
        step, scope = node.step, self._scope
        if step.id not in self.expansions:  # a resume never gets here: it refuses a run its plan did not list
            if not _holds(step, scope):
                self.journal.record(j.SKIPPED, **_skipped(step, scope)[1])
                self.expansions[step.id] = []  # skipped when planned: stays skipped when applied
                return []
            items = _items(step, resolve(step.for_each, scope))
            self.expansions[step.id] = items
            self.journal.record(
                j.EXPANDED,
                group=step.id,
                items=items,
                steps=[
                    {"id": s.id, "action": s.action, "reversible": reversible_action(s.action)}
                    for s in expand_group(step, items)
                ],
            )
        return [self._node(s) for s in expand_group(step, self.expansions[step.id])]

    def _bind(self, step: Step, scope: dict[str, Any]) -> tuple[Action[Any, Any], ActionParams] | None:
        """The step's action and validated arguments, or None when its `when` is false."""
        if not _holds(step, scope):
            return None
        action_cls = get_action(step.action or "")
        if action_cls is None:  # load_playbook already checked; a journal from another version may not
            raise UserError(f"unknown action {step.action!r}", f"playbook {self.playbook.name}, step {step.id}")
        try:
            params = action_cls.Params.model_validate(resolve(step.with_, scope))
        except ValidationError as exc:
            raise UserError(_first_error(exc), f"playbook {self.playbook.name}, step {step.id}") from None
        return action_cls(), params

    # ---- one step

    def work(self, node: Node) -> Callable[[], None] | None:
        """Plan or apply one step. A change AWS accepted returns its verification, for the pool to run next."""
        assert node.bound is not None  # only bound steps are submitted
        action, params, scope = *node.bound, self._scope
        if not self._applying:
            self._plan_step(node.step, action, params, scope)
            return None
        with self._failures_journaled(node):
            applied = self._apply_step(node, action, params, scope)
        if applied is None:
            return None
        return functools.partial(self._verify_step, node, applied)

    def _verify_step(self, node: Node, applied: Applied) -> None:
        assert node.bound is not None
        with self._failures_journaled(node):
            self._verify(node.step, *node.bound, applied)

    @contextlib.contextmanager
    def _failures_journaled(self, node: Node) -> Iterator[None]:
        try:
            yield
        except (UserError, JournalNotStarted, JournalUnwritable):
            raise
        except Exception as exc:
            description = describe_failure(exc, type(node.bound[0]) if node.bound else None)
            # AWS answered (an error code, or a refusal the action read from one) or not (the connection broke):
            # a change sent without an answer may be in AWS, and the report must call it unknown.
            answered = error_code(exc) is not None or isinstance(exc, ResponderError)
            self.journal.record(
                j.FAILED, step=node.step.id, action=node.step.action, error=description, answered=answered
            )
            raise StepError(node.step.id, description) from exc

    def _plan_step(self, step: Step, action: Action[Any, Any], params: ActionParams, scope: dict[str, Any]) -> None:
        check_not_self(action, params, self.ctx, step.id, self.allow_self, self.journal)  # a dry run says so too
        snapshot = action.snapshot(self.ctx, params)
        plan = action.plan(self.ctx, params, snapshot)
        scope["steps"][step.id] = plan.outputs
        self._planned[step.id] = _Planned(params.model_dump(mode="json"), snapshot, plan)
        self._record_plan(step, action, params, snapshot, plan)

    def _record_plan(
        self, step: Step, action: Action[Any, Any], params: ActionParams, snapshot: Any, plan: StepPlan
    ) -> None:
        self.journal.record(
            j.PLANNED,
            step=step.id,
            action=step.action,
            snapshot=None if action.volatile else action.journaled_snapshot(snapshot),
            volatile=action.volatile,
            params=params.model_dump(mode="json"),
            changes=[c.model_dump(mode="json") for c in plan.changes],
            notes=plan.notes,
            outputs=plan.outputs,
            reversible=action.reversible,
            **_journaled_targets(action, params),
        )

    def _apply_step(
        self, node: Node, action: Action[Any, Any], params: ActionParams, scope: dict[str, Any]
    ) -> Applied | None:
        step = node.step
        if step.id not in self._planned:  # planned (and checked) before, or checked now, before anything is held
            check_not_self(action, params, self.ctx, step.id, self.allow_self, self.journal)
        if action.mutating and self.hold is not None:
            self.hold(action.targets(params))  # before reading what we change: one responder per principal
        planned = self._planned.get(step.id)
        same = planned is not None and planned.params == params.model_dump(mode="json")
        if planned is not None and same and (self.reuse_snapshots or not action.mutating):
            snapshot, plan = planned.snapshot, planned.plan  # read moments ago, or consumed by the approved plan
        else:
            early = self._ahead.take(step, params) if self._ahead is not None and planned is None else None
            snapshot = early if early is not None else action.snapshot(self.ctx, params)
            plan = action.plan(self.ctx, params, snapshot)
            if planned is None and action.mutating:  # a run without a plan pass still shows what it changes
                self._record_plan(step, action, params, snapshot, plan)
        scope["steps"][step.id] = plan.outputs
        common = {"step": step.id, "action": step.action, "notes": plan.notes, "outputs": plan.outputs}
        if not action.mutating:
            node.pending.append((j.READ, common))  # journaled by the main thread, once it has locked what follows
            return None
        if plan.noop:
            self.journal.record(j.UNCHANGED, **common, milestone=action.milestone, stops=action.stops)
            return None
        # Write-ahead: once this record is on disk, rollback knows what to restore even if we die mid-call.
        self.touched = True
        self.journal.record(
            j.APPLYING,
            **common,
            params=params.model_dump(mode="json"),
            snapshot=action.journaled_snapshot(snapshot),
            changes=[c.model_dump(mode="json") for c in plan.changes],
            **_journaled_targets(action, params),
        )
        applied = action.apply(self.ctx, params, snapshot, plan)
        actual = {} if applied.changes is None else {"changes": [c.model_dump(mode="json") for c in applied.changes]}
        self.journal.record(
            j.APPLIED,
            step=step.id,
            action=step.action,
            request_ids=applied.request_ids,
            details=applied.details,
            notes=plan.notes + applied.notes,
            milestone=action.milestone,
            stops=action.stops,
            seconds_after_start=since_start(),  # AWS has answered: from now on the change holds
            **actual,
        )
        return applied

    def _verify(self, step: Step, action: Action[Any, Any], params: ActionParams, applied: Applied) -> None:
        for attempt, delay in enumerate((0.0, *self.verify_delays), 1):
            self.sleep(delay)
            if action.verify(self.ctx, params, applied):
                self.journal.record(j.VERIFIED, step=step.id, action=step.action, attempts=attempt)
                return
        raise ResponderError(
            f"the change was made but reading it back did not show it after {len(self.verify_delays) + 1} tries"
        )

    # ---- rollback

    def undo(self, state: RunState) -> list[str]:
        """Undo every step this run touched, newest first. Returns what could not be undone."""
        failures: list[str] = []
        # The journal's step list, groups expanded, is the order the steps ran in.
        for st in reversed(list(state.steps.values())):
            if not st.touched or st.undo_status in ("undone", "irreversible", "nothing-to-undo"):
                continue  # never changed, or already settled by an earlier rollback
            action_cls = get_action(st.action)
            if action_cls is None or st.params is None or st.first_snapshot is None:
                failures.append(f"step {st.id}: the journal lacks what undo needs")
                continue
            action = action_cls()
            try:  # a document argument that is not deny-only (an edited journal) is refused like a bad snapshot
                params = action_cls.Params.model_validate(st.params)
            except ValidationError as exc:
                failures.append(f"step {st.id}: the journal's arguments do not fit {st.action}: {_first_error(exc)}")
                continue
            try:  # the state to restore, read back through the action's own model
                snapshot = action.snapshot_from_journal(st.first_snapshot)
            except ValidationError as exc:
                failures.append(f"step {st.id}: the journal's snapshot does not fit {st.action}: {_first_error(exc)}")
                continue
            self.journal.record(j.UNDOING, step=st.id, action=st.action, snapshot=action.journaled_snapshot(snapshot))
            try:
                result = action.undo(self.ctx, params, snapshot, st.applied)
            except Exception as exc:
                description = describe_failure(exc, action_cls)
                self.journal.record(j.UNDO_FAILED, step=st.id, action=st.action, error=description)
                failures.append(f"step {st.id}: {description}")
                continue
            self.journal.record(j.UNDONE, step=st.id, action=st.action, **result.model_dump(mode="json"))
        return failures


def _first_error(exc: ValidationError) -> str:
    """Pydantic's first complaint in one line, where it was and what: never the value (it may be a secret)."""
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"


def _skipped(step: Step, scope: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    condition = f"condition not met: {describe_when(step.when)}"
    return j.SKIPPED, {
        "step": step.id,
        "action": step.action,
        "reason": condition,  # the condition as written: the report reads its references
        # ... and in words, for whoever watches the run: never `${params.X}` raw
        "words": condition_words(condition, scope.get("params") or {}, scope.get("steps") or {}),
    }


def _holds(step: Step, scope: dict[str, Any]) -> bool:
    """The step's `when`: one condition, or a list that must all be true."""
    conditions = step.when if isinstance(step.when, list) else [step.when]
    return all(resolve(condition, scope) for condition in conditions)


def _items(group: Step, value: Any) -> list[dict[str, Any]]:
    """A group's list, checked: each item a mapping with a label unique in the list (it names the steps)."""
    if not isinstance(value, list) or not all(isinstance(i, dict) and i.get("label") for i in value):
        raise ResponderError(f"group {group.id}: for_each did not give a list of labelled items")
    labels = [str(i["label"]) for i in value]
    if len(set(labels)) != len(labels):
        raise ResponderError(f"group {group.id}: for_each gave two items with the same label")
    return value


def reversible_action(action_name: str | None) -> bool:
    action = get_action(action_name or "")
    return bool(action and action.reversible)


def _journaled_targets(action: Action[Any, Any], params: ActionParams) -> dict[str, Any]:
    """What a mutating step changes, typed, in its planned and write-ahead records: the locks of a resume or rollback
    and the report read it there (a journal written before targets were journaled is read through the params)."""
    if not action.mutating:
        return {}
    return {"targets": [target_to_journal(t) for t in action.targets(params)]}

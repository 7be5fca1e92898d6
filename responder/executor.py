"""The executor: plan (read-only), apply with a write-ahead journal, verify, and undo in reverse.

It knows actions only through their interface and the registry, so a new action never changes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import ValidationError

from responder import journal as j
from responder.actions.base import Action, ActionContext, ActionParams
from responder.aws import describe_aws_error, error_code
from responder.errors import ResponderError, UserError
from responder.journal import Journal, RunState
from responder.playbook import Playbook, Step, describe_when, expand_group, resolve
from responder.registry import get_action

# IAM is eventually consistent: a read right after a write may show the old state for a few seconds.
VERIFY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)


class StepError(Exception):
    """A step failed while applying; carries the step id and a one-line description."""

    def __init__(self, step_id: str, description: str) -> None:
        super().__init__(description)
        self.step_id = step_id
        self.description = description


def describe_failure(exc: BaseException, action: type[Action[Any]] | None = None) -> str:
    aws = describe_aws_error(exc)
    text = aws[0] if aws else (exc.message if isinstance(exc, ResponderError) else f"{type(exc).__name__}: {exc}")
    if action is not None and error_code(exc) in ("AccessDenied", "AccessDeniedException"):
        text += f"; this step needs {', '.join(action.permissions)}"
    return text


class Executor:
    def __init__(
        self,
        playbook: Playbook,
        ctx: ActionContext,
        journal: Journal,
        verify_delays: tuple[float, ...] = VERIFY_DELAYS,
        sleep: Callable[[float], None] = time.sleep,
        expansions: dict[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        self.playbook = playbook
        self.ctx = ctx
        self.journal = journal
        self.verify_delays = verify_delays
        self.sleep = sleep
        # group id -> its items, fixed when first planned: apply contains exactly the keys the plan showed.
        self.expansions = dict(expansions or {})

    def _steps(self, scope: dict[str, Any]) -> Iterator[Step]:
        """The playbook's steps with each group expanded, lazily: a group's list comes from an earlier step."""
        for step in self.playbook.steps:
            if not step.is_group:
                yield step
                continue
            if step.id not in self.expansions:  # a resume never gets here: it refuses a run its plan did not list
                if not _holds(step, scope):
                    self._skip(step)
                    self.expansions[step.id] = []  # skipped when planned: stays skipped when applied
                    continue
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
            yield from expand_group(step, self.expansions[step.id])

    def _bind(self, step: Step, scope: dict[str, Any]) -> tuple[Action[Any], ActionParams] | None:
        """The step's action and validated arguments, or None when its `when` is false."""
        if not _holds(step, scope):
            return None
        action_cls = get_action(step.action or "")
        if action_cls is None:  # load_playbook already checked; a journal from another version may not
            raise UserError(f"unknown action {step.action!r}", f"playbook {self.playbook.name}, step {step.id}")
        try:
            params = action_cls.Params.model_validate(resolve(step.with_, scope))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise UserError(f"{loc}: {err['msg']}", f"playbook {self.playbook.name}, step {step.id}") from None
        return action_cls(), params

    def _skip(self, step: Step) -> None:
        self.journal.record(
            j.SKIPPED, step=step.id, action=step.action, reason=f"condition not met: {describe_when(step.when)}"
        )

    def plan(self, scope: dict[str, Any]) -> None:
        """Read-only: record what every step would change. Sends no mutating request."""
        for step in self._steps(scope):
            bound = self._bind(step, scope)
            if bound is None:
                self._skip(step)
                continue
            action, params = bound
            snapshot = action.snapshot(self.ctx, params)
            plan = action.plan(self.ctx, params, snapshot)
            scope["steps"][step.id] = plan.outputs
            self.journal.record(
                j.PLANNED,
                step=step.id,
                action=step.action,
                snapshot=None if action.volatile else snapshot,
                volatile=action.volatile,
                params=params.model_dump(mode="json"),
                changes=[c.model_dump(mode="json") for c in plan.changes],
                notes=plan.notes,
                outputs=plan.outputs,
                reversible=action.reversible,
            )

    def apply(self, scope: dict[str, Any], done: dict[str, dict[str, Any]]) -> None:
        """Apply every step not already done (`done` maps step id -> outputs, for resume)."""
        for step in self._steps(scope):
            if step.id in done:
                scope["steps"][step.id] = done[step.id]
                continue
            try:
                self._apply_step(step, scope)
            except UserError:
                raise
            except Exception as exc:
                description = describe_failure(exc, get_action(step.action or ""))
                self.journal.record(j.FAILED, step=step.id, action=step.action, error=description)
                raise StepError(step.id, description) from exc

    def _apply_step(self, step: Step, scope: dict[str, Any]) -> None:
        bound = self._bind(step, scope)
        if bound is None:
            self._skip(step)
            return
        action, params = bound
        snapshot = action.snapshot(self.ctx, params)
        plan = action.plan(self.ctx, params, snapshot)
        scope["steps"][step.id] = plan.outputs
        common = {"step": step.id, "action": step.action, "notes": plan.notes, "outputs": plan.outputs}
        if not action.mutating:
            self.journal.record(j.READ, **common)
            return
        if plan.noop:
            self.journal.record(j.UNCHANGED, **common)
            return
        # Write-ahead: once this record is on disk, rollback knows what to restore even if we die mid-call.
        self.journal.record(
            j.APPLYING,
            **common,
            params=params.model_dump(mode="json"),
            snapshot=snapshot,
            changes=[c.model_dump(mode="json") for c in plan.changes],
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
            **actual,
        )
        self._verify(step, action, params)

    def _verify(self, step: Step, action: Action[Any], params: ActionParams) -> None:
        for attempt, delay in enumerate((0.0, *self.verify_delays), 1):
            self.sleep(delay)
            if action.verify(self.ctx, params):
                self.journal.record(j.VERIFIED, step=step.id, action=step.action, attempts=attempt)
                return
        raise ResponderError(
            f"the change was made but reading it back did not show it after {len(self.verify_delays) + 1} tries"
        )

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
            params = action_cls.Params.model_validate(st.params)
            self.journal.record(j.UNDOING, step=st.id, action=st.action, snapshot=st.first_snapshot)
            try:
                result = action.undo(self.ctx, params, st.first_snapshot, st.applied)
            except Exception as exc:
                description = describe_failure(exc, action_cls)
                self.journal.record(j.UNDO_FAILED, step=st.id, action=st.action, error=description)
                failures.append(f"step {st.id}: {description}")
                continue
            self.journal.record(j.UNDONE, step=st.id, action=st.action, **result.model_dump(mode="json"))
        return failures


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

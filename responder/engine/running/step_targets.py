"""What a journaled step changes, typed: from its journaled targets, or, in a journal written before targets were
journaled, from its action and parameters (what the action declares today)."""

from __future__ import annotations

from pydantic import ValidationError

from responder.actions.registry import get_action
from responder.actions.targets import ChangeTarget, target_from_journal
from responder.engine.journal.run_state import StepState


def step_targets(step: StepState) -> list[ChangeTarget]:
    """The step's targets; [] for a read, an unknown action, or a record this version cannot read (its step still
    counts elsewhere, unnamed)."""
    if step.targets is not None:
        try:
            return [target_from_journal(t) for t in step.targets]
        except (ValueError, TypeError, AttributeError):
            return []
    action = get_action(step.action)
    if action is None or not action.mutating or not step.params:
        return []
    try:
        return action().targets(action.Params.model_validate(step.params))
    except (ValueError, ValidationError):  # a journal from another version
        return []


def step_principals(step: StepState) -> tuple[str, ...]:
    """The principals a step changes (the owner of a credential it changes among them), once each, in order."""
    return tuple(dict.fromkeys(t.owner for t in step_targets(step) if t.owner is not None))

"""The Step Functions form of the footholds step (actions/footholds.py): left to the local run."""

from __future__ import annotations

from responder.actions.footholds import DeactivateWindowAccessKeys
from responder.export.stepfunctions.states import Chain, StatesStep, left_to_local_run, nothing, states_form

# On Step Functions the step is refused, in one line the machine carries: the containment machine contains only.
FOOTHOLDS_ELSEWHERE = (
    "access keys an attacker may have created during the exposure window are not deactivated by the exported "
    "machine (its rollback could not restore them exactly): run `responder run leaked-long-term-key` locally after it"
)


def _footholds_elsewhere(step: StatesStep) -> Chain:
    return left_to_local_run(step, FOOTHOLDS_ELSEWHERE)


def _nothing_to_undo(step: StatesStep) -> Chain:
    return nothing(step.name("nothing to undo"))


states_form(DeactivateWindowAccessKeys, undo=_nothing_to_undo)(_footholds_elsewhere)

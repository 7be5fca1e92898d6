"""The Step Functions form of the quarantine step (actions/iam_quarantine.py): left to the local run."""

from __future__ import annotations

from responder.actions.iam_quarantine import QuarantineUser
from responder.export.stepfunctions.states import Chain, StatesStep, left_to_local_run, nothing, states_form

# On Step Functions the step is left to a local run, in one line the machine carries: the exported machine
# contains the key only, and a quarantine's rollback needs the local journal's snapshot of the user.
QUARANTINE_ELSEWHERE = (
    "the user is not quarantined by the exported machine: run `responder run leaked-long-term-key "
    "-p quarantine_user=true` locally after it"
)


def _quarantine_elsewhere(step: StatesStep) -> Chain:
    return left_to_local_run(step, QUARANTINE_ELSEWHERE)


def _nothing_to_undo(step: StatesStep) -> Chain:
    return nothing(step.name("nothing to undo"))


states_form(QuarantineUser, undo=_nothing_to_undo)(_quarantine_elsewhere)

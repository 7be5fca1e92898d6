"""The Step Functions form of actions/footholds_credentials.py: left to the local run, which reads CloudTrail."""

from __future__ import annotations

from responder.actions.footholds_credentials import DisableWindowUserCredentials
from responder.export.stepfunctions.states import Chain, StatesStep, left_to_local_run, nothing, states_form

CREDENTIALS_ELSEWHERE = (
    "service-specific credentials and a console password created on the user during the exposure window are "
    "not closed by the exported machine: run `responder run leaked-long-term-key` locally after it"
)


def _credentials_elsewhere(step: StatesStep) -> Chain:
    return left_to_local_run(step, CREDENTIALS_ELSEWHERE)


def _nothing_to_undo(step: StatesStep) -> Chain:
    return nothing(step.name("nothing to undo"))


states_form(DisableWindowUserCredentials, undo=_nothing_to_undo)(_credentials_elsewhere)

"""The Step Functions form of actions/footholds_trust.py: left to the local run, which reads CloudTrail."""

from __future__ import annotations

from responder.actions.footholds_trust import RestoreWindowTrustPolicy
from responder.export.stepfunctions.states import Chain, StatesStep, left_to_local_run, nothing, states_form

TRUST_ELSEWHERE = (
    "a trust policy changed during the exposure window is found in CloudTrail's IAM events, which the machine does "
    "not read: run `responder run leaked-short-term-key` locally after it"
)


def _trust_elsewhere(step: StatesStep) -> Chain:
    return left_to_local_run(step, TRUST_ELSEWHERE)


def _nothing_to_undo(step: StatesStep) -> Chain:
    return nothing(step.name("nothing to undo"))


states_form(RestoreWindowTrustPolicy, undo=_nothing_to_undo)(_trust_elsewhere)

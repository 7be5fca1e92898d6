"""The Step Functions form of actions/bedrock_logging.py: left to the local run, which reads CloudTrail."""

from __future__ import annotations

from responder.actions.bedrock_logging import RestoreInvocationLogging
from responder.export.stepfunctions.states import Chain, StatesStep, left_to_local_run, nothing, states_form

LOGGING_ELSEWHERE = (
    "invocation logging changed during the exposure window is found in CloudTrail, which the machine does not read: "
    "run `responder run PLAYBOOK` locally after it to put it back"
)


def _logging_elsewhere(step: StatesStep) -> Chain:
    return left_to_local_run(step, LOGGING_ELSEWHERE)


def _nothing_to_undo(step: StatesStep) -> Chain:
    return nothing(step.name("nothing to undo"))


states_form(RestoreInvocationLogging, undo=_nothing_to_undo)(_logging_elsewhere)

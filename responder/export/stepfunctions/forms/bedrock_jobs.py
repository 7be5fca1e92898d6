"""The Step Functions forms of the window's jobs (actions/bedrock_jobs.py): left to the local run."""

from __future__ import annotations

from responder.actions.bedrock_jobs import ListWindowJobs, StopWindowJobs
from responder.export.stepfunctions.states import Chain, StatesStep, left_to_local_run, nothing, states_form

JOBS_ELSEWHERE = (
    "jobs started during the exposure window are listed by the local run (`responder run PLAYBOOK --dry-run`): "
    "the machine contains only"
)


def _jobs_elsewhere(step: StatesStep) -> Chain:
    return left_to_local_run(step, JOBS_ELSEWHERE)


states_form(ListWindowJobs)(_jobs_elsewhere)


STOP_ELSEWHERE = (
    "jobs started during the exposure window are stopped only by the local run, when asked (`responder run "
    "PLAYBOOK -p stop_jobs=true`): the machine contains only"
)


def _stop_elsewhere(step: StatesStep) -> Chain:
    return left_to_local_run(step, STOP_ELSEWHERE)


def _nothing_to_undo(step: StatesStep) -> Chain:
    return nothing(step.name("nothing to undo"))


states_form(StopWindowJobs, undo=_nothing_to_undo)(_stop_elsewhere)

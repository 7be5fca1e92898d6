"""The Step Functions form of actions/footholds_policies.py: left to the local run, which reads CloudTrail."""

from __future__ import annotations

from responder.actions.footholds_policies import RemoveWindowRolePolicies, RemoveWindowUserPolicies
from responder.export.stepfunctions.states import Chain, StatesStep, left_to_local_run, nothing, states_form

# On Step Functions the step is left to the local run: which policies to remove comes from CloudTrail's IAM events
# (us-east-1, paged at 2 requests a second), and a Task calls AWS only in its machine's region.
WINDOW_POLICIES_ELSEWHERE = (
    "policies given to the principal during the exposure window are found in CloudTrail's IAM events, which the "
    "machine does not read: run `responder run PLAYBOOK` locally after it to remove them"
)


def _policies_elsewhere(step: StatesStep) -> Chain:
    return left_to_local_run(step, WINDOW_POLICIES_ELSEWHERE)


def _nothing_to_undo(step: StatesStep) -> Chain:
    return nothing(step.name("nothing to undo"))


for _form in (RemoveWindowUserPolicies, RemoveWindowRolePolicies):
    states_form(_form, undo=_nothing_to_undo)(_policies_elsewhere)

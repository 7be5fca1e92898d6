"""The Step Functions form of a role's session revocation (actions/iam_sessions.py) and its undo."""

from __future__ import annotations

from responder.actions.iam_sessions import REVOKE_POLICY_NAME, RevokeRoleSessions
from responder.export.stepfunctions.iam_states import put_inline, undo_inline
from responder.export.stepfunctions.states import Chain, Path, StatesStep, passing, states_form

# How this action runs on AWS Step Functions: the cutoff is the moment the state runs, taken from the execution's
# context; an AWSRevokeOlderSessions already there is moved forward, and its rollback keeps the newer one (IAM hands
# the machine the previous document URL-encoded, which Amazon States Language cannot decode: iam_states.undo_inline).


def _revoke_states(step: StatesStep) -> Chain:
    document = passing(
        step.name("write the revocation"),
        "$.revocation",
        Version="2012-10-17",
        Statement={
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"DateLessThan": {"aws:TokenIssueTime.$": "$$.State.EnteredTime"}},
        },
    )
    put = put_inline(
        step,
        "Role",
        step.arg("role_name"),
        REVOKE_POLICY_NAME,
        Path("States.JsonToString($.revocation)"),
        keep_existing=False,
    )
    return document.then(put)


def _unrevoke_states(step: StatesStep) -> Chain:
    return undo_inline(step, previous_kept=True, policy_names=[REVOKE_POLICY_NAME])


states_form(RevokeRoleSessions, undo=_unrevoke_states)(_revoke_states)

"""The Step Functions forms of the bearer-token denies (actions/iam_policies.py) and their undo."""

from __future__ import annotations

from responder.actions.iam_policies import (
    DEFAULT_POLICY_NAME,
    DENY_BEARER_TOKENS,
    DenyBearerTokensForRole,
    DenyBearerTokensForUser,
)
from responder.export.stepfunctions.iam_states import Kind, policy_text, put_inline, undo_inline
from responder.export.stepfunctions.states import Chain, Path, StatesForm, StatesStep, states_form

# How these actions run on AWS Step Functions (responder export stepfunctions): the same deny, inline, or in a
# managed policy when the inline budget is full; an inline deny of this name already there is left as it is.


def _deny_states(kind: Kind, principal_arg: str) -> StatesForm:
    def form(step: StatesStep) -> Chain:
        principal = step.arg(principal_arg)
        policy_name = step.args.get("policy_name", DEFAULT_POLICY_NAME)
        if isinstance(policy_name, Path):  # the resolve step's: the exported machine contains Bedrock keys
            policy_name = DEFAULT_POLICY_NAME
        managed = Path(f"States.Format('{DEFAULT_POLICY_NAME}-{{}}', {principal.path})")
        return put_inline(
            step,
            kind,
            principal,
            policy_name,
            policy_text(DENY_BEARER_TOKENS),
            keep_existing=True,
            managed_name=managed,
        )

    return form


def _lift_deny_states(step: StatesStep) -> Chain:
    return undo_inline(step, previous_kept=False, policy_names=step.args.get("policy_names") or [DEFAULT_POLICY_NAME])


states_form(DenyBearerTokensForUser, undo=_lift_deny_states)(_deny_states("User", "user_name"))
states_form(DenyBearerTokensForRole, undo=_lift_deny_states)(_deny_states("Role", "role_name"))

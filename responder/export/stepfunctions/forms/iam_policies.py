"""The Step Functions forms of the bearer-token denies (actions/iam_policies.py) and their undo."""

from __future__ import annotations

from typing import Any

from responder.actions.iam_policies import (
    DEFAULT_POLICY_NAME,
    DENY_BEARER_TOKENS,
    DenyBearerTokensForRole,
    DenyBearerTokensForUser,
    deny_document,
)
from responder.export.stepfunctions.iam_states import Kind, policy_text, put_inline, undo_inline
from responder.export.stepfunctions.states import Chain, Path, StatesForm, StatesStep, passing, states_form
from responder.keys import FAMILIES

# How these actions run on AWS Step Functions (responder export stepfunctions): the same deny, inline, or in a
# managed policy when the inline budget is full; an inline deny of this name already there is left as it is.


def _deny_states(kind: Kind, principal_arg: str) -> StatesForm:
    def form(step: StatesStep) -> Chain:
        principal = step.arg(principal_arg)
        # The key family's deny: its policy name and bearer actions, from the resolve step (or a group's item) as
        # paths, or constants fixed at export; Bedrock's when the step names none.
        policy_name = step.args.get("policy_name", DEFAULT_POLICY_NAME)
        actions = step.args.get("bearer_actions") or list(DENY_BEARER_TOKENS["Statement"]["Action"])
        first: Chain | None = None
        if isinstance(actions, Path):  # built in the state, then passed as JSON text
            first = passing(
                step.name("the family's deny"),
                "$.deny",
                Version="2012-10-17",
                Statement={"Effect": "Deny", "Action.$": actions.path, "Resource": "*"},
            )
            document: Any = Path("States.JsonToString($.deny)")
        else:
            document = policy_text(deny_document(list(actions)))
        name = policy_name.path if isinstance(policy_name, Path) else repr(policy_name).replace('"', "'")
        managed = Path(f"States.Format('{{}}-{{}}', {name}, {principal.path})")
        put = put_inline(step, kind, principal, policy_name, document, keep_existing=True, managed_name=managed)
        return put if first is None else first.then(put)

    return form


def _lift_deny_states(step: StatesStep) -> Chain:
    # Any family's deny is responder's own: a record naming another policy is passed over (never removed).
    every = list(dict.fromkeys([DEFAULT_POLICY_NAME, *(f.deny_policy_name for f in FAMILIES.values())]))
    return undo_inline(step, previous_kept=False, policy_names=step.args.get("policy_names") or every)


states_form(DenyBearerTokensForUser, undo=_lift_deny_states)(_deny_states("User", "user_name"))
states_form(DenyBearerTokensForRole, undo=_lift_deny_states)(_deny_states("Role", "role_name"))

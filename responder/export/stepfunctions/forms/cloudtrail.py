"""The Step Functions forms of the CloudTrail actions (actions/cloudtrail.py): the short-term key's principal from the
machine's input; the investigation left to the local run."""

from __future__ import annotations

from responder.actions.cloudtrail import InvestigateKeyActivity, ResolveShortTermKey
from responder.export.stepfunctions.forms.iam_credentials import family_states
from responder.export.stepfunctions.states import (
    Chain,
    Path,
    StatesStep,
    choose,
    failing,
    left_to_local_run,
    passing,
    states_form,
)

# How these actions run on AWS Step Functions. The machine is given the principal (`responder identify KEYFILE
# -o json` finds it): finding a session's role needs CloudTrail in the token's region and us-east-1, and a Task
# calls AWS only in its machine's region. For the same reason investigation stays with the local run.


def _principal_from_input(step: StatesStep) -> Chain:
    def named(what: str, *fields: str) -> Chain:
        """The resolve step's outputs from the input's fields; what kind of principal follows from which."""
        return passing(
            step.name(f"the {what} named in the input"),
            step.result_path,
            is_role="role_name" in fields,
            is_user="user_name" in fields,
            has_user_access_key="access_key_id" in fields,
            **{name: Path(f"$.input.{name}") for name in fields},
            **family_outputs,
        )

    # What the deny steps deny: the family's (its bearer actions, its policy name), as the local step's outputs.
    family = family_states(step, step.args.get("family"))
    family_outputs = {name: Path(f"$.family.{name}") for name in ("bearer_actions", "deny_policy_name", "family")}

    role = named("role", "role_name")
    user_key = named("user and access key", "user_name", "access_key_id")
    user = named("user", "user_name")
    unknown = failing(
        step.name("no principal"),
        "Responder.NoPrincipal",
        "the input names no role_name or user_name: `responder identify KEYFILE -o json` finds it",
    )
    present = {"IsPresent": True}
    user_and_key = {
        "And": [{"Variable": "$.input.user_name", **present}, {"Variable": "$.input.access_key_id", **present}]
    }
    return family.then(
        choose(
            step.name("which principal"),
            [
                ({"Variable": "$.input.role_name", **present}, role),
                (user_and_key, user_key),
                ({"Variable": "$.input.user_name", **present}, user),
            ],
            unknown,
        )
    )


INVESTIGATION_ELSEWHERE = (
    "what the key did is read from CloudTrail in several regions (LookupEvents, 2 requests a second); a Task calls "
    "AWS only in its machine's region: run `responder run PLAYBOOK --dry-run` for the investigation"
)


def _investigation_elsewhere(step: StatesStep) -> Chain:
    return left_to_local_run(step, INVESTIGATION_ELSEWHERE)


states_form(ResolveShortTermKey)(_principal_from_input)
states_form(InvestigateKeyActivity)(_investigation_elsewhere)

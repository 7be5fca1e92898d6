"""The Step Functions form of an access key's deactivation (actions/iam_access_keys.py) and its undo."""

from __future__ import annotations

from responder.actions.iam_access_keys import DeactivateAccessKey
from responder.export.stepfunctions.states import (
    REACTIVATE_ASKED,
    Chain,
    Path,
    StatesStep,
    choose,
    nothing,
    parameters,
    passing,
    single,
    states_form,
)

# How this action runs on AWS Step Functions.


def _active_keys(step: StatesStep, what: str, result_path: str) -> Chain:
    """Whether the step's access key is listed Active, as `{"active": bool}` at `result_path`."""
    listing = step.task(
        what,
        "iam:ListAccessKeys",
        parameters(UserName=step.arg("user_name")),
        result_path=result_path,
        result_selector={"keys.$": "$.AccessKeyMetadata"},
    )
    active = single(step.name(f"{what}: Active"), {"Type": "Pass", "Result": "active"})
    other = single(step.name(f"{what}: not Active"), {"Type": "Pass", "Result": ""})
    this_one_active = {
        "And": [
            {"Variable": "$.item.AccessKeyId", "StringEqualsPath": "$.access_key_id"},
            {"Variable": "$.item.Status", "StringEquals": "Active"},
        ]
    }
    body = choose(step.name(f"{what}: Active?"), [(this_one_active, active)], other)
    marks = step.each(f"{what}: each key", f"{result_path}.keys", body, access_key_id=step.arg("access_key_id"))
    marks.states[marks.start]["ResultPath"] = f"{result_path}.marks"
    found = passing(
        step.name(f"{what}: is it"),
        result_path,
        active=Path(f"States.ArrayContains({result_path}.marks, 'active')"),
    )
    return listing.then(marks).then(found)


def _deactivate_key_states(step: StatesStep) -> Chain:
    key = step.arg("access_key_id")
    snapshot = _active_keys(step, "access keys", "$.snapshot")
    record = step.write_ahead(
        "the access key's status",
        [f"'{step.label}'"],
        {"target": parameters(user_name=step.arg("user_name"), access_key_id=key), "before.$": "$.snapshot"},
    )
    update = step.task(
        "set the access key Inactive",
        "iam:UpdateAccessKey",
        parameters(UserName=step.arg("user_name"), AccessKeyId=key, Status="Inactive"),
    )
    check = step.read_back(
        "access key inactive",
        _active_keys(step, "access keys again", "$.check"),
        {"Variable": "$.check.active", "BooleanEquals": False},
    )
    return snapshot.then(record).then(update).then(check)


def _reactivate_key_states(step: StatesStep) -> Chain:
    update = step.task(
        "set the access key Active again",
        "iam:UpdateAccessKey",
        parameters(
            UserName=Path("$.record.target.user_name"),
            AccessKeyId=Path("$.record.target.access_key_id"),
            Status="Active",
        ),
    )
    was_active = {"And": [{"Variable": "$.record.before.active", "BooleanEquals": True}, REACTIVATE_ASKED]}
    return choose(
        step.name("reactivate the access key?"), [(was_active, update)], nothing(step.name("access key stays Inactive"))
    )


states_form(DeactivateAccessKey, undo=_reactivate_key_states)(_deactivate_key_states)

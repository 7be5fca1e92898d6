"""The Step Functions forms of the long-term key's actions (actions/iam_credentials.py): resolve, deactivate (and
its undo), delete."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from responder.actions.iam_credential_listing import BEDROCK
from responder.actions.iam_credentials import (
    DeactivateServiceCredentials,
    DeleteServiceCredentials,
    ResolveLongTermKey,
    what_to_contain,
)
from responder.export.stepfunctions.states import (
    REACTIVATE_ASKED,
    Chain,
    Path,
    StatesStep,
    choose,
    failing,
    nothing,
    parameters,
    passing,
    states_form,
    unless_absent,
)
from responder.keys import FAMILIES, KeyFamily, family_named

# How these actions run on AWS Step Functions (responder export stepfunctions). The machine never sees the key:
# it is given the user (decoded offline by `responder identify`) and, to narrow, the credential ids.


def _listed_states(step: StatesStep, user: Any, what: str, result_path: str, selector: dict[str, Any]) -> Chain:
    # The key family's service name: the resolve step's output (a path), or, inside a Map, what it carried.
    return step.task(
        what,
        "iam:ListServiceSpecificCredentials",
        parameters(UserName=user, ServiceName=step.args.get("service_name", BEDROCK)),
        result_path=result_path,
        result_selector=selector,
    )


def family_states(step: StatesStep, chosen: Any) -> Chain:
    """The facts of the family the input names (`family`; absent: the default, Bedrock, as machines exported before
    families took it) into `$.family`: one Choice over the registry, no family named in the form."""

    def facts(family: KeyFamily) -> Chain:
        return passing(step.name(f"{family.short_title} keys"), "$.family", **what_to_contain(family))

    if not isinstance(chosen, Path):  # fixed when the machine was exported
        return facts(family_named(chosen))
    unknown = failing(
        step.name("no such family"),
        "Responder.UnknownFamily",
        f"the input's family is not one responder knows: {', '.join(FAMILIES)}",
    )
    named = [({"Variable": chosen.path, "StringEquals": f.name}, facts(f)) for f in FAMILIES.values()]
    absent = ({"Variable": chosen.path, "IsPresent": False}, facts(family_named(None)))
    return choose(step.name("which family"), [absent, *named], unknown)


def _resolve_states(step: StatesStep) -> Chain:
    user = step.arg("user_name")
    family = family_states(step, step.args.get("family"))
    listed = replace(step, args={**step.args, "service_name": Path("$.family.service_name")})
    listing = _listed_states(
        listed, user, "list the user's keys", "$.listing", {"credentials.$": "$.ServiceSpecificCredentials"}
    )
    # What the later steps contain is the family's: its service, its bearer actions, its deny policy's name.
    contained = {name: Path(f"$.family.{name}") for name in ("service_name", "bearer_actions", "deny_policy_name")}
    given = passing(
        step.name("contain the credentials named in the input"),
        step.result_path,
        user_name=user,
        credential_ids=Path("$.input.credential_ids"),
        family=Path("$.family.family"),
        **contained,
    )
    every = passing(
        step.name("contain every key of the user"),
        step.result_path,
        user_name=user,
        credential_ids=Path("$.listing.credentials[*].ServiceSpecificCredentialId"),
        family=Path("$.family.family"),
        **contained,
    )
    none = failing(step.name("no key"), "Responder.NoKey", "the user has no API key of the family")
    return family.then(listing).then(
        choose(
            step.name("which credentials"),
            [
                ({"Variable": "$.input.credential_ids", "IsPresent": True}, given),
                ({"Variable": "$.listing.credentials[0]", "IsPresent": False}, none),
            ],
            every,
        )
    )


def _each_credential(step: StatesStep, what: str, rule: dict[str, Any], change: Chain) -> Chain:
    """List the user's keys (the snapshot); then, for each listed key the step names (`$.wanted`) and `rule`
    holds for, `change`."""
    listing = _listed_states(
        step, step.arg("user_name"), f"list the keys to {what}", "$.listing", {"all.$": "$.ServiceSpecificCredentials"}
    )
    wanted = passing(
        step.name(f"named to {what}?"),
        "$.named",
        value=Path("States.ArrayContains($.wanted, $.item.ServiceSpecificCredentialId)"),
    )
    named = {"And": [{"Variable": "$.named.value", "BooleanEquals": True}, rule]}
    body = wanted.then(
        choose(step.name(f"{what} this key?"), [(named, change)], nothing(step.name(f"nothing to {what}")))
    )
    carried = {"service_name": step.args.get("service_name", BEDROCK)}
    each = step.each(f"{what} each key", "$.listing.all", body, wanted=step.arg("credential_ids"), **carried)
    return listing.then(each)


_KEY = "$.item.ServiceSpecificCredentialId"
_RECORD_KEY = {"user_name.$": "$.item.UserName", "credential_id.$": _KEY}


def _deactivate_states(step: StatesStep) -> Chain:
    record = step.write_ahead(
        "the key's status", [f"'{step.label}-'", _KEY], {"target": _RECORD_KEY, "before.$": "$.item"}
    )
    update = step.task(
        "set the key Inactive",
        "iam:UpdateServiceSpecificCredential",
        parameters(UserName=Path("$.item.UserName"), ServiceSpecificCredentialId=Path(_KEY), Status="Inactive"),
    )
    # Still listed exactly as the snapshot saw it (Active) means IAM does not show the change yet.
    inside = replace(step, args={**step.args, "service_name": Path("$.service_name")})
    reread = _listed_states(
        inside, Path("$.item.UserName"), "list the keys again", "$.check", {"now.$": "$.ServiceSpecificCredentials"}
    ).then(
        passing(
            step.name("is the key still as it was"),
            "$.check",
            active=Path("States.ArrayContains($.check.now, $.item)"),
        )
    )
    verified = step.read_back("key inactive", reread, {"Variable": "$.check.active", "BooleanEquals": False})
    # A key deleted meanwhile reads back as not Active either: both ways are verified alike.
    change = record.then(unless_absent(update, step.name("key already deleted"))).then(verified)
    active = {"Variable": "$.item.Status", "StringEquals": "Active"}
    return _each_credential(step, "deactivate", active, change)


def _reactivate_states(step: StatesStep) -> Chain:
    """Undo: a key that was Active is made Active again only when the rollback's input says reactivate_keys."""
    update = step.task(
        "set the key Active again",
        "iam:UpdateServiceSpecificCredential",
        parameters(
            UserName=Path("$.record.target.user_name"),
            ServiceSpecificCredentialId=Path("$.record.target.credential_id"),
            Status="Active",
        ),
    )
    was_active = {"And": [{"Variable": "$.record.before.Status", "StringEquals": "Active"}, REACTIVATE_ASKED]}
    return choose(
        step.name("reactivate the key?"),
        [(was_active, unless_absent(update, step.name("key no longer exists")))],
        nothing(step.name("key stays Inactive")),
    )


def _delete_states(step: StatesStep) -> Chain:
    record = step.write_ahead(
        "the key before deletion", [f"'{step.label}-'", _KEY], {"target": _RECORD_KEY, "before.$": "$.item"}
    )
    delete = step.task(
        "delete the key",
        "iam:DeleteServiceSpecificCredential",
        parameters(UserName=Path("$.item.UserName"), ServiceSpecificCredentialId=Path(_KEY)),
    )
    listed = {"Variable": "$.item.ServiceSpecificCredentialId", "IsPresent": True}
    return _each_credential(
        step, "delete", listed, record.then(unless_absent(delete, step.name("key already deleted")))
    )


states_form(ResolveLongTermKey)(_resolve_states)
states_form(DeactivateServiceCredentials, undo=_reactivate_states)(_deactivate_states)
states_form(DeleteServiceCredentials)(_delete_states)

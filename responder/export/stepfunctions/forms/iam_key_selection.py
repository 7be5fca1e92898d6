"""The Step Functions form of the key selection (actions/iam_key_selection.py): the filter compiled into Choices."""

from __future__ import annotations

from typing import Any

from responder.actions.iam_key_selection import SelectBedrockKeys
from responder.actions.key_inventory import SweepFilter
from responder.errors import UserError
from responder.export.stepfunctions.states import Chain, Path, StatesStep, choose, failing, passing, states_form
from responder.keys import family_named

# How this action runs on AWS Step Functions: the filter is fixed when the machine is exported and compiled into
# a Choice per key. States Language has no date arithmetic (older-than) and matches only `*` wildcards.


def select_rule(text: str) -> dict[str, Any] | None:
    """The Choice rule a key (`$.item`, a listed credential) must meet, or None for every key; UserError for a
    filter the States Language cannot express."""
    selected = SweepFilter.parse(text)
    rules: list[dict[str, Any]] = []
    if selected.older_than_days is not None:
        raise UserError(
            "filter older-than=DAYS cannot run on Step Functions (its JSONPath language has no date arithmetic): "
            "export with user=GLOB, no-expiry or all, or run `responder run contain-bedrock-keys`"
        )
    if selected.user_pattern:
        if any(c in selected.user_pattern for c in "?[]"):
            raise UserError(
                "filter user=GLOB on Step Functions takes `*` wildcards only (StringMatches), not ? or [...]"
            )
        rules.append({"Variable": "$.item.UserName", "StringMatches": selected.user_pattern})
    if selected.no_expiry_only:
        rules.append({"Variable": "$.item.ExpirationDate", "IsPresent": False})
    if not rules:
        return None
    return rules[0] if len(rules) == 1 else {"And": rules}


def _select_states(step: StatesStep) -> Chain:
    if isinstance(step.arg("filter"), Path):
        raise UserError("the key filter is fixed when the machine is written: give it, e.g. -p filter=no-expiry")
    if isinstance(step.args.get("keys"), str) and step.args["keys"]:  # an input path: the machine reads no keys
        raise UserError(
            "keys named by alias (an alert's) are contained by `responder run`; a machine selects by filter"
        )
    rule = select_rule(step.arg("filter"))
    # One family's keys per exported machine: the filter's family=NAME, or the default family's (Bedrock's) without
    # one. States Language cannot join the listings of several service names into one list of items.
    family = family_named(SweepFilter.parse(step.arg("filter")).family)
    listing = step.task(
        f"list every {family.short_title} key of the account",
        "iam:ListServiceSpecificCredentials",
        {"AllUsers": True, "ServiceName": family.service_name, "MaxItems": 1000},
        result_path="$.listing",
    )
    too_many = failing(
        step.name("more keys than one page"),
        "Responder.TooManyKeys",
        f"the account holds more than 1,000 {family.short_title} keys: nothing was changed; contain them with "
        "`responder run contain-bedrock-keys`, which pages through them",
    )
    # Every key is an item, marked selected or not: a group skips the items not selected (States Language
    # cannot filter a list without JSONPath filter expressions, which validators refuse).
    item = {
        "user_name": Path("$.item.UserName"),
        "credential_id": Path("$.item.ServiceSpecificCredentialId"),
        "label": Path("States.Format('{}/{}', $.item.UserName, $.item.ServiceSpecificCredentialId)"),
        # What each key's group contains: its family's service, bearer actions and deny (as the local step's items).
        "service_name": family.service_name,
        "bearer_actions": list(family.bearer_actions),
        "deny_policy_name": family.deny_policy_name,
    }
    keep = passing(step.name("selected"), "$", selected=True, **item)
    body: Chain = keep
    if rule is not None:
        drop = passing(step.name("not selected"), "$", selected=False, **item)
        body = choose(step.name("selected by the filter?"), [(rule, keep)], drop)
    each = step.each("mark each key", "$.listing.ServiceSpecificCredentials", body)
    each.states[each.start].update(ResultSelector={"keys.$": "$"}, ResultPath=step.result_path)
    truncated = {"Variable": "$.listing.IsTruncated", "BooleanEquals": True}
    return listing.then(choose(step.name("one page?"), [(truncated, too_many)], each))


states_form(SelectBedrockKeys)(_select_states)

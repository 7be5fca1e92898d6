"""Select the account's long-term Bedrock keys with the `sweep` filter: the list a containment group runs over."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from responder.actions.base import Action, ActionContext, ActionParams, ActionSnapshot, StepPlan
from responder.actions.iam_credentials import BEDROCK, list_bedrock_credentials, remember_listing
from responder.actions.key_inventory import FILTER_PATTERN, SweepFilter, sweep
from responder.actions.registry import register
from responder.actions.states import Chain, Path, StatesStep, passing, single, states_form
from responder.errors import UserError


class SelectParams(ActionParams):
    filter: str = Field(pattern=rf"^({FILTER_PATTERN})$")


class SelectedKey(ActionSnapshot):
    """One key the filter selects: a group's item (its label names the item's steps)."""

    label: str  # USER/CREDENTIAL_ID
    user_name: str
    credential_id: str
    status: str
    created: str  # ISO 8601, as the sweep reports it
    expires: str | None


class SelectedKeys(ActionSnapshot):
    keys: list[SelectedKey]


@register
class SelectBedrockKeys(Action[SelectParams, SelectedKeys]):
    name = "iam.select-bedrock-keys"
    summary = "List the long-term Bedrock keys a sweep filter selects, one item per key (read-only)"
    Params = SelectParams
    Snapshot = SelectedKeys
    permissions = ("iam:ListServiceSpecificCredentials",)
    reversible = True
    mutating = False
    outputs = ("keys", "count")

    def snapshot(self, ctx: ActionContext, params: SelectParams) -> SelectedKeys:
        selected = SweepFilter.parse(params.filter)
        every = list_bedrock_credentials(ctx.clients.iam, AllUsers=True)
        remember_listing(ctx, every)  # the snapshot of every key's deactivation: no read per key
        findings = sweep(
            ctx.clients.iam, selected, selected.older_than_days, ctx.account_id, flag_owners=False, listing=every
        )
        return SelectedKeys(
            keys=[
                SelectedKey(
                    label=f"{f.user_name}/{f.credential_id}",
                    user_name=f.user_name,
                    credential_id=f.credential_id,
                    status=f.status,
                    created=f.created,
                    expires=f.expires,
                )
                for f in findings
            ]
        )

    def plan(self, ctx: ActionContext, params: SelectParams, snapshot: SelectedKeys) -> StepPlan:
        keys = [k.model_dump() for k in snapshot.keys]  # a group's items are plain values
        owners = len({k.user_name for k in snapshot.keys})
        note = f"filter {params.filter!r} selects {len(keys)} key(s) of {owners} user(s)"
        if not keys:
            note += ": nothing to contain"
        return StepPlan(outputs={"keys": keys, "count": len(keys)}, notes=[note])


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
    rule = select_rule(step.arg("filter"))
    listing = step.task(
        "list every Bedrock key of the account",
        "iam:ListServiceSpecificCredentials",
        {"AllUsers": True, "ServiceName": BEDROCK, "MaxItems": 1000},
        result_path="$.listing",
    )
    too_many = single(
        step.name("more keys than one page"),
        {
            "Type": "Fail",
            "Error": "Responder.TooManyKeys",
            "Cause": "the account holds more than 1,000 Bedrock keys: nothing was changed; contain them with "
            "`responder run contain-bedrock-keys`, which pages through them",
        },
    )
    # Every key is an item, marked selected or not: a group skips the items not selected (States Language
    # cannot filter a list without JSONPath filter expressions, which validators refuse).
    item = {
        "user_name": Path("$.item.UserName"),
        "credential_id": Path("$.item.ServiceSpecificCredentialId"),
        "label": Path("States.Format('{}/{}', $.item.UserName, $.item.ServiceSpecificCredentialId)"),
    }
    keep = passing(step.name("selected"), "$", selected=True, **item)
    body: Chain = keep
    if rule is not None:
        drop = passing(step.name("not selected"), "$", selected=False, **item)
        decide = step.name("selected by the filter?")
        choice = {"Type": "Choice", "Choices": [{**rule, "Next": keep.start}], "Default": drop.start}
        body = Chain({decide: choice, **keep.states, **drop.states}, decide, [*keep.exits, *drop.exits])
    each = step.each("mark each key", "$.listing.ServiceSpecificCredentials", body)
    each.states[each.start].update(ResultSelector={"keys.$": "$"}, ResultPath=step.result_path)
    decide = step.name("one page?")
    choice = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.listing.IsTruncated", "BooleanEquals": True, "Next": too_many.start}],
        "Default": each.start,
    }
    head = listing.then(Chain({decide: choice}, decide, []))
    return Chain({**head.states, **too_many.states, **each.states}, head.start, list(each.exits))


states_form(SelectBedrockKeys)(_select_states)

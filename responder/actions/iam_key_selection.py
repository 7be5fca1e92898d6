"""Select the account's long-term API keys of every family with the `sweep` filter: the list a containment group
runs over, each item carrying what its family's containment needs (service name, bearer actions, deny policy)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from responder.actions.base import Action, ActionContext, ActionParams, ActionSnapshot, StepPlan
from responder.actions.iam_credentials import BEDROCK, remember_listing
from responder.actions.key_inventory import FILTER_PATTERN, SweepFilter, list_every_family, sweep
from responder.actions.registry import register
from responder.actions.states import Chain, Path, StatesStep, choose, failing, passing, states_form
from responder.errors import UserError
from responder.keys import FAMILIES, family_named
from responder.keys.registry import DEFAULT_FAMILY


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
    # The key's family and what containing it needs; Bedrock's in journals from before families.
    # Left out of the journal when Bedrock's, so a snapshot of an earlier version journals the same.
    family: str = Field(default=DEFAULT_FAMILY.name, exclude_if=lambda value: value == DEFAULT_FAMILY.name)
    service_name: str = Field(default=BEDROCK, exclude_if=lambda value: value == BEDROCK)
    bearer_actions: list[str] = Field(
        default_factory=lambda: list(DEFAULT_FAMILY.bearer_actions),
        exclude_if=lambda value: value == list(DEFAULT_FAMILY.bearer_actions),
    )
    deny_policy_name: str = Field(
        default=DEFAULT_FAMILY.deny_policy_name,
        exclude_if=lambda value: value == DEFAULT_FAMILY.deny_policy_name,
    )

    def item(self) -> dict[str, Any]:
        """The group's item: every field, Bedrock's included (the steps refer to them all)."""
        return {name: getattr(self, name) for name in type(self).model_fields}


class SelectedKeys(ActionSnapshot):
    keys: list[SelectedKey]


@register
class SelectBedrockKeys(Action[SelectParams, SelectedKeys]):
    name = "iam.select-bedrock-keys"
    summary = "List the long-term API keys (every family) a sweep filter selects, one item per key (read-only)"
    Params = SelectParams
    Snapshot = SelectedKeys
    permissions = ("iam:ListServiceSpecificCredentials",)
    reversible = True
    mutating = False
    outputs = ("keys", "count")

    def snapshot(self, ctx: ActionContext, params: SelectParams) -> SelectedKeys:
        selected = SweepFilter.parse(params.filter)
        listed = list_every_family(ctx.clients.iam, selected)
        for service_name, creds in listed.items():
            remember_listing(ctx, creds, service_name)  # the snapshot of every key's deactivation: no read per key
        every = [cred for creds in listed.values() for cred in creds]
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
                    family=f.family,
                    service_name=FAMILIES[f.family].service_name,
                    bearer_actions=list(FAMILIES[f.family].bearer_actions),
                    deny_policy_name=FAMILIES[f.family].deny_policy_name,
                )
                for f in findings
            ]
        )

    def plan(self, ctx: ActionContext, params: SelectParams, snapshot: SelectedKeys) -> StepPlan:
        keys = [k.item() for k in snapshot.keys]  # a group's items are plain values
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

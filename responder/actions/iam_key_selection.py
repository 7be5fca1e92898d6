"""Select the account's long-term API keys of every family with the `sweep` filter: the list a containment group
runs over, each item carrying what its family's containment needs (service name, bearer actions, deny policy)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from responder.actions.base import Action, ActionContext, ActionParams, ActionSnapshot, StepPlan
from responder.actions.iam_credentials import BEDROCK, remember_listing
from responder.actions.key_inventory import FILTER_PATTERN, SweepFilter, list_every_family, sweep
from responder.actions.named_keys import KEYS_PATTERN, parse_named_keys, select_named
from responder.actions.registry import register
from responder.keys import FAMILIES
from responder.keys.registry import DEFAULT_FAMILY


class SelectParams(ActionParams):
    filter: str = Field(pattern=rf"^({FILTER_PATTERN})$")
    # Only these keys, by family and alias (an alert's keys: `run contain-bedrock-keys --from FORMAT FILE`).
    keys: str = Field(default="", pattern=rf"^{KEYS_PATTERN}$")


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
    # A named key (-p keys=) not selected here, and why: another account's, or no credential lists its alias.
    not_selected: list[str] = Field(default_factory=list, exclude_if=lambda value: not value)


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
        named = parse_named_keys(params.keys) if params.keys else None
        listed = list_every_family(ctx.clients.iam, selected)
        for service_name, creds in listed.items():
            remember_listing(ctx, creds, service_name)  # the snapshot of every key's deactivation: no read per key
        every = [cred for creds in listed.values() for cred in creds]
        not_selected: list[str] = []
        if named is not None:
            chosen = select_named(named, every, ctx.account_id)
            every, not_selected = chosen.listing, chosen.notes
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
            ],
            not_selected=not_selected,
        )

    def plan(self, ctx: ActionContext, params: SelectParams, snapshot: SelectedKeys) -> StepPlan:
        keys = [k.item() for k in snapshot.keys]  # a group's items are plain values
        owners = len({k.user_name for k in snapshot.keys})
        named = f" of the {len(parse_named_keys(params.keys))} key(s) named" if params.keys else ""
        note = f"filter {params.filter!r} selects {len(keys)} key(s){named} of {owners} user(s)"
        if not keys:
            note += ": nothing to contain"
        return StepPlan(outputs={"keys": keys, "count": len(keys)}, notes=[note, *snapshot.not_selected])

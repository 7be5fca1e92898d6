"""Select the account's long-term Bedrock keys with the `sweep` filter: the list a containment group runs over."""

from __future__ import annotations

from pydantic import Field

from responder.actions.base import Action, ActionContext, ActionParams, ActionSnapshot, StepPlan
from responder.actions.iam_credentials import list_bedrock_credentials, remember_listing
from responder.actions.key_inventory import FILTER_PATTERN, SweepFilter, sweep
from responder.actions.registry import register


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

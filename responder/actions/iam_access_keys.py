"""Actions on IAM users' access keys: the AKIA... key that signed a leaked short-term Bedrock key."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from responder.actions.base import (
    Action,
    ActionContext,
    ActionParams,
    ActionSnapshot,
    Applied,
    Change,
    ChangeTarget,
    StepPlan,
    Target,
    UndoResult,
)
from responder.actions.iam_principals import USER_NAME
from responder.actions.registry import register
from responder.aws.clients import request_id


class AccessKeyParams(ActionParams):
    user_name: str = Field(pattern=USER_NAME)
    access_key_id: str = Field(pattern=r"^AKIA[A-Z0-9]{12,124}$")


class AccessKeySnapshot(ActionSnapshot):
    status: str | None  # None: the user has no such access key


def _status(ctx: ActionContext, params: AccessKeyParams) -> str | None:
    keys = ctx.clients.iam.list_access_keys(UserName=params.user_name)["AccessKeyMetadata"]
    return next((str(k["Status"]) for k in keys if k["AccessKeyId"] == params.access_key_id), None)


@register
class DeactivateAccessKey(Action[AccessKeyParams, AccessKeySnapshot]):
    name = "iam.deactivate-access-key"
    summary = (
        "Set the IAM user's access key Inactive: aws:TokenIssueTime does not exist for long-term access keys, "
        "so no session policy stops what it signs (undo only with --reactivate-keys)"
    )
    Params = AccessKeyParams
    Snapshot = AccessKeySnapshot
    permissions = ("iam:ListAccessKeys", "iam:UpdateAccessKey")
    reversible = True
    mutating = True
    milestone = "signing access key inactive"
    stops = "principal"

    def targets(self, params: AccessKeyParams) -> list[ChangeTarget]:
        return [Target(f"user/{params.user_name}", "access-keys")]

    def snapshot(self, ctx: ActionContext, params: AccessKeyParams) -> AccessKeySnapshot:
        return AccessKeySnapshot(status=_status(ctx, params))

    def plan(self, ctx: ActionContext, params: AccessKeyParams, snapshot: AccessKeySnapshot) -> StepPlan:
        status = snapshot.status
        if status is None:
            return StepPlan(notes=[f"access key {params.access_key_id} is not a key of user {params.user_name}"])
        if status != "Active":
            return StepPlan(notes=[f"access key {params.access_key_id} is already {status}"])
        change = Change(
            call="iam:UpdateAccessKey",
            parameters={"UserName": params.user_name, "AccessKeyId": params.access_key_id, "Status": "Inactive"},
            target=f"access key {params.access_key_id} of user {params.user_name}",
            before="Active",
            after="Inactive",
        )
        return StepPlan(
            changes=[change],
            notes=["every workload using this access key stops too: the owner must rotate it"],
        )

    def apply(
        self, ctx: ActionContext, params: AccessKeyParams, snapshot: AccessKeySnapshot, plan: StepPlan
    ) -> Applied:
        ids = [request_id(ctx.clients.iam.update_access_key(**c.parameters)) for c in plan.changes]
        return Applied(request_ids=[i for i in ids if i])

    def verify(self, ctx: ActionContext, params: AccessKeyParams, applied: Applied | None = None) -> bool:
        return _status(ctx, params) != "Active"

    def undo(
        self, ctx: ActionContext, params: AccessKeyParams, snapshot: AccessKeySnapshot, applied: dict[str, Any]
    ) -> UndoResult:
        if snapshot.status != "Active":
            return UndoResult(status="nothing-to-undo", message="the access key was not active before this run")
        if _status(ctx, params) is None:
            return UndoResult(status="irreversible", message=f"access key {params.access_key_id} no longer exists")
        if not ctx.reactivate_keys:
            return UndoResult(
                status="withheld",
                message=f"access key {params.access_key_id} stays Inactive "
                "(a leaked key is re-activated only on request)",
            )
        response = ctx.clients.iam.update_access_key(
            UserName=params.user_name, AccessKeyId=params.access_key_id, Status="Active"
        )
        rid = request_id(response)
        return UndoResult(
            status="undone", message=f"re-activated access key {params.access_key_id}", request_ids=[rid] if rid else []
        )

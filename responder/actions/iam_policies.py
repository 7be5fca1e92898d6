"""Actions that put IAM policies on a principal: denying Bedrock bearer tokens."""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from responder.actions.base import Action, ActionContext, ActionParams, Applied, Change, StepPlan, UndoResult
from responder.actions.iam_credentials import USER_NAME
from responder.aws import ClientError, error_code, request_id
from responder.registry import register

# Both endpoints, each with its own action: denying only the first leaves Bedrock Mantle open (FACTS.md).
DENY_BEARER_TOKENS: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Deny",
        "Action": ["bedrock:CallWithBearerToken", "bedrock-mantle:CallWithBearerToken"],
        "Resource": "*",
    },
}
DEFAULT_POLICY_NAME = "ResponderDenyBedrockBearerTokens"


def managed_policy_name(user_name: str) -> str:
    return f"ResponderDenyBedrockBearerTokens-{user_name}"[:128]


def _absent_ok(call: Any, **kwargs: Any) -> str | None:
    """Make a delete/detach idempotent: already gone is what undo wants."""
    try:
        return request_id(call(**kwargs))
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise


class DenyParams(ActionParams):
    user_name: str = Field(pattern=USER_NAME)
    policy_name: str = Field(default=DEFAULT_POLICY_NAME, pattern=r"^[\w+=,.@-]{1,128}$")


@register
class DenyBearerTokensForUser(Action[DenyParams]):
    name = "iam.deny-bearer-tokens-for-user"
    summary = (
        "Put an inline deny of bedrock:CallWithBearerToken and bedrock-mantle:CallWithBearerToken on the user "
        "(falls back to an attached managed policy when the inline budget is full)"
    )
    Params = DenyParams
    permissions = (
        "iam:GetUserPolicy",
        "iam:PutUserPolicy",
        "iam:DeleteUserPolicy",
        "iam:ListAttachedUserPolicies",
        "iam:CreatePolicy",
        "iam:AttachUserPolicy",
        "iam:DetachUserPolicy",
        "iam:DeletePolicy",
    )
    reversible = True
    mutating = True

    def _managed_arn(self, ctx: ActionContext, user_name: str) -> str:
        return f"arn:aws:iam::{ctx.account_id}:policy/{managed_policy_name(user_name)}"

    def snapshot(self, ctx: ActionContext, params: DenyParams) -> dict[str, Any]:
        iam = ctx.clients.iam
        try:
            inline: Any = iam.get_user_policy(UserName=params.user_name, PolicyName=params.policy_name)[
                "PolicyDocument"
            ]
        except ClientError as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            inline = None
        if isinstance(inline, str):  # botocore decodes policy JSON; the emulator may not
            inline = json.loads(inline)
        attached = iam.list_attached_user_policies(UserName=params.user_name)["AttachedPolicies"]
        arn = self._managed_arn(ctx, params.user_name)
        return {"inline_policy": inline, "managed_attached": any(p["PolicyArn"] == arn for p in attached)}

    def plan(self, ctx: ActionContext, params: DenyParams, snapshot: dict[str, Any]) -> StepPlan:
        if snapshot["inline_policy"] == DENY_BEARER_TOKENS:
            return StepPlan(notes=[f"inline policy {params.policy_name} already denies bearer tokens"])
        if snapshot["managed_attached"]:
            return StepPlan(notes=[f"managed policy {managed_policy_name(params.user_name)} already attached"])
        notes = []
        if snapshot["inline_policy"] is not None:
            notes.append(f"an inline policy named {params.policy_name} exists and is replaced (kept for undo)")
        change = Change(
            call="iam:PutUserPolicy",
            parameters={
                "UserName": params.user_name,
                "PolicyName": params.policy_name,
                "PolicyDocument": DENY_BEARER_TOKENS,
            },
            target=f"user {params.user_name}",
            before=snapshot["inline_policy"],
            after=DENY_BEARER_TOKENS,
        )
        return StepPlan(changes=[change], notes=notes)

    def apply(self, ctx: ActionContext, params: DenyParams, snapshot: dict[str, Any], plan: StepPlan) -> Applied:
        iam = ctx.clients.iam
        document = json.dumps(DENY_BEARER_TOKENS)
        try:
            response = iam.put_user_policy(
                UserName=params.user_name, PolicyName=params.policy_name, PolicyDocument=document
            )
            return Applied(request_ids=[r for r in [request_id(response)] if r], details={"mode": "inline"})
        except ClientError as exc:
            if error_code(exc) != "LimitExceeded":
                raise
        # The user's 2,048-character inline budget is used up: attach a customer-managed policy instead.
        ids: list[str | None] = []
        arn, created = self._managed_arn(ctx, params.user_name), False
        try:
            created_policy = iam.create_policy(
                PolicyName=managed_policy_name(params.user_name),
                PolicyDocument=document,
                Description="responder: deny Bedrock bearer tokens (leaked API key containment)",
            )
            arn, created = created_policy["Policy"]["Arn"], True
            ids.append(request_id(created_policy))
        except ClientError as exc:
            if error_code(exc) != "EntityAlreadyExists":
                raise
        ids.append(request_id(iam.attach_user_policy(UserName=params.user_name, PolicyArn=arn)))
        return Applied(
            request_ids=[i for i in ids if i],
            details={"mode": "managed", "policy_arn": arn, "created_policy": created},
        )

    def verify(self, ctx: ActionContext, params: DenyParams) -> bool:
        state = self.snapshot(ctx, params)
        return bool(state["inline_policy"] == DENY_BEARER_TOKENS or state["managed_attached"])

    def undo(
        self, ctx: ActionContext, params: DenyParams, snapshot: dict[str, Any], applied: dict[str, Any]
    ) -> UndoResult:
        iam = ctx.clients.iam
        if applied.get("mode") == "managed":
            ids = [_absent_ok(iam.detach_user_policy, UserName=params.user_name, PolicyArn=applied["policy_arn"])]
            if applied.get("created_policy"):
                ids.append(_absent_ok(iam.delete_policy, PolicyArn=applied["policy_arn"]))
            return UndoResult(
                status="undone",
                message=f"detached {applied['policy_arn']}"
                + (" and deleted it" if applied.get("created_policy") else ""),
                request_ids=[i for i in ids if i],
            )
        previous = snapshot["inline_policy"]
        if previous is not None:
            response = iam.put_user_policy(
                UserName=params.user_name, PolicyName=params.policy_name, PolicyDocument=json.dumps(previous)
            )
            return UndoResult(
                status="undone",
                message=f"restored the previous inline policy {params.policy_name}",
                request_ids=[r for r in [request_id(response)] if r],
            )
        rid = _absent_ok(iam.delete_user_policy, UserName=params.user_name, PolicyName=params.policy_name)
        return UndoResult(
            status="undone",
            message=f"deleted inline policy {params.policy_name}",
            request_ids=[rid] if rid else [],
        )

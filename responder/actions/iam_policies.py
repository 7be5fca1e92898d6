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


def _managed_document(iam: Any, arn: str) -> Any:
    """The default version's document of a managed policy, or None if there is no such policy."""
    try:
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise
    return json.loads(document) if isinstance(document, str) else document


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
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "iam:CreatePolicy",
        "iam:AttachUserPolicy",
        "iam:DetachUserPolicy",
        "iam:DeletePolicy",
    )
    reversible = True
    mutating = True

    def _managed_arn(self, ctx: ActionContext, user_name: str) -> str:
        return ctx.arn("iam", f"policy/{managed_policy_name(user_name)}")

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
        # An attached policy of our name counts only if it says what we would write: trust no stale copy.
        ours = any(p["PolicyArn"] == arn for p in attached) and _managed_document(iam, arn) == DENY_BEARER_TOKENS
        return {"inline_policy": inline, "managed_attached": ours}

    def plan(self, ctx: ActionContext, params: DenyParams, snapshot: dict[str, Any]) -> StepPlan:
        if snapshot["inline_policy"] == DENY_BEARER_TOKENS:
            return StepPlan(notes=[f"inline policy {params.policy_name} already denies bearer tokens"])
        if snapshot["managed_attached"]:
            return StepPlan(notes=[f"managed policy {managed_policy_name(params.user_name)} already attached"])
        notes = [
            "while this deny is in place no Bedrock API key of this user works, a replacement included: "
            "issue the new key to another user, or lift the deny with `responder rollback`"
        ]
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
        return self._apply_managed(ctx, params, document)

    def _apply_managed(self, ctx: ActionContext, params: DenyParams, document: str) -> Applied:
        iam, name = ctx.clients.iam, managed_policy_name(params.user_name)
        arn, created, ids = self._managed_arn(ctx, params.user_name), False, []
        try:
            response = iam.create_policy(
                PolicyName=name,
                PolicyDocument=document,
                Description="responder: deny Bedrock bearer tokens (leaked API key containment)",
            )
            arn, created = response["Policy"]["Arn"], True
            ids.append(request_id(response))
        except ClientError as exc:
            if error_code(exc) != "EntityAlreadyExists":
                raise
            if _managed_document(iam, arn) != DENY_BEARER_TOKENS:
                raise RuntimeError(f"a managed policy {arn} exists with other content; refusing to attach it") from None
        try:
            ids.append(request_id(iam.attach_user_policy(UserName=params.user_name, PolicyArn=arn)))
        except ClientError:
            if created:  # leave nothing behind that the journal does not know about
                _absent_ok(iam.delete_policy, PolicyArn=arn)
            raise
        return Applied(
            request_ids=[i for i in ids if i],
            details={"mode": "managed", "policy_arn": arn, "created_policy": created},
            changes=[
                Change(
                    call="iam:CreatePolicy" if created else "iam:GetPolicyVersion",
                    parameters={"PolicyName": name, "PolicyDocument": DENY_BEARER_TOKENS},
                    target=f"managed policy {name}",
                    before=None,
                    after=DENY_BEARER_TOKENS,
                ),
                Change(
                    call="iam:AttachUserPolicy",
                    parameters={"UserName": params.user_name, "PolicyArn": arn},
                    target=f"user {params.user_name}",
                    before="not attached",
                    after="attached",
                ),
            ],
            notes=[f"the user's inline policy budget is full (LimitExceeded): attached managed policy {arn} instead"],
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

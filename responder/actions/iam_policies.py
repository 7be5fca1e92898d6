"""Actions that deny a principal every Bedrock bearer-token call, on a user or on a role."""

from __future__ import annotations

import contextlib
import json
from typing import Annotated, Any, Generic, TypeVar

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
from responder.actions.deny_only import require_deny_only
from responder.actions.iam_principals import POLICY_NAME, ROLE_NAME, USER_NAME, Principal, absent_ok, as_document
from responder.actions.reads import together
from responder.actions.registry import register
from responder.aws.clients import ClientError, error_code, request_id
from responder.keys.registry import DEFAULT_FAMILY

# Both endpoints, each with its own action: denying only the first leaves Bedrock Mantle open (FACTS.md).
DENY_BEARER_TOKENS: dict[str, Any] = DEFAULT_FAMILY.deny_document()
DEFAULT_POLICY_NAME = DEFAULT_FAMILY.deny_policy_name  # ResponderDenyBedrockBearerTokens, as in 0.1


def managed_policy_name(principal_name: str, policy_name: str = DEFAULT_POLICY_NAME) -> str:
    return f"{policy_name}-{principal_name}"[:128]


def deny_document(bearer_actions: list[str] | None) -> dict[str, Any]:
    """The deny of the key family's bearer actions (the resolve step names them); Bedrock's when none is given."""
    if not bearer_actions:
        return DENY_BEARER_TOKENS
    return {"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": bearer_actions, "Resource": "*"}}


def _managed_document(iam: Any, arn: str) -> Any:
    """The default version's document of a managed policy, or None if there is no such policy."""
    try:
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise
    return as_document(document)


_BEARER_ACTION = r"^[a-z0-9-]+:CallWithBearerToken$"


class DenyUserParams(ActionParams):
    user_name: str = Field(pattern=USER_NAME)
    policy_name: str = Field(default=DEFAULT_POLICY_NAME, pattern=POLICY_NAME)
    bearer_actions: list[Annotated[str, Field(pattern=_BEARER_ACTION)]] | None = None  # the key family's


class DenyRoleParams(ActionParams):
    role_name: str = Field(pattern=ROLE_NAME)
    policy_name: str = Field(default=DEFAULT_POLICY_NAME, pattern=POLICY_NAME)
    bearer_actions: list[Annotated[str, Field(pattern=_BEARER_ACTION)]] | None = None  # the key family's


P = TypeVar("P", DenyUserParams, DenyRoleParams)


class DenySnapshot(ActionSnapshot):
    inline_policy: dict[str, Any] | None  # the inline policy of our name before, kept for undo
    # An attached policy of our name counts only if it says what we would write: trust no stale copy.
    managed_attached: bool
    # What undo restores, whatever answers were lost on the way: did the fallback policy exist, attached?
    # (False when absent: journals from before these were recorded.)
    managed_policy_existed: bool = False
    managed_policy_was_attached: bool = False


class _DenyBearerTokens(Action[P, DenySnapshot], Generic[P]):
    """Inline deny on the principal; a customer-managed policy when its inline budget is full."""

    Snapshot = DenySnapshot
    reversible = True
    mutating = True
    milestone = "bearer tokens denied"
    stops = "principal"
    undo_warning = "Lifting the bearer-token deny lets every API key of the principal it denied work again."

    def principal(self, params: P) -> Principal:
        raise NotImplementedError

    def document(self, params: P) -> dict[str, Any]:
        return deny_document(params.bearer_actions)

    def targets(self, params: P) -> list[ChangeTarget]:
        principal = self.principal(params)
        at = f"{principal.kind}/{principal.name}"
        return [Target(at, f"inline-policy/{params.policy_name}"), Target(at, "attached-policies")]

    def _managed_arn(self, ctx: ActionContext, params: P) -> str:
        return ctx.arn("iam", f"policy/{managed_policy_name(self.principal(params).name, params.policy_name)}")

    def snapshot(self, ctx: ActionContext, params: P) -> DenySnapshot:
        iam, principal = ctx.clients.iam, self.principal(params)
        arn = self._managed_arn(ctx, params)
        inline, document = together(
            lambda: principal.get_inline(iam, params.policy_name), lambda: _managed_document(iam, arn)
        )
        # A policy that does not exist is attached to nobody: one read fewer in the usual case.
        attached = document is not None and arn in principal.attached(iam)
        return DenySnapshot(
            inline_policy=inline,
            managed_attached=attached and document == self.document(params),
            managed_policy_existed=document is not None,
            managed_policy_was_attached=attached,
        )

    def plan(self, ctx: ActionContext, params: P, snapshot: DenySnapshot) -> StepPlan:
        principal = self.principal(params)
        if snapshot.inline_policy == self.document(params):
            return StepPlan(notes=[f"inline policy {params.policy_name} already denies bearer tokens"])
        if snapshot.managed_attached:
            return StepPlan(
                notes=[f"managed policy {managed_policy_name(principal.name, params.policy_name)} already attached"]
            )
        notes = [
            f"while this deny is in place no API key of this {principal.kind} works for "
            f"{', '.join(self.document(params)['Statement']['Action'])}, a replacement included: lift it by rolling "
            "this run back once the leaked key is dead",
            f"if the {principal.kind}'s inline policy budget is full (LimitExceeded), the same deny goes in a "
            f"customer-managed policy {managed_policy_name(principal.name, params.policy_name)} attached instead",
        ]
        if snapshot.inline_policy is not None:
            notes.append(f"an inline policy named {params.policy_name} exists and is replaced (kept for undo)")
        change = Change(
            call=principal.put_call(),
            parameters={"PolicyName": params.policy_name, "PolicyDocument": self.document(params)},
            target=str(principal),
            before=snapshot.inline_policy,
            after=self.document(params),
        )
        return StepPlan(changes=[change], notes=notes)

    def apply(self, ctx: ActionContext, params: P, snapshot: DenySnapshot, plan: StepPlan) -> Applied:
        try:
            rid = self.principal(params).put_inline(ctx.clients.iam, params.policy_name, self.document(params))
            return Applied(request_ids=[rid] if rid else [], details={"mode": "inline"})
        except ClientError as exc:
            if error_code(exc) != "LimitExceeded":
                raise
        # The principal's inline budget (users 2,048, roles 10,240 characters) is used up.
        return self._apply_managed(ctx, params)

    def _apply_managed(self, ctx: ActionContext, params: P) -> Applied:
        iam, principal = ctx.clients.iam, self.principal(params)
        name = managed_policy_name(principal.name, params.policy_name)
        arn, created, ids = self._managed_arn(ctx, params), False, []
        try:
            response = iam.create_policy(
                PolicyName=name,
                PolicyDocument=json.dumps(self.document(params)),
                Description="responder: deny Bedrock bearer tokens (leaked API key containment)",
            )
            arn, created = response["Policy"]["Arn"], True
            ids.append(request_id(response))
        except ClientError as exc:
            if error_code(exc) != "EntityAlreadyExists":
                raise
            if _managed_document(iam, arn) != self.document(params):
                raise RuntimeError(f"a managed policy {arn} exists with other content; refusing to attach it") from None
        try:
            ids.append(principal.attach(iam, arn))
        except ClientError as exc:
            # AWS answered no: the attach did not happen, so the policy we just created is removed at once. (A lost
            # answer is no ClientError: then rollback removes it, from the write-ahead snapshot.)
            if created:
                with contextlib.suppress(ClientError):
                    absent_ok(iam.delete_policy, PolicyArn=arn)
            if error_code(exc) == "LimitExceeded":  # AWS's own words stay; what to do about it is added
                exc.response.setdefault("Error", {})["Message"] = (
                    f"{exc.response['Error'].get('Message', '')}. {principal} has no room for the deny: its inline "
                    "policies are at their size limit and it has as many managed policies as IAM allows (10 by "
                    "default). Detach a managed policy or shorten an inline one, then resume"
                )
            raise
        return Applied(
            request_ids=[i for i in ids if i],
            details={"mode": "managed", "policy_arn": arn, "created_policy": created},
            changes=[
                Change(
                    call="iam:CreatePolicy" if created else "iam:GetPolicyVersion",
                    parameters={"PolicyName": name, "PolicyDocument": self.document(params)},
                    target=f"managed policy {name}",
                    before=None,
                    after=self.document(params),
                ),
                Change(
                    call=principal.attach_call(),
                    parameters={"PolicyArn": arn},
                    target=str(principal),
                    before="not attached",
                    after="attached",
                ),
            ],
            notes=[f"the inline policy budget of {principal} is full (LimitExceeded): attached {arn} instead"],
        )

    def verify(self, ctx: ActionContext, params: P, applied: Applied | None = None) -> bool:
        if applied is not None and applied.details.get("mode") == "inline":  # read back only what was written
            return bool(self.principal(params).get_inline(ctx.clients.iam, params.policy_name) == self.document(params))
        state = self.snapshot(ctx, params)
        return state.inline_policy == self.document(params) or state.managed_attached

    def undo(self, ctx: ActionContext, params: P, snapshot: DenySnapshot, applied: dict[str, Any]) -> UndoResult:
        """Restore the snapshot from the live state alone: an answer lost on the way (a reset connection after
        CreatePolicy or AttachUserPolicy) must not leave a policy behind that the journal never heard of."""
        if (wait := ctx.key_still_alive()) is not None:
            return UndoResult(status="withheld", message=f"the deny stays: {wait}")
        iam, principal = ctx.clients.iam, self.principal(params)
        previous = snapshot.inline_policy
        if previous is not None:  # what could have been there under responder's name: a deny. Never put back more
            require_deny_only(previous, f"the journaled previous inline policy {params.policy_name} of {principal}")
        ids, done = [], []
        if previous is not None or principal.get_inline(iam, params.policy_name) is not None:
            ids.append(principal.restore_inline(iam, params.policy_name, previous))
            done.append(
                f"{'restored the previous' if previous is not None else 'removed'} inline policy {params.policy_name}"
            )
        arn = applied.get("policy_arn") or self._managed_arn(ctx, params)
        if not snapshot.managed_policy_was_attached and arn in principal.attached(iam):
            ids.append(principal.detach(iam, arn))
            done.append(f"detached {arn}")
        if not snapshot.managed_policy_existed and _managed_document(iam, arn) is not None:
            ids.append(absent_ok(iam.delete_policy, PolicyArn=arn))
            done.append(f"deleted {arn}")
        if not done:
            return UndoResult(status="nothing-to-undo", message="the deny was never put in place")
        return UndoResult(status="undone", message="; ".join(done), request_ids=[i for i in ids if i])


_MANAGED_FALLBACK = ("iam:GetPolicy", "iam:GetPolicyVersion", "iam:CreatePolicy", "iam:DeletePolicy")


@register
class DenyBearerTokensForUser(_DenyBearerTokens[DenyUserParams]):
    name = "iam.deny-bearer-tokens-for-user"
    summary = (
        "Deny the user bedrock:CallWithBearerToken and bedrock-mantle:CallWithBearerToken (inline policy; an "
        "attached managed policy when the inline budget is full)"
    )
    Params = DenyUserParams
    permissions = (
        "iam:GetUserPolicy",
        "iam:PutUserPolicy",
        "iam:DeleteUserPolicy",
        "iam:ListAttachedUserPolicies",
        "iam:AttachUserPolicy",
        "iam:DetachUserPolicy",
        *_MANAGED_FALLBACK,
    )

    def principal(self, params: DenyUserParams) -> Principal:
        return Principal("user", params.user_name)


@register
class DenyBearerTokensForRole(_DenyBearerTokens[DenyRoleParams]):
    name = "iam.deny-bearer-tokens-for-role"
    summary = (
        "Deny the role bedrock:CallWithBearerToken and bedrock-mantle:CallWithBearerToken (inline policy; an "
        "attached managed policy when the inline budget is full)"
    )
    Params = DenyRoleParams
    permissions = (
        "iam:GetRolePolicy",
        "iam:PutRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
        *_MANAGED_FALLBACK,
    )

    def principal(self, params: DenyRoleParams) -> Principal:
        return Principal("role", params.role_name)

"""Preventive guardrails for Bedrock API keys: render the policy, and put it on a principal.

The condition keys are the documented ones (FACTS.md): iam:ServiceSpecificCredentialServiceName and
iam:ServiceSpecificCredentialAgeDays on iam:CreateServiceSpecificCredential; bedrock:bearerTokenType on
bedrock:CallWithBearerToken. Short-term key generation cannot be denied, only their use.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from responder.actions.base import (
    Action,
    ActionContext,
    ActionParams,
    Applied,
    Change,
    ChangeTarget,
    CommaList,
    NoSnapshot,
    StepPlan,
    Target,
    UndoResult,
)
from responder.actions.deny_only import DenyOnlyDocument, require_deny_only
from responder.actions.iam_principals import POLICY_NAME, USER_NAME, InlinePolicySnapshot, Principal
from responder.actions.registry import register
from responder.keys import FAMILIES, family_named
from responder.keys.family import KINDS
from responder.keys.registry import DEFAULT_FAMILY

GUARDRAIL_POLICY_NAME = "ResponderBedrockKeyGuardrails"
BEARER_ACTIONS = list(DEFAULT_FAMILY.bearer_actions)


def guardrail_document(
    max_key_age_days: int, deny_bearer: str, model_arns: list[str], families: list[str] | None = None
) -> dict[str, Any]:
    """The guardrails for the key families named (every family when None): their keys' creation conditions on
    iam:CreateServiceSpecificCredential, their bearer actions, and a token-type condition where a family has one.
    (The statement ids keep their 0.1 names: policies already in place stay recognisable.)"""
    chosen = [family_named(name) for name in families] if families else list(FAMILIES.values())
    services = [f.service_name for f in chosen]
    creates_bedrock_key = {
        "StringEquals": {"iam:ServiceSpecificCredentialServiceName": services[0] if len(services) == 1 else services}
    }
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DenyLongLivedBedrockKeys",
            "Effect": "Deny",
            "Action": "iam:CreateServiceSpecificCredential",
            "Resource": "*",
            "Condition": {
                **creates_bedrock_key,
                "NumericGreaterThan": {"iam:ServiceSpecificCredentialAgeDays": str(max_key_age_days)},
            },
        },
        {
            "Sid": "DenyBedrockKeysThatNeverExpire",
            "Effect": "Deny",
            "Action": "iam:CreateServiceSpecificCredential",
            "Resource": "*",
            "Condition": {**creates_bedrock_key, "Null": {"iam:ServiceSpecificCredentialAgeDays": "true"}},
        },
    ]
    if deny_bearer == "all":
        every = [action for f in chosen for action in f.bearer_actions]
        statements.append({"Sid": "DenyBearerTokens", "Effect": "Deny", "Action": every, "Resource": "*"})
    elif deny_bearer in KINDS:
        # Only a family that declares a bearer-token-type condition key (Bedrock's, on its first action) can deny
        # one kind of its tokens: the value for that kind is the family's.
        typed = [
            (f, f.bearer_token_type_key, f.bearer_token_types[deny_bearer])
            for f in chosen
            if f.bearer_token_type_key and deny_bearer in f.bearer_token_types
        ]
        for index, (family, condition, token_type) in enumerate(typed):
            suffix = "" if index == 0 else family.name.title().replace("-", "")
            statements.append(
                {
                    "Sid": f"Deny{token_type.title().replace('_', '')}BearerTokens{suffix}",
                    "Effect": "Deny",
                    "Action": family.bearer_actions[0],
                    "Resource": "*",
                    "Condition": {"StringEquals": {condition: token_type}},
                }
            )
    if model_arns:
        statements.append(
            {"Sid": "OnlyTheseModels", "Effect": "Deny", "Action": "bedrock:InvokeModel*", "NotResource": model_arns}
        )
    return {"Version": "2012-10-17", "Statement": statements}


class RenderParams(ActionParams):
    max_key_age_days: int = Field(default=90, ge=1, le=36_600)
    deny_bearer: Literal["none", "short-term", "long-term", "all"] = "none"
    model_arns: CommaList = Field(default_factory=list)
    scope: Literal["principal", "scp"] = "principal"
    families: CommaList = Field(default_factory=list)  # key family names; empty: every family


@register
class RenderGuardrails(Action[RenderParams, NoSnapshot]):
    name = "guardrails.render-policy"
    summary = "Render the Bedrock key guardrails as a policy document (an SCP with -p scope=scp); no AWS call"
    Params = RenderParams
    Snapshot = NoSnapshot
    permissions = ("sts:GetCallerIdentity",)
    reversible = True
    mutating = False
    outputs = ("document", "on_principal")

    def snapshot(self, ctx: ActionContext, params: RenderParams) -> NoSnapshot:
        return NoSnapshot()

    def plan(self, ctx: ActionContext, params: RenderParams, snapshot: NoSnapshot) -> StepPlan:
        document = guardrail_document(
            params.max_key_age_days, params.deny_bearer, params.model_arns, params.families or None
        )
        notes = [f"policy: {len(document['Statement'])} statements"]
        if params.deny_bearer in KINDS:
            notes.append(
                "bedrock:bearerTokenType is documented for bedrock:CallWithBearerToken only: Mantle bearer tokens "
                "of that kind are not denied; deny_bearer=all closes both endpoints"
            )
        if params.scope == "scp":
            notes.append("scope=scp: attach the document in the report's outputs to an OU in AWS Organizations")
        return StepPlan(outputs={"document": document, "on_principal": params.scope == "principal"}, notes=notes)


class PutGuardrailParams(ActionParams):
    principal_type: Literal["user", "role"]
    principal_name: str = Field(pattern=USER_NAME)
    document: DenyOnlyDocument  # a guardrail denies: an Allow is refused by `validate` and when the step runs
    policy_name: str = Field(default=GUARDRAIL_POLICY_NAME, pattern=POLICY_NAME)


@register
class PutGuardrails(Action[PutGuardrailParams, InlinePolicySnapshot]):
    name = "iam.put-guardrail-policy"
    summary = "Put the guardrail document as an inline policy on a user or role (undo: restore what was there)"
    Params = PutGuardrailParams
    Snapshot = InlinePolicySnapshot
    permissions = (
        "iam:GetUserPolicy",
        "iam:PutUserPolicy",
        "iam:DeleteUserPolicy",
        "iam:GetRolePolicy",
        "iam:PutRolePolicy",
        "iam:DeleteRolePolicy",
    )
    reversible = True
    mutating = True

    @staticmethod
    def _principal(params: PutGuardrailParams) -> Principal:
        return Principal(params.principal_type, params.principal_name)

    def targets(self, params: PutGuardrailParams) -> list[ChangeTarget]:
        return [Target(f"{params.principal_type}/{params.principal_name}", f"inline-policy/{params.policy_name}")]

    def snapshot(self, ctx: ActionContext, params: PutGuardrailParams) -> InlinePolicySnapshot:
        return InlinePolicySnapshot(policy=self._principal(params).get_inline(ctx.clients.iam, params.policy_name))

    def plan(self, ctx: ActionContext, params: PutGuardrailParams, snapshot: InlinePolicySnapshot) -> StepPlan:
        if snapshot.policy == params.document:
            return StepPlan(notes=[f"{params.policy_name} is already in place"])
        principal = self._principal(params)
        change = Change(
            call=principal.put_call(),
            parameters={"PolicyName": params.policy_name, "PolicyDocument": params.document},
            target=str(principal),
            before=snapshot.policy,
            after=params.document,
        )
        return StepPlan(changes=[change])

    def apply(
        self, ctx: ActionContext, params: PutGuardrailParams, snapshot: InlinePolicySnapshot, plan: StepPlan
    ) -> Applied:
        rid = self._principal(params).put_inline(ctx.clients.iam, params.policy_name, params.document)
        return Applied(request_ids=[rid] if rid else [])

    def verify(self, ctx: ActionContext, params: PutGuardrailParams, applied: Applied | None = None) -> bool:
        return bool(self.snapshot(ctx, params).policy == params.document)

    def undo(
        self, ctx: ActionContext, params: PutGuardrailParams, snapshot: InlinePolicySnapshot, applied: dict[str, Any]
    ) -> UndoResult:
        if snapshot.policy is not None:  # only a guardrail (deny-only) could have been there under this name
            require_deny_only(snapshot.policy, f"the journaled previous {params.policy_name}")
        rid = self._principal(params).restore_inline(ctx.clients.iam, params.policy_name, snapshot.policy)
        what = "restored the previous" if snapshot.policy is not None else "removed"
        return UndoResult(status="undone", message=f"{what} {params.policy_name}", request_ids=[rid] if rid else [])

"""Revoke a role's sessions issued before a moment, as the IAM console's "Revoke active sessions" does."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pydantic import Field

from responder.actions.base import Action, ActionContext, ActionParams, Applied, Change, StepPlan, Target, UndoResult
from responder.actions.deny_only import require_deny_only
from responder.actions.iam_principals import ROLE_NAME, InlinePolicySnapshot, Principal
from responder.actions.registry import register
from responder.actions.targets import ChangeTarget

REVOKE_POLICY_NAME = "AWSRevokeOlderSessions"  # the console's name: operators recognise it


def revoke_document(before: datetime) -> dict[str, Any]:
    moment = before.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": ["*"],
                "Resource": ["*"],
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": moment}},
            }
        ],
    }


def revoked_before(document: Any) -> datetime | None:
    """The moment an AWSRevokeOlderSessions-shaped document revokes sessions before, if it is one."""
    try:
        statement = document["Statement"]
        statement = statement if isinstance(statement, dict) else statement[0]  # IAM takes one statement or a list
        moment = statement["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
        if statement["Effect"] != "Deny":
            return None
        return datetime.fromisoformat(str(moment).replace("Z", "+00:00"))
    except (KeyError, IndexError, TypeError, ValueError):
        return None


class RevokeParams(ActionParams):
    role_name: str = Field(pattern=ROLE_NAME)
    # Sessions issued before this moment must be revoked (the leaked token's issue time); None means now.
    issued_before: datetime | None = None


@register
class RevokeRoleSessions(Action[RevokeParams, InlinePolicySnapshot]):
    name = "iam.revoke-role-sessions"
    summary = (
        "Deny everything to the role's sessions issued before now (inline AWSRevokeOlderSessions with "
        "aws:TokenIssueTime); undoing it lets old unexpired sessions work again"
    )
    Params = RevokeParams
    Snapshot = InlinePolicySnapshot
    permissions = ("iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy")
    reversible = True
    mutating = True
    milestone = "older sessions revoked"
    stops = "principal"
    undo_warning = "Rolling back the session revocation lets the role's old, unexpired sessions work again."

    def targets(self, params: RevokeParams) -> list[ChangeTarget]:
        return [Target(f"role/{params.role_name}", f"inline-policy/{REVOKE_POLICY_NAME}")]

    def snapshot(self, ctx: ActionContext, params: RevokeParams) -> InlinePolicySnapshot:
        return InlinePolicySnapshot(
            policy=Principal("role", params.role_name).get_inline(ctx.clients.iam, REVOKE_POLICY_NAME)
        )

    def plan(self, ctx: ActionContext, params: RevokeParams, snapshot: InlinePolicySnapshot) -> StepPlan:
        current = revoked_before(snapshot.policy)
        if current is not None and params.issued_before is not None and current >= params.issued_before:
            return StepPlan(notes=[f"sessions issued before {current.isoformat()} are already revoked"])
        notes = ["every session of this role issued before now stops working, the workloads' own included"]
        if snapshot.policy is not None:
            notes.append(f"the existing {REVOKE_POLICY_NAME} policy is moved forward (kept for undo)")
        change = Change(
            call="iam:PutRolePolicy",
            parameters={"RoleName": params.role_name, "PolicyName": REVOKE_POLICY_NAME},
            target=f"role {params.role_name}",
            before=snapshot.policy,
            after="deny all to sessions issued before the moment of applying",
        )
        return StepPlan(changes=[change], notes=notes)

    def apply(
        self, ctx: ActionContext, params: RevokeParams, snapshot: InlinePolicySnapshot, plan: StepPlan
    ) -> Applied:
        moment = datetime.now(timezone.utc).replace(microsecond=0)
        rid = Principal("role", params.role_name).put_inline(
            ctx.clients.iam, REVOKE_POLICY_NAME, revoke_document(moment)
        )
        return Applied(request_ids=[rid] if rid else [], details={"revoked_before": moment.isoformat()})

    def verify(self, ctx: ActionContext, params: RevokeParams, applied: Applied | None = None) -> bool:
        current = revoked_before(self.snapshot(ctx, params).policy)
        return current is not None and (params.issued_before is None or current >= params.issued_before)

    def undo(
        self, ctx: ActionContext, params: RevokeParams, snapshot: InlinePolicySnapshot, applied: dict[str, Any]
    ) -> UndoResult:
        if (wait := ctx.key_still_alive()) is not None:
            return UndoResult(status="withheld", message=f"the session revocation stays: {wait}")
        previous = snapshot.policy
        if previous is not None:  # an earlier revocation: a deny. Anything else in the journal is a forgery
            require_deny_only(previous, f"the journaled previous {REVOKE_POLICY_NAME} of role {params.role_name}")
        rid = Principal("role", params.role_name).restore_inline(ctx.clients.iam, REVOKE_POLICY_NAME, previous)
        what = "restored the previous" if previous is not None else "deleted the"
        return UndoResult(
            status="undone",
            message=f"{what} {REVOKE_POLICY_NAME} policy. WARNING: unexpired sessions of role {params.role_name} "
            f"issued before {applied.get('revoked_before', 'this run')} work again",
            request_ids=[rid] if rid else [],
        )

"""A role's trust policy changed during the exposure window, put back as it was before, after containment.

An attacker that may call `UpdateAssumeRolePolicy` lets its own account assume the key's role, a way back in that
outlives the leaked key. The change is found in CloudTrail's IAM events of the window; the document before it is
the `policyDocument` of the last `UpdateAssumeRolePolicy` before the window (or the role's `CreateRole`), read from
CloudTrail's 90 days. When neither is there, the earlier document cannot be known: nothing is changed and the plan
says so with the command to set one. The current document is the snapshot, journaled before the call, so rollback
puts it back exactly.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
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
from responder.actions.cloudtrail import GLOBAL_REGION, LOOKBACK, lookup
from responder.actions.iam_principals import ROLE_NAME, as_document
from responder.actions.registry import register
from responder.actions.window_changes import iam_changes, named, own_principal
from responder.aws.clients import request_id
from responder.clock import parse_time
from responder.inert import plain


class TrustParams(ActionParams):
    role_name: str = Field(pattern=ROLE_NAME)
    since: datetime | None = None  # the start of the exposure window; None: unknown, nothing is changed
    max_events: int = Field(default=1000, ge=1, le=100_000)


class TrustSnapshot(ActionSnapshot):
    current: dict[str, Any] | None = None  # the trust policy now: what rollback puts back
    changed_by: list[str] = Field(default_factory=list)  # the window's UpdateAssumeRolePolicy event ids
    before: dict[str, Any] | None = None  # the document in force before the window, when CloudTrail shows it
    before_from: str | None = None  # the event it was read from
    own_role: bool = False


def _current(ctx: ActionContext, role: str) -> dict[str, Any]:
    document = as_document(ctx.clients.iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"])
    return dict(document) if isinstance(document, dict) else {}


def _document(value: Any) -> dict[str, Any] | None:
    """A policy document from CloudTrail's requestParameters (a JSON string), or None if it is not one."""
    try:
        parsed = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) and "Statement" in parsed else None


def _before(ctx: ActionContext, role: str, since: datetime, limit: int) -> tuple[dict[str, Any] | None, str | None]:
    """The trust policy in force when the window opened: the last change before it, or the role's creation."""
    start = datetime.now(timezone.utc) - LOOKBACK
    if since <= start:
        return None, None
    for name, field in (("UpdateAssumeRolePolicy", "policyDocument"), ("CreateRole", "assumeRolePolicyDocument")):
        found, _ = lookup(ctx, GLOBAL_REGION, "EventName", name, start, since - timedelta(seconds=1), limit)
        for record in found:  # newest first
            parameters = record.get("requestParameters")
            if record.get("errorCode") or not isinstance(parameters, dict) or parameters.get("roleName") != role:
                continue
            if parse_time(record.get("eventTime")) is None:
                continue
            return _document(parameters.get(field)), str(record.get("eventID"))
    return None, None


@register
class RestoreWindowTrustPolicy(Action[TrustParams, TrustSnapshot]):
    name = "iam.restore-window-trust-policy"
    summary = (
        "After containment: put back the role's trust policy as it was before the exposure window when it was "
        "changed during it (UpdateAssumeRolePolicy in CloudTrail); when the earlier one cannot be known, say so"
    )
    Params = TrustParams
    Snapshot = TrustSnapshot
    permissions = ("cloudtrail:LookupEvents", "iam:GetRole", "iam:UpdateAssumeRolePolicy")
    reversible = True
    mutating = True
    after_containment = True
    undo_warning = (
        "Rolling back puts back the trust policy the role had after the exposure window: whoever it let assume the "
        "role may do so again."
    )

    def targets(self, params: TrustParams) -> list[ChangeTarget]:
        return [Target(f"role/{params.role_name}", "trust-policy")]

    def snapshot(self, ctx: ActionContext, params: TrustParams) -> TrustSnapshot:
        role = params.role_name
        if own_principal(ctx, "role", role):
            return TrustSnapshot(own_role=True)
        if params.since is None:
            return TrustSnapshot(current=_current(ctx, role))
        changes = named(iam_changes(ctx, "role", role, params.since, params.max_events), "UpdateAssumeRolePolicy")
        if not changes:
            return TrustSnapshot(current=_current(ctx, role))
        before, before_from = _before(ctx, role, params.since, params.max_events)
        return TrustSnapshot(
            current=_current(ctx, role),
            changed_by=[e.event_id for e in changes],
            before=before,
            before_from=before_from,
        )

    def plan(self, ctx: ActionContext, params: TrustParams, snapshot: TrustSnapshot) -> StepPlan:
        role = params.role_name
        if snapshot.own_role:
            return StepPlan(notes=[f"your own credentials are role {role}'s: its trust policy was left as it is"])
        if params.since is None:
            return StepPlan(notes=["the exposure window is unknown: the role's trust policy was left as it is"])
        if not snapshot.changed_by:
            return StepPlan(notes=[f"role {role}'s trust policy was not changed during the exposure window"])
        events = ", ".join(plain(e) for e in snapshot.changed_by)
        if snapshot.before is None:
            return StepPlan(
                notes=[
                    f"role {role}'s trust policy was changed during the exposure window (CloudTrail {events}) and "
                    "the one before cannot be known (no earlier change or creation in CloudTrail's 90 days): left "
                    f"as it is; read it (aws iam get-role --role-name {role}) and set the right one: aws iam "
                    f"update-assume-role-policy --role-name {role} --policy-document file://trust.json"
                ]
            )
        if snapshot.before == snapshot.current:
            return StepPlan(notes=[f"role {role}'s trust policy is already the one before the exposure window"])
        change = Change(
            call="iam:UpdateAssumeRolePolicy",
            parameters={"RoleName": role, "PolicyDocument": json.dumps(snapshot.before)},
            target=f"trust policy of role {role}, changed during the exposure window (CloudTrail {events})",
            before=snapshot.current,
            after=snapshot.before,
        )
        return StepPlan(
            changes=[change],
            notes=[f"the trust policy before the window is read from CloudTrail event {plain(snapshot.before_from)}"],
        )

    def apply(self, ctx: ActionContext, params: TrustParams, snapshot: TrustSnapshot, plan: StepPlan) -> Applied:
        ids = [request_id(ctx.clients.iam.update_assume_role_policy(**c.parameters)) for c in plan.changes]
        return Applied(request_ids=[i for i in ids if i], details={"restored": bool(plan.changes)})

    def verify(self, ctx: ActionContext, params: TrustParams, applied: Applied | None = None) -> bool:
        if applied is not None and not applied.details.get("restored"):
            return True
        snapshot = self.snapshot(ctx, params)
        return snapshot.before is None or snapshot.current == snapshot.before

    def undo(
        self, ctx: ActionContext, params: TrustParams, snapshot: TrustSnapshot, applied: dict[str, Any]
    ) -> UndoResult:
        if snapshot.current is None or snapshot.before is None or snapshot.before == snapshot.current:
            return UndoResult(status="nothing-to-undo", message="the trust policy was not changed by this step")
        if _current(ctx, params.role_name) == snapshot.current:
            return UndoResult(status="undone", message="the trust policy is already the one before the run")
        rid = request_id(
            ctx.clients.iam.update_assume_role_policy(
                RoleName=params.role_name, PolicyDocument=json.dumps(snapshot.current)
            )
        )
        return UndoResult(
            status="undone",
            message=f"put back role {params.role_name}'s trust policy as it was before the run",
            request_ids=[rid] if rid else [],
        )

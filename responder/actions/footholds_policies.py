"""Policies given to the key's principal during the exposure window, taken away after containment.

An attacker holding other credentials widens what the key's user or role may do (`AttachUserPolicy`,
`PutUserPolicy`, `AttachRolePolicy`, `PutRolePolicy`, LLMjacking reports): CloudTrail names each such call. A policy
is removed only when a successful call of the window named it AND IAM still shows it on the principal; the exact
document of an inline policy (and the ARN of a managed one) is the snapshot, journaled before the call, so rollback
puts back exactly what was there. responder's own policies (the bearer-token denies, the session revocation, the
guardrails, their managed fallbacks) are never touched, whoever put them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

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
from responder.actions.guardrails import GUARDRAIL_POLICY_NAME
from responder.actions.iam_principals import ROLE_NAME, Principal, as_document
from responder.actions.iam_sessions import REVOKE_POLICY_NAME
from responder.actions.registry import register
from responder.actions.window_changes import iam_changes, named, own_principal, text
from responder.aws.clients import ClientError, error_code
from responder.inert import plain
from responder.keys import FAMILIES

# Every inline policy responder puts, by name; its managed fallbacks are named `<deny name>-<principal>`.
RESPONDER_POLICY_NAMES = frozenset(
    {*(f.deny_policy_name for f in FAMILIES.values()), REVOKE_POLICY_NAME, GUARDRAIL_POLICY_NAME}
)


def responders_own(policy: str, account_id: str) -> bool:
    """An inline policy name, or a managed policy ARN, that is one of responder's own (never removed)."""
    if not policy.startswith("arn:"):
        return policy in RESPONDER_POLICY_NAMES
    parts = policy.split(":", 5)
    if len(parts) < 6 or parts[4] != account_id or not parts[5].startswith("policy/"):
        return False
    name = parts[5].rsplit("/", 1)[-1]
    return any(name.startswith(f"{own}-") for own in RESPONDER_POLICY_NAMES)


class WindowPoliciesParams(ActionParams):
    principal_name: str = Field(pattern=ROLE_NAME)  # the user and role name patterns are IAM's one pattern
    since: datetime | None = None  # the start of the exposure window; None: unknown, nothing is removed
    max_events: int = Field(default=1000, ge=1, le=100_000)


class WindowPolicy(ActionSnapshot):
    """A policy the window gave the principal that IAM still shows: a managed ARN, or an inline name and its
    exact document (what rollback puts back)."""

    kind: Literal["managed", "inline"]
    policy: str  # the ARN of a managed policy, the name of an inline one
    document: dict[str, Any] | None = None  # an inline policy's document as IAM returned it
    event_id: str
    event_time: str


class WindowPoliciesSnapshot(ActionSnapshot):
    policies: list[WindowPolicy] = Field(default_factory=list)
    gone: list[str] = Field(default_factory=list)  # given in the window, no longer on the principal
    kept_own: list[str] = Field(default_factory=list)  # responder's own policies, left alone
    own_principal: bool = False
    events_cut: bool = False


def _inline_now(ctx: ActionContext, principal: Principal, name: str) -> dict[str, Any] | None:
    document = principal.get_inline(ctx.clients.iam, name)
    return as_document(document) if document is not None else None


def _attached_now(ctx: ActionContext, principal: Principal) -> set[str]:
    try:
        return set(principal.attached(ctx.clients.iam))
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return set()
        raise


_ATTACH = ("AttachUserPolicy", "AttachRolePolicy")
_PUT = ("PutUserPolicy", "PutRolePolicy")


def _permissions(kind: str) -> tuple[str, ...]:
    return (
        "cloudtrail:LookupEvents",
        f"iam:ListAttached{kind}Policies",
        f"iam:Get{kind}Policy",
        f"iam:Detach{kind}Policy",
        f"iam:Delete{kind}Policy",
        # rollback: put back exactly what was removed
        f"iam:Attach{kind}Policy",
        f"iam:Put{kind}Policy",
    )


class RemoveWindowPolicies(Action[WindowPoliciesParams, WindowPoliciesSnapshot]):
    """One class for both kinds of principal; each kind registers its own action, so a playbook that changes only
    users is granted no role's rights (and the reverse)."""

    kind: ClassVar[Literal["user", "role"]]
    Params = WindowPoliciesParams
    Snapshot = WindowPoliciesSnapshot
    reversible = True
    mutating = True
    after_containment = True
    undo_warning = (
        "Rolling back gives the principal back the policies given to it during the exposure window: if the "
        "attacker gave them, it has those rights again."
    )

    def _principal(self, params: WindowPoliciesParams) -> Principal:
        return Principal(self.kind, params.principal_name)

    def targets(self, params: WindowPoliciesParams) -> list[ChangeTarget]:
        at = f"{self.kind}/{params.principal_name}"
        return [Target(at, "attached-policies"), Target(at, "window-inline-policies")]

    def snapshot(self, ctx: ActionContext, params: WindowPoliciesParams) -> WindowPoliciesSnapshot:
        kind, name = self.kind, params.principal_name
        if own_principal(ctx, kind, name):
            return WindowPoliciesSnapshot(own_principal=True)
        if params.since is None:
            return WindowPoliciesSnapshot()
        read = iam_changes(ctx, kind, name, params.since, params.max_events)
        principal = self._principal(params)
        attached = _attached_now(ctx, principal)
        found: dict[str, WindowPolicy] = {}  # by policy: the latest call of the window that gave it
        gone, own = [], []
        for event in named(read, *_ATTACH, *_PUT):
            managed = event.name in _ATTACH
            policy = text(event.parameters, "policyArn" if managed else "policyName")
            if policy is None:
                continue
            if responders_own(policy, ctx.account_id):
                own.append(policy)
                continue
            document = None if managed else _inline_now(ctx, principal, policy)
            if (managed and policy not in attached) or (not managed and document is None):
                gone.append(policy)
                continue
            found[policy] = WindowPolicy(
                kind="managed" if managed else "inline",
                policy=policy,
                document=document,
                event_id=event.event_id,
                event_time=event.time.isoformat(),
            )
        gone = [p for p in dict.fromkeys(gone) if p not in found]
        return WindowPoliciesSnapshot(
            policies=list(found.values()), gone=gone, kept_own=sorted(set(own)), events_cut=read.cut
        )

    def plan(self, ctx: ActionContext, params: WindowPoliciesParams, snapshot: WindowPoliciesSnapshot) -> StepPlan:
        principal = self._principal(params)
        if snapshot.own_principal:
            return StepPlan(notes=[f"your own credentials are {principal}'s: its policies were left as they are"])
        if params.since is None:
            return StepPlan(notes=["the exposure window is unknown: no policy given to the principal was removed"])
        key = {"UserName" if principal.kind == "user" else "RoleName": principal.name}
        changes = []
        for found in snapshot.policies:
            managed = found.kind == "managed"
            verb = "Detach" if managed else "Delete"
            call = f"iam:{verb}{'User' if principal.kind == 'user' else 'Role'}Policy"
            changes.append(
                Change(
                    call=call,
                    parameters={**key, **({"PolicyArn": found.policy} if managed else {"PolicyName": found.policy})},
                    target=(
                        f"{'managed' if managed else 'inline'} policy {plain(found.policy)} of {principal}, given "
                        f"during the exposure window (CloudTrail event {plain(found.event_id)})"
                    ),
                    before="attached" if managed else "present",
                    after="detached" if managed else "deleted",
                )
            )
        notes = []
        if snapshot.gone:
            notes.append(
                f"given to {principal} during the window and no longer on it: {', '.join(map(plain, snapshot.gone))}"
            )
        if snapshot.kept_own:
            notes.append(f"responder's own policies left in place: {', '.join(snapshot.kept_own)}")
        if snapshot.events_cut:
            notes.append(
                f"stopped at {params.max_events} IAM events (max_events): a policy given earlier in the window may "
                "not be seen"
            )
        if not changes:
            notes.append(f"no policy given to {principal} during the exposure window is still on it")
        return StepPlan(changes=changes, notes=notes)

    def apply(
        self, ctx: ActionContext, params: WindowPoliciesParams, snapshot: WindowPoliciesSnapshot, plan: StepPlan
    ) -> Applied:
        principal, iam = self._principal(params), ctx.clients.iam
        ids, detached, deleted = [], [], []
        for change in plan.changes:
            if "PolicyArn" in change.parameters:
                ids.append(principal.detach(iam, change.parameters["PolicyArn"]))
                detached.append(change.parameters["PolicyArn"])
            else:
                ids.append(principal.delete_inline(iam, change.parameters["PolicyName"]))
                deleted.append(change.parameters["PolicyName"])
        return Applied(request_ids=[i for i in ids if i], details={"detached": detached, "deleted": deleted})

    def verify(self, ctx: ActionContext, params: WindowPoliciesParams, applied: Applied | None = None) -> bool:
        principal = self._principal(params)
        if applied is None:  # a resumed run: what the window gave is no longer there
            return not self.snapshot(ctx, params).policies
        detached = set(applied.details.get("detached") or [])
        if detached & _attached_now(ctx, principal):
            return False
        return all(_inline_now(ctx, principal, name) is None for name in applied.details.get("deleted") or [])

    def undo(
        self,
        ctx: ActionContext,
        params: WindowPoliciesParams,
        snapshot: WindowPoliciesSnapshot,
        applied: dict[str, Any],
    ) -> UndoResult:
        if not snapshot.policies:
            return UndoResult(status="nothing-to-undo", message="no policy was removed by this step")
        principal, iam = self._principal(params), ctx.clients.iam
        attached = _attached_now(ctx, principal)
        ids, restored = [], []
        for found in snapshot.policies:
            if found.kind == "managed":
                if found.policy not in attached:
                    ids.append(principal.attach(iam, found.policy))
            elif _inline_now(ctx, principal, found.policy) != found.document:
                ids.append(principal.put_inline(iam, found.policy, found.document))
            restored.append(found.policy)
        return UndoResult(
            status="undone",
            message=f"gave {principal} back, exactly as before: {', '.join(restored)}",
            request_ids=[i for i in ids if i],
        )


@register
class RemoveWindowUserPolicies(RemoveWindowPolicies):
    name = "iam.remove-window-user-policies"
    summary = (
        "After containment: detach the managed policies and delete the inline policies given to the key's user "
        "during the exposure window (CloudTrail), each kept exactly for rollback; responder's own are left"
    )
    kind = "user"
    permissions = _permissions("User")


@register
class RemoveWindowRolePolicies(RemoveWindowPolicies):
    name = "iam.remove-window-role-policies"
    summary = (
        "After containment: detach the managed policies and delete the inline policies given to the key's role "
        "during the exposure window (CloudTrail), each kept exactly for rollback; responder's own are left"
    )
    kind = "role"
    permissions = _permissions("Role")

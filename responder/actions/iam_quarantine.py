"""Quarantine an IAM user, reversibly: a deny-all inline policy, its access keys Inactive, its console password
removed. For a user made by a console for API keys that now holds more than its key (access keys, a password,
policies beyond its family's managed policy: a pivot beyond the key's service), or no key at all.

What rollback restores, and what it cannot: the deny-all policy is lifted (a policy of that name that was there
before is put back), and exactly the access keys this step set Inactive are set Active again. The console password
is NOT restored: AWS never returns a password, so the old one is gone the moment the login profile is deleted, and
giving responder's rollback `iam:CreateLoginProfile` to set a new one would let it sign in as any user it can
reach (a privilege escalation the permission tests forbid). The snapshot keeps the login profile's creation date
and reset flag; the undo names the command an administrator runs to give the user a new password. Deleting the user
is a separate, explicit choice this step never makes.
"""

from __future__ import annotations

import fnmatch
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
    JournalTime,
    StepPlan,
    Target,
    UndoResult,
)
from responder.actions.iam_principals import USER_NAME, Principal, absent_ok
from responder.actions.registry import register
from responder.aws.clients import ClientError, error_code, request_id
from responder.keys import FAMILIES

QUARANTINE_POLICY_NAME = "ResponderQuarantineDenyAll"
DENY_ALL: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "ResponderQuarantine", "Effect": "Deny", "Action": "*", "Resource": "*"}],
}


class QuarantineParams(ActionParams):
    user_name: str = Field(pattern=USER_NAME)


class LoginProfileFound(ActionSnapshot):
    created: JournalTime
    password_reset_required: bool


class AccessKeyState(ActionSnapshot):
    access_key_id: str
    status: str


class QuarantineSnapshot(ActionSnapshot):
    policy: dict[str, Any] | None  # the inline policy of the quarantine's name before, or None
    access_keys: list[AccessKeyState] = Field(default_factory=list)
    login_profile: LoginProfileFound | None = None  # None: the user had no console password
    own_user: bool = False  # the operator's credentials are this user's: nothing is changed


def console_family(user_name: str) -> str | None:
    """The family whose console names its key users as this user is named, or None (a name, never proof)."""
    for family in FAMILIES.values():
        glob = family.console_users.name_glob
        if glob and fnmatch.fnmatchcase(user_name, glob):
            return family.title
    return None


def login_profile(iam: Any, user_name: str) -> LoginProfileFound | None:
    try:
        found = iam.get_login_profile(UserName=user_name)["LoginProfile"]
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise
    return LoginProfileFound(
        created=found["CreateDate"], password_reset_required=bool(found.get("PasswordResetRequired", False))
    )


def _access_keys(iam: Any, user_name: str) -> list[AccessKeyState]:
    listed = iam.list_access_keys(UserName=user_name)["AccessKeyMetadata"]
    return [AccessKeyState(access_key_id=k["AccessKeyId"], status=k["Status"]) for k in listed]


def _own_user(ctx: ActionContext, user_name: str) -> bool:
    resource = ctx.identity.arn.split(":", 5)[-1]
    return resource.startswith("user/") and resource.rsplit("/", 1)[-1] == user_name


@register
class QuarantineUser(Action[QuarantineParams, QuarantineSnapshot]):
    name = "iam.quarantine-user"
    summary = (
        "Quarantine the IAM user reversibly: a deny-all inline policy, its access keys Inactive, its console "
        "password removed (rollback lifts the policy and re-activates those keys; a password cannot be restored)"
    )
    Params = QuarantineParams
    Snapshot = QuarantineSnapshot
    permissions = (
        "iam:GetUserPolicy",
        "iam:PutUserPolicy",
        "iam:DeleteUserPolicy",
        "iam:ListAccessKeys",
        "iam:UpdateAccessKey",
        "iam:GetLoginProfile",
        "iam:DeleteLoginProfile",
    )
    reversible = True
    mutating = True
    # A quarantine follows the key's containment: time to containment does not move.
    after_containment = True
    undo_warning = (
        "Rolling back lifts the user's deny-all policy and re-activates the access keys the quarantine set Inactive; "
        "its console password is not restored (AWS never returns a password): an administrator sets a new one."
    )

    def targets(self, params: QuarantineParams) -> list[ChangeTarget]:
        user = f"user/{params.user_name}"
        return [
            Target(user, f"inline-policy/{QUARANTINE_POLICY_NAME}"),
            Target(user, "access-keys"),
            Target(user, "login-profile"),
        ]

    def snapshot(self, ctx: ActionContext, params: QuarantineParams) -> QuarantineSnapshot:
        iam, user = ctx.clients.iam, params.user_name
        return QuarantineSnapshot(
            policy=Principal("user", user).get_inline(iam, QUARANTINE_POLICY_NAME),
            access_keys=_access_keys(iam, user),
            login_profile=login_profile(iam, user),
            own_user=_own_user(ctx, user),
        )

    def plan(self, ctx: ActionContext, params: QuarantineParams, snapshot: QuarantineSnapshot) -> StepPlan:
        user = params.user_name
        if snapshot.own_user:
            return StepPlan(notes=[f"your own credentials are user {user}'s: it was not quarantined"])
        made_by = console_family(user)
        notes = [
            f"user {user} is named as the {made_by} console names the users it makes for keys"
            if made_by
            else f"user {user} is not named as a console names its key users: every workload using it stops"
        ]
        changes = []
        if snapshot.policy != DENY_ALL:
            changes.append(
                Change(
                    call="iam:PutUserPolicy",
                    parameters={"UserName": user, "PolicyName": QUARANTINE_POLICY_NAME, "PolicyDocument": DENY_ALL},
                    target=f"inline policy {QUARANTINE_POLICY_NAME} of user {user}",
                    before=snapshot.policy,
                    after=DENY_ALL,
                )
            )
        for key in snapshot.access_keys:
            if key.status == "Active":
                changes.append(
                    Change(
                        call="iam:UpdateAccessKey",
                        parameters={"UserName": user, "AccessKeyId": key.access_key_id, "Status": "Inactive"},
                        target=f"access key {key.access_key_id} of user {user}",
                        before="Active",
                        after="Inactive",
                    )
                )
        if snapshot.login_profile is not None:
            changes.append(
                Change(
                    call="iam:DeleteLoginProfile",
                    parameters={"UserName": user},
                    target=f"console password of user {user}",
                    before={"created": snapshot.login_profile.created.isoformat()},
                    after=None,
                    reversible=False,
                )
            )
            notes.append("a rollback cannot restore the console password (AWS never returns one)")
        notes.append(f"deleting the user is a separate choice: aws iam delete-user --user-name {user} (after its keys)")
        return StepPlan(changes=changes, notes=notes)

    def apply(
        self, ctx: ActionContext, params: QuarantineParams, snapshot: QuarantineSnapshot, plan: StepPlan
    ) -> Applied:
        iam, ids = ctx.clients.iam, []
        for change in plan.changes:  # the deny first: the user can do nothing while the rest is taken away
            if change.call == "iam:PutUserPolicy":
                ids.append(Principal("user", params.user_name).put_inline(iam, QUARANTINE_POLICY_NAME, DENY_ALL))
            elif change.call == "iam:UpdateAccessKey":
                ids.append(request_id(iam.update_access_key(**change.parameters)))
            else:
                ids.append(absent_ok(iam.delete_login_profile, UserName=params.user_name))
        deactivated = [c.parameters["AccessKeyId"] for c in plan.changes if c.call == "iam:UpdateAccessKey"]
        return Applied(request_ids=[i for i in ids if i], details={"deactivated": deactivated})

    def verify(self, ctx: ActionContext, params: QuarantineParams, applied: Applied | None = None) -> bool:
        iam, user = ctx.clients.iam, params.user_name
        if _own_user(ctx, user):
            return True  # nothing was to change: the plan said so
        if Principal("user", user).get_inline(iam, QUARANTINE_POLICY_NAME) != DENY_ALL:
            return False
        if any(k.status == "Active" for k in _access_keys(iam, user)):
            return False
        return login_profile(iam, user) is None

    def undo(
        self, ctx: ActionContext, params: QuarantineParams, snapshot: QuarantineSnapshot, applied: dict[str, Any]
    ) -> UndoResult:
        if snapshot.own_user:
            return UndoResult(status="nothing-to-undo", message="the operator's own user was not quarantined")
        iam, user = ctx.clients.iam, params.user_name
        ids = [Principal("user", user).restore_inline(iam, QUARANTINE_POLICY_NAME, snapshot.policy)]
        was_active = {k.access_key_id for k in snapshot.access_keys if k.status == "Active"}
        now = {k.access_key_id: k.status for k in _access_keys(iam, user)}
        restored = sorted(k for k in was_active if k in now)
        for key_id in restored:
            if now[key_id] != "Active":
                ids.append(request_id(iam.update_access_key(UserName=user, AccessKeyId=key_id, Status="Active")))
        parts = [f"lifted the deny-all policy of user {user}"]
        parts += [f"re-activated access key(s) {', '.join(restored)}"] if restored else []
        gone = sorted(was_active - set(now))
        parts += [f"access key(s) {', '.join(gone)} no longer exist"] if gone else []
        if snapshot.login_profile is not None and login_profile(iam, user) is None:
            parts.append(
                f"its console password (set {snapshot.login_profile.created.isoformat()}) is not restored, AWS never "
                f"returns one: aws iam create-login-profile --user-name {user} --password-reset-required "
                "--password <new>"
            )
        return UndoResult(status="undone", message="; ".join(parts), request_ids=[i for i in ids if i])

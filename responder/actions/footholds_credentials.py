"""Ways into the key's user made during the exposure window, closed after containment: its other service-specific
credentials (another Bedrock key, a CodeCommit password, ...) set Inactive, and a console password (login profile)
created in the window removed.

Which were made in the window is IAM's own answer (each credential's and the login profile's `CreateDate`), never
CloudTrail text. The leaked key's credential is containment's and is left to it. A credential is set Inactive,
reversibly; a login profile can only be deleted, and AWS cannot give its password back: rollback recreates it with
a random password nobody is told and `PasswordResetRequired`, so the console login exists again as before but must
be given a new password by an administrator (`aws iam update-login-profile`). Creating a login profile lets whoever
may do it sign in as the user, so no policy responder prints grants it (`RESTORED_BY_AN_ADMINISTRATOR`).
"""

from __future__ import annotations

import secrets
import string
from datetime import datetime
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
from responder.actions.iam_principals import USER_NAME
from responder.actions.registry import register
from responder.actions.window_changes import own_principal
from responder.aws.clients import ClientError, error_code, request_id


class WindowCredentialsParams(ActionParams):
    user_name: str = Field(pattern=USER_NAME)
    since: datetime | None = None  # the start of the exposure window; None: unknown, nothing is changed
    leaked: list[str] = Field(default_factory=list)  # the leaked key's credential id(s): containment's, not ours
    close_older: bool = False  # the operator's explicit ask: close those older than the window too


class ServiceCredentialFound(ActionSnapshot):
    credential_id: str
    service_name: str
    status: str
    created: JournalTime


class LoginProfileFound(ActionSnapshot):
    created: JournalTime
    password_reset_required: bool = False


class WindowCredentialsSnapshot(ActionSnapshot):
    credentials: list[ServiceCredentialFound] = Field(default_factory=list)
    login_profile: LoginProfileFound | None = None
    own_user: bool = False


def _service_credentials(ctx: ActionContext, user: str) -> list[ServiceCredentialFound]:
    """Every service's credentials of the user (no ServiceName: all of them); IAM pages with Marker."""
    found: list[ServiceCredentialFound] = []
    kwargs: dict[str, Any] = {"UserName": user}
    while True:
        page = ctx.clients.iam.list_service_specific_credentials(**kwargs)
        found += [
            ServiceCredentialFound(
                credential_id=c["ServiceSpecificCredentialId"],
                service_name=c["ServiceName"],
                status=c["Status"],
                created=c["CreateDate"],
            )
            for c in page.get("ServiceSpecificCredentials", [])
        ]
        if not page.get("IsTruncated") or not page.get("Marker"):
            return found
        kwargs["Marker"] = page["Marker"]


def _login_profile(ctx: ActionContext, user: str) -> LoginProfileFound | None:
    try:
        profile = ctx.clients.iam.get_login_profile(UserName=user)["LoginProfile"]
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise
    return LoginProfileFound(
        created=profile["CreateDate"], password_reset_required=bool(profile.get("PasswordResetRequired"))
    )


def _in_window(params: WindowCredentialsParams, created: datetime) -> bool:
    """Made after the leaked key: IAM dates to the second, so one made in the same second (a user's two keys made
    together) is the team's as far as anyone knows, never the window's."""
    return params.since is not None and created > params.since


def _closes(params: WindowCredentialsParams, created: datetime) -> bool:
    """The step closes what was made in the window, and what is older only when the operator asked."""
    return params.close_older or _in_window(params, created)


def random_password() -> str:
    """A password nobody is told, meeting any IAM password policy's classes (letters, digits, symbols)."""
    alphabet = string.ascii_letters + string.digits + "!@#$%^&*()_+-=[]{}|"
    body = "".join(secrets.choice(alphabet) for _ in range(40))
    return body + secrets.choice(string.ascii_uppercase) + secrets.choice(string.digits) + "!a"


@register
class DisableWindowUserCredentials(Action[WindowCredentialsParams, WindowCredentialsSnapshot]):
    name = "iam.disable-window-user-credentials"
    summary = (
        "After containment: set Inactive the user's service-specific credentials created during the exposure window "
        "(not the leaked key's) and remove a console password created in it (recreated, with a new password to set, "
        "on rollback)"
    )
    Params = WindowCredentialsParams
    Snapshot = WindowCredentialsSnapshot
    permissions = (
        "iam:ListServiceSpecificCredentials",
        "iam:UpdateServiceSpecificCredential",
        "iam:GetLoginProfile",
        "iam:DeleteLoginProfile",
        "iam:CreateLoginProfile",  # rollback only, and only an administrator's (see the module's note)
    )
    reversible = True
    mutating = True
    after_containment = True
    undo_warning = (
        "Rolling back re-activates the service-specific credentials created on the user during the exposure window, "
        "and recreates a console password removed from it (with a random password nobody knows: set one to use it)."
    )

    def targets(self, params: WindowCredentialsParams) -> list[ChangeTarget]:
        at = f"user/{params.user_name}"
        return [Target(at, "service-credentials"), Target(at, "login-profile")]

    def snapshot(self, ctx: ActionContext, params: WindowCredentialsParams) -> WindowCredentialsSnapshot:
        if own_principal(ctx, "user", params.user_name):
            return WindowCredentialsSnapshot(own_user=True)
        return WindowCredentialsSnapshot(
            credentials=_service_credentials(ctx, params.user_name),
            login_profile=_login_profile(ctx, params.user_name),
        )

    def plan(
        self, ctx: ActionContext, params: WindowCredentialsParams, snapshot: WindowCredentialsSnapshot
    ) -> StepPlan:
        user = params.user_name
        if snapshot.own_user:
            return StepPlan(notes=[f"your own credentials are user {user}'s: its credentials were left as they are"])
        if params.since is None and not params.close_older:
            return StepPlan(notes=["the exposure window is unknown: no credential of the user was changed"])
        changes, notes = [], []
        for cred in snapshot.credentials:
            if cred.credential_id in params.leaked:
                continue  # the leaked key: containment's step
            when = "created in the exposure window" if _in_window(params, cred.created) else "older (close_older)"
            if not _closes(params, cred.created):
                notes.append(
                    f"{cred.service_name} credential {cred.credential_id} ({cred.status}) predates the exposure "
                    f"window (created {cred.created.isoformat()}): left as it is; to close it: aws iam "
                    f"update-service-specific-credential --user-name {user} --service-specific-credential-id "
                    f"{cred.credential_id} --status Inactive (or run with -p close_older=true)"
                )
            elif cred.status == "Active":
                changes.append(
                    Change(
                        call="iam:UpdateServiceSpecificCredential",
                        parameters={
                            "UserName": user,
                            "ServiceSpecificCredentialId": cred.credential_id,
                            "Status": "Inactive",
                        },
                        target=f"{cred.service_name} credential {cred.credential_id} of user {user}, {when}",
                        before="Active",
                        after="Inactive",
                    )
                )
        profile = snapshot.login_profile
        if profile is not None and _closes(params, profile.created):
            when = "created in the exposure window" if _in_window(params, profile.created) else "older (close_older)"
            changes.append(
                Change(
                    call="iam:DeleteLoginProfile",
                    parameters={"UserName": user},
                    target=f"console password of user {user}, {when}",
                    before=f"created {profile.created.isoformat()}",
                    after="none",
                )
            )
        elif profile is not None:
            notes.append(
                f"user {user}'s console password predates the exposure window (created {profile.created.isoformat()}):"
                f" left as it is; to close it: aws iam delete-login-profile --user-name {user} (or run with -p "
                "close_older=true)"
            )
        return StepPlan(changes=changes, notes=notes)

    def apply(
        self,
        ctx: ActionContext,
        params: WindowCredentialsParams,
        snapshot: WindowCredentialsSnapshot,
        plan: StepPlan,
    ) -> Applied:
        iam, ids, deactivated, removed = ctx.clients.iam, [], [], False
        for change in plan.changes:
            if change.call == "iam:DeleteLoginProfile":
                ids.append(request_id(iam.delete_login_profile(**change.parameters)))
                removed = True
            else:
                ids.append(request_id(iam.update_service_specific_credential(**change.parameters)))
                deactivated.append(change.parameters["ServiceSpecificCredentialId"])
        return Applied(
            request_ids=[i for i in ids if i],
            details={"deactivated": deactivated, "login_profile_removed": removed},
        )

    def verify(self, ctx: ActionContext, params: WindowCredentialsParams, applied: Applied | None = None) -> bool:
        snapshot = self.snapshot(ctx, params)
        if snapshot.own_user:
            return True
        still = self.plan(ctx, params, snapshot).changes
        if applied is None:  # a resumed run: nothing of the window is open
            return not still
        deactivated = set(applied.details.get("deactivated") or [])
        open_ids = {c.parameters.get("ServiceSpecificCredentialId") for c in still}
        profile_back = applied.details.get("login_profile_removed") and snapshot.login_profile is not None
        return not (open_ids & deactivated) and not profile_back

    def undo(
        self,
        ctx: ActionContext,
        params: WindowCredentialsParams,
        snapshot: WindowCredentialsSnapshot,
        applied: dict[str, Any],
    ) -> UndoResult:
        user, iam = params.user_name, ctx.clients.iam
        was_active = {
            c.credential_id
            for c in snapshot.credentials
            if c.status == "Active" and _closes(params, c.created) and c.credential_id not in params.leaked
        }
        profile = snapshot.login_profile
        removed = profile is not None and _closes(params, profile.created)
        if snapshot.own_user or not (was_active or removed):
            return UndoResult(status="nothing-to-undo", message="no credential was changed by this step")
        now = {c.credential_id: c.status for c in _service_credentials(ctx, user)}
        ids, said = [], []
        for credential_id in sorted(was_active):
            if credential_id not in now:
                said.append(f"credential {credential_id} no longer exists")
                continue
            if now[credential_id] != "Active":
                ids.append(
                    request_id(
                        iam.update_service_specific_credential(
                            UserName=user, ServiceSpecificCredentialId=credential_id, Status="Active"
                        )
                    )
                )
            said.append(f"re-activated credential {credential_id}")
        if removed and _login_profile(ctx, user) is None:
            ids.append(
                request_id(
                    iam.create_login_profile(UserName=user, Password=random_password(), PasswordResetRequired=True)
                )
            )
            said.append(
                "recreated the console password with a random one nobody knows (reset required): AWS cannot give "
                f"the old one back; to use it: aws iam update-login-profile --user-name {user} "
                "--password 'NEW PASSWORD' --password-reset-required"
            )
        return UndoResult(status="undone", message="; ".join(said), request_ids=[i for i in ids if i])

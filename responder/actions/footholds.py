"""What an attacker left behind on the key's principal, undone after containment: the access keys created on the
user during the exposure window, set Inactive.

An attacker holding the key's user (or other credentials) makes itself a way back in that outlives the leaked key:
a new access key is the commonest (LLMjacking reports; `AWSSupport-ContainIAMPrincipal` disables access keys too).
A key created before the window is the team's as far as anyone knows: it is listed with its last use, and
changed only when the operator asks (`close_older`). The access key that signed a leaked short-term key is the
leaked credential itself (`leaked`): containment's own step deactivates it (or the operator chose not to), so this
step neither changes it nor lists it as the team's. The step runs after the last containment change
(`after_containment`), so time to containment does not move; its undo re-activates exactly the keys it deactivated.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

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
from responder.actions.iam_principals import ACCESS_KEY_ID, USER_NAME
from responder.actions.registry import register
from responder.aws.clients import request_id


def _ids(value: Any) -> Any:
    """One access key id (a short-term key's resolve step gives one, or none) or a list of them."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


class WindowKeysParams(ActionParams):
    user_name: str = Field(pattern=USER_NAME)
    since: datetime | None = None  # the start of the exposure window (the leaked key's creation); None: unknown
    close_older: bool = False  # the operator's explicit ask: close the keys older than the window too
    # The access key(s) that signed a leaked short-term key: containment's, never this step's.
    leaked: Annotated[list[Annotated[str, Field(pattern=ACCESS_KEY_ID)]], BeforeValidator(_ids)] = Field(
        default_factory=list
    )


class AccessKeyFound(ActionSnapshot):
    access_key_id: str
    status: str
    created: JournalTime


class WindowKeysSnapshot(ActionSnapshot):
    keys: list[AccessKeyFound] = Field(default_factory=list)
    own_user: bool = False  # the operator's credentials are this user's: none of its keys is touched


def _keys(ctx: ActionContext, user_name: str) -> list[AccessKeyFound]:
    listed = ctx.clients.iam.list_access_keys(UserName=user_name)["AccessKeyMetadata"]
    return [AccessKeyFound(access_key_id=k["AccessKeyId"], status=k["Status"], created=k["CreateDate"]) for k in listed]


def _own_user(ctx: ActionContext, user_name: str) -> bool:
    """The operator's credentials are this user's (its ARN may carry a path): deactivating could cut off the run."""
    resource = ctx.identity.arn.split(":", 5)[-1]
    return resource.startswith("user/") and resource.rsplit("/", 1)[-1] == user_name


def _closes(params: WindowKeysParams, key: AccessKeyFound) -> bool:
    """The step closes a key made in the window, and an older one only when the operator asked; never the leaked
    one (containment's)."""
    if key.access_key_id in params.leaked:
        return False
    return params.close_older or (params.since is not None and key.created >= params.since)


def _window_keys_active(ctx: ActionContext, params: WindowKeysParams) -> list[str]:
    return [k.access_key_id for k in _keys(ctx, params.user_name) if _closes(params, k) and k.status == "Active"]


@register
class DeactivateWindowAccessKeys(Action[WindowKeysParams, WindowKeysSnapshot]):
    name = "iam.deactivate-window-access-keys"
    summary = (
        "After containment: set Inactive the access keys created on the user during the exposure window (an "
        "attacker's way back in); keys older than the window are listed, never changed"
    )
    Params = WindowKeysParams
    Snapshot = WindowKeysSnapshot
    permissions = ("iam:ListAccessKeys", "iam:UpdateAccessKey", "iam:GetAccessKeyLastUsed")
    reversible = True
    mutating = True
    after_containment = True
    undo_warning = (
        "Rolling back re-activates the access keys created on the user during the exposure window: if the "
        "attacker made them, they work again."
    )

    def targets(self, params: WindowKeysParams) -> list[ChangeTarget]:
        return [Target(f"user/{params.user_name}", "access-keys")]

    def snapshot(self, ctx: ActionContext, params: WindowKeysParams) -> WindowKeysSnapshot:
        return WindowKeysSnapshot(keys=_keys(ctx, params.user_name), own_user=_own_user(ctx, params.user_name))

    def plan(self, ctx: ActionContext, params: WindowKeysParams, snapshot: WindowKeysSnapshot) -> StepPlan:
        user = params.user_name
        if snapshot.own_user:
            return StepPlan(notes=[f"your own credentials are user {user}'s: its access keys were left as they are"])
        if params.since is None and not params.close_older:
            return StepPlan(notes=["the exposure window is unknown (no key creation time): no access key was changed"])
        changes, notes = [], []
        for key in snapshot.keys:
            older = params.since is None or key.created < params.since
            when = "older than the exposure window (close_older)" if older else "created in the exposure window"
            if key.access_key_id in params.leaked:
                notes.append(
                    f"access key {key.access_key_id} ({key.status}) signed the leaked key: containment deactivates "
                    "it (or was asked not to), never this step"
                )
            elif not _closes(params, key):
                notes.append(
                    f"access key {key.access_key_id} ({key.status}) predates the exposure window (created "
                    f"{key.created.isoformat()}{self._last_used(ctx, key)}): left as it is; if it too may be the "
                    f"attacker's: aws iam update-access-key --user-name {user} --access-key-id {key.access_key_id} "
                    "--status Inactive (or run with -p close_older=true)"
                )
            elif key.status == "Active":
                changes.append(
                    Change(
                        call="iam:UpdateAccessKey",
                        parameters={"UserName": user, "AccessKeyId": key.access_key_id, "Status": "Inactive"},
                        target=f"access key {key.access_key_id} of user {user}, {when}",
                        before="Active",
                        after="Inactive",
                    )
                )
            else:
                notes.append(f"access key {key.access_key_id} is already {key.status}")
        if not snapshot.keys:
            notes.append(f"user {user} has no access keys")
        return StepPlan(changes=changes, notes=notes)

    @staticmethod
    def _last_used(ctx: ActionContext, key: AccessKeyFound) -> str:
        used = ctx.clients.iam.get_access_key_last_used(AccessKeyId=key.access_key_id).get("AccessKeyLastUsed", {})
        when = used.get("LastUsedDate")
        return f", last used {when.isoformat()}" if isinstance(when, datetime) else ", never used"

    def apply(
        self, ctx: ActionContext, params: WindowKeysParams, snapshot: WindowKeysSnapshot, plan: StepPlan
    ) -> Applied:
        ids = [request_id(ctx.clients.iam.update_access_key(**c.parameters)) for c in plan.changes]
        return Applied(
            request_ids=[i for i in ids if i],
            details={"deactivated": [c.parameters["AccessKeyId"] for c in plan.changes]},
        )

    def verify(self, ctx: ActionContext, params: WindowKeysParams, applied: Applied | None = None) -> bool:
        if _own_user(ctx, params.user_name):
            return True  # nothing was to change: the plan said so
        still = set(_window_keys_active(ctx, params))
        if applied is None:  # a resumed run: every key made in the window is inactive (or gone)
            return not still
        return not still & set(applied.details.get("deactivated") or [])

    def undo(
        self, ctx: ActionContext, params: WindowKeysParams, snapshot: WindowKeysSnapshot, applied: dict[str, Any]
    ) -> UndoResult:
        was_active = {k.access_key_id for k in snapshot.keys if k.status == "Active" and _closes(params, k)}
        if snapshot.own_user or not was_active:
            return UndoResult(status="nothing-to-undo", message="no access key was deactivated by this step")
        now = {k.access_key_id: k.status for k in _keys(ctx, params.user_name)}
        ids, restored, gone = [], [], []
        for key_id in sorted(was_active):
            if key_id not in now:
                gone.append(key_id)
                continue
            if now[key_id] != "Active":
                response = ctx.clients.iam.update_access_key(
                    UserName=params.user_name, AccessKeyId=key_id, Status="Active"
                )
                ids.append(request_id(response))
            restored.append(key_id)
        if not restored:
            return UndoResult(status="irreversible", message=f"access key(s) {', '.join(gone)} no longer exist")
        message = f"re-activated access key(s) {', '.join(restored)}"
        if gone:
            message += f"; {', '.join(gone)} no longer exist"
        return UndoResult(status="undone", message=message, request_ids=[i for i in ids if i])

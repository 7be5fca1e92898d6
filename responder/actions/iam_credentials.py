"""Actions on IAM service-specific credentials: the long-term API keys themselves, of any key family."""

from __future__ import annotations

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

# BEDROCK, Credential, list_bedrock_credentials and remember_listing are imported from here too (re-exported):
# they lived here before the listing had a module of its own.
from responder.actions.iam_credential_listing import BEDROCK as BEDROCK
from responder.actions.iam_credential_listing import (
    CREDENTIAL_ID,
    SERVICE_NAME,
    by_alias,
    cache_key,
    refuse_two_owners,
    user_credentials,
)
from responder.actions.iam_credential_listing import Credential as Credential
from responder.actions.iam_credential_listing import list_bedrock_credentials as list_bedrock_credentials
from responder.actions.iam_credential_listing import remember_listing as remember_listing
from responder.actions.iam_principals import USER_NAME
from responder.actions.registry import register
from responder.aws.clients import request_id
from responder.errors import UserError
from responder.keys import FAMILIES, KeyFamily, LongTermKey, family_named, family_of
from responder.keys.registry import DEFAULT_FAMILY, family_of_service


class ResolveParams(ActionParams):
    key: LongTermKey | None = None
    user_name: str | None = Field(default=None, pattern=USER_NAME)
    credential_id: str | None = Field(default=None, pattern=CREDENTIAL_ID)
    family: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]{0,31}$")  # with user_name: whose keys


class ResolveSnapshot(ActionSnapshot):
    credentials: list[Credential]
    matched_by: str  # how they were found: "the key's alias ..." or "user ..."
    narrowed: bool  # the operator named one credential
    # The key family whose listing holds them; Bedrock's is left out, as journals before families have it.
    family: str = Field(default=DEFAULT_FAMILY.name, exclude_if=lambda value: value == DEFAULT_FAMILY.name)


@register
class ResolveLongTermKey(Action[ResolveParams, ResolveSnapshot]):
    name = "iam.resolve-long-term-key"
    summary = "Find the IAM user and service credential(s) behind a long-term API key of any family (read-only)"
    Params = ResolveParams
    Snapshot = ResolveSnapshot
    permissions = ("iam:ListServiceSpecificCredentials",)
    reversible = True
    mutating = False
    outputs = (
        "user_name",
        "credential_ids",
        "credentials",
        "created_at",
        "service_name",
        "bearer_actions",
        "deny_policy_name",
        "family",
    )

    def snapshot(self, ctx: ActionContext, params: ResolveParams) -> ResolveSnapshot:
        key = params.key
        if key is None and params.user_name is None:
            raise UserError(
                "give the leaked key with --key-file FILE, or name it: -p user_name=... -p credential_id=..."
            )
        family = family_named(params.family) if key is None else family_of(key)
        if key is not None and params.family is not None and family is not None and family.name != params.family:
            raise UserError(f"the key is {family.short_title} API key, not one of family {params.family!r}")
        if key is not None:
            if params.user_name and params.user_name not in key.candidate_users:
                raise UserError(f"the key names user {key.alias_user!r}, not {params.user_name!r}")
            matches = by_alias(ctx, key)
            how = f"the key's alias {key.alias}"
        else:
            assert params.user_name is not None and family is not None  # checked above; narrows the type
            matches = list(user_credentials(ctx, params.user_name, service_name=family.service_name).values())
            how = f"user {params.user_name}"
        if params.credential_id is not None:
            narrowed = [m for m in matches if m.credential_id == params.credential_id]
            if not narrowed:
                what = "credential" if family is None else f"{family.short_title} credential"
                raise UserError(f"credential {params.credential_id} is not a {what} of {how}")
            matches = narrowed
        elif not matches:
            what = "an API key" if family is None else f"a {family.short_title} API key"
            raise UserError(f"{how} has no {what} (service-specific credential)")
        else:
            refuse_two_owners(matches, how)
        found = family_of_service(matches[0].service_name or BEDROCK) or family or DEFAULT_FAMILY
        return ResolveSnapshot(
            credentials=matches, matched_by=how, narrowed=params.credential_id is not None, family=found.name
        )

    def known_before(self, params: ResolveParams) -> dict[str, Any]:
        # The user the key (or the operator) names; a renamed user's credentials found by alias name another.
        # The family a key names offline is the one whose listing is searched, so what it contains is known too.
        user_name = params.key.user_name if params.key is not None else params.user_name
        known: dict[str, Any] = {"user_name": user_name} if user_name else {}
        family = family_of(params.key) if params.key is not None else None
        if known and family is not None:
            known.update(what_to_contain(family))
        return known

    def plan(self, ctx: ActionContext, params: ResolveParams, snapshot: ResolveSnapshot) -> StepPlan:
        creds, family = snapshot.credentials, FAMILIES[snapshot.family]
        notes = [f"found {len(creds)} {family.short_title} credential(s) by {snapshot.matched_by}"]
        if len(creds) > 1 and not snapshot.narrowed:
            notes.append(
                f"{len(creds)} credentials match and the key cannot tell them apart offline: all are contained; "
                "name one with -p credential_id=... to narrow"
            )
        return StepPlan(
            outputs={
                "user_name": creds[0].user_name,
                "credential_ids": [c.credential_id for c in creds],
                "credentials": [c.model_dump() for c in creds],  # outputs are plain values: references index them
                "created_at": min((c.created for c in creds if c.created), default=None),
                **what_to_contain(family),  # from the family whose listing holds the credential
            },
            notes=notes,
        )


def what_to_contain(family: KeyFamily) -> dict[str, Any]:
    """The resolve step's outputs that say what the next steps contain: the family's service and bearer actions."""
    return {
        "service_name": family.service_name,
        "bearer_actions": list(family.bearer_actions),
        "deny_policy_name": family.deny_policy_name,
        "family": family.name,
    }


class CredentialsParams(ActionParams):
    user_name: str = Field(pattern=USER_NAME)
    credential_ids: list[str] = Field(min_length=1)
    service_name: str = Field(default=BEDROCK, pattern=SERVICE_NAME)  # the key family's IAM service name


class CredentialsSnapshot(ActionSnapshot):
    credentials: dict[str, Credential | None]  # by id, as asked for; None: no such credential (deleted)


def _current(ctx: ActionContext, params: CredentialsParams, fresh: bool = False) -> CredentialsSnapshot:
    creds = user_credentials(ctx, params.user_name, fresh, params.service_name)
    return CredentialsSnapshot(credentials={cid: creds.get(cid) for cid in params.credential_ids})


def _credentials_target(params: CredentialsParams) -> list[ChangeTarget]:
    return [Target(f"user/{params.user_name}", "service-credentials")]


@register
class DeactivateServiceCredentials(Action[CredentialsParams, CredentialsSnapshot]):
    name = "iam.deactivate-service-credentials"
    summary = "Set the user's Bedrock credential(s) Inactive (undo: reactivate, only with --reactivate-keys)"
    Params = CredentialsParams
    Snapshot = CredentialsSnapshot
    permissions = ("iam:ListServiceSpecificCredentials", "iam:UpdateServiceSpecificCredential")
    reversible = True
    mutating = True
    milestone = "key inactive"
    stops = "key"

    def targets(self, params: CredentialsParams) -> list[ChangeTarget]:
        return _credentials_target(params)

    def snapshot(self, ctx: ActionContext, params: CredentialsParams) -> CredentialsSnapshot:
        return _current(ctx, params)

    def plan(self, ctx: ActionContext, params: CredentialsParams, snapshot: CredentialsSnapshot) -> StepPlan:
        changes, notes = [], []
        for cid, cred in snapshot.credentials.items():
            if cred is None:
                notes.append(f"credential {cid} no longer exists")
            elif cred.status == "Active":
                changes.append(
                    Change(
                        call="iam:UpdateServiceSpecificCredential",
                        parameters={
                            "UserName": params.user_name,
                            "ServiceSpecificCredentialId": cid,
                            "Status": "Inactive",
                        },
                        target=f"credential {cid} of user {params.user_name}",
                        before="Active",
                        after="Inactive",
                    )
                )
            else:
                notes.append(f"credential {cid} is already {cred.status}")
        return StepPlan(changes=changes, notes=notes)

    def apply(
        self, ctx: ActionContext, params: CredentialsParams, snapshot: CredentialsSnapshot, plan: StepPlan
    ) -> Applied:
        ctx.reads.forget(cache_key(params.user_name, params.service_name))
        ids = []
        for change in plan.changes:
            ids.append(request_id(ctx.clients.iam.update_service_specific_credential(**change.parameters)))
        return Applied(request_ids=[i for i in ids if i])

    def verify(self, ctx: ActionContext, params: CredentialsParams, applied: Applied | None = None) -> bool:
        creds = _current(ctx, params, fresh=True).credentials
        return all(c is None or c.status != "Active" for c in creds.values())

    def undo(
        self, ctx: ActionContext, params: CredentialsParams, snapshot: CredentialsSnapshot, applied: dict[str, Any]
    ) -> UndoResult:
        was_active = [cid for cid, c in snapshot.credentials.items() if c and c.status == "Active"]
        if not was_active:
            return UndoResult(status="nothing-to-undo", message="no credential was active before this run")
        existing = user_credentials(ctx, params.user_name, fresh=True, service_name=params.service_name)
        gone = [cid for cid in was_active if cid not in existing]
        was_active = [cid for cid in was_active if cid in existing]
        gone_note = f"; {', '.join(gone)} no longer exist(s) and cannot be re-activated" if gone else ""
        if not was_active:
            return UndoResult(status="irreversible", message=gone_note.lstrip("; "))
        if not ctx.reactivate_keys:
            return UndoResult(
                status="withheld",
                message=f"credential(s) {', '.join(was_active)} stay Inactive (a leaked key is re-activated only "
                f"on request){gone_note}",
            )
        ids = []
        for cid in was_active:
            response = ctx.clients.iam.update_service_specific_credential(
                UserName=params.user_name, ServiceSpecificCredentialId=cid, Status="Active"
            )
            ids.append(request_id(response))
        return UndoResult(
            status="undone",
            message=f"re-activated {', '.join(was_active)}{gone_note}",
            request_ids=[i for i in ids if i],
        )


@register
class DeleteServiceCredentials(Action[CredentialsParams, CredentialsSnapshot]):
    name = "iam.delete-service-credentials"
    summary = "Delete the user's Bedrock credential(s) for good (irreversible; off unless asked for)"
    Params = CredentialsParams
    Snapshot = CredentialsSnapshot
    permissions = ("iam:ListServiceSpecificCredentials", "iam:DeleteServiceSpecificCredential")
    reversible = False
    mutating = True
    milestone = "key deleted"

    def targets(self, params: CredentialsParams) -> list[ChangeTarget]:
        return _credentials_target(params)

    def snapshot(self, ctx: ActionContext, params: CredentialsParams) -> CredentialsSnapshot:
        return _current(ctx, params)

    def plan(self, ctx: ActionContext, params: CredentialsParams, snapshot: CredentialsSnapshot) -> StepPlan:
        changes, notes = [], []
        for cid, cred in snapshot.credentials.items():
            if cred is None:
                notes.append(f"credential {cid} is already deleted")
                continue
            changes.append(
                Change(
                    call="iam:DeleteServiceSpecificCredential",
                    parameters={"UserName": params.user_name, "ServiceSpecificCredentialId": cid},
                    target=f"credential {cid} of user {params.user_name}",
                    before=cred.status,
                    after="deleted",
                    reversible=False,
                )
            )
        return StepPlan(changes=changes, notes=notes)

    def apply(
        self, ctx: ActionContext, params: CredentialsParams, snapshot: CredentialsSnapshot, plan: StepPlan
    ) -> Applied:
        ctx.reads.forget(cache_key(params.user_name, params.service_name))
        ids = []
        for change in plan.changes:
            ids.append(request_id(ctx.clients.iam.delete_service_specific_credential(**change.parameters)))
        return Applied(request_ids=[i for i in ids if i])

    def verify(self, ctx: ActionContext, params: CredentialsParams, applied: Applied | None = None) -> bool:
        return all(c is None for c in _current(ctx, params, fresh=True).credentials.values())

    def undo(
        self, ctx: ActionContext, params: CredentialsParams, snapshot: CredentialsSnapshot, applied: dict[str, Any]
    ) -> UndoResult:
        gone = [cid for cid, c in snapshot.credentials.items() if c]
        return UndoResult(
            status="irreversible",
            message=f"credential(s) {', '.join(gone)} were deleted and cannot be restored; "
            "if the user still needs a Bedrock key, create a new one",
        )

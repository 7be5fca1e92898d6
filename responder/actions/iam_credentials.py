"""Actions on IAM service-specific credentials: the long-term API keys themselves, of any key family."""

from __future__ import annotations

from dataclasses import replace
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
from responder.actions.states import (
    REACTIVATE_ASKED,
    Chain,
    Path,
    StatesStep,
    choose,
    failing,
    nothing,
    parameters,
    passing,
    states_form,
    unless_absent,
)
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
            known.update(_what_to_contain(family))
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
                **_what_to_contain(family),  # from the family whose listing holds the credential
            },
            notes=notes,
        )


def _what_to_contain(family: KeyFamily) -> dict[str, Any]:
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


# How these actions run on AWS Step Functions (responder export stepfunctions). The machine never sees the key:
# it is given the user (decoded offline by `responder identify`) and, to narrow, the credential ids.


def _listed_states(step: StatesStep, user: Any, what: str, result_path: str, selector: dict[str, Any]) -> Chain:
    # The key family's service name: the resolve step's output (a path), or, inside a Map, what it carried.
    return step.task(
        what,
        "iam:ListServiceSpecificCredentials",
        parameters(UserName=user, ServiceName=step.args.get("service_name", BEDROCK)),
        result_path=result_path,
        result_selector=selector,
    )


def family_states(step: StatesStep, chosen: Any) -> Chain:
    """The facts of the family the input names (`family`; absent: the default, Bedrock, as machines exported before
    families took it) into `$.family`: one Choice over the registry, no family named in the form."""

    def facts(family: KeyFamily) -> Chain:
        return passing(step.name(f"{family.short_title} keys"), "$.family", **_what_to_contain(family))

    if not isinstance(chosen, Path):  # fixed when the machine was exported
        return facts(family_named(chosen))
    unknown = failing(
        step.name("no such family"),
        "Responder.UnknownFamily",
        f"the input's family is not one responder knows: {', '.join(FAMILIES)}",
    )
    named = [({"Variable": chosen.path, "StringEquals": f.name}, facts(f)) for f in FAMILIES.values()]
    absent = ({"Variable": chosen.path, "IsPresent": False}, facts(family_named(None)))
    return choose(step.name("which family"), [absent, *named], unknown)


def _resolve_states(step: StatesStep) -> Chain:
    user = step.arg("user_name")
    family = family_states(step, step.args.get("family"))
    listed = replace(step, args={**step.args, "service_name": Path("$.family.service_name")})
    listing = _listed_states(
        listed, user, "list the user's keys", "$.listing", {"credentials.$": "$.ServiceSpecificCredentials"}
    )
    # What the later steps contain is the family's: its service, its bearer actions, its deny policy's name.
    contained = {name: Path(f"$.family.{name}") for name in ("service_name", "bearer_actions", "deny_policy_name")}
    given = passing(
        step.name("contain the credentials named in the input"),
        step.result_path,
        user_name=user,
        credential_ids=Path("$.input.credential_ids"),
        family=Path("$.family.family"),
        **contained,
    )
    every = passing(
        step.name("contain every key of the user"),
        step.result_path,
        user_name=user,
        credential_ids=Path("$.listing.credentials[*].ServiceSpecificCredentialId"),
        family=Path("$.family.family"),
        **contained,
    )
    none = failing(step.name("no key"), "Responder.NoKey", "the user has no API key of the family")
    return family.then(listing).then(
        choose(
            step.name("which credentials"),
            [
                ({"Variable": "$.input.credential_ids", "IsPresent": True}, given),
                ({"Variable": "$.listing.credentials[0]", "IsPresent": False}, none),
            ],
            every,
        )
    )


def _each_credential(step: StatesStep, what: str, rule: dict[str, Any], change: Chain) -> Chain:
    """List the user's keys (the snapshot); then, for each listed key the step names (`$.wanted`) and `rule`
    holds for, `change`."""
    listing = _listed_states(
        step, step.arg("user_name"), f"list the keys to {what}", "$.listing", {"all.$": "$.ServiceSpecificCredentials"}
    )
    wanted = passing(
        step.name(f"named to {what}?"),
        "$.named",
        value=Path("States.ArrayContains($.wanted, $.item.ServiceSpecificCredentialId)"),
    )
    named = {"And": [{"Variable": "$.named.value", "BooleanEquals": True}, rule]}
    body = wanted.then(
        choose(step.name(f"{what} this key?"), [(named, change)], nothing(step.name(f"nothing to {what}")))
    )
    carried = {"service_name": step.args.get("service_name", BEDROCK)}
    each = step.each(f"{what} each key", "$.listing.all", body, wanted=step.arg("credential_ids"), **carried)
    return listing.then(each)


_KEY = "$.item.ServiceSpecificCredentialId"
_RECORD_KEY = {"user_name.$": "$.item.UserName", "credential_id.$": _KEY}


def _deactivate_states(step: StatesStep) -> Chain:
    record = step.write_ahead(
        "the key's status", [f"'{step.label}-'", _KEY], {"target": _RECORD_KEY, "before.$": "$.item"}
    )
    update = step.task(
        "set the key Inactive",
        "iam:UpdateServiceSpecificCredential",
        parameters(UserName=Path("$.item.UserName"), ServiceSpecificCredentialId=Path(_KEY), Status="Inactive"),
    )
    # Still listed exactly as the snapshot saw it (Active) means IAM does not show the change yet.
    inside = replace(step, args={**step.args, "service_name": Path("$.service_name")})
    reread = _listed_states(
        inside, Path("$.item.UserName"), "list the keys again", "$.check", {"now.$": "$.ServiceSpecificCredentials"}
    ).then(
        passing(
            step.name("is the key still as it was"),
            "$.check",
            active=Path("States.ArrayContains($.check.now, $.item)"),
        )
    )
    verified = step.read_back("key inactive", reread, {"Variable": "$.check.active", "BooleanEquals": False})
    # A key deleted meanwhile reads back as not Active either: both ways are verified alike.
    change = record.then(unless_absent(update, step.name("key already deleted"))).then(verified)
    active = {"Variable": "$.item.Status", "StringEquals": "Active"}
    return _each_credential(step, "deactivate", active, change)


def _reactivate_states(step: StatesStep) -> Chain:
    """Undo: a key that was Active is made Active again only when the rollback's input says reactivate_keys."""
    update = step.task(
        "set the key Active again",
        "iam:UpdateServiceSpecificCredential",
        parameters(
            UserName=Path("$.record.target.user_name"),
            ServiceSpecificCredentialId=Path("$.record.target.credential_id"),
            Status="Active",
        ),
    )
    was_active = {"And": [{"Variable": "$.record.before.Status", "StringEquals": "Active"}, REACTIVATE_ASKED]}
    return choose(
        step.name("reactivate the key?"),
        [(was_active, unless_absent(update, step.name("key no longer exists")))],
        nothing(step.name("key stays Inactive")),
    )


def _delete_states(step: StatesStep) -> Chain:
    record = step.write_ahead(
        "the key before deletion", [f"'{step.label}-'", _KEY], {"target": _RECORD_KEY, "before.$": "$.item"}
    )
    delete = step.task(
        "delete the key",
        "iam:DeleteServiceSpecificCredential",
        parameters(UserName=Path("$.item.UserName"), ServiceSpecificCredentialId=Path(_KEY)),
    )
    listed = {"Variable": "$.item.ServiceSpecificCredentialId", "IsPresent": True}
    return _each_credential(
        step, "delete", listed, record.then(unless_absent(delete, step.name("key already deleted")))
    )


states_form(ResolveLongTermKey)(_resolve_states)
states_form(DeactivateServiceCredentials, undo=_reactivate_states)(_deactivate_states)
states_form(DeleteServiceCredentials)(_delete_states)

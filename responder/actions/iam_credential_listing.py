"""IAM's listing of service-specific credentials, read once per run, and how a long-term key's alias is matched in
it: by the alias IAM lists under the key family's service name, never by a rebuilt name (FACTS.md)."""

from __future__ import annotations

import functools
from typing import Any

from pydantic import Field

from responder.actions.base import ActionContext, ActionSnapshot, JournalTime
from responder.actions.reads import in_background
from responder.aws.clients import ClientError, error_code
from responder.errors import UserError
from responder.keys import FAMILIES, LongTermKey, family_of
from responder.keys.registry import DEFAULT_FAMILY

BEDROCK = DEFAULT_FAMILY.service_name  # the default: journals and steps from before key families
CREDENTIAL_ID = r"^[A-Za-z0-9_]{20,128}$"
SERVICE_NAME = r"^[a-z0-9-]+\.amazonaws\.com$"


def list_bedrock_credentials(iam: Any, service_name: str = BEDROCK, **scope: Any) -> list[dict[str, Any]]:
    """Every credential of one service (a key family's) in scope (UserName=... or AllUsers=True). boto3 has no
    paginator for it."""
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"ServiceName": service_name, **scope}
    while True:
        page = iam.list_service_specific_credentials(**kwargs)
        found.extend(page.get("ServiceSpecificCredentials", []))
        if not page.get("IsTruncated"):
            return found
        kwargs["Marker"] = page["Marker"]


class Credential(ActionSnapshot):
    """The journaled view of a credential: never a secret (list responses carry none anyway)."""

    credential_id: str
    user_name: str
    status: str
    alias: str | None = None
    created: JournalTime | None = None
    expires: JournalTime | None = None
    # None in journals from before key families (Bedrock's); left out then, so an old snapshot journals the same.
    service_name: str | None = Field(default=None, exclude_if=lambda value: value is None)

    @classmethod
    def from_listing(cls, cred: dict[str, Any]) -> Credential:
        return cls(
            credential_id=cred["ServiceSpecificCredentialId"],
            user_name=cred["UserName"],
            status=cred["Status"],
            alias=cred.get("ServiceCredentialAlias"),
            created=cred.get("CreateDate"),
            expires=cred.get("ExpirationDate"),
            service_name=cred.get("ServiceName"),
        )


def cache_key(user_name: str, service_name: str = BEDROCK) -> tuple[str, str, str]:
    return ("service-credentials", service_name, user_name)


def remember_listing(ctx: ActionContext, every: list[dict[str, Any]], service_name: str = BEDROCK) -> None:
    """An account-wide listing (AllUsers) answers every listed user's own listing too: no read per key after it."""
    by_user: dict[str, list[Credential]] = {}
    for cred in every:
        by_user.setdefault(cred["UserName"], []).append(Credential.from_listing(cred))
    for user_name, creds in by_user.items():
        ctx.reads.put(cache_key(user_name, service_name), creds)


def user_credentials(
    ctx: ActionContext, user_name: str, fresh: bool = False, service_name: str = BEDROCK
) -> dict[str, Credential]:
    """The user's credentials of one service by id: read once per run, or afresh (verification, undo)."""

    def read() -> list[Credential]:
        try:
            creds = list_bedrock_credentials(ctx.clients.iam, service_name, UserName=user_name)
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                raise UserError(f"IAM user {user_name!r} does not exist in account {ctx.account_id}") from None
            raise
        return [Credential.from_listing(c) for c in creds]

    if fresh:
        listed = read()
        ctx.reads.put(cache_key(user_name, service_name), listed)
    else:
        listed = ctx.reads.get(cache_key(user_name, service_name), read)
    return {c.credential_id: c for c in listed}


def _listed_or_none(ctx: ActionContext, users: tuple[str, ...], service_name: str) -> list[Credential] | None:
    """Every credential of the users the alias may name (one, or two with a `+N` marker); None when none of
    them exists (renamed?): the caller then searches the account by alias."""
    found: list[Credential] = []
    existing = 0
    for user_name in users:
        try:
            found += user_credentials(ctx, user_name, service_name=service_name).values()
            existing += 1
        except UserError:
            continue
    return found if existing else None


def by_alias(ctx: ActionContext, key: LongTermKey) -> list[Credential]:
    """The credentials whose alias, as IAM lists it, is the key's: in the family's listing, or in every family's
    when the key's prefix names none. The users the alias may name are listed while the operator's identity is
    checked; the whole account is searched only when they hold no such credential (a renamed user)."""
    family = family_of(key)
    services = [family.service_name] if family else [f.service_name for f in FAMILIES.values()]
    listing = None
    if family is not None:
        listing = in_background(functools.partial(_listed_or_none, ctx, key.candidate_users, family.service_name))
    if key.account_id != ctx.account_id:
        raise UserError(
            f"the key belongs to account {key.account_id}, but your credentials are for account "
            f"{ctx.account_id}: use a profile in {key.account_id}"
        )
    matches = [c for c in (listing.result() if listing else None) or [] if c.alias == key.alias]
    if not matches:  # a renamed user keeps its credentials and their alias: search the whole account
        for service_name in services:
            every = list_bedrock_credentials(ctx.clients.iam, service_name, AllUsers=True)
            remember_listing(ctx, every, service_name)
            matches += [Credential.from_listing(c) for c in every if c.get("ServiceCredentialAlias") == key.alias]
    if not matches:
        where = "credential" if family is None else f"{family.short_title} credential"
        raise UserError(
            f"no {where} in account {ctx.account_id} has the key's alias {key.alias!r}: it may already be "
            "deleted (check: aws iam list-service-specific-credentials --all-users --service-name ...)"
        )
    return matches


def refuse_two_owners(matches: list[Credential], how: str) -> None:
    """An alias that matches credentials of two users (`thomas`'s second key, and user `thomas+1`'s first; or
    two families) cannot say which leaked: stop before any change and name both."""
    owners = {(c.user_name, c.service_name) for c in matches}
    if len(owners) < 2:
        return
    listed = "; ".join(f"user {c.user_name}: credential {c.credential_id} ({c.service_name})" for c in matches)
    raise UserError(
        f"{how} matches credentials of {len(owners)} different owners, and the key cannot tell which leaked: "
        f"{listed}. Nothing was changed: choose one with -p credential_id=ACCA..."
    )

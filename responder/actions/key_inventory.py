"""Every long-term API key of one account, of every key family, filtered and flagged: what `responder sweep` lists
in each account and what `contain-bedrock-keys` selects. One listing per family's service name and page. Reads
only."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from responder.actions.iam_credentials import list_bedrock_credentials
from responder.actions.iam_principals import as_document
from responder.actions.reads import together
from responder.errors import UserError
from responder.keys import FAMILIES
from responder.keys.registry import DEFAULT_FAMILY, family_of_service

# What a sweep calls: the keys (one listing per family and page); every user's policies and groups (one
# GetAccountAuthorizationDetails per page: the admin-like and console-made flags); and of the users named as a
# console names its key users, their access keys and password (actions/console_users.py).
SWEEP_PERMISSIONS = (
    "iam:ListServiceSpecificCredentials",
    "iam:GetAccountAuthorizationDetails",
    "iam:ListAccessKeys",
    "iam:GetLoginProfile",
)
# The largest page ListServiceSpecificCredentials gives (its default is 100): one call per family up to 1,000 keys.
PAGE = 1000
# Managed policies that make a key's owner an administrator in all but name.
ADMIN_POLICIES = ("AdministratorAccess", "IAMFullAccess", "PowerUserAccess")


@dataclass
class KeyFinding:
    account_id: str
    credential_id: str
    user_name: str
    status: str
    created: str
    age_days: int
    expires: str | None
    family: str = DEFAULT_FAMILY.name  # the key family whose service name IAM lists the credential under
    flags: list[str] = field(default_factory=list)


# The filter as one -p value: `all`, or any of user=GLOB, older-than=DAYS, no-expiry, family=NAME, comma-separated.
FILTER_TERM = r"(user=[A-Za-z0-9_+=.@*?\[\]-]{1,64}|older-than=\d{1,5}|no-expiry|family=[a-z][a-z0-9-]{0,31})"
FILTER_PATTERN = rf"all|{FILTER_TERM}(,{FILTER_TERM})*"


@dataclass
class SweepFilter:
    user_pattern: str | None = None
    older_than_days: int | None = None
    no_expiry_only: bool = False
    family: str | None = None  # one key family's keys only (its registry name); None: every family

    def __post_init__(self) -> None:
        if self.family is not None and self.family not in FAMILIES:
            raise UserError(f"family {self.family!r}: responder knows {', '.join(FAMILIES)}")

    @property
    def service_names(self) -> list[str]:
        """The service names to list: one listing (per page) for each."""
        chosen = [FAMILIES[self.family]] if self.family else list(FAMILIES.values())
        return [f.service_name for f in chosen]

    @classmethod
    def parse(cls, text: str) -> SweepFilter:
        """`all`, or user=GLOB,older-than=DAYS,no-expiry: the `sweep` options as one playbook parameter."""
        if not re.fullmatch(FILTER_PATTERN, text):
            raise UserError(f"filter {text!r}: use all, or any of user=GLOB,older-than=DAYS,no-expiry,family=NAME")
        selected = cls()
        for term in text.split(","):
            name, _, value = term.partition("=")
            if name == "user":
                selected.user_pattern = value
            elif name == "older-than":
                selected.older_than_days = int(value)
            elif name == "no-expiry":
                selected.no_expiry_only = True
            elif name == "family":
                selected.family = value
        selected.__post_init__()
        return selected

    def as_text(self) -> str:
        terms = [f"user={self.user_pattern}"] if self.user_pattern else []
        terms += [f"older-than={self.older_than_days}"] if self.older_than_days is not None else []
        terms += ["no-expiry"] if self.no_expiry_only else []
        terms += [f"family={self.family}"] if self.family else []
        return ",".join(terms) or "all"

    def keeps(self, finding: KeyFinding) -> bool:
        if self.family and finding.family != self.family:
            return False
        if self.user_pattern and not fnmatch.fnmatchcase(finding.user_name, self.user_pattern):
            return False
        if self.older_than_days is not None and finding.age_days <= self.older_than_days:
            return False
        return not (self.no_expiry_only and finding.expires is not None)


def user_details(iam: Any) -> dict[str, dict[str, Any]]:
    """Every user of the account, with its attached managed policies, inline policies and groups, by name: one
    GetAccountAuthorizationDetails per page of users, however many there are."""
    found: dict[str, dict[str, Any]] = {}
    for page in iam.get_paginator("get_account_authorization_details").paginate(Filter=["User"]):
        found |= {str(user["UserName"]): user for user in page["UserDetailList"]}
    return found


def inline_documents(detail: dict[str, Any]) -> list[dict[str, Any]]:
    return [as_document(p["PolicyDocument"]) for p in detail.get("UserPolicyList", [])]


def statements_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _admin_like(detail: dict[str, Any]) -> bool:
    """Attached AdministratorAccess-like policies, or an inline Allow of * or iam:* (groups are not followed)."""
    if any(p["PolicyName"] in ADMIN_POLICIES for p in detail.get("AttachedManagedPolicies", [])):
        return True
    for document in inline_documents(detail):
        for statement in statements_of(document):
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if statement.get("Effect") == "Allow" and {"*", "iam:*"} & set(actions):
                return True
    return False


def list_every_family(iam: Any, keep: SweepFilter) -> dict[str, list[dict[str, Any]]]:
    """Every credential of the account, by service name: one AllUsers listing per family (and page), at once."""
    services = keep.service_names
    pages = together(
        *(lambda name=name: list_bedrock_credentials(iam, name, AllUsers=True, MaxItems=PAGE) for name in services)
    )
    return dict(zip(services, pages, strict=True))


def sweep(
    iam: Any,
    keep: SweepFilter,
    older_than_days: int | None,
    account_id: str = "",
    now: datetime | None = None,
    flag_owners: bool = True,
    listing: list[dict[str, Any]] | None = None,
    details: dict[str, dict[str, Any]] | None = None,
) -> list[KeyFinding]:
    """The account's keys of every family that `keep` keeps, flagged; flag_owners=False skips reading the owners'
    policies. `listing`: credentials already listed (any families'), instead of listing them here; `details`:
    the users already read (user_details), instead of reading them here."""
    now = now or datetime.now(timezone.utc)
    findings = []
    if listing is None:
        listing = [cred for creds in list_every_family(iam, keep).values() for cred in creds]
    for cred in listing:
        created: datetime = cred["CreateDate"]
        family = family_of_service(str(cred.get("ServiceName", DEFAULT_FAMILY.service_name)))
        expires: datetime | None = cred.get("ExpirationDate")
        finding = KeyFinding(
            account_id=account_id,
            credential_id=cred["ServiceSpecificCredentialId"],
            user_name=cred["UserName"],
            status=cred["Status"],
            created=created.isoformat(),
            age_days=(now - created).days,
            expires=expires.isoformat() if expires else None,
            family=family.name if family else str(cred.get("ServiceName")),
        )
        if not keep.keeps(finding):
            continue
        if expires is None:
            finding.flags.append("never-expires")
        # The family's console makes a user per key: its name pattern flags it (never acted on by name alone).
        glob = family.console_users.name_glob if family is not None else None
        if glob and fnmatch.fnmatchcase(finding.user_name, glob):
            finding.flags.append("console-made")
        if older_than_days is not None and finding.age_days > older_than_days:
            finding.flags.append(f"older-than-{older_than_days}d")
        findings.append(finding)
    if flag_owners and findings:  # every owner's policies in one read per page of users, not a read per owner
        details = user_details(iam) if details is None else details
        for finding in findings:
            if _admin_like(details.get(finding.user_name, {})):
                finding.flags.append("owner-admin-like")
    return sorted(findings, key=lambda f: (f.account_id, f.user_name, f.created))

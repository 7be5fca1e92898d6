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
from responder.actions.iam_principals import Principal
from responder.actions.reads import together
from responder.errors import UserError
from responder.keys import FAMILIES
from responder.keys.registry import family_of_service

# What a sweep calls: the keys, then each owner's attached and inline policies (the admin-like flag); then the
# users, and of those named as a console names its key users, their keys, password and groups
# (actions/console_users.py).
SWEEP_PERMISSIONS = (
    "iam:ListServiceSpecificCredentials",
    "iam:ListAttachedUserPolicies",
    "iam:ListUserPolicies",
    "iam:GetUserPolicy",
    "iam:ListUsers",
    "iam:ListAccessKeys",
    "iam:GetLoginProfile",
    "iam:ListGroupsForUser",
)
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
    family: str = "bedrock"  # the key family whose service name IAM lists the credential under
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


def _admin_like(iam: Any, user: str) -> bool:
    """Attached AdministratorAccess-like policies, or an inline Allow of * or iam:* (groups are not followed)."""
    principal = Principal("user", user)
    if any(arn.rsplit("/", 1)[-1] in ADMIN_POLICIES for arn in principal.attached(iam)):
        return True
    for name in iam.list_user_policies(UserName=user)["PolicyNames"]:
        statements = principal.get_inline(iam, name).get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if statement.get("Effect") == "Allow" and {"*", "iam:*"} & set(actions):
                return True
    return False


def list_every_family(iam: Any, keep: SweepFilter) -> dict[str, list[dict[str, Any]]]:
    """Every credential of the account, by service name: one AllUsers listing per family (and page), at once."""
    services = keep.service_names
    pages = together(*(lambda name=name: list_bedrock_credentials(iam, name, AllUsers=True) for name in services))
    return dict(zip(services, pages, strict=True))


def sweep(
    iam: Any,
    keep: SweepFilter,
    older_than_days: int | None,
    account_id: str = "",
    now: datetime | None = None,
    flag_owners: bool = True,
    listing: list[dict[str, Any]] | None = None,
) -> list[KeyFinding]:
    """The account's keys of every family that `keep` keeps, flagged; flag_owners=False skips the per-owner
    policy reads. `listing`: credentials already listed (any families'), instead of listing them here."""
    now = now or datetime.now(timezone.utc)
    admins: dict[str, bool] = {}  # one look per owner, however many keys it holds
    findings = []
    if listing is None:
        listing = [cred for creds in list_every_family(iam, keep).values() for cred in creds]
    for cred in listing:
        created: datetime = cred["CreateDate"]
        family = family_of_service(str(cred.get("ServiceName", FAMILIES["bedrock"].service_name)))
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
        if flag_owners and finding.user_name not in admins:
            admins[finding.user_name] = _admin_like(iam, finding.user_name)
        if admins.get(finding.user_name):
            finding.flags.append("owner-admin-like")
        findings.append(finding)
    return sorted(findings, key=lambda f: (f.account_id, f.user_name, f.created))

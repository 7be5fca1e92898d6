"""The users a service's console made for API keys, flagged when they hold more than their key, or no key at all.

A console makes one IAM user per key it issues (`BedrockAPIKey-xxxx`) and attaches its family's managed policy.
Such a user that no longer holds a key is left over; one that holds access keys, a console password, a group, or
policies beyond its family's managed policy is a way into the account beyond the key's service (a pivot). `sweep`
lists them; `leaked-long-term-key -p quarantine_user=true` quarantines one (actions/iam_quarantine.py).

Reads only: every user's policies and groups come with the sweep's one GetAccountAuthorizationDetails per page;
then, for the few users named as a console names them, their access keys and login profile. The name is a hint,
never proof: nothing is changed because of it.
"""

from __future__ import annotations

import fnmatch
from datetime import datetime, timezone
from typing import Any

from responder.actions.iam_quarantine import login_profile
from responder.actions.key_inventory import KeyFinding, SweepFilter, inline_documents, statements_of, user_details
from responder.keys import FAMILIES, KeyFamily

# The flags, in the order a row shows them.
NO_KEY, ACCESS_KEYS, PASSWORD, BEYOND = "no-key", "access-keys", "console-password", "beyond-family-policy"
CONSOLE_FLAGS = (NO_KEY, ACCESS_KEYS, PASSWORD, BEYOND)


def _console_family(user_name: str, families: list[KeyFamily]) -> KeyFamily | None:
    for family in families:
        glob = family.console_users.name_glob
        if glob and fnmatch.fnmatchcase(user_name, glob):
            return family
    return None


def _beyond_family(detail: dict[str, Any], family: KeyFamily) -> bool:
    """A group, a managed policy other than the family's, or an inline policy that allows anything."""
    if detail.get("GroupList"):
        return True
    attached = [p["PolicyName"] for p in detail.get("AttachedManagedPolicies", [])]
    if any(name not in family.console_users.managed_policies for name in attached):
        return True
    return any(s.get("Effect") == "Allow" for document in inline_documents(detail) for s in statements_of(document))


def console_user_flags(iam: Any, detail: dict[str, Any], family: KeyFamily, holds_key: bool) -> list[str]:
    user = str(detail["UserName"])
    flags = [] if holds_key else [NO_KEY]
    if iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
        flags.append(ACCESS_KEYS)
    if login_profile(iam, user) is not None:
        flags.append(PASSWORD)
    if _beyond_family(detail, family):
        flags.append(BEYOND)
    return flags


def flag_console_users(
    iam: Any,
    keep: SweepFilter,
    findings: list[KeyFinding],
    account_id: str,
    now: datetime | None = None,
    details: dict[str, dict[str, Any]] | None = None,
) -> list[KeyFinding]:
    """Add the flags above to the findings of console-made users, and return a finding (no credential, status
    `no-key`) for each console-made user that holds no key of its family. `keep`'s family and user filters apply."""
    now = now or datetime.now(timezone.utc)
    families = [FAMILIES[keep.family]] if keep.family else list(FAMILIES.values())
    held: dict[tuple[str, str], list[KeyFinding]] = {}
    for finding in findings:
        held.setdefault((finding.user_name, finding.family), []).append(finding)
    extra = []
    for name, user in sorted((user_details(iam) if details is None else details).items()):
        family = _console_family(name, families)
        if family is None or (keep.user_pattern and not fnmatch.fnmatchcase(name, keep.user_pattern)):
            continue
        rows = held.get((name, family.name), [])
        flags = console_user_flags(iam, user, family, holds_key=bool(rows))
        for row in rows:
            row.flags += [f for f in flags if f not in row.flags]
        if not rows and keep.older_than_days is None and not keep.no_expiry_only:
            extra.append(
                KeyFinding(
                    account_id=account_id,
                    credential_id="",
                    user_name=name,
                    status="no-key",
                    created=user["CreateDate"].isoformat(),
                    age_days=(now - user["CreateDate"]).days,
                    expires=None,
                    family=family.name,
                    flags=["console-made", *flags],
                )
            )
    return extra

"""Long-term keys named by their public facts, family and alias (`-p keys='bedrock:alice-at-111122223333 ...'`):
how `contain-bedrock-keys` contains the keys an alert file holds, one group per key, in one run.

The alias is what IAM lists (`ServiceCredentialAlias`), matched as listed, never rebuilt (FACTS.md); it names the
key's account, so a key of another account is said per key and never matched here. The alias alone does not say
which family (a user's Bedrock and CloudWatch keys share it): each name carries its family, `any` when the key's
prefix names none."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from responder.errors import UserError
from responder.keys import FAMILIES

_ALIAS = r"[A-Za-z0-9_+=,.@-]{1,128}-at-\d{12}[A-Za-z0-9_+=,.@]{0,64}"  # the suffix after the account: no `-at-`
_NAME = rf"[a-z][a-z0-9-]{{0,31}}:{_ALIAS}"
# The -p value: names separated by single spaces (IAM user names hold no space, no colon); '' names none.
KEYS_PATTERN = rf"({_NAME}( {_NAME})*)?"
ANY_FAMILY = "any"


@dataclass(frozen=True)
class NamedKey:
    family: str  # a key family's registry name, or `any`
    alias: str

    @property
    def account_id(self) -> str:
        """The alias split on its last `-at-` (user names may hold one): the account id begins what follows."""
        return self.alias.rsplit("-at-", 1)[1][:12]

    @property
    def service_names(self) -> list[str]:
        families = list(FAMILIES.values()) if self.family == ANY_FAMILY else [FAMILIES[self.family]]
        return [f.service_name for f in families]

    def as_text(self) -> str:
        return f"{self.family}:{self.alias}"


def parse_named_keys(text: str) -> list[NamedKey]:
    if not re.fullmatch(KEYS_PATTERN, text):
        raise UserError("keys: give FAMILY:ALIAS names separated by spaces (what `responder identify` shows)")
    named = []
    for word in text.split():
        family, _, alias = word.partition(":")
        if family != ANY_FAMILY and family not in FAMILIES:
            raise UserError(f"keys: family {family!r}: responder knows {', '.join(FAMILIES)}, or {ANY_FAMILY}")
        named.append(NamedKey(family, alias))
    return list(dict.fromkeys(named))


def names_text(keys: list[tuple[str | None, str]]) -> str:
    """The -p keys= value for keys given as (family or None, alias)."""
    return " ".join(NamedKey(family or ANY_FAMILY, alias).as_text() for family, alias in keys)


@dataclass(frozen=True)
class NamedSelection:
    listing: list[dict[str, Any]]  # the listed credentials the names match
    notes: list[str]  # per named key not matched here: another account's, or no credential lists its alias


def select_named(named: list[NamedKey], listing: list[dict[str, Any]], account_id: str) -> NamedSelection:
    """The listed credentials (any families') whose alias and service a name matches; a note per name that
    matches none: a key of another account is never matched in this one."""
    kept: list[dict[str, Any]] = []
    notes: list[str] = []
    for name in named:
        if name.account_id != account_id:
            notes.append(
                f"key {name.as_text()}: of account {name.account_id}, not this one ({account_id}): not contained here"
            )
            continue
        matches = [
            c
            for c in listing
            if c.get("ServiceCredentialAlias") == name.alias and c.get("ServiceName") in name.service_names
        ]
        if not matches:
            notes.append(
                f"key {name.as_text()}: no credential in account {account_id} lists this alias: it may already be "
                "deleted; nothing to contain"
            )
        kept += [c for c in matches if c not in kept]
    return NamedSelection(kept, notes)

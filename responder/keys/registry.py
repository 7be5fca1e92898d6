"""Every family of AWS API keys responder knows, and the one place that tells a pasted key's family.

Adding a family is a module in responder/keys/families/, one line in FAMILIES, a sandbox incident and the
contract test's sample (tests/keys/test_families.py); nothing else names a family.
"""

from __future__ import annotations

import re

from responder.errors import UserError
from responder.keys.decoding import decode_long_term, decode_short_term
from responder.keys.families.bedrock import BEDROCK
from responder.keys.families.claude_platform import CLAUDE_PLATFORM
from responder.keys.families.cloudwatch import CLOUDWATCH
from responder.keys.families.cloudwatch_logs import CLOUDWATCH_LOGS
from responder.keys.family import KeyFamily
from responder.keys.model import LeakedKey, LongTermKey, ShortTermKey
from responder.redaction import SECRETS

FAMILIES: dict[str, KeyFamily] = {f.name: f for f in (BEDROCK, CLAUDE_PLATFORM, CLOUDWATCH, CLOUDWATCH_LOGS)}
DEFAULT_FAMILY = BEDROCK  # what a journal written before families existed was about
# A long-term key of a family AWS gives no prefix for: four letters or digits, then base64 of the alias form.
_UNCLAIMED_LONG_TERM = re.compile(r"[A-Za-z0-9]{4}[A-Za-z0-9+/]{16,}={0,2}")


def family_named(name: str | None) -> KeyFamily:
    if name is None:
        return DEFAULT_FAMILY
    try:
        return FAMILIES[name]
    except KeyError:
        raise UserError(f"no key family {name!r}: responder knows {', '.join(FAMILIES)}") from None


def family_of_service(service_name: str) -> KeyFamily | None:
    return next((f for f in FAMILIES.values() if f.service_name == service_name), None)


def family_of(key: LeakedKey) -> KeyFamily | None:
    """The key's family, or None for a long-term key whose family only its listing can tell."""
    return None if key.family is None else family_named(key.family)


def playbook_for(key: LeakedKey) -> str:
    """The playbook that contains this key: its family's, or the long-term playbook every family shares."""
    family = family_of(key) or DEFAULT_FAMILY
    return family.playbook_for(key.kind)


def prefixes() -> list[str]:
    """Every prefix that starts a key offline, short-term first (a short-term prefix is never a long one's)."""
    found = [f.short_term.prefix for f in FAMILIES.values() if f.short_term]
    return found + [f.long_term.prefix for f in FAMILIES.values() if f.long_term.prefix]


def known_families() -> str:
    """One short line naming every family and how its keys start."""
    described = []
    for family in FAMILIES.values():
        starts = [p for p in (family.long_term.prefix, family.short_term and family.short_term.prefix) if p]
        described.append(f"{family.title} ({', '.join(starts) if starts else 'by alias, online'})")
    return ", ".join(described)


def parse_key(raw: str) -> LeakedKey:
    """A key of any family, told apart by its prefix; a long-term key of a family AWS gives no prefix for is
    recognised by its alias form, its family left to the listing."""
    key = raw.strip()
    SECRETS.register(key)
    for family in FAMILIES.values():
        if family.short_term and key.startswith(family.short_term.prefix):
            return decode_short_term(key, family)
    for family in FAMILIES.values():
        if family.long_term.prefix and key.startswith(family.long_term.prefix):
            return decode_long_term(key, len(family.long_term.prefix), family, f"a {family.short_title} API key")
    if _UNCLAIMED_LONG_TERM.fullmatch(key):
        try:
            return decode_long_term(key, 4, None, "an AWS API key")
        except UserError:
            pass
    raise UserError(f"not an AWS API key of a family responder knows: {known_families()}")


def parse_short_term(raw: str) -> ShortTermKey | None:
    """The short-term key of whichever family's prefix starts it, or None when no short-term prefix does."""
    key = raw.strip()
    family = next((f for f in FAMILIES.values() if f.short_term and key.startswith(f.short_term.prefix)), None)
    return None if family is None else decode_short_term(key, family)


def parse_long_term_key(raw: str, family: KeyFamily = BEDROCK) -> LongTermKey:
    """A long-term key of one family, refused with the family's words otherwise."""
    key = raw.strip()
    SECRETS.register(key)
    prefix = family.long_term.prefix
    if family.short_term and key.startswith(family.short_term.prefix):
        raise UserError(
            f"this is a short-term {family.short_title} API key ({family.short_term.prefix}...), "
            f"not a long-term {prefix} key"
        )
    if prefix is None or not key.startswith(prefix):
        raise UserError(f"not a {family.short_title} API key: a long-term key starts with {prefix}")
    return decode_long_term(key, len(prefix), family, f"a {family.short_title} API key")


def parse_short_term_key(raw: str, family: KeyFamily = BEDROCK) -> ShortTermKey:
    return decode_short_term(raw, family)


for _prefix in prefixes():  # a key of any family is redacted wherever it appears, registered or not
    SECRETS.watch_prefix(_prefix)

# A run of base64 long enough to be a slice of a key's body, mixing cases and digits as random bytes do (a plain
# long word does not): any family's key prefix, or such a run, means the value may hold key material.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{20,}")


def may_hold_key(text: str) -> bool:
    """Whether operator input may be (part of) a key of any family: never echo it, never keep it."""
    lowered = text.lower()
    if any(prefix.lower() in lowered for prefix in prefixes()):
        return True
    for run in _BASE64_RUN.findall(text):
        if any(c.isupper() for c in run) and any(c.islower() for c in run) and any(c.isdigit() for c in run):
            return True
    return False

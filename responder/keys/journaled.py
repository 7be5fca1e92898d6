"""What a run's journal keeps of its key, and the key rebuilt from it: the public facts and the family's,
never the key. Journals written before families existed (no `family`) read back as Bedrock keys, as they were."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from responder.keys.family import FamilyFacts
from responder.keys.model import LeakedKey, LongTermKey, ShortTermKey
from responder.keys.registry import DEFAULT_FAMILY, family_named, family_of


def public_key(key: LeakedKey | None) -> dict[str, Any] | None:
    """The journaled form: the parsed facts, `family` as the family's typed facts (None when only the listing
    can tell it), and for a short-term key who signed it."""
    if key is None:
        return None
    facts = dataclasses.asdict(key)
    family = family_of(key)
    facts["family"] = None if family is None else FamilyFacts.of(family).model_dump(mode="json")
    if isinstance(key, ShortTermKey):
        facts["signer"] = key.signer
    return {"kind": key.kind, **facts}


def journaled_family(facts: dict[str, Any] | None) -> FamilyFacts | None:
    """The family facts a journal recorded for its key; a 0.1 journal's key is Bedrock's."""
    if not facts:
        return None
    family = facts.get("family", DEFAULT_FAMILY.name)
    if isinstance(family, dict):
        return FamilyFacts.model_validate(family)
    return None if family is None else FamilyFacts.of(family_named(family))


def key_from_facts(facts: dict[str, Any] | None) -> LeakedKey | None:
    """The key object rebuilt from its journaled public facts: all a resume or a saved plan needs."""
    public = dict(facts or {})
    if not public:
        return None
    kind = public.pop("kind")
    public.pop("signer", None)
    family = public.pop("family", DEFAULT_FAMILY.name)
    name = family.get("name") if isinstance(family, dict) else family
    if kind == "short-term":
        for moment in ("issued_at", "expires_at"):
            public[moment] = datetime.fromisoformat(public[moment])
        return ShortTermKey(**public, family=name or DEFAULT_FAMILY.name)
    return LongTermKey(**public, family=name)

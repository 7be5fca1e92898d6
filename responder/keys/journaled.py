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


def key_words(facts: dict[str, Any] | None) -> str:
    """What a report calls the run's key: "Bedrock" in "a long-term Bedrock API key"; "AWS" when neither the key's
    prefix nor the journal named its family (a key whose family only IAM's listing told, or no key)."""
    family = journaled_family(facts) if facts else None
    if family is None:
        return "AWS"
    return family.short_title or family_named(family.name).short_title


def key_title(facts: dict[str, Any] | None) -> str:
    """The key's family by its full name ("Amazon Bedrock"), for titles; "AWS" as in key_words."""
    family = journaled_family(facts) if facts else None
    return "AWS" if family is None else family_named(family.name).title


def data_event_follow_up(facts: dict[str, Any] | None) -> str:
    """The follow-up that checks what LookupEvents cannot see of the key's family's bearer calls."""
    family = journaled_family(facts) if facts else None
    if family is None:  # no key (a sweep's run), or one whose family only IAM's listing told
        return (
            "- Check the data events `LookupEvents` never returns (Bedrock Mantle inference; every other key "
            "family's bearer calls) in a trail or CloudTrail Lake event data store that records them."
        )
    if family.name == DEFAULT_FAMILY.name:
        return "- Check Bedrock Mantle data events (inference) with the CloudTrail Lake query below."
    hidden = ", ".join(s.data_resource_type or s.source for s in family.event_sources if s.bearer_calls == "data")
    return (
        f"- Check the key's bearer calls, CloudTrail data events ({hidden}), in a trail or CloudTrail Lake event "
        "data store that records them: `LookupEvents` never returns them."
    )

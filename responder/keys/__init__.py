"""Leaked AWS API keys of every family: the contract (family.py), one module per family (families/), the
registry that tells a key's family (registry.py), offline decoding (decoding.py) and pasted-key reading
(pasted.py). The names below are the ones callers imported before families existed."""

from responder.keys.decoding import KeyNotice, decode_base64
from responder.keys.families.bedrock import BEDROCK
from responder.keys.family import FamilyFacts, KeyFamily
from responder.keys.model import LeakedKey, LongTermKey, ShortTermKey, fingerprint
from responder.keys.pasted import KEY_INPUT_LIMIT, read_key_file, unwrap_pasted_key
from responder.keys.registry import (
    FAMILIES,
    family_named,
    family_of,
    parse_key,
    parse_long_term_key,
    parse_short_term_key,
    playbook_for,
)
from responder.names import ACCOUNT_ID, IAM_NAME, IAM_NAME_PATTERN, REGION

LONG_TERM_PREFIX = "ABSK"  # Bedrock's; other families' prefixes are in their modules
SHORT_TERM_PREFIX = "bedrock-api-key-"

__all__ = [
    "ACCOUNT_ID",
    "BEDROCK",
    "FAMILIES",
    "IAM_NAME",
    "IAM_NAME_PATTERN",
    "KEY_INPUT_LIMIT",
    "LONG_TERM_PREFIX",
    "REGION",
    "SHORT_TERM_PREFIX",
    "FamilyFacts",
    "KeyFamily",
    "KeyNotice",
    "LeakedKey",
    "LongTermKey",
    "ShortTermKey",
    "decode_base64",
    "family_named",
    "family_of",
    "fingerprint",
    "parse_key",
    "parse_long_term_key",
    "parse_short_term_key",
    "playbook_for",
    "read_key_file",
    "unwrap_pasted_key",
]

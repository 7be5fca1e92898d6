"""Decode a leaked Bedrock API key offline: what it is and who it names, never keeping the secret.

A long-term key is `ABSK` + base64(`<alias>:<secret>`), the alias being `<UserName>-at-<account id>`
(FACTS.md). A short-term key is `bedrock-api-key-` + base64 of a SigV4 presigned URL.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from responder.errors import UserError
from responder.redaction import SECRETS

LONG_TERM_PREFIX = "ABSK"
SHORT_TERM_PREFIX = "bedrock-api-key-"
IAM_NAME = re.compile(r"[\w+=,.@-]{1,64}")
ACCOUNT_ID = re.compile(r"\d{12}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def fingerprint(secret: str) -> str:
    """A short, stable name for a key that reveals nothing of it."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class LongTermKey:
    """What a long-term key tells offline. The secret itself is deliberately not kept."""

    alias: str
    user_name: str
    account_id: str
    fingerprint: str

    kind = "long-term"


def decode_base64(text: str, what: str) -> bytes:
    """Standard base64, padded or not; anything else is not a Bedrock key."""
    if not _BASE64.fullmatch(text):
        raise UserError(f"{what} is not valid base64")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise UserError(f"{what} is not valid base64") from None


def parse_long_term_key(raw: str) -> LongTermKey:
    key = raw.strip()
    SECRETS.register(key)
    if key.startswith(SHORT_TERM_PREFIX):
        raise UserError(
            "this is a short-term Bedrock API key (bedrock-api-key-...), not a long-term ABSK key; "
            "it is a presigned request, not an IAM credential, and this playbook cannot contain it"
        )
    if not key.startswith(LONG_TERM_PREFIX):
        raise UserError("not a Bedrock API key: a long-term key starts with ABSK")
    decoded = decode_base64(key[len(LONG_TERM_PREFIX) :], "the key after ABSK")
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError("not a Bedrock API key: the decoded key is not text") from None
    alias, sep, secret = text.partition(":")
    SECRETS.register(secret, text)
    if not sep or not secret:
        raise UserError("not a Bedrock API key: the decoded key has no '<alias>:<secret>' form")
    # User names may themselves contain '-at-': the account is after the last one. The botocore model
    # says the alias may carry a further suffix, so only the leading 12 digits are the account.
    user_name, sep, rest = alias.rpartition("-at-")
    account = ACCOUNT_ID.match(rest)
    if not sep or account is None:
        raise UserError("not a Bedrock API key: its alias does not end in -at-<12-digit account id>")
    account_id = account.group(0)
    if not IAM_NAME.fullmatch(user_name):
        raise UserError("not a Bedrock API key: its alias does not start with a valid IAM user name")
    return LongTermKey(alias=alias, user_name=user_name, account_id=account_id, fingerprint=fingerprint(key))


def read_key_file(path: str) -> str:
    """Read a leaked key from a file, or from standard input when path is '-'."""
    import sys

    if path == "-":
        text = sys.stdin.read()
    else:
        p = Path(path)
        if p.is_dir():
            raise UserError(f"{path}: is a directory, not a key file")
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UserError(f"{path}: no such key file") from None
        except PermissionError:
            raise UserError(f"{path}: permission denied reading the key file") from None
        except UnicodeDecodeError:
            raise UserError(f"{path}: the key file is not UTF-8 text") from None
    text = text.strip()
    SECRETS.register(text)
    if not text:
        raise UserError(f"{'standard input' if path == '-' else path}: the key file is empty")
    if len(text.split()) > 1:
        raise UserError("the key file must hold one key and nothing else")
    return text

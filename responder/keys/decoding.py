"""Decode a leaked key of a given family offline, from the formats the family declares.

A long-term key is `<prefix>` + base64(`<alias>:<secret>`); a short-term key is `<prefix>` + base64 of a SigV4
presigned `CallWithBearerToken` request (FACTS.md). Every part that could be used is registered as a secret
before anything can print it.
"""

from __future__ import annotations

import base64
import binascii
import re
import warnings
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, quote

from responder.errors import UserError
from responder.keys.family import KeyFamily, ShortTermFormat
from responder.keys.model import LongTermKey, ShortTermKey, fingerprint
from responder.names import ACCOUNT_ID, IAM_NAME, REGION
from responder.redaction import SECRETS, OperatorNote

SECRET_PART_LENGTH = 60  # a Bedrock long-term key's secret part: 44 bytes in standard base64 (FACTS.md)
MAX_SHORT_TERM_SECONDS = 43200  # 12 hours
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_ACCESS_KEY_ID = re.compile(r"[A-Z0-9]{16,128}")
# A second credential's alias reads `<user>+<N>-at-...` (FACTS.md, "A user's second key").
_MARKER = re.compile(r"\+[0-9]{1,3}\Z")


class KeyNotice(OperatorNote):
    """What the operator should know about the key they gave; it never holds key material."""


def decode_base64(text: str, what: str) -> bytes:
    """Standard base64, padded or not; anything else is not a key."""
    if not _BASE64.fullmatch(text):
        raise UserError(f"{what} is not valid base64")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise UserError(f"{what} is not valid base64") from None


def decoded_text(key: str, prefix_length: int, what: str) -> str:
    """The text base64-encoded after a key's prefix, itself registered as a secret."""
    decoded = decode_base64(key[prefix_length:], f"the key after {key[:prefix_length]}")
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"not {what}: the decoded key is not text") from None
    SECRETS.register(text)
    return text


def split_marker(user_part: str) -> tuple[str, str]:
    """`thomas+1` -> (`thomas`, `+1`); a name without a trailing `+N` is returned whole."""
    found = _MARKER.search(user_part)
    if found is None or found.start() == 0:
        return user_part, ""
    return user_part[: found.start()], found.group(0)


def decode_long_term(raw: str, prefix_length: int, family: KeyFamily | None, what: str) -> LongTermKey:
    """A long-term key whose first `prefix_length` characters are its family's prefix. `family` None: a key
    whose prefix no family claims (its family is found online, by alias)."""
    key = raw.strip()
    SECRETS.register(key)
    text = decoded_text(key, prefix_length, what)
    alias, sep, secret = text.partition(":")
    SECRETS.register(secret)
    if not sep or not secret:
        raise UserError(f"not {what}: the decoded key has no '<alias>:<secret>' form")
    # User names may themselves contain '-at-': the account is after the last one. The botocore model
    # says the alias may carry a further suffix, so only the leading 12 digits are the account.
    user_part, sep, rest = alias.rpartition("-at-")
    account = ACCOUNT_ID.match(rest)
    if not sep or account is None:
        raise UserError(f"not {what}: its alias does not end in -at-<12-digit account id>")
    if not IAM_NAME.fullmatch(user_part):
        raise UserError(f"not {what}: its alias does not start with a valid IAM user name")
    user_name, marker = split_marker(user_part)
    parsed = LongTermKey(
        alias=alias,
        user_name=user_name,
        account_id=account.group(0),
        fingerprint=fingerprint(key),
        family=None if family is None else family.name,
        marker=marker,
    )
    if family is not None and family.long_term.confirmed_by == "aws" and len(secret) < SECRET_PART_LENGTH:
        # Cut on a base64 boundary, a copy still decodes: the alias names the user, but the fingerprint is the
        # copy's, and the secret cannot confirm it is the user's key. Say so; containing the user is still right.
        warnings.warn(
            KeyNotice(
                f"the key looks truncated: its secret part has {len(secret)} of AWS's {SECRET_PART_LENGTH} "
                f"characters. Its alias, not its secret, identified user {parsed.alias_user}, and its fingerprint "
                f"{parsed.fingerprint} is the truncated copy's"
            ),
            stacklevel=3,
        )
    return parsed


def decode_short_term(raw: str, family: KeyFamily) -> ShortTermKey:
    spec = family.short_term
    if spec is None:
        raise UserError(f"{family.title} has no short-term keys")
    what = f"a {family.short_title} API key"
    key = raw.strip()
    SECRETS.register(key)
    if not key.startswith(spec.prefix):
        raise UserError(f"not a short-term {family.short_title} API key: it starts with {spec.prefix}")
    url = decoded_text(key, len(spec.prefix), what)
    params = _presigned_params(url, spec, what)
    access_key_id, region = _scope(params, spec, what)
    try:
        issued_at = datetime.strptime(params.get("X-Amz-Date", ""), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        lifetime = int(params.get("X-Amz-Expires", ""))
    except ValueError:
        raise UserError(f"not {what}: X-Amz-Date or X-Amz-Expires is malformed") from None
    if not 0 < lifetime <= MAX_SHORT_TERM_SECONDS:
        given = (
            str(lifetime) if len(str(lifetime)) <= 12 else f"{str(lifetime)[:12]}... ({len(str(lifetime)):,} digits)"
        )
        raise UserError(f"not {what}: X-Amz-Expires is {given}, outside 1..{MAX_SHORT_TERM_SECONDS}")
    return ShortTermKey(
        access_key_id=access_key_id,
        region=region,
        issued_at=issued_at,
        expires_at=issued_at + timedelta(seconds=lifetime),
        fingerprint=fingerprint(key),
        family=family.name,
    )


def _presigned_params(url: str, spec: ShortTermFormat, what: str) -> dict[str, str]:
    host, sep, query = url.partition("?")
    params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    # The signature and session token are secrets of their own: keep them out of every output.
    for name in ("X-Amz-Signature", "X-Amz-Security-Token"):
        if params.get(name):
            SECRETS.register(params[name], quote(params[name], safe=""))
    if not sep or host.rstrip("/") != spec.host or params.get("Action") != "CallWithBearerToken":
        raise UserError(f"not {what}: the decoded key is not a {spec.host} CallWithBearerToken request")
    if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or not params.get("X-Amz-Signature"):
        raise UserError(f"not {what}: the presigned request is not SigV4-signed")
    return params


def _scope(params: dict[str, str], spec: ShortTermFormat, what: str) -> tuple[str, str]:
    scope = params.get("X-Amz-Credential", "").split("/")
    if len(scope) != 5 or scope[3] != spec.signing_service or scope[4] != "aws4_request":
        raise UserError(
            f"not {what}: X-Amz-Credential is not <access key>/<date>/<region>/{spec.signing_service}/aws4_request"
        )
    access_key_id, region = scope[0], scope[2]
    if not _ACCESS_KEY_ID.fullmatch(access_key_id) or not REGION.fullmatch(region):
        raise UserError(f"not {what}: its credential scope names no valid access key id and region")
    return access_key_id, region

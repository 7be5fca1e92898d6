"""Decode a leaked Bedrock API key offline: what it is and who it names, never keeping the secret.

A long-term key is `ABSK` + base64(`<alias>:<secret>`), the alias being `<UserName>-at-<account id>`
(FACTS.md). A short-term key is `bedrock-api-key-` + base64 of a SigV4 presigned URL.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import importlib.util
import json
import re
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, quote

from responder.errors import UserError
from responder.private_files import readable_by_others
from responder.redaction import SECRETS, OperatorNote

LONG_TERM_PREFIX = "ABSK"
SECRET_PART_LENGTH = 60  # a long-term key's secret part: 44 bytes in standard base64 (FACTS.md)
SHORT_TERM_PREFIX = "bedrock-api-key-"
# An IAM user or role name (IAM's own pattern): for regexes of pydantic fields, IAM_NAME_PATTERN anchors it.
IAM_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{1,64}")
IAM_NAME_PATTERN = rf"^{IAM_NAME.pattern}$"
# The playbook that contains each kind of key.
PLAYBOOK_FOR = {"long-term": "leaked-long-term-key", "short-term": "leaked-short-term-key"}
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


@dataclass(frozen=True)
class ShortTermKey:
    """What a short-term key tells offline: who signed it, where, and when it dies. No signature, no token."""

    access_key_id: str
    region: str
    issued_at: datetime
    expires_at: datetime
    fingerprint: str

    kind = "short-term"

    @property
    def signer(self) -> str:
        """ASIA: temporary credentials of a role session (or federated user); AKIA: an IAM user's access key."""
        return {"ASIA": "role-session", "AKIA": "iam-user"}.get(self.access_key_id[:4], "unknown")

    def expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(timezone.utc)) >= self.expires_at


LeakedKey = LongTermKey | ShortTermKey
MAX_SHORT_TERM_SECONDS = 43200  # 12 hours
_ACCESS_KEY_ID = re.compile(r"[A-Z0-9]{16,128}")


class RegionNames:
    """What an AWS region name may be, from botocore's partition data: each partition's `regionRegex` (aws,
    aws-cn, aws-us-gov, aws-iso*, aws-eusc, ...), so eusc-de-east-1 and a region launched after this release
    both pass, and a typo or a path does not.

    botocore may be imported only in responder/aws.py; its partition data is plain JSON beside it, read here
    without importing it, once, on first use. `fullmatch` answers as a compiled pattern's would."""

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        spec = importlib.util.find_spec("botocore")
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        data = [Path(location) / "data" / "partitions.json" for location in locations]
        found = next((path for path in data if path.is_file()), None)
        if found is None:
            raise RuntimeError("botocore's partition data (botocore/data/partitions.json) is missing: reinstall boto3")
        partitions = json.loads(found.read_text(encoding="utf-8"))["partitions"]
        shapes = [str(p["regionRegex"]).removeprefix("^").removesuffix("$") for p in partitions]
        # The lookahead keeps names lower case (botocore's \w would let US-EAST-1 through, which AWS refuses).
        return re.compile(rf"(?=[a-z0-9-]+\Z)(?:{'|'.join(shapes)})", re.ASCII)

    def fullmatch(self, name: str) -> re.Match[str] | None:
        return self.pattern.fullmatch(name)


REGION = RegionNames()


def parse_key(raw: str) -> LeakedKey:
    """Either kind of Bedrock API key, told apart by its prefix."""
    if raw.strip().startswith(SHORT_TERM_PREFIX):
        return parse_short_term_key(raw)
    return parse_long_term_key(raw)


def parse_short_term_key(raw: str) -> ShortTermKey:
    key = raw.strip()
    SECRETS.register(key)
    if not key.startswith(SHORT_TERM_PREFIX):
        raise UserError("not a short-term Bedrock API key: it starts with bedrock-api-key-")
    url = _decoded_text(key, SHORT_TERM_PREFIX)
    host, sep, query = url.partition("?")
    params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    # The signature and session token are secrets of their own: keep them out of every output.
    for name in ("X-Amz-Signature", "X-Amz-Security-Token"):
        if params.get(name):
            SECRETS.register(params[name], quote(params[name], safe=""))
    if not sep or host.rstrip("/") != "bedrock.amazonaws.com" or params.get("Action") != "CallWithBearerToken":
        raise UserError(
            "not a Bedrock API key: the decoded key is not a bedrock.amazonaws.com CallWithBearerToken request"
        )
    if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or not params.get("X-Amz-Signature"):
        raise UserError("not a Bedrock API key: the presigned request is not SigV4-signed")
    scope = params.get("X-Amz-Credential", "").split("/")
    if len(scope) != 5 or scope[3] != "bedrock" or scope[4] != "aws4_request":
        raise UserError(
            "not a Bedrock API key: X-Amz-Credential is not <access key>/<date>/<region>/bedrock/aws4_request"
        )
    access_key_id, _, region = scope[0], scope[1], scope[2]
    if not _ACCESS_KEY_ID.fullmatch(access_key_id) or not REGION.fullmatch(region):
        raise UserError("not a Bedrock API key: its credential scope names no valid access key id and region")
    try:
        issued_at = datetime.strptime(params.get("X-Amz-Date", ""), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        lifetime = int(params.get("X-Amz-Expires", ""))
    except ValueError:
        raise UserError("not a Bedrock API key: X-Amz-Date or X-Amz-Expires is malformed") from None
    if not 0 < lifetime <= MAX_SHORT_TERM_SECONDS:
        given = (
            str(lifetime) if len(str(lifetime)) <= 12 else f"{str(lifetime)[:12]}... ({len(str(lifetime)):,} digits)"
        )
        raise UserError(f"not a Bedrock API key: X-Amz-Expires is {given}, outside 1..{MAX_SHORT_TERM_SECONDS}")
    return ShortTermKey(
        access_key_id=access_key_id,
        region=region,
        issued_at=issued_at,
        expires_at=issued_at + timedelta(seconds=lifetime),
        fingerprint=fingerprint(key),
    )


def decode_base64(text: str, what: str) -> bytes:
    """Standard base64, padded or not; anything else is not a Bedrock key."""
    if not _BASE64.fullmatch(text):
        raise UserError(f"{what} is not valid base64")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise UserError(f"{what} is not valid base64") from None


def _decoded_text(key: str, prefix: str) -> str:
    """The text base64-encoded after a key's prefix, itself registered as a secret."""
    decoded = decode_base64(key[len(prefix) :], f"the key after {prefix}")
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError("not a Bedrock API key: the decoded key is not text") from None
    SECRETS.register(text)
    return text


def parse_long_term_key(raw: str) -> LongTermKey:
    key = raw.strip()
    SECRETS.register(key)
    if key.startswith(SHORT_TERM_PREFIX):
        raise UserError("this is a short-term Bedrock API key (bedrock-api-key-...), not a long-term ABSK key")
    if not key.startswith(LONG_TERM_PREFIX):
        raise UserError("not a Bedrock API key: a long-term key starts with ABSK")
    text = _decoded_text(key, LONG_TERM_PREFIX)
    alias, sep, secret = text.partition(":")
    SECRETS.register(secret)
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
    parsed = LongTermKey(alias=alias, user_name=user_name, account_id=account_id, fingerprint=fingerprint(key))
    if len(secret) < SECRET_PART_LENGTH:
        # Cut on a base64 boundary, a copy still decodes: the alias names the user, but the fingerprint is the
        # copy's, and the secret cannot confirm it is the user's key. Say so; containing the user is still right.
        warnings.warn(
            KeyNotice(
                f"the key looks truncated: its secret part has {len(secret)} of AWS's {SECRET_PART_LENGTH} "
                f"characters. Its alias, not its secret, identified user {user_name}, and its fingerprint "
                f"{parsed.fingerprint} is the truncated copy's"
            ),
            stacklevel=2,
        )
    return parsed


# A key is under 2 KB (a long-term key about 130 characters; a short-term one a presigned URL with a session
# token, base64). Key input gets four times that, for the quoting and wrapping a paste brings, and no more.
KEY_INPUT_LIMIT = 8192


def read_key_file(path: str) -> str:
    """Read a leaked key from a file, or from standard input when path is '-'.

    A key arrives as it was pasted: quoted, in backticks, after `export AWS_BEARER_TOKEN_BEDROCK=`, behind a
    byte-order mark, wrapped over lines. One key in such a wrapping is unwrapped, and a `note:` says what was
    removed (never what the key is); anything else beside the key is refused, as are two keys."""
    import sys

    source = "standard input" if path == "-" else path
    if path == "-":
        stream = getattr(sys.stdin, "buffer", None)
        data = stream.read(KEY_INPUT_LIMIT + 1) if stream is not None else sys.stdin.read(KEY_INPUT_LIMIT + 1)
    else:
        p = Path(path)
        if p.is_dir():
            raise UserError(f"{path}: is a directory, not a key file")
        try:
            with p.open("rb") as opened:
                data = opened.read(KEY_INPUT_LIMIT + 1)
        except FileNotFoundError:
            raise UserError(f"{path}: no such key file") from None
        except PermissionError:
            raise UserError(f"{path}: permission denied reading the key file") from None
    if len(data) > KEY_INPUT_LIMIT:
        # /dev/zero or `yes ABSK | ...` never end: read no further than a key could reach
        raise UserError(
            f"{source}: more than {KEY_INPUT_LIMIT} bytes, not read further: a key is under 2 KB, so this is not a "
            "key file"
        )
    if path != "-" and readable_by_others(Path(path)):  # a live secret on disk: said, not refused
        mode = Path(path).stat().st_mode & 0o777
        warnings.warn(
            KeyNotice(f"{path} can be read by group or others (mode {mode:03o}): `chmod 600 {path}`"), stacklevel=2
        )
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise UserError(f"{source}: the key file is not UTF-8 text") from None
    SECRETS.register(text.strip())
    key, removed = unwrap_pasted_key(text)
    if not key:
        raise UserError(f"{source}: the key file is empty")
    SECRETS.register(key)
    _register_secret_parts(key)
    if removed:
        what = removed[0] if len(removed) == 1 else ", ".join(removed[:-1]) + " and " + removed[-1]
        where = "standard input" if path == "-" else "the key file"
        warnings.warn(KeyNotice(f"stripped {what} from {where}"), stacklevel=2)
    return key


def _register_secret_parts(key: str) -> None:
    """The key's decoded secret parts, registered as soon as it is read: a parameter or a file the operator gives
    next that holds one (a bare secret pasted into -p) is then redacted wherever it would be echoed. A key that does
    not parse is refused later, where the playbook says which kind it needs."""
    with contextlib.suppress(UserError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parse_key(key)


class KeyNotice(OperatorNote):
    """What the operator should know about the key they gave; it never holds key material."""


# Where a pasted key starts: not inside base64 (a '+', '/' or alphanumeric before it would make it part of one).
# A wrapped key whose next line happens to begin with ABSK reads as two keys: 1 in 16 million lines, and refused.
_KEY_START = re.compile(rf"(?<![A-Za-z0-9+/])(?:{LONG_TERM_PREFIX}|{SHORT_TERM_PREFIX})")
_FENCE = re.compile(r"```(?:[A-Za-z0-9_-]*\r?\n)?\s*(.*?)\s*```", re.DOTALL)  # a language tag ends its line
# `export NAME=`, `set NAME=`, `NAME=` (a .env line) or PowerShell's `$env:NAME =`, before a key.
_ASSIGNMENT = re.compile(
    rf"((?:export\s+|set\s+)?[A-Za-z_][A-Za-z0-9_]{{0,63}}=|\$env:[A-Za-z_][A-Za-z0-9_]{{0,63}}\s*=\s*)"
    rf"(?=[\"'`]?(?:{LONG_TERM_PREFIX}|{SHORT_TERM_PREFIX}))"
)
_QUOTES = {'"': "surrounding quotes", "'": "surrounding quotes", "`": "surrounding backticks"}
_BASE64_PIECE = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def unwrap_pasted_key(text: str) -> tuple[str, list[str]]:
    """The key inside what was pasted, and what was removed around it, in words. Raises UserError when the text
    holds two keys, or anything but one key and its wrapping."""
    removed: list[str] = []
    if text.startswith("\ufeff"):
        text = text[1:]
        removed.append("a UTF-8 byte-order mark")
    text = text.strip()
    starts = len(_KEY_START.findall(text))
    if starts > 1:
        raise UserError(f"the key file holds {starts} Bedrock API keys: it must hold one key and nothing else")
    if fence := _FENCE.fullmatch(text):
        text = fence.group(1)
        removed.append("a ``` code fence")
    text = _unquoted(text, removed)
    if assignment := _ASSIGNMENT.match(text):
        text = text[assignment.end() :]
        prefix = " ".join(assignment.group(1).split())
        removed.append(f"{'an' if prefix[0] in 'aeiouAEIOU' else 'a'} {prefix!r} prefix")
        text = _unquoted(text, removed)
    pieces = text.split()
    if len(pieces) > 1:
        if starts == 0:
            raise UserError("the key file holds no Bedrock API key: one starts with ABSK or bedrock-api-key-")
        # A key wrapped by a terminal, an e-mail or a chat: the prefix on the first piece, base64 in the rest.
        if starts != 1 or not _KEY_START.match(pieces[0]) or not all(_BASE64_PIECE.fullmatch(p) for p in pieces[1:]):
            raise UserError("the key file must hold one key and nothing else")
        lines = len(text.splitlines())
        removed.append(f"the line breaks of a key wrapped over {lines} lines" if lines > 1 else "spaces inside the key")
        text = "".join(pieces)
    return text, removed


def _unquoted(text: str, removed: list[str]) -> str:
    """The text inside one pair of matching quotes or backticks, if it is so enclosed."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in _QUOTES:
        if _QUOTES[text[0]] not in removed:
            removed.append(_QUOTES[text[0]])
        return text[1:-1].strip()
    return text

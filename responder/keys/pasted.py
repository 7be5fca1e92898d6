"""Read a leaked key as it was pasted: from a file or standard input, unwrapped from quotes, fences, an
`export NAME=` line or a terminal's line breaks. Which prefixes start a key comes from the family registry."""

from __future__ import annotations

import contextlib
import re
import shlex
import sys
import warnings
from pathlib import Path

from responder.errors import UserError
from responder.keys.decoding import KeyNotice
from responder.keys.registry import parse_key, prefixes
from responder.private_files import readable_by_others
from responder.redaction import SECRETS

# A key is under 2 KB (a long-term key about 130 characters; a short-term one a presigned URL with a session
# token, base64). Key input gets four times that, for the quoting and wrapping a paste brings, and no more.
KEY_INPUT_LIMIT = 8192


def read_key_file(path: str) -> str:
    """Read a leaked key from a file, or from standard input when path is '-'.

    A key arrives as it was pasted: quoted, in backticks, after `export AWS_BEARER_TOKEN_BEDROCK=`, behind a
    byte-order mark, wrapped over lines. One key in such a wrapping is unwrapped, and a `note:` says what was
    removed (never what the key is); anything else beside the key is refused, as are two keys."""
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
            KeyNotice(f"{path} can be read by group or others (mode {mode:03o}): `chmod 600 {shlex.quote(path)}`"),
            stacklevel=2,
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


# Where a pasted key starts: not inside base64 (a '+', '/' or alphanumeric before it would make it part of one).
# A wrapped key whose next line happens to begin with a prefix reads as two keys: 1 in 16 million lines, and refused.
_STARTS = "|".join(re.escape(p) for p in prefixes())
_KEY_START = re.compile(rf"(?<![A-Za-z0-9+/])(?:{_STARTS})")
_FENCE = re.compile(r"```(?:[A-Za-z0-9_-]*\r?\n)?\s*(.*?)\s*```", re.DOTALL)  # a language tag ends its line
# `export NAME=`, `set NAME=`, `NAME=` (a .env line) or PowerShell's `$env:NAME =`, before a key.
_ASSIGNMENT = re.compile(
    rf"((?:export\s+|set\s+)?[A-Za-z_][A-Za-z0-9_]{{0,63}}=|\$env:[A-Za-z_][A-Za-z0-9_]{{0,63}}\s*=\s*)"
    rf"(?=[\"'`]?(?:{_STARTS}))"
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
        raise UserError(f"the key file holds {starts} API keys: it must hold one key and nothing else")
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
            raise UserError(f"the key file holds no API key: one starts with {', '.join(prefixes())}")
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

"""Keep leaked secrets out of every output: logs, reports, stdout, stderr and exception text.

Two nets: the exact secrets this process has read (registered when a key is parsed), and patterns that
catch any Bedrock API key that slips in from elsewhere (an AWS error message, a pasted parameter).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

REDACTED = "[REDACTED]"

# A Bedrock key (always watched, as before families existed), and parts of a presigned URL that are secrets in
# their own right. The family registry adds every family's prefixes (`watch_prefix`) when it is imported.
_URL_SECRET_PATTERNS = (
    re.compile(r"ABSK[A-Za-z0-9+/=_-]{8,}"),
    re.compile(r"bedrock-api-key-[A-Za-z0-9+/=_-]{8,}"),
    re.compile(r"(X-Amz-Signature=)[0-9a-fA-F]+"),
    re.compile(r"(X-Amz-Security-Token=)[^&\s\"']+"),
)


class SecretRegistry:
    """The secrets this process has seen; every rendered string passes through `redact`."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._ordered: list[str] = []  # longest first, so a secret containing another is replaced whole
        self._lock = threading.Lock()  # a fan-out registers assumed-role secrets from several threads
        self._patterns: tuple[re.Pattern[str], ...] = _URL_SECRET_PATTERNS

    def watch_prefix(self, prefix: str) -> None:
        """Redact whatever follows `prefix` as a key's body (base64 or base64url), wherever it appears."""
        pattern = re.compile(re.escape(prefix) + r"[A-Za-z0-9+/=_-]{8,}")
        with self._lock:
            if pattern.pattern not in {p.pattern for p in self._patterns}:
                self._patterns = (pattern, *self._patterns)

    def register(self, *secrets: str) -> None:
        # Very short strings would redact ordinary words; real secrets are long.
        with self._lock:
            self._secrets.update(s for s in secrets if len(s) >= 8)
            self._ordered = sorted(self._secrets, key=len, reverse=True)

    def clear(self) -> None:
        """Forget every registered secret (between tests: one process, many incidents)."""
        with self._lock:
            self._secrets.clear()
            self._ordered = []

    def redact(self, text: str) -> str:
        for secret in self._ordered:
            if secret in text:
                text = text.replace(secret, REDACTED)
        for pattern in self._patterns:
            text = pattern.sub(_pattern_replacement, text)
        return text

    def redact_value(self, value: Any) -> Any:
        """Redact every string inside a JSON-like value (dicts, lists, tuples)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, Mapping):
            return {k: self.redact_value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.redact_value(v) for v in value]
        return value


def _pattern_replacement(match: re.Match[str]) -> str:
    prefix = match.group(1) if match.re.groups else match.group(0)[:4]
    return f"{prefix}{REDACTED}"


# One registry per process: the CLI handles one incident at a time, and every output path shares it.
SECRETS = SecretRegistry()

ECHO_LIMIT = 60


class OperatorNote(UserWarning):
    """Something the operator should know that is no error: the CLI's error handler shows each as one `note:`
    line, redacted. Here, beside the redactor every note passes, so the handler needs no heavier import."""


def shown(value: object, limit: int = ECHO_LIMIT) -> str:
    """Operator input as a message may echo it back: quoted as repr quotes (a newline in it cannot forge a second
    line), redacted before it is cut (a cut secret no longer matches the registry), and cut to `limit` characters
    with its length said, so a 100 KB paste makes a one-line message, not a screenful."""
    text = str(value)
    redacted = SECRETS.redact(text)
    if len(redacted) <= limit:
        return repr(redacted)
    return f"{redacted[:limit]!r}... ({len(text):,} characters)"

"""A plain file of keys: one key a line, as pasted (quotes, `export NAME=`), blank lines and `#` comments
ignored. It says nothing about when a key was exposed."""

from __future__ import annotations

from dataclasses import dataclass

from responder.alerts.source import Finding, Holds
from responder.keys import unwrap_pasted_key
from responder.redaction import SECRETS


@dataclass(frozen=True)
class PlainKeys:
    name: str = "keys"
    title: str = "file of keys, one a line"
    holds: Holds = "whole key"
    exposure: str = ""
    documented_by: str = "responder's own format"

    def findings(self, text: str) -> list[Finding]:
        found = []
        for number, line in enumerate(text.splitlines(), 1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            SECRETS.register(stripped)
            key, _ = unwrap_pasted_key(stripped)
            found.append(Finding(where=f"line {number}", secret=key))
        return found


PLAIN = PlainKeys()

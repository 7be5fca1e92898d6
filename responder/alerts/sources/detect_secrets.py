"""A detect-secrets baseline (`detect-secrets scan > .secrets.baseline`).

Field names from detect-secrets's baseline (detect_secrets/core/baseline.py, PotentialSecret.json()):
`results` maps each file to its secrets, each with `type`, `filename`, `hashed_secret` (the SHA-1 of the secret),
`is_verified`, and `line_number` when it is known. The baseline never holds the key: it is read from the file
and line, and confirmed by its hash. A baseline says nothing about when a key was exposed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from responder.alerts.document import load_json, need, optional
from responder.alerts.source import Finding, Holds
from responder.errors import UserError

_SHA1 = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class DetectSecrets:
    name: str = "detect-secrets"
    title: str = "detect-secrets baseline"
    holds: Holds = "whole or part of the key"
    exposure: str = ""
    documented_by: str = "detect-secrets detect_secrets/core/potential_secret.py, a baseline made by detect-secrets 1.5"

    def findings(self, text: str) -> list[Finding]:
        baseline = load_json(text, self.title)
        need(baseline, "version", str, "the baseline", self.title)
        results = need(baseline, "results", dict, "the baseline", self.title)
        found = []
        for path, secrets in results.items():
            if not isinstance(secrets, list):
                raise UserError(f"not a {self.title}: the results of a file are not a list")
            for index, item in enumerate(secrets):
                where = f"result {index + 1} of {path}"
                hashed = need(item, "hashed_secret", str, where, self.title)
                if not _SHA1.fullmatch(hashed):
                    raise UserError(f"not a {self.title}: {where} has a hashed_secret that is not a SHA-1")
                found.append(
                    Finding(
                        where=where,
                        rule=need(item, "type", str, where, self.title),
                        sha1=hashed,
                        path=need(item, "filename", str, where, self.title),
                        # PotentialSecret.json() writes line_number only when it knows one: without it the key
                        # cannot be read from the file, which whole_key says in its own words.
                        line=optional(item, "line_number", int),
                    )
                )
        return found


DETECT_SECRETS = DetectSecrets()

"""GitHub secret-scanning alerts, as the REST API returns them (`GET /repos/{owner}/{repo}/secret-scanning/
alerts/{number}`, or the list endpoint's array).

Field names from GitHub's REST API reference ("Secret scanning alerts"): `number`, `created_at`, `secret_type`,
`secret` (the whole secret), `first_location_detected` (`path`, `start_line`, `start_column`, `commit_sha`) for
a commit location. Exposure: the alert's `created_at`, when GitHub first saw the secret pushed.
"""

from __future__ import annotations

from dataclasses import dataclass

from responder.alerts.document import load_json, need, optional, timestamp
from responder.alerts.located import register_recorded
from responder.alerts.source import Finding, Holds
from responder.errors import UserError


@dataclass(frozen=True)
class GithubSecretScanning:
    name: str = "github"
    title: str = "GitHub secret-scanning alert (REST API JSON)"
    holds: Holds = "whole key"
    exposure: str = "the alert's created_at, when GitHub found the secret"
    documented_by: str = "docs.github.com REST API, secret-scanning alerts (get an alert, list alerts)"

    def findings(self, text: str) -> list[Finding]:
        document = load_json(text, self.title)
        alerts = document if isinstance(document, list) else [document]
        found = []
        for item in alerts:
            number = need(item, "number", int, "an alert", self.title)
            where = f"alert {number}"
            secret = optional(item, "secret", str)
            if secret is None:
                raise UserError(f"{where} holds no secret: fetch it with a token that may read secrets")
            register_recorded(secret)
            location = optional(item, "first_location_detected", dict) or {}
            found.append(
                Finding(
                    where=where,
                    rule=need(item, "secret_type", str, where, self.title),
                    secret=secret,
                    path=optional(location, "path", str),
                    line=optional(location, "start_line", int),
                    commit=optional(location, "commit_sha", str),
                    exposed_at=timestamp(need(item, "created_at", str, where, self.title)),
                )
            )
        return found


GITHUB = GithubSecretScanning()

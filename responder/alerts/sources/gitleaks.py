"""gitleaks reports: JSON (`gitleaks git --report-format json`) and SARIF (`--report-format sarif`).

Field names from gitleaks's `report.Finding` (report/finding.go) and its SARIF writer (report/sarif.go), as its
own test data (testdata/expected/report/*.json, *.sarif) shows them. gitleaks records a short-term Bedrock key
only as far as its fixed prefix (rule aws-amazon-bedrock-api-key-short-lived), and `--redact` replaces the
secret with `REDACTED` (or, with a percentage, keeps its start and appends `...`): the key is then read from the
file and line it names, and confirmed against the start recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from responder.alerts.document import load_json, need, optional, timestamp
from responder.alerts.located import register_recorded
from responder.alerts.source import Finding, Holds
from responder.errors import UserError

_REDACTED = "REDACTED"


def _recorded(secret: str) -> tuple[str | None, str]:
    """(whole-key candidate, the start of the key the report recorded: '' when it recorded nothing)."""
    if secret == _REDACTED:
        return None, ""
    if secret.endswith("...") and len(secret) > 3:  # --redact=N keeps the first part of the secret
        return None, secret[:-3]
    return secret, secret


@dataclass(frozen=True)
class GitleaksJson:
    name: str = "gitleaks"
    title: str = "gitleaks JSON report"
    holds: Holds = "whole or part of the key"
    exposure: str = "the commit's date (Date), when gitleaks scanned git history"
    documented_by: str = "gitleaks report/finding.go, testdata/expected/report/json_simple.json"

    def findings(self, text: str) -> list[Finding]:
        report = load_json(text, self.title)
        if not isinstance(report, list):
            raise UserError(f"not a {self.title}: it is not a list of findings")
        found = []
        for index, item in enumerate(report):
            where = f"finding {index + 1}"
            secret = need(item, "Secret", str, where, self.title)
            register_recorded(secret, optional(item, "Match", str) or "")
            whole, prefix = _recorded(secret)
            found.append(
                Finding(
                    where=where,
                    rule=need(item, "RuleID", str, where, self.title),
                    secret=whole,
                    prefix=prefix,
                    path=need(item, "File", str, where, self.title),
                    line=optional(item, "StartLine", int),
                    column=optional(item, "StartColumn", int),
                    commit=optional(item, "Commit", str) or None,
                    exposed_at=timestamp(optional(item, "Date", str)),
                )
            )
        return found


@dataclass(frozen=True)
class GitleaksSarif:
    name: str = "gitleaks-sarif"
    title: str = "gitleaks SARIF report"
    holds: Holds = "whole or part of the key"
    exposure: str = "the commit's date (partialFingerprints.date), when gitleaks scanned git history"
    documented_by: str = "gitleaks report/sarif.go, testdata/expected/report/sarif_simple.sarif"

    def findings(self, text: str) -> list[Finding]:
        report = load_json(text, self.title)
        runs = need(report, "runs", list, "the report", self.title)
        found = []
        for run_index, run in enumerate(runs):
            for index, result in enumerate(need(run, "results", list, f"run {run_index + 1}", self.title)):
                where = f"result {index + 1}"
                locations = need(result, "locations", list, where, self.title)
                physical = need(locations[0] if locations else None, "physicalLocation", dict, where, self.title)
                region = need(physical, "region", dict, where, self.title)
                snippet = need(region, "snippet", dict, where, self.title)
                secret = need(snippet, "text", str, where, self.title)
                register_recorded(secret)
                whole, prefix = _recorded(secret)
                artifact = need(physical, "artifactLocation", dict, where, self.title)
                fingerprints = optional(result, "partialFingerprints", dict) or {}
                found.append(
                    Finding(
                        where=where,
                        rule=need(result, "ruleId", str, where, self.title),
                        secret=whole,
                        prefix=prefix,
                        path=need(artifact, "uri", str, where, self.title),
                        line=optional(region, "startLine", int),
                        column=optional(region, "startColumn", int),
                        commit=optional(fingerprints, "commitSha", str) or None,
                        exposed_at=timestamp(optional(fingerprints, "date", str)),
                    )
                )
        return found


GITLEAKS = GitleaksJson()
GITLEAKS_SARIF = GitleaksSarif()

"""Many alerts, one incident: every finding's whole key, parsed and de-duplicated by fingerprint, with the
earliest exposure any alert records; and the principals cloud detectors name."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from responder.alerts.located import looks_like_a_key_start, whole_key
from responder.alerts.source import Finding, Principal
from responder.errors import UserError
from responder.keys import LeakedKey, parse_key
from responder.keys.registry import prefixes
from responder.redaction import SECRETS


@dataclass
class AlertKey:
    """A key the alerts hold. `secret` stays in memory, registered for redaction, only to start a run."""

    key: LeakedKey
    secret: str
    exposed_at: datetime | None
    where: list[str] = field(default_factory=list)


@dataclass
class AlertPrincipal:
    principal: Principal
    exposed_at: datetime | None
    where: list[str] = field(default_factory=list)


@dataclass
class Collected:
    findings: int
    keys: list[AlertKey]
    principals: list[AlertPrincipal]
    other: int  # findings about secrets that are not AWS API keys responder knows


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(a, b) if a is not None and b is not None else a or b


def _parsed(secret: str, where: str, strict: bool = True) -> LeakedKey | None:
    """The key, None when it is no AWS API key; a broken key of a family responder knows is refused (strict)
    or left to be read whole from the file (a report that recorded only its start)."""
    if any(p.startswith(secret) for p in prefixes()):
        return None  # a bare prefix (gitleaks's short-lived rule): parsing would register it as a secret
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # one notice per key, not per finding: the identify step gives it
            return parse_key(secret)
    except UserError as exc:
        if strict and looks_like_a_key_start(secret[:16]):
            raise UserError(f"{where}: {exc.message}") from None
        return None


def collect(findings: list[Finding], repo: Path) -> Collected:
    keys: dict[str, AlertKey] = {}
    principals: dict[tuple[str, str, str], AlertPrincipal] = {}
    other = 0
    for finding in findings:
        if finding.principal is not None:
            p = finding.principal
            seen = principals.setdefault((p.account_id, p.kind, p.name), AlertPrincipal(p, None))
            seen.exposed_at = _earliest(seen.exposed_at, finding.exposed_at)
            seen.where.append(finding.where)
            continue
        key = _parsed(finding.secret, finding.where, strict=not finding.partial) if finding.secret else None
        secret = finding.secret
        if key is None and finding.partial:
            secret = whole_key(finding, repo)
            key = _parsed(secret, finding.where) if secret else None
        if key is None or secret is None:
            other += 1
            continue
        SECRETS.register(secret)
        entry = keys.setdefault(key.fingerprint, AlertKey(key, secret, None))
        entry.exposed_at = _earliest(entry.exposed_at, finding.exposed_at)
        entry.where.append(finding.where)
    return Collected(len(findings), list(keys.values()), list(principals.values()), other)

"""Every alert format responder reads, by its --from name. Adding one is a module in sources/, one line here,
and a fixture in tests/alerts/fixtures/ that the contract test reads."""

from __future__ import annotations

from responder.alerts.source import AlertSource
from responder.alerts.sources.detect_secrets import DETECT_SECRETS
from responder.alerts.sources.github import GITHUB
from responder.alerts.sources.gitleaks import GITLEAKS, GITLEAKS_SARIF
from responder.alerts.sources.guardduty import GUARDDUTY
from responder.alerts.sources.plain import PLAIN
from responder.alerts.sources.trufflehog import TRUFFLEHOG
from responder.errors import UserError

SOURCES: dict[str, AlertSource] = {
    s.name: s for s in (GITLEAKS, GITLEAKS_SARIF, TRUFFLEHOG, DETECT_SECRETS, GITHUB, GUARDDUTY, PLAIN)
}


def source_named(name: str) -> AlertSource:
    try:
        return SOURCES[name]
    except KeyError:
        raise UserError(f"--from {name!r}: responder reads {', '.join(SOURCES)}") from None

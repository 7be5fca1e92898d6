"""Tell people: `--notify URL` tells a run's outcome when the run ends: as JSON to a webhook, to a chat or paging
service through an Apprise URL (notify_apprise.py), or as a Jira issue with report.md attached (notify_jira.py).

What is sent is the run's public record only (the run id, its status, the key's public facts, when containment
held, the report's opening, the audit head), passed through the secret registry; the URL itself is treated as a
secret (webhook URLs carry tokens) and named in outputs by its host alone. https only, except to a loopback
address. A notification that fails never changes the run's outcome or exit code: it is retried with backoff,
each delivery is written to the run's `notifications.jsonl`, and the command's output and the report name it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from responder.engine.commands.notify_http import https_or_loopback, post
from responder.engine.commands.outcome import Outcome
from responder.engine.journal.notifications import NOTIFICATIONS_FILE as NOTIFICATIONS_FILE
from responder.engine.journal.notifications import Delivery, record_deliveries
from responder.errors import UserError
from responder.redaction import SECRETS

RETRY_DELAYS = (1.0, 4.0)  # seconds before the second and third attempts


@dataclass(frozen=True)
class Webhook:
    """A generic JSON webhook: the message posted as it is."""

    url: str

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "?"

    def send(self, body: dict[str, Any], report_md: Path) -> tuple[int | None, str | None]:
        return post(self.url, json.dumps(body, sort_keys=True).encode(), {"Content-Type": "application/json"})


class Channel(Protocol):
    """Where a run's outcome is told: `host` names it in outputs (never its URL, which holds tokens); `send` makes
    one attempt and returns (the HTTP status or None, why it failed or None). A channel that did part of its work
    (a Jira issue made, its attachment not) remembers it, so a retry does not do it twice."""

    @property
    def host(self) -> str: ...

    def send(self, body: dict[str, Any], report_md: Path) -> tuple[int | None, str | None]: ...


def webhooks(urls: Sequence[str]) -> list[Channel]:
    """Each --notify value, checked before the run starts: a bad one is bad input, nothing is changed. `jira`: a
    Jira issue (or comment) from the JIRA_* environment; http(s): a JSON webhook; any other scheme: an Apprise URL
    (slack://, msteams://, pagerduty://, mailtos://, ...)."""
    found: list[Channel] = []
    for url in urls:
        if url == "jira":
            from responder.engine.commands.notify_jira import jira_from_environment

            found.append(jira_from_environment())
            continue
        SECRETS.register(url)
        scheme = urlsplit(url).scheme
        if scheme in ("http", "https"):
            if not https_or_loopback(url):
                raise UserError("--notify: a webhook URL must be https (http only to a loopback address)")
            found.append(Webhook(url))
            continue
        from responder.engine.commands.notify_apprise import apprise_channel

        found.append(apprise_channel(url))
    return found


def message(outcome: Outcome) -> dict[str, Any]:
    """What a webhook is told: the run's public record, never a secret."""
    from responder.engine.report.summary import opening

    report = outcome.report
    key = report.key or {}
    public_key = {k: key.get(k) for k in ("kind", "family", "fingerprint", "account_id", "user_name") if key.get(k)}
    body = {
        "source": "responder",
        "run_id": outcome.run_id,
        "playbook": report.playbook,
        "status": outcome.status,
        "exit_code": outcome.exit_code,
        "dry_run": report.dry_run,
        "account": report.account,
        "key": public_key or None,
        "contained_at": report.contained_at,
        "finished_at": report.finished_at,
        "opening": opening(report),
        "audit_head": report.audit_head,
        "report": str(outcome.paths.report_md),
    }
    redacted: dict[str, Any] = SECRETS.redact_value(body)
    return redacted


def deliver(channel: Channel, body: dict[str, Any], report_md: Path, delays: Sequence[float] | None = None) -> Delivery:
    """Send until a 2xx answer, retrying a refused connection, a 429 or a 5xx after each delay."""
    attempts, status, error = 0, None, None
    for delay in (0.0, *(RETRY_DELAYS if delays is None else delays)):
        time.sleep(delay)
        attempts += 1
        try:
            status, error = channel.send(body, report_md)
        except Exception as exc:
            status, error = None, SECRETS.redact(f"{type(exc).__name__}: {exc}")[:200]
        if error is None:
            return Delivery(channel.host, True, attempts, status, None)
        if status is not None and 400 <= status < 500 and status != 429:
            break  # the service refuses this message: sending it again changes nothing
    return Delivery(channel.host, False, attempts, status, error or f"HTTP {status}")


def notify(outcome: Outcome, hooks: Sequence[Channel], delays: Sequence[float] | None = None) -> list[Delivery]:
    """Tell every channel how the run ended; record each delivery beside the run's journal."""
    if not hooks:
        return []
    body = message(outcome)
    deliveries = [deliver(hook, body, outcome.paths.report_md, delays) for hook in hooks]
    record_deliveries(outcome.paths.directory, "run ended", deliveries)
    return deliveries

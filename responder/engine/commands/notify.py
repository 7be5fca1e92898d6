"""Tell people: `--notify URL` posts a run's outcome as JSON to a webhook when the run ends.

What is sent is the run's public record only (the run id, its status, the key's public facts, when containment
held, the report's opening, the audit head), passed through the secret registry; the URL itself is treated as a
secret (webhook URLs carry tokens) and named in outputs by its host alone. https only, except to a loopback
address. A notification that fails never changes the run's outcome or exit code: it is retried with backoff,
each attempt is written to the run's `notifications.jsonl`, and the command's output names it.
"""

from __future__ import annotations

import ipaddress
import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from responder.engine.commands.outcome import Outcome
from responder.errors import UserError
from responder.private_files import append_private
from responder.redaction import SECRETS

RETRY_DELAYS = (1.0, 4.0)  # seconds before the second and third attempts
TIMEOUT_SECONDS = 10.0
NOTIFICATIONS_FILE = "notifications.jsonl"


@dataclass(frozen=True)
class Webhook:
    url: str

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "?"


@dataclass(frozen=True)
class Delivery:
    host: str
    delivered: bool
    attempts: int
    status: int | None  # the last HTTP status, None when no answer came
    error: str | None  # why the last attempt failed, in words that hold no secret


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def webhooks(urls: Sequence[str]) -> list[Webhook]:
    """Each --notify URL, checked before the run starts: a bad one is bad input, nothing is changed."""
    found = []
    for url in urls:
        SECRETS.register(url)
        parts = urlsplit(url)
        host = parts.hostname or ""
        if not ((parts.scheme == "https" and host) or (parts.scheme == "http" and _loopback(host))):
            raise UserError("--notify: a webhook URL must be https (http only to a loopback address)")
        found.append(Webhook(url))
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


def _attempt(hook: Webhook, data: bytes) -> tuple[int | None, str | None]:
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked: https, or http to loopback)
        hook.url, data=data, method="POST", headers={"Content-Type": "application/json", "User-Agent": "responder"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310 (checked above)
            return int(answer.status), None
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, SECRETS.redact(f"{type(reason).__name__}: {reason}")[:200]


def deliver(hook: Webhook, data: bytes, delays: Sequence[float] | None = None) -> Delivery:
    """Post until a 2xx answer, retrying a refused connection, a 429 or a 5xx after each delay."""
    attempts, status, error = 0, None, None
    for delay in (0.0, *(RETRY_DELAYS if delays is None else delays)):
        time.sleep(delay)
        attempts += 1
        status, error = _attempt(hook, data)
        if status is not None and 200 <= status < 300:
            return Delivery(hook.host, True, attempts, status, None)
        if status is not None and 400 <= status < 500 and status != 429:
            break  # the webhook refuses this message: sending it again changes nothing
    return Delivery(hook.host, False, attempts, status, error or f"HTTP {status}")


def notify(outcome: Outcome, hooks: Sequence[Webhook], delays: Sequence[float] | None = None) -> list[Delivery]:
    """Tell every webhook how the run ended; record each delivery beside the run's journal."""
    if not hooks:
        return []
    data = json.dumps(message(outcome), sort_keys=True).encode()
    deliveries = [deliver(hook, data, delays) for hook in hooks]
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    lines = [json.dumps({"at": at, **asdict(d)}, sort_keys=True) for d in deliveries]
    with append_private(outcome.paths.directory / NOTIFICATIONS_FILE) as record:
        record.write("\n".join(lines) + "\n")
    return deliveries

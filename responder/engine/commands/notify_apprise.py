"""Chat and paging services (Slack, Microsoft Teams, PagerDuty, email, ... ) through Apprise's URLs
(`slack://...`, `msteams://...`, `pagerduty://...`, `mailtos://...`): Apprise writes each service's payload, never
responder. Apprise is the optional extra `notify`, imported only when such a URL is given.

Apprise 2.x reports a failure in what `notify()` returns (an `AppriseResult`, false when any service failed, with a
status such as failure or timeout), never by raising; its log lines can quote a service's answer, so its logger is
silenced here and only the status is kept. A plugin's insecure scheme (`json://` beside `jsons://`, `mailto://`
beside `mailtos://`) is refused unless it points at a loopback address, as plain-http webhooks are.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from responder.engine.commands.notify_http import loopback
from responder.errors import UserError
from responder.redaction import SECRETS

_TYPES = {"completed": "success", "planned": "info"}  # Apprise's notify types; any other status is a failure


def _apprise() -> Any:
    try:
        import apprise
    except ImportError:
        raise UserError(
            "--notify: this URL is for Apprise (chat and paging services), which is not installed: "
            "pip install 'bedrock-key-responder[notify]'"
        ) from None
    logging.getLogger("apprise").disabled = True  # its lines may quote a service's answer, or the URL's parts
    return apprise


def _insecure(plugin: Any, scheme: str) -> bool:
    plain = plugin.protocol if isinstance(plugin.protocol, (tuple, list)) else (plugin.protocol,)
    return bool(plugin.secure_protocol) and scheme in plain


@dataclass(frozen=True)
class AppriseChannel:
    url: str
    service: str  # the plugin's name and host, for outputs: never the URL

    @property
    def host(self) -> str:
        return self.service

    def send(self, body: dict[str, Any], report_md: Path) -> tuple[int | None, str | None]:
        apprise = _apprise()
        sender = apprise.Apprise()
        sender.add(self.url)
        result = sender.notify(
            title=f"responder: run {body['run_id']} {body['status']}",
            body=text_of(body),
            notify_type=_TYPES.get(str(body["status"]), "failure"),
        )
        if result:
            return None, None
        status = getattr(getattr(result, "status", None), "value", None) or "failure"
        return None, f"Apprise reports {status}"


def apprise_channel(url: str) -> AppriseChannel:
    """The URL, checked: Apprise must know it, and its scheme must be a secure one (or reach a loopback address)."""
    apprise = _apprise()
    scheme = urlsplit(url).scheme
    plugin = apprise.Apprise.instantiate(url) if scheme else None
    if plugin is None:
        raise UserError(
            "--notify: not an https webhook, `jira`, or a URL Apprise knows (slack://, msteams://, pagerduty://, ...)"
        )
    host = str(getattr(plugin, "host", "") or "")
    if _insecure(plugin, scheme) and not loopback(host):
        raise UserError(
            f"--notify: {scheme}:// is sent in the clear: use its secure form ({plugin.secure_protocol}://)"
        )
    name = type(plugin).__name__.removeprefix("Notify").lower()
    return AppriseChannel(url, f"{name} (apprise)")


def text_of(body: dict[str, Any]) -> str:
    """The message's words for a chat: the report's opening and the run's facts, no secret (body is redacted)."""
    key = body.get("key") or {}
    lines = [
        str(body.get("opening") or ""),
        f"Run: {body['run_id']} ({body.get('playbook')}), status {body['status']}"
        + ("" if body.get("exit_code") is None else f", exit code {body['exit_code']}"),
    ]
    if body.get("moment") == "contained":
        lines.append("Containment holds; the run goes on (what the key did).")
    if key:
        lines.append("Key: " + ", ".join(f"{k} {v}" for k, v in key.items()))
    if body.get("contained_at"):
        lines.append(f"Contained at: {body['contained_at']}")
    if body.get("audit_head"):
        lines.append(f"Audit head: {body['audit_head']}")
    lines.append(f"Report: {body.get('report')}")
    text: str = SECRETS.redact("\n".join(line for line in lines if line))
    return text

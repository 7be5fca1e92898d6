"""`--notify jira`: the run's outcome as a Jira issue (or a comment on one), with report.md attached, through
Jira's REST API (version 2, which Jira Cloud and Data Center both serve and which takes plain-text fields):
`POST /rest/api/2/issue` (fields project.key, summary, description, issuetype.name) answers the new issue's `key`;
`POST /rest/api/2/issue/{key}/comment` (body); `POST /rest/api/2/issue/{key}/attachments`, multipart field
`file`, with the header `X-Atlassian-Token: no-check` that Jira requires there.

Everything comes from the environment: JIRA_URL (https, or http to loopback), JIRA_PROJECT, JIRA_TOKEN (an API
token: with JIRA_USER, basic auth as Jira Cloud wants; alone, a Data Center personal access token as Bearer),
JIRA_ISSUE (comment on this issue instead of making one), JIRA_ISSUE_TYPE (default Task). The token is a
secret: registered for redaction, never in an output. A retry never makes a second issue: what was done is kept.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from responder.engine.commands.notify_apprise import text_of
from responder.engine.commands.notify_http import TIMEOUT_SECONDS, https_or_loopback
from responder.errors import UserError
from responder.redaction import SECRETS

_ISSUE_KEY = re.compile(r"[A-Z][A-Z0-9_]{0,254}-\d{1,18}")
_PROJECT = re.compile(r"[A-Z][A-Z0-9_]{0,254}")


@dataclass
class JiraChannel:
    server: str
    project: str
    authorization: str
    issue: str | None = None  # the issue to comment on, or the one made by a first attempt
    issue_type: str = "Task"
    done: set[str] = field(default_factory=set)  # "issue" or "comment", "attachment": not sent twice
    attaches_report: ClassVar[bool] = True  # told once, when the run ends and its report is written

    @property
    def host(self) -> str:
        return f"jira {urlsplit(self.server).hostname}"

    def _call(self, path: str, data: bytes, content_type: str) -> tuple[int | None, Any, str | None]:
        headers = {
            "Authorization": self.authorization,
            "Content-Type": content_type,
            "Accept": "application/json",
            "User-Agent": "responder",
            "X-Atlassian-Token": "no-check",
        }
        request = urllib.request.Request(  # noqa: S310 (https, or http to loopback: checked when made)
            self.server.rstrip("/") + path, data=data, method="POST", headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310 (checked)
                raw = answer.read(1024 * 1024)
                return int(answer.status), json.loads(raw) if raw.strip() else None, None
        except urllib.error.HTTPError as exc:
            return exc.code, None, f"Jira answered HTTP {exc.code} to {path.split('/')[-1] or path}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            return None, None, SECRETS.redact(f"{type(reason).__name__}: {reason}")[:200]

    def send(self, body: dict[str, Any], report_md: Path) -> tuple[int | None, str | None]:
        text = text_of(body)
        status: int | None = None
        if self.issue is None:
            fields = {
                "project": {"key": self.project},
                "summary": f"responder: run {body['run_id']} {body['status']} ({body.get('playbook')})"[:250],
                "description": text,
                "issuetype": {"name": self.issue_type},
            }
            status, answer, error = self._call("/rest/api/2/issue", json.dumps({"fields": fields}).encode(), _JSON)
            if error is not None:
                return status, error
            key = answer.get("key") if isinstance(answer, dict) else None
            if not isinstance(key, str) or not _ISSUE_KEY.fullmatch(key):
                return status, "Jira made no issue key in its answer"
            self.issue = key
            self.done.add("issue")
        elif "issue" not in self.done and "comment" not in self.done:
            path = f"/rest/api/2/issue/{quote(self.issue)}/comment"
            status, _, error = self._call(path, json.dumps({"body": text}).encode(), _JSON)
            if error is not None:
                return status, error
            self.done.add("comment")
        if "attachment" not in self.done:
            boundary = secrets.token_hex(16)
            data = _multipart(boundary, "report.md", SECRETS.redact(report_md.read_text(encoding="utf-8")))
            path = f"/rest/api/2/issue/{quote(self.issue)}/attachments"
            status, _, error = self._call(path, data, f"multipart/form-data; boundary={boundary}")
            if error is not None:
                return status, error
            self.done.add("attachment")
        return status, None


_JSON = "application/json"


def _multipart(boundary: str, name: str, text: str) -> bytes:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: text/markdown; charset=utf-8\r\n\r\n"
    )
    return head.encode() + text.encode() + f"\r\n--{boundary}--\r\n".encode()


def jira_from_environment(environ: dict[str, str] | None = None) -> JiraChannel:
    env = dict(os.environ) if environ is None else environ
    server, project, token = env.get("JIRA_URL", ""), env.get("JIRA_PROJECT", ""), env.get("JIRA_TOKEN", "")
    if not (server and project and token):
        raise UserError("--notify jira needs JIRA_URL, JIRA_PROJECT and JIRA_TOKEN in the environment")
    SECRETS.register(token)
    if not https_or_loopback(server):
        raise UserError("--notify jira: JIRA_URL must be https (http only to a loopback address)")
    if not _PROJECT.fullmatch(project):
        raise UserError("--notify jira: JIRA_PROJECT is a project key (ABC)")
    issue = env.get("JIRA_ISSUE") or None
    if issue is not None and not _ISSUE_KEY.fullmatch(issue):
        raise UserError("--notify jira: JIRA_ISSUE is an issue key (ABC-123)")
    user = env.get("JIRA_USER")
    credential = base64.b64encode(f"{user}:{token}".encode()).decode() if user else None
    if credential is not None:
        SECRETS.register(credential)
    authorization = f"Basic {credential}" if credential is not None else f"Bearer {token}"
    return JiraChannel(server, project, authorization, issue, env.get("JIRA_ISSUE_TYPE") or "Task")

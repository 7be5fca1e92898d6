"""Tell people through the services they use: Apprise URLs (its own payloads, never hand-written) and a Jira issue
with report.md attached, each against a local HTTP server that records what it was sent and answers as the
service documents; the notify file; and the report naming who was told."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from responder.cli.main import app
from responder.engine.commands import notify
from responder.engine.commands.notify_jira import JiraChannel, jira_from_environment
from responder.errors import UserError
from responder.sandbox.seed import Seeded
from tests.factories import credential_status
from tests.test_secrets import everything_written, secret_forms

runner = CliRunner()
TOKEN = "jira-T0KEN-secret"


class Service:
    """A local service: each request recorded (path, headers, body); answers[path] is a list of (status, JSON)
    given in turn, the last repeating."""

    def __init__(self, answers: dict[str, list[tuple[int, Any]]]) -> None:
        self.answers, self.received = answers, []  # type: dict[str, list[tuple[int, Any]]], list[dict[str, Any]]
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                service.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
                turns = service.answers.get(self.path, [(404, None)])
                seen = sum(1 for r in service.received if r["path"] == self.path)
                status, answer = turns[min(seen, len(turns)) - 1]
                data = json.dumps(answer).encode() if answer is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notify, "RETRY_DELAYS", (0.0, 0.0))


def served(answers: dict[str, list[tuple[int, Any]]]) -> Iterator[Service]:
    made = Service(answers)
    yield made
    made.server.shutdown()


@pytest.fixture
def chat() -> Iterator[Service]:
    yield from served({"/notify/T0KEN": [(500, None), (200, {})]})


@pytest.fixture
def jira() -> Iterator[Service]:
    yield from served(
        {
            "/rest/api/2/issue": [
                (201, {"id": "10000", "key": "SEC-7", "self": "https://jira/rest/api/2/issue/10000"})
            ],
            "/rest/api/2/issue/SEC-7/attachments": [(503, None), (200, [{"filename": "report.md"}])],
            "/rest/api/2/issue/SEC-3/comment": [(201, {"id": "1"})],
            "/rest/api/2/issue/SEC-3/attachments": [(200, [{"filename": "report.md"}])],
        }
    )


def run(account: Seeded, tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> Any:
    key_file = tmp_path / "leaked.txt"
    key_file.write_text(account.key)
    key_file.chmod(0o600)
    args = ["run", "leaked-long-term-key", "--key-file", str(key_file), "--yes", "-o", "json"]
    return runner.invoke(app, [*args, "--runs-dir", str(tmp_path / "runs"), *extra], env=env)


def test_apprise_and_jira_are_told_retried_named_in_the_report_and_leak_nothing(
    account: Seeded, tmp_path: Path, chat: Service, jira: Service, no_backoff: None, iam: Any
) -> None:
    env = {"JIRA_URL": f"http://{jira.base}", "JIRA_PROJECT": "SEC", "JIRA_TOKEN": TOKEN, "JIRA_USER": "bot@x.io"}
    # Apprise's JSON service on loopback (json://, plain http, is refused anywhere else).
    done = run(account, tmp_path, "--notify", f"json://{chat.base}/notify/T0KEN", "--notify", "jira", env=env)
    assert done.exit_code == 0, done.stdout + done.stderr
    shown = json.loads(done.stdout)
    assert [(d["moment"], d["host"], d["delivered"], d["attempts"]) for d in shown["notifications"]] == [
        ("contained", "json (apprise)", True, 2),  # the ticket waits for the report: told once, at the end
        ("run ended", "json (apprise)", True, 1),
        ("run ended", "jira 127.0.0.1", True, 2),
    ]
    # Apprise's own JSON payload (its documented keys), with the run's words.
    sent = json.loads(chat.received[-1]["body"])
    assert {"version", "title", "message", "type"} <= set(sent) and sent["type"] == "success"
    assert shown["run_id"] in sent["title"] and "Contained at:" in sent["message"]
    # Jira: one issue (never a second on the retry), its fields as REST v2 wants them, report.md attached.
    paths = [r["path"] for r in jira.received]
    assert paths == ["/rest/api/2/issue", *["/rest/api/2/issue/SEC-7/attachments"] * 2]
    issue = json.loads(jira.received[0]["body"])["fields"]
    assert (issue["project"], issue["issuetype"]) == ({"key": "SEC"}, {"name": "Task"})
    assert shown["run_id"] in issue["summary"] and "Contained at:" in issue["description"]
    attached = jira.received[-1]
    assert attached["headers"]["X-Atlassian-Token"] == "no-check"
    assert attached["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="report.md"' in attached["body"] and b"| Key |" in attached["body"]
    assert attached["headers"]["Authorization"].startswith("Basic ")
    # The report names both deliveries.
    report_md = Path(shown["report"]).read_text()
    told = "json (apprise): told (contained); json (apprise): told (run ended); jira 127.0.0.1: told (run ended)"
    assert f"| Notifications | {told} |" in report_md
    assert credential_status(iam, account.user_name, account.credential_id) == "Inactive"
    everything = done.stdout + done.stderr + everything_written(tmp_path / "runs")
    everything += json.dumps([r["body"].decode() for r in chat.received + jira.received])
    for form in [*secret_forms(account.key), TOKEN, "T0KEN"]:
        assert form not in everything


def test_a_failing_service_never_changes_the_outcome_and_the_report_says_so(
    account: Seeded, tmp_path: Path, no_backoff: None, iam: Any
) -> None:
    down = Service({})  # every path answers 404: Jira refuses, and a refusal is not retried
    env = {"JIRA_URL": f"http://{down.base}", "JIRA_PROJECT": "SEC", "JIRA_TOKEN": TOKEN}
    try:
        done = run(account, tmp_path, "--notify", "jira", env=env)
    finally:
        down.server.shutdown()
    assert done.exit_code == 0, done.stdout + done.stderr
    [delivery] = json.loads(done.stdout)["notifications"]
    assert (delivery["delivered"], delivery["attempts"], delivery["status"]) == (False, 1, 404)
    assert down.received[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"  # a Data Center token, alone
    report_md = Path(json.loads(done.stdout)["report"]).read_text()
    assert "jira 127.0.0.1: NOT told (run ended): Jira answered HTTP 404 to issue after 1 attempt(s)" in report_md
    assert credential_status(iam, account.user_name, account.credential_id) == "Inactive"


def test_a_comment_on_the_named_issue_instead_of_a_new_one(jira: Service, tmp_path: Path) -> None:
    env = {"JIRA_URL": f"http://{jira.base}", "JIRA_PROJECT": "SEC", "JIRA_TOKEN": TOKEN, "JIRA_ISSUE": "SEC-3"}
    channel = jira_from_environment(env)
    report = tmp_path / "report.md"
    report.write_text("# report\n")
    body = {"run_id": "r1", "status": "completed", "exit_code": 0, "playbook": "p", "report": str(report)}
    assert channel.send(body, report) == (200, None)
    assert [r["path"] for r in jira.received] == [
        "/rest/api/2/issue/SEC-3/comment",
        "/rest/api/2/issue/SEC-3/attachments",
    ]
    assert "Run: r1 (p), status completed" in json.loads(jira.received[0]["body"])["body"]


@pytest.mark.parametrize(
    ("value", "env", "says"),
    [
        ("mailto://user:pass@mail.example.com", {}, "sent in the clear"),
        ("json://hooks.example.com/x", {}, "sent in the clear"),
        ("nosuch://x", {}, "a URL Apprise knows"),
        ("jira", {"JIRA_URL": "http://jira.example.com", "JIRA_PROJECT": "SEC", "JIRA_TOKEN": "t"}, "must be https"),
        ("jira", {"JIRA_URL": "https://jira.example.com"}, "needs JIRA_URL, JIRA_PROJECT and JIRA_TOKEN"),
    ],
)
def test_a_channel_that_would_leak_or_cannot_work_is_refused_before_the_run(
    value: str, env: dict[str, str], says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("JIRA_URL", "JIRA_PROJECT", "JIRA_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, v in env.items():
        monkeypatch.setenv(name, v)
    with pytest.raises(UserError, match=says):
        notify.webhooks([value])
    assert notify.webhooks(["mailtos://user:pass@mail.example.com", "slack://T000/B000/XXXXXXXX"])


def test_urls_from_the_notify_file_and_a_file_others_may_read_is_refused(
    account: Seeded, tmp_path: Path, chat: Service, no_backoff: None
) -> None:
    config = tmp_path / "notify"
    config.write_text(f"# the team's channel\n\njson://{chat.base}/notify/T0KEN\n")
    config.chmod(0o644)
    refused = run(account, tmp_path, env={"RESPONDER_NOTIFY_CONFIG": str(config)})
    assert refused.exit_code == 2 and "others may read it" in refused.stderr
    config.chmod(0o600)
    done = run(account, tmp_path, env={"RESPONDER_NOTIFY_CONFIG": str(config)})
    assert done.exit_code == 0, done.stdout + done.stderr
    assert [d["delivered"] for d in json.loads(done.stdout)["notifications"]] == [True, True]


def test_a_jira_retry_after_the_issue_was_made_only_attaches(jira: Service, tmp_path: Path) -> None:
    channel = JiraChannel(f"http://{jira.base}", "SEC", "Bearer x")
    report = tmp_path / "report.md"
    report.write_text("# report\n")
    body = {"run_id": "r1", "status": "failed", "exit_code": 1, "playbook": "p", "report": str(report)}
    assert channel.send(body, report) == (503, "Jira answered HTTP 503 to attachments")
    assert channel.send(body, report) == (200, None)
    assert [r["path"].rsplit("/", 1)[-1] for r in jira.received] == ["issue", "attachments", "attachments"]

"""`--notify URL`: the outcome posted to a webhook (a local HTTP server that records what it was sent), never a
secret, retried, recorded beside the journal, and never changing the run's outcome or exit code."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from responder.cli.main import app
from responder.engine.commands import notify
from responder.errors import UserError
from responder.sandbox.seed import Seeded
from tests.factories import credential_status
from tests.test_secrets import everything_written, secret_forms

runner = CliRunner()


class Hook:
    """A webhook on 127.0.0.1 answering each POST with the next status of `answers` (the last one repeats)."""

    def __init__(self, answers: list[int]) -> None:
        self.answers, self.received = answers, []  # type: list[int], list[dict[str, Any]]
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append({"type": self.headers["Content-Type"], "body": json.loads(body)})
                status = hook.answers[min(len(hook.received), len(hook.answers)) - 1]
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/T0KEN-in-the-path"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notify, "RETRY_DELAYS", (0.0, 0.0))


@pytest.fixture
def hook() -> Iterator[Hook]:
    made = Hook([503, 200])
    yield made
    made.server.shutdown()


def run(account: Seeded, tmp_path: Path, *extra: str) -> Any:
    key_file = tmp_path / "leaked.txt"
    key_file.write_text(account.key)
    key_file.chmod(0o600)
    args = ["run", "leaked-long-term-key", "--key-file", str(key_file), "--yes", "-o", "json"]
    return runner.invoke(app, [*args, "--runs-dir", str(tmp_path / "runs"), *extra])


def test_the_outcome_is_posted_once_retried_and_holds_no_secret(
    account: Seeded, tmp_path: Path, hook: Hook, no_backoff: None, iam: Any
) -> None:
    done = run(account, tmp_path, "--notify", hook.url)
    assert done.exit_code == 0, done.stdout + done.stderr
    shown = json.loads(done.stdout)
    told = {"host": "127.0.0.1", "delivered": True, "status": 200, "error": None}
    assert shown["notifications"] == [
        {**told, "moment": "contained", "attempts": 2},  # the moment containment held: the 503 was retried
        {**told, "moment": "run ended", "attempts": 1},
    ]
    assert len(hook.received) == 3 and hook.received[0] == hook.received[1]
    early = hook.received[0]["body"]
    assert (early["moment"], early["status"], early["key"]["fingerprint"]) == ("contained", "contained", body_fp(shown))
    # Sent after the last containment change AWS answered: it adds nothing to the time to containment.
    report = json.loads(Path(shown["report_json"]).read_text())
    assert datetime.fromisoformat(early["contained_at"]) >= datetime.fromisoformat(report["contained_at"])
    assert early["contained_steps"] == ["deactivate", "deny-bearer-tokens"]
    sent = hook.received[-1]
    assert sent["type"] == "application/json"
    body = sent["body"]
    assert (body["run_id"], body["status"], body["exit_code"]) == (shown["run_id"], "completed", 0)
    assert body["key"]["fingerprint"].startswith("sha256:") and body["audit_head"] == shown["audit_head"]
    assert body["playbook"] == "leaked-long-term-key" and body["contained_at"] is not None and body["opening"]
    assert credential_status(iam, account.user_name, account.credential_id) == "Inactive"
    everything = json.dumps(hook.received) + done.stdout + done.stderr + everything_written(tmp_path / "runs")
    for form in [*secret_forms(account.key), "T0KEN-in-the-path"]:
        assert form not in everything  # neither the key nor the webhook URL's token
    record = (Path(shown["report"]).parent / notify.NOTIFICATIONS_FILE).read_text()
    assert [(r["moment"], r["delivered"]) for r in map(json.loads, record.splitlines())] == [
        ("contained", True),
        ("run ended", True),
    ]


def body_fp(shown: dict[str, Any]) -> str:
    return str(json.loads(Path(shown["report_json"]).read_text())["key"]["fingerprint"])


def test_a_failed_notification_never_changes_the_outcome(
    account: Seeded, tmp_path: Path, no_backoff: None, iam: Any
) -> None:
    failing = Hook([500])
    try:
        done = run(account, tmp_path, "--notify", failing.url)
    finally:
        failing.server.shutdown()
    assert done.exit_code == 0, done.stdout + done.stderr
    deliveries = json.loads(done.stdout)["notifications"]
    assert [(d["moment"], d["delivered"], d["attempts"], d["status"]) for d in deliveries] == [
        ("contained", False, 3, 500),
        ("run ended", False, 3, 500),
    ]
    assert len(failing.received) == 6
    assert credential_status(iam, account.user_name, account.credential_id) == "Inactive"


@pytest.mark.parametrize(
    "url", ["http://hooks.example.com/x", "ftp://127.0.0.1/x", "https:///nohost", "file:///etc/passwd", "127.0.0.1"]
)
def test_a_webhook_that_is_not_https_or_loopback_is_refused_before_anything_runs(
    account: Seeded, tmp_path: Path, url: str, iam: Any
) -> None:
    with pytest.raises(UserError):
        notify.webhooks([url])
    done = run(account, tmp_path, "--notify", url)
    assert done.exit_code == 2 and len(done.stderr.strip().splitlines()) == 1
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"
    assert notify.webhooks(["https://hooks.example.com/x", "http://[::1]:8080/x", "http://localhost/x"])

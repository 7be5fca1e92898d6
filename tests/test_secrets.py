"""The leaked secret never reaches any output: stdout, stderr, audit logs, reports, exception text."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from responder.aws.clients import Clients
from responder.cli.main import app
from responder.sandbox.seed import Seeded

runner = CliRunner()


def secret_forms(key: str) -> list[str]:
    """The key and every part of it that is secret: what must never appear anywhere."""
    text = base64.b64decode(key[4:] + "=" * (-len(key[4:]) % 4)).decode()
    secret = text.partition(":")[2]
    return [key, key[4:], key[-24:], text, secret, secret[-16:]]


def everything_written(runs: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in runs.rglob("*") if p.is_file())


def echo_key_on(operation: str, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An AWS error whose message quotes the key, as a careless service or proxy might."""
    original = Clients.__init__

    def init(self: Clients, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)

        def fail(model: Any, **_: Any) -> None:
            if model.name == operation:
                raise ClientError({"Error": {"Code": "InternalFailure", "Message": f"bad token {key}"}}, operation)

        self.on_request(fail)

    monkeypatch.setattr(Clients, "__init__", init)


def run_everything(account: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    key_file = tmp_path / "leaked.txt"
    key_file.write_text(account.key)
    runs = ["--runs-dir", str(tmp_path / "runs")]
    outputs: list[str] = []

    def cli(*args: str) -> Any:
        result = runner.invoke(app, [*args])
        outputs.append(result.stdout + result.stderr + repr(result.exception))
        return result

    book = ["leaked-long-term-key", "--key-file", str(key_file)]
    cli("run", *book, "--dry-run", *runs)
    cli("run", *book, "--dry-run", "-o", "json", *runs)
    done = json.loads(cli("run", *book, "--yes", "-o", "json", *runs).stdout)
    cli("runs", *runs)
    cli("report", done["run_id"], *runs)
    cli("report", done["run_id"], "--format", "json", *runs)
    cli("audit", "verify", done["run_id"], *runs)
    cli("rollback", done["run_id"], *runs)
    cli("rollback", done["run_id"], "--reactivate-keys", "-o", "json", *runs)
    cli("run", *book, "-p", "user_name=bad name", "--dry-run", *runs)
    cli("--debug", "run", "leaked-long-term-key", "--key-file", "-", "-p", f"credential_id={account.key}", *runs)
    with monkeypatch.context() as patch:
        echo_key_on("PutUserPolicy", account.key, patch)
        failed = cli("--debug", "run", *book, "--yes", *runs)
        assert failed.exit_code == 1
    return "\n".join(outputs) + everything_written(tmp_path / "runs")


def test_no_output_or_file_contains_the_secret(
    account: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = run_everything(account, tmp_path, monkeypatch)
    assert "bad token [REDACTED]" in seen or "bad token ABSK[REDACTED]" in seen  # the echo happened and was caught
    for form in secret_forms(account.key):
        at = seen.find(form)
        assert at < 0, f"secret form {form!r} leaked here: {seen[max(0, at - 200) : at + 50]!r}"


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(secret=st.text(alphabet=st.characters(codec="ascii", categories=["L", "N"]), min_size=20, max_size=60))
def test_keys_never_echo_in_errors(secret: str, tmp_path: Path) -> None:
    """Any key, valid-looking or not, in a key file or on stdin: the error never repeats it."""
    for key in ("ABSK" + base64.b64encode(f"u-at-12345:{secret}".encode()).decode(), "ABSK" + secret, secret):
        path = tmp_path / "k.txt"
        path.write_text(key)
        result = runner.invoke(app, ["run", "leaked-long-term-key", "--key-file", str(path), "--dry-run"])
        assert result.exit_code == 2
        assert secret not in result.stdout + result.stderr


def short_term_secret_forms(token: str) -> list[str]:
    from urllib.parse import parse_qs, quote

    body = token[len("bedrock-api-key-") :]
    url = base64.b64decode(body + "=" * (-len(body) % 4)).decode()
    params = {k: v[0] for k, v in parse_qs(url.partition("?")[2]).items()}
    signature, session = params["X-Amz-Signature"], params["X-Amz-Security-Token"]
    return [token, body, url, signature, session, quote(session, safe=""), signature[:24]]


def test_short_term_signature_and_session_token_never_appear(
    short_account: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "short.txt"
    key_file.write_text(short_account.key)
    runs = ["--runs-dir", str(tmp_path / "runs")]
    outputs, results = [], []
    for args in (
        ["identify", str(key_file)],
        ["identify", str(key_file), "-o", "json"],
        ["run", "leaked-short-term-key", "--key-file", str(key_file), "--dry-run", *runs],
        ["run", "leaked-long-term-key", "--key-file", str(key_file), "--dry-run", *runs],
        ["--debug", "run", "leaked-short-term-key", "--key-file", str(key_file), "--yes", "-o", "json", *runs],
    ):
        result = runner.invoke(app, args)
        results.append(result)
        outputs.append(result.stdout + result.stderr + repr(result.exception))
    run_id = json.loads(results[-1].stdout)["run_id"]
    result = runner.invoke(app, ["rollback", run_id, *runs])
    outputs.append(result.stdout + result.stderr)
    seen = "\n".join(outputs) + everything_written(tmp_path / "runs")
    assert "leaked-short-term-key" in seen and "bedrock-chat-app" in seen  # the runs did happen
    for form in short_term_secret_forms(short_account.key):
        at = seen.find(form)
        assert at < 0, f"secret form {form[:12]!r}... leaked here: {seen[max(0, at - 200) : at]!r}"

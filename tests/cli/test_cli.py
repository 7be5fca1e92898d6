"""The CLI in-process (typer.testing) against the in-process emulator: options, output shapes, exit codes."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from responder.cli.main import app
from responder.engine.journal.run_state import load_run
from responder.errors import EXIT_CANCELLED
from responder.sandbox.seed import Seeded
from tests.factories import credential_status, make_key
from tests.oracle import check_claims

runner = CliRunner()


@pytest.fixture
def key_file(account: Seeded, tmp_path: Path) -> Path:
    path = tmp_path / "leaked.txt"
    path.write_text(account.key + "\n")
    return path


def invoke(*args: str, runs: Path | None = None, stdin: str | None = None) -> Any:
    extra = ["--runs-dir", str(runs)] if runs is not None else []
    return runner.invoke(app, [*args, *extra], input=stdin)


def one_line_error(result: Any) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output + result.stderr
    return str(lines[0])


def test_list_show_schema_actions() -> None:
    assert "leaked-long-term-key" in invoke("list").stdout
    shown = invoke("show", "leaked-long-term-key").stdout
    assert "IRREVERSIBLE" in shown and "iam:UpdateServiceSpecificCredential" in shown
    assert "sts:GetCallerIdentity" in shown
    assert json.loads(invoke("schema").stdout)["title"] == "Playbook"
    assert "iam.deny-bearer-tokens-for-user (reversible)" in invoke("actions").stdout


def test_every_command_has_help_with_an_example() -> None:
    for command in (
        ["list"],
        ["show"],
        ["validate"],
        ["schema"],
        ["run"],
        ["resume"],
        ["rollback"],
        ["runs"],
        ["report"],
        ["audit", "verify"],
        ["rehearse"],
        ["sandbox", "serve"],
        ["actions"],
    ):
        result = invoke(*command, "--help")
        assert result.exit_code == 0 and "Example:" in result.stdout, command


def test_validate_reports_every_problem_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ndescription: d\nsteps:\n  - id: a\n    action: nope\n  - id: a\n    action: nope\n")
    result = invoke("validate", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:5: unknown action 'nope'" in result.stderr
    assert f"{bad}:6: duplicate step id 'a'" in result.stderr
    assert invoke("validate", "playbooks/leaked-long-term-key.yaml").exit_code == 0


def test_dry_run_json_is_one_object(account: Seeded, key_file: Path, tmp_path: Path, iam: Any) -> None:
    result = invoke(
        "run", "leaked-long-term-key", "--key-file", str(key_file), "--dry-run", "-o", "json", runs=tmp_path / "runs"
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)  # exactly one object: json.loads fails on anything more
    assert out["status"] == "planned" and Path(out["report"]).is_file() and Path(out["audit_log"]).is_file()
    assert [s["id"] for s in out["steps"]] == [
        "resolve",
        "deactivate",
        "deny-bearer-tokens",
        "delete",
        "footholds",
        "policies",
        "credentials",
        "logging",
        "jobs",
        "stop",
        "throughput",
        "quarantine",
        "investigate",
    ]
    assert {"id", "action", "status"} <= set(out["steps"][0])
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"


def test_run_rollback_report_runs_and_audit(account: Seeded, key_file: Path, tmp_path: Path, iam: Any) -> None:
    runs = tmp_path / "runs"
    result = invoke("run", "leaked-long-term-key", "--key-file", str(key_file), "--yes", "-o", "json", runs=runs)
    assert result.exit_code == 0, result.output
    run_id = json.loads(result.stdout)["run_id"]
    assert credential_status(iam, account.user_name, account.credential_id) == "Inactive"
    assert run_id in invoke("runs", runs=runs).stdout
    report = json.loads(invoke("report", run_id[:12], "--format", "json", runs=runs).stdout)
    assert report["status"] == "completed"
    assert "# Leaked Bedrock API key response" in invoke("report", run_id, runs=runs).stdout
    assert "chain intact" in invoke("audit", "verify", run_id, runs=runs).stdout
    back = invoke("rollback", run_id, "--reactivate-keys", "-o", "json", runs=runs)
    assert back.exit_code == 0 and json.loads(back.stdout)["status"] == "rolled-back"
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"


def test_key_from_stdin(account: Seeded, tmp_path: Path) -> None:
    result = invoke("run", "leaked-long-term-key", "--key-file", "-", "--dry-run", runs=tmp_path, stdin=account.key)
    assert result.exit_code == 0 and "PLANNED" in result.stdout


def test_prompt_declined_changes_nothing(
    account: Seeded, key_file: Path, tmp_path: Path, iam: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("responder.cli.run.interactive", lambda: True)
    result = invoke("run", "leaked-long-term-key", "--key-file", str(key_file), runs=tmp_path, stdin="n\n")
    assert result.exit_code == EXIT_CANCELLED and "CANCELLED" in result.stderr
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"
    result = invoke("run", "leaked-long-term-key", "--key-file", str(key_file), runs=tmp_path, stdin="y\n")
    assert result.exit_code == 0 and "COMPLETED" in result.stdout


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["sigterm", "sighup"])
def test_a_signal_at_the_prompt_cancels_the_run(
    account: Seeded, key_file: Path, tmp_path: Path, iam: Any, monkeypatch: pytest.MonkeyPatch, signum: int
) -> None:
    """SIGTERM, or SIGHUP when the terminal closes, at "Apply these changes?": exit 4, `cancelled`, nothing changed,
    and resume without --yes does not apply it."""
    monkeypatch.setattr("responder.cli.run.interactive", lambda: True)

    def signalled(*args: Any, **kwargs: Any) -> bool:
        os.kill(os.getpid(), signum)
        time.sleep(5)  # the handler interrupts this
        raise AssertionError("the signal did not interrupt the prompt")

    monkeypatch.setattr("typer.confirm", signalled)
    result = invoke("run", "leaked-long-term-key", "--key-file", str(key_file), runs=tmp_path)
    assert result.exit_code == EXIT_CANCELLED, result.output
    (run_dir,) = [d for d in tmp_path.iterdir() if (d / "audit.jsonl").exists()]
    assert load_run(run_dir / "audit.jsonl").status == "cancelled"
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"
    check_claims(iam, run_dir, terminal=result.output)
    assert signal.getsignal(signum) in (signal.SIG_DFL, signal.default_int_handler)  # the handler is put back


@pytest.mark.parametrize("answer", ["", "\x03"], ids=["ctrl-d", "ctrl-c"])
def test_an_aborted_prompt_is_a_no_that_resume_never_applies(
    account: Seeded, key_file: Path, tmp_path: Path, iam: Any, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    """Ctrl-D (end of input) or Ctrl-C at the prompt: one line, the run `cancelled`, and resume refuses it."""
    monkeypatch.setattr("responder.cli.run.interactive", lambda: True)
    if answer == "\x03":
        monkeypatch.setattr("typer.confirm", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    result = invoke("run", "leaked-long-term-key", "--key-file", str(key_file), runs=tmp_path, stdin=answer)
    assert result.exit_code == EXIT_CANCELLED, result.stderr
    assert "Traceback" not in result.stderr + result.stdout and "Abort" not in result.stderr
    (run_dir,) = [d for d in tmp_path.iterdir() if (d / "audit.jsonl").exists()]
    assert load_run(run_dir / "audit.jsonl").status == "cancelled"
    again = invoke("resume", run_dir.name, runs=tmp_path)
    assert again.exit_code == 2 and "cancelled" in again.stderr
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"


def test_json_output_is_one_object_even_when_the_command_fails(tmp_path: Path) -> None:
    for args in (["resume", "20991231T000000Z-abcdef"], ["run", "no-such-playbook", "--dry-run"]):
        result = invoke(*args, "-o", "json", runs=tmp_path)
        out = json.loads(result.stdout)
        assert result.exit_code == 2 and out["exit_code"] == 2 and out["status"] == "rejected" and out["error"]


def test_delete_asks_to_type_delete(
    account: Seeded, key_file: Path, tmp_path: Path, iam: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("responder.cli.run.interactive", lambda: True)
    args = ("run", "leaked-long-term-key", "--key-file", str(key_file), "-p", "delete_key=true")
    assert invoke(*args, runs=tmp_path, stdin="y\nyes\n").exit_code == EXIT_CANCELLED  # "yes" is not "delete"
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"
    assert invoke(*args, runs=tmp_path, stdin="y\ndelete\n").exit_code == 0
    assert credential_status(iam, account.user_name, account.credential_id) == "missing"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "leaked-long-term-key", "--key-file", "KEY"], "refusing to prompt without a terminal"),
        (["run", "leaked-long-term-key", "--key-file", "missing.txt", "--dry-run"], "no such key file"),
        (["run", "leaked-long-term-key", "--key-file", "BADKEY", "--dry-run"], "not an AWS API key of a family"),
        (["run", "leaked-long-term-key", "--key-file", "OTHERKEY", "--dry-run"], "belongs to account 999999999999"),
        (["run", "leaked-long-term-key", "-p", "user_name=bad name!", "--dry-run"], "does not match"),
        (["run", "leaked-long-term-key", "-p", "user_name=nobody", "--dry-run"], "does not exist"),
        (["run", "leaked-long-term-key", "-p", "nonsense", "--dry-run"], "NAME=VALUE"),
        (["run", "leaked-long-term-key", "-p", "key=ABSKxyz", "--dry-run"], "--key-file"),
        (["run", "leaked-long-term-key", "--dry-run"], "give the leaked key"),
        (["run", "no-such-playbook", "--dry-run"], "no playbook named"),
        (["run", "leaked-long-term-key", "--dry-run", "-o", "yaml"], "--output must be one of"),
        (["rollback", "20990101T000000Z-000000"], "no run"),
        (["resume", "../etc"], "is not a run id"),
        (["report", "nope", "--format", "pdf"], "--format must be one of: markdown, json"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    account: Seeded, key_file: Path, tmp_path: Path, iam: Any, args: list[str], message: str
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("AKIAIOSFODNN7EXAMPLE")
    other = tmp_path / "other.txt"
    other.write_text(make_key("alice-at-999999999999"))
    files = {"KEY": str(key_file), "BADKEY": str(bad), "OTHERKEY": str(other), "missing.txt": str(tmp_path / "no")}
    result = invoke(*[files.get(a, a) for a in args], runs=tmp_path / "runs")
    assert result.exit_code == 2, result.output
    assert message in one_line_error(result)
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"


def test_no_credentials_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = invoke("run", "leaked-long-term-key", "-p", "user_name=alice", "--dry-run", runs=tmp_path)
    assert result.exit_code == 2 and "no AWS credentials" in one_line_error(result)


@pytest.mark.parametrize("playbook", ["leaked-long-term-key", "leaked-short-term-key"])
def test_rehearse_passes_every_check(playbook: str, tmp_path: Path) -> None:
    result = invoke("rehearse", playbook, runs=tmp_path)
    assert result.exit_code == 0, result.output
    assert "[FAILED]" not in result.stdout and "rehearsal passed" in result.stdout
    assert "## What the key did" in result.stdout and "203.0.113.77" in result.stdout


def test_rehearse_many_keys(tmp_path: Path) -> None:
    result = invoke("rehearse", "contain-bedrock-keys", runs=tmp_path)
    assert result.exit_code == 0, result.output
    assert "[FAILED]" not in result.stdout and "one step group per selected key (3 of 3)" in result.stdout
    assert "deactivate[ci-build/ACCA" in result.stdout


def test_rehearse_a_playbook_without_a_rehearsal(tmp_path: Path) -> None:
    result = invoke("rehearse", "bedrock-key-guardrails", runs=tmp_path)
    assert result.exit_code == 2 and "no rehearsal for 'bedrock-key-guardrails'" in one_line_error(result)

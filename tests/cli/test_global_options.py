"""Global options before or after the command's name, as with the AWS CLI; the one given after wins."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from responder.cli.errors import DEBUG
from responder.cli.main import app
from responder.engine.journal.run_state import load_run
from responder.sandbox.seed import Seeded

runner = CliRunner()


def invoke(*args: str, stdin: str | None = None) -> Any:
    return runner.invoke(app, list(args), input=stdin)


@pytest.fixture
def two_runs_dirs(account: Seeded, tmp_path: Path) -> tuple[Path, Path, str]:
    """Runs dir A holds one dry run, B none."""
    key = tmp_path / "leaked.txt"
    key.write_text(account.key)
    a, b = tmp_path / "a", tmp_path / "b"
    done = invoke(
        "run", "leaked-long-term-key", "--key-file", str(key), "--dry-run", "-o", "json", "--runs-dir", str(a)
    )
    assert done.exit_code == 0, done.output
    return a, b, json.loads(done.stdout)["run_id"]


def run_ids(result: Any) -> list[str]:
    assert result.exit_code == 0, result.output
    return [run["run_id"] for run in json.loads(result.stdout)]


def test_runs_dir_and_output_before_or_after(two_runs_dirs: tuple[Path, Path, str]) -> None:
    a, b, run_id = two_runs_dirs
    assert run_ids(invoke("--runs-dir", str(a), "-o", "json", "runs")) == [run_id]
    assert run_ids(invoke("runs", "--runs-dir", str(a), "-o", "json")) == [run_id]
    assert run_ids(invoke("--runs-dir", str(a), "runs", "--runs-dir", str(b), "-o", "json")) == []  # after wins
    assert run_ids(invoke("--query", "[]", "--runs-dir", str(b), "runs")) == []


def test_profile_before_or_after_reaches_aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    (tmp_path / "config").write_text("[default]\nregion = us-east-1\n")
    before = invoke("--profile", "no-such-profile", "sweep")
    after = invoke("sweep", "--profile", "no-such-profile")
    for result in (before, after):
        assert result.exit_code == 2 and "no-such-profile" in result.stderr, result.output
    assert invoke("--profile", "no-such-profile", "list").exit_code == 0  # accepted where it is not used


def test_endpoint_url_before_or_after_is_used() -> None:
    for args in (["--endpoint-url", "not-a-url", "sweep"], ["sweep", "--endpoint-url", "not-a-url"]):
        result = invoke(*args)  # botocore refuses it before any request: which shows it reached the client
        assert result.exit_code != 0 and "Invalid endpoint: not-a-url" in result.stderr, result.output


def test_debug_before_or_after(account: Seeded, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    for args in (["--debug", "run", str(bad), "--dry-run"], ["run", str(bad), "--dry-run", "--debug"]):
        DEBUG["enabled"] = False
        invoke(*args, "--runs-dir", str(tmp_path))
        assert DEBUG["enabled"], args
    invoke("list")
    assert not DEBUG["enabled"]  # each invocation starts without it


def test_region_given_before_is_what_the_run_records(account: Seeded, tmp_path: Path) -> None:
    key = tmp_path / "leaked.txt"
    key.write_text(account.key)
    args = ["run", "leaked-long-term-key", "--key-file", str(key), "--dry-run", "-o", "json"]
    done = invoke("--region", "eu-west-1", "--runs-dir", str(tmp_path), *args)
    assert done.exit_code == 0, done.output
    started = load_run(Path(json.loads(done.stdout)["audit_log"])).started
    assert started.region == "eu-west-1"

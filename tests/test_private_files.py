"""Files private by default: a run's directory 0700 and every file in it 0600 whatever the umask; a key file others
can read gets a `chmod 600` note; a bare secret pasted into a -p value is never echoed back."""

from __future__ import annotations

import os
import shlex
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from responder.cli.main import app
from responder.engine.commands.investigation import investigate_run
from responder.engine.commands.operations import start_run
from responder.engine.running.context import Settings
from responder.sandbox.seed import Seeded
from tests.factories import SECRET_PART, make_key

runner = CliRunner()


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_a_run_directory_and_its_files_are_private_whatever_the_umask(
    account: Seeded, settings: Settings, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.json"
    start_run("leaked-long-term-key", {}, account.key, dry_run=True, confirm=None, settings=settings, save_plan=plan)
    run = start_run("leaked-long-term-key", {}, account.key, dry_run=False, confirm=None, settings=settings)
    (run.paths.report_json).chmod(0o644)  # copied around, say: the next rewrite makes it private again
    investigate_run(run.run_id, settings)
    directory = run.paths.directory
    files = sorted(p.name for p in directory.iterdir())
    assert {"audit.jsonl", "report.md", "report.json", "events.jsonl"} <= set(files)
    assert mode(directory) == 0o700
    assert {name: mode(directory / name) for name in files} == dict.fromkeys(files, 0o600)
    assert mode(plan) == 0o600


def test_a_key_file_others_can_read_gets_a_chmod_note(account: Seeded, tmp_path: Path) -> None:
    key_file = tmp_path / "leaked.txt"
    key_file.write_text(account.key)
    key_file.chmod(0o644)
    result = runner.invoke(app, ["identify", str(key_file), "--offline"])
    assert result.exit_code == 0, result.output
    assert f"can be read by group or others (mode 644): `chmod 600 {key_file}`" in result.stderr
    key_file.chmod(0o600)
    assert "chmod" not in runner.invoke(app, ["identify", str(key_file), "--offline"]).stderr


def test_the_chmod_note_quotes_a_path_a_shell_would_run(account: Seeded, tmp_path: Path) -> None:
    key_file = tmp_path / "my key $(touch pwned).txt"
    key_file.write_text(account.key)
    key_file.chmod(0o644)
    result = runner.invoke(app, ["identify", str(key_file), "--offline"])
    assert result.exit_code == 0, result.output
    assert f"`chmod 600 {shlex.quote(str(key_file))}`" in result.stderr


@pytest.mark.parametrize("name", ["user_name", "max_events", "regions", "credential_id"])
def test_a_bare_secret_pasted_into_a_parameter_is_not_echoed(tmp_path: Path, name: str) -> None:
    key_file = tmp_path / "k.txt"
    key_file.write_text(make_key("alice-at-123456789012"))
    args = ["run", "leaked-long-term-key", "--key-file", str(key_file), "--dry-run", "-p", f"{name}={SECRET_PART}"]
    result = runner.invoke(app, [*args, "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 2, result.output
    assert SECRET_PART not in result.output and SECRET_PART[:24] not in result.output
    assert "[REDACTED]" in result.stderr

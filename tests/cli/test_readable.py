"""Readable text: tables sized to their data, help not cut, readable metavars, `show` without `(default )`, the
command that applies a dry run, and `runs` with --status, --limit and rejected runs apart."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from responder.cli.main import app
from responder.cli.table import aligned
from responder.sandbox.seed import Seeded
from responder.sandbox.service_credentials import create_credential
from tests.cli.test_output import walk
from tests.factories import ACCOUNT, make_key

runner = CliRunner()
LONGEST_IAM_NAME = "u" * 60 + "-end"  # IAM user names reach 64 characters


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_aligned_sizes_each_column_to_its_widest_cell() -> None:
    lines = aligned(("A", "NAME", "N"), [("x", LONGEST_IAM_NAME, "1"), ("yy", "b", "10")], right=frozenset({2}))
    assert lines[0].index("NAME") == lines[1].index(LONGEST_IAM_NAME) == lines[2].index("b")
    assert lines[1].endswith(" 1") and lines[2].endswith("10")  # right-aligned, the same end


def test_sweep_table_keeps_its_columns_with_a_64_character_user(account: Seeded, iam: Any) -> None:
    iam.create_user(UserName=LONGEST_IAM_NAME)
    credential = create_credential(ACCOUNT, LONGEST_IAM_NAME)["ServiceSpecificCredentialId"]
    result = invoke("sweep")
    assert result.exit_code == 0, result.output
    header, *rows = [line for line in result.stdout.splitlines() if line.startswith(("ACCOUNT", ACCOUNT))]
    long_row = next(row for row in rows if LONGEST_IAM_NAME in row)
    assert long_row.index(credential) == header.index("CREDENTIAL")
    assert all(row.index("ACCA") == header.index("CREDENTIAL") for row in rows)


def test_top_level_help_is_not_cut() -> None:
    shown = subprocess_help()
    assert "…" not in shown and "..." not in shown.split("Commands:")[1]
    assert "(never-expires, older-than-N," in shown  # sweep's whole first paragraph


def test_every_option_has_a_readable_metavar() -> None:
    """Each option taking a value names it (FILE, DAYS, OU_ID), where typer would print `<list[Path]>`."""
    for path, command in walk(typer.main.get_command(app)):
        for param in command.params:
            if not getattr(param, "is_flag", False) and not getattr(param, "count", False):
                assert param.metavar and re.fullmatch(r"[A-Z_.,|=a-z0-9]+", param.metavar), (path, param.name)
    assert "--older-than DAYS" in subprocess_help("sweep")


def subprocess_help(*args: str) -> str:
    """Help as an operator sees it (plain, without the rich tables tests get when rich is importable)."""
    import subprocess

    return subprocess.run(["responder", *args, "--help"], capture_output=True, text=True, check=True).stdout


def test_show_says_optional_or_required_never_an_empty_default() -> None:
    for name in json.loads(invoke("list", "--query", "[].name").stdout):
        shown = invoke("show", name).stdout
        assert "(default )" not in shown and "<string>" not in shown, name
    assert "-p delete_key=BOOLEAN (default false)" in invoke("show", "leaked-long-term-key").stdout


def test_plan_and_apply_sit_under_their_own_titles(account: Seeded, tmp_path: Path) -> None:
    key = tmp_path / "leaked.txt"
    key.write_text(account.key)
    shown = invoke("run", "leaked-long-term-key", "--key-file", str(key), "--yes", "--runs-dir", str(tmp_path)).stdout
    assert shown.index("Plan (nothing changed yet):") < shown.index("plan      ") < shown.index("Apply:")
    assert shown.index("Apply:") < shown.index("applying  ")


def test_a_dry_run_prints_the_exact_command_that_applies_it(account: Seeded, iam: Any, tmp_path: Path) -> None:
    key = tmp_path / "leaked.txt"
    key.write_text(account.key)
    runs = str(tmp_path / "runs")
    planned = invoke("run", "leaked-long-term-key", "--key-file", str(key), "--dry-run", "--runs-dir", runs)
    assert planned.exit_code == 0, planned.output
    line = next(line for line in planned.stdout.splitlines() if line.startswith("apply it: "))
    words = shlex.split(line.removeprefix("apply it: "))
    assert words[:3] == ["responder", "run", "leaked-long-term-key"] and "--dry-run" not in words
    assert words[words.index("--key-file") + 1] == str(key) and words[words.index("--runs-dir") + 1] == runs
    as_json = invoke(
        "run", "leaked-long-term-key", "--key-file", str(key), "--dry-run", "--runs-dir", runs, "-o", "json"
    )
    again = shlex.split(json.loads(as_json.stdout)["apply_command"])
    del again[again.index("--output") : again.index("--output") + 2]
    assert again == words  # the same command, with its -o json
    applied = invoke(*words[1:], "--yes", "-o", "json")  # the printed command asks first: --yes is the answer
    assert applied.exit_code == 0 and json.loads(applied.stdout)["status"] == "completed"


def test_runs_filters_limits_and_sets_rejected_runs_apart(account: Seeded, tmp_path: Path) -> None:
    key, other = tmp_path / "leaked.txt", tmp_path / "other.txt"
    key.write_text(account.key)
    other.write_text(make_key("alice-at-999999999999"))  # another account's key: rejected, recorded
    runs = ["--runs-dir", str(tmp_path / "runs")]
    dry = ["run", "leaked-long-term-key", "--dry-run", "-o", "json", *runs]
    first = json.loads(invoke(*dry, "--key-file", str(key)).stdout)["run_id"]
    rejected = json.loads(invoke(*dry, "--key-file", str(other)).stdout)["run_id"]
    last = json.loads(invoke(*dry, "--key-file", str(key)).stdout)["run_id"]
    assert rejected is not None

    def ids(*args: str) -> list[str]:
        return json.loads(invoke("runs", *runs, "--query", "[].run_id", *args).stdout)

    assert ids() == [first, rejected, last]
    assert ids("--status", "rejected") == [rejected]
    assert ids("--limit", "1") == [last]
    status = json.loads(invoke("runs", *runs, "-o", "json").stdout)[-1]["status"]
    assert ids("--status", status, "--limit", "1") == [last]
    text = invoke("runs", *runs).stdout
    head, apart = text.split("rejected (bad input, nothing was changed):")
    assert first in head and last in head and rejected not in head and rejected in apart
    assert invoke("runs", *runs, "--limit", "0").exit_code == 2

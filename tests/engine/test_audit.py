"""The audit log: hash chain, tamper detection, torn records, and the structlog pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from responder.cli.main import app
from responder.engine.journal.audit import read_records, verify_chain
from responder.engine.journal.run_state import load_run
from responder.engine.journal.writer import Journal
from responder.redaction import SECRETS


def write_log(path: Path, n: int = 5) -> list[str]:
    with Journal(path, "run-1") as journal:
        journal.record("run.started", playbook="p", steps=[])
        for i in range(n - 1):
            journal.record("step.read", step="s", outputs={"i": i})
    return path.read_text().splitlines()


def test_records_are_chained(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    lines = write_log(path)
    records = [json.loads(line) for line in lines]
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5]
    assert all(records[i + 1]["prev"] == records[i]["hash"] for i in range(len(records) - 1))
    assert all(r["run_id"] == "run-1" and r["ts"] for r in records)
    assert verify_chain(path).ok


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (lambda lines: [lines[0], lines[1].replace('"i": 0', '"i": 9'), *lines[2:]], "edited"),
        (lambda lines: [lines[0], *lines[2:]], "removed or reordered"),
        (lambda lines: [lines[0], lines[2], lines[1], *lines[3:]], "removed or reordered"),
        (lambda lines: lines[1:], "removed or reordered"),
    ],
)
def test_tampering_is_detected(tmp_path: Path, tamper: object, problem: str) -> None:
    path = tmp_path / "audit.jsonl"
    lines = write_log(path)
    path.write_text("\n".join(tamper(lines)) + "\n")  # type: ignore[operator]
    result = verify_chain(path)
    assert not result.ok and any(problem in p for p in result.problems)


def test_truncated_tail_is_detected_against_the_recorded_head(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    lines = write_log(path)
    head = json.loads(lines[-1])["hash"]
    path.write_text("\n".join(lines[:-1]) + "\n")
    assert verify_chain(path).ok  # the chain alone cannot see a cut tail
    assert not verify_chain(path, expected_head=head).ok


def test_audit_verify_command(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    lines = write_log(path)
    runner = CliRunner()
    assert runner.invoke(app, ["audit", "verify", str(path)]).exit_code == 0
    (tmp_path / "report.json").write_text(json.dumps({"audit_head": json.loads(lines[-1])["hash"]}))
    path.write_text("\n".join(lines[:-1]) + "\n")
    result = runner.invoke(app, ["audit", "verify", str(path)])
    assert result.exit_code == 1 and "truncated" in result.stderr


def test_a_torn_last_line_is_skipped_and_cut_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path, 3)
    with path.open("a") as stream:
        stream.write('{"event": "step.appl')  # the process died mid-write
    records, warnings = read_records(path)
    assert len(records) == 3 and "torn" in warnings[0]
    with Journal(path, "run-1") as journal:
        journal.record("run.resumed")
    assert verify_chain(path).ok and verify_chain(path).records == 4


def test_secrets_are_redacted_before_hashing(tmp_path: Path) -> None:
    SECRETS.register("SuperSecretValue-1234567890")
    path = tmp_path / "audit.jsonl"
    with Journal(path, "run-1") as journal:
        journal.record("run.started", steps=[], note="leaked SuperSecretValue-1234567890 here")
    assert "SuperSecretValue" not in path.read_text()
    assert verify_chain(path).ok
    assert load_run(path).started.extra["note"] == "leaked [REDACTED] here"

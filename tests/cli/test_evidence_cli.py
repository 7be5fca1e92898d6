"""The evidence commands as an operator types them: the head hash, `audit verify --head`, `investigate`,
`report --format asff`, `--to-security-hub`, `--timeline`, and the plan's policy diff."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from responder.cli.main import app
from responder.engine.journal.audit import record_hash
from responder.sandbox.seed import SANDBOX_REGION, Seeded

runner = CliRunner()


def cli(*args: str) -> Any:
    return runner.invoke(app, list(args))


def _run(account: Seeded, tmp_path: Path, *extra: str) -> tuple[dict[str, Any], list[str]]:
    key_file = tmp_path / "k.txt"
    key_file.write_text(account.key)
    runs = ["--runs-dir", str(tmp_path / "runs")]
    result = cli("run", "leaked-long-term-key", "--key-file", str(key_file), "--yes", "-o", "json", *extra, *runs)
    return json.loads(result.stdout), runs


def test_head_printed_and_checked_against_a_rewritten_log(account: Seeded, tmp_path: Path) -> None:
    out, runs = _run(account, tmp_path)
    head = out["audit_head"]
    assert len(head) == 64
    log = Path(out["audit_log"])
    assert cli("audit", "verify", out["run_id"], "--head", head, *runs).exit_code == 0
    # Someone edits a record and rewrites the whole chain and report.json to match: only the ticket's head knows.
    records = [json.loads(line) for line in log.read_text().splitlines()]
    records[1]["notes"] = ["nothing to see here"]
    prev = "0" * 64
    for record in records:
        record["prev"] = prev
        record["hash"] = prev = record_hash(record)
    log.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    report = json.loads((log.parent / "report.json").read_text())
    (log.parent / "report.json").write_text(json.dumps({**report, "audit_head": prev}))
    # The files beside it no longer match what the rewritten journal says (report.md's head, the timeline).
    sloppy = cli("audit", "verify", out["run_id"], *runs)
    assert sloppy.exit_code == 1 and "report.md: not what the journal says" in sloppy.stderr
    from responder.engine.commands.outcome import save_report
    from responder.engine.journal.runs import find_run

    save_report(find_run(tmp_path / "runs", out["run_id"]))  # a careful forger renders every file again
    assert cli("audit", "verify", out["run_id"], *runs).exit_code == 0  # fooled without the head
    caught = cli("audit", "verify", out["run_id"], "--head", head, *runs)
    assert caught.exit_code == 1 and "head given" in caught.stderr
    bad = cli("audit", "verify", out["run_id"], "--head", "not-a-hash", *runs)
    assert bad.exit_code == 2 and "64 hex digits" in bad.stderr


def test_investigate_then_asff_into_security_hub_then_the_pictures(account: Seeded, tmp_path: Path) -> None:
    out, runs = _run(account, tmp_path)
    checked = cli("investigate", out["run_id"], "-o", "json", *runs)
    assert checked.exit_code == 0, checked.output
    found = json.loads(checked.stdout)
    assert found["after_containment"] == [] and found["since_what"] == "containment"
    assert found["audit_head"] != out["audit_head"]  # the journal grew
    assert cli("audit", "verify", out["run_id"], "--head", out["audit_head"], *runs).exit_code == 0
    asff = cli("report", out["run_id"], "--format", "asff", *runs)
    findings = json.loads(asff.stdout)["Findings"]
    assert [f["Workflow"]["Status"] for f in findings] == ["RESOLVED"]
    assert account.key not in asff.stdout
    imported = cli("report", out["run_id"], "--format", "asff", "--to-security-hub", *runs)
    assert imported.exit_code == 0 and "imported 1 finding(s)" in imported.stderr
    hub = boto3.client("securityhub", region_name=SANDBOX_REGION)
    assert [f["Id"] for f in hub.get_findings()["Findings"]] == [findings[0]["Id"]]
    drawn = cli("report", out["run_id"], "--timeline", *runs)
    assert drawn.exit_code == 0, drawn.output
    assert "![Calls over time: timeline-bedrock.svg](timeline-bedrock.svg)" in drawn.stdout
    assert "(timeline-bedrock.svg)" in Path(out["report"]).read_text()  # the report links the pictures


def test_plan_shows_the_policy_document_it_will_put(account: Seeded, tmp_path: Path) -> None:
    key_file = tmp_path / "k.txt"
    key_file.write_text(account.key)
    result = cli("run", "leaked-long-term-key", "--key-file", str(key_file), "--dry-run", "--runs-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert '+      "bedrock-mantle:CallWithBearerToken"' in result.stdout
    assert "audit head: " in result.stdout


def test_bad_format_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = cli("report", "nope", "--format", "ocsf", "--runs-dir", str(tmp_path))
    assert result.exit_code == 2 and "--format must be one of: markdown, json, asff" in result.stderr
    missing = cli("investigate", "nope", "--runs-dir", str(tmp_path))
    assert missing.exit_code == 2 and "Traceback" not in missing.output


def test_audit_verify_recomputes_the_files_beside_the_log(account: Seeded, tmp_path: Path) -> None:
    out, runs = _run(account, tmp_path)
    directory = Path(out["audit_log"]).parent
    clean = cli("audit", "verify", out["run_id"], *runs)
    assert clean.exit_code == 0 and "report.json, report.md, events.jsonl match the journal" in clean.stdout
    events = directory / "events.jsonl"
    original = events.read_text()
    events.write_text(original.replace("203.0.113.77", "198.51.100.1", 1))  # the attacker's IP, changed
    changed = cli("audit", "verify", out["run_id"], *runs)
    assert changed.exit_code == 1 and f"{events}: not what the journal says" in changed.stderr
    events.write_text(original)
    with (directory / "report.md").open("a") as report:
        report.write("\nAll clear: no further action needed.\n")
    appended = cli("audit", "verify", out["run_id"], "-o", "json", *runs)
    assert appended.exit_code == 1 and json.loads(appended.stdout)["evidence"]["differ"] == ["report.md"]


def test_report_md_never_anchors_a_broken_chain(account: Seeded, tmp_path: Path) -> None:
    from responder.engine.commands.outcome import save_report
    from responder.engine.journal.runs import find_run

    out, _ = _run(account, tmp_path)
    log = Path(out["audit_log"])
    records = [json.loads(line) for line in log.read_text().splitlines()]
    records[2]["ts"] = "2026-01-01T00:00:00+00:00"  # edited, not re-hashed
    log.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    _, report = save_report(find_run(tmp_path / "runs", out["run_id"]))
    markdown = (log.parent / "report.md").read_text()
    assert report.audit_chain_broken.startswith("record 3")
    assert "| Audit chain | **BROKEN** at record 3" in markdown
    assert report.audit_head not in markdown and "Verify the audit trail against the head" not in markdown


def test_an_audit_key_makes_a_rehashed_journal_detectable(
    account: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "audit.key"
    key_file.write_text("a key kept away from the runs directory\n")
    monkeypatch.setenv("RESPONDER_AUDIT_HMAC_KEY_FILE", str(key_file))
    out, runs = _run(account, tmp_path)
    log = Path(out["audit_log"])
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert all(len(r["mac"]) == 64 for r in records) and "away from the runs" not in log.read_text()
    assert "every MAC matches the audit key" in cli("audit", "verify", out["run_id"], *runs).stdout
    records[1]["notes"] = ["nothing to see here"]  # edited and the whole chain re-hashed, without the key
    prev = "0" * 64
    for record in records:
        record["prev"] = prev
        record["hash"] = prev = record_hash(record)
    log.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    caught = cli("audit", "verify", out["run_id"], *runs)
    assert caught.exit_code == 1 and "record 2: its MAC does not match the audit key" in caught.stderr
    refused = cli("rollback", out["run_id"], *runs)
    assert refused.exit_code == 2 and "its MAC does not match the audit key" in refused.stderr


def test_the_head_anchored_in_object_locked_s3_catches_a_rewritten_log(account: Seeded, tmp_path: Path) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="ir-anchors", ObjectLockEnabledForBucket=True)
    s3.create_bucket(Bucket="no-lock")
    out, runs = _run(account, tmp_path, "--anchor", "s3://ir-anchors/incidents")
    assert out["status"] == "completed" and out["anchor"].startswith("s3://ir-anchors/incidents/" + out["run_id"])
    key = out["anchor"].split("/", 3)[3]
    assert s3.head_object(Bucket="ir-anchors", Key=key)["ObjectLockMode"] == "GOVERNANCE"
    anchored = ["--anchor", "s3://ir-anchors/incidents"]
    checked = cli("audit", "verify", out["run_id"], *anchored, *runs)
    assert checked.exit_code == 0 and "holds the 1 head(s) anchored in S3" in checked.stdout
    log = Path(out["audit_log"])
    records = [json.loads(line) for line in log.read_text().splitlines()]
    records[1]["notes"] = ["nothing to see here"]
    prev = "0" * 64
    for record in records:
        record["prev"] = prev
        record["hash"] = prev = record_hash(record)
    log.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    from responder.engine.commands.outcome import save_report
    from responder.engine.journal.runs import find_run

    save_report(find_run(tmp_path / "runs", out["run_id"]))  # every file rendered again: only the anchor knows
    assert cli("audit", "verify", out["run_id"], *runs).exit_code == 0
    caught = cli("audit", "verify", out["run_id"], *anchored, *runs)
    assert caught.exit_code == 1 and "does not hold the head anchored at s3://ir-anchors/incidents/" in caught.stderr
    unlocked = cli("rollback", out["run_id"], "--anchor", "s3://no-lock", *runs)  # the run's end stays; said
    assert unlocked.exit_code == 1 and "cannot anchor the head in s3://no-lock/" in unlocked.stderr
    bad = cli("rollback", out["run_id"], "--anchor", "https://ir-anchors", *runs)
    assert bad.exit_code == 2 and "--anchor must be s3://BUCKET" in bad.stderr

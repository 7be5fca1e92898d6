"""events.jsonl, the report's opening and follow-ups, ASFF findings and their import into the sandbox's Security Hub."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from responder.aws.clients import AwsOptions
from responder.engine.commands.investigation import investigate_run
from responder.engine.commands.operations import start_run
from responder.engine.journal.run_state import load_run
from responder.engine.journal.runs import RunPaths
from responder.engine.report.build import build_report
from responder.engine.report.findings import asff_findings, import_findings, product_arn
from responder.engine.report.markdown import render_markdown
from responder.engine.report.model import Report
from responder.engine.running.context import Settings
from responder.sandbox.cloudtrail_events import record_event
from responder.sandbox.emulator import install
from responder.sandbox.seed import ATTACKER_IP, LEAKED_USER, SANDBOX_REGION, seed_incident
from tests.factories import ACCOUNT


def contained_run(tmp_path: Path, after_containment: bool) -> tuple[Report, RunPaths]:
    """A contained long-term key (emulated); with a Mantle call after containment that investigate found."""
    settings = Settings(runs_dir=tmp_path / "runs", aws=AwsOptions(region=SANDBOX_REGION), verify_delays=(0.0,))
    with mock_aws():
        install()
        seeded = seed_incident(ACCOUNT)
        run = start_run("leaked-long-term-key", {}, seeded.key, dry_run=False, confirm=None, settings=settings)
        if not after_containment:
            return run.report, run.paths
        time.sleep(1.05)  # CloudTrail writes whole seconds: the call lands after the containment moment
        identity = {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/{LEAKED_USER}", "userName": LEAKED_USER}
        record_event(
            ACCOUNT,
            SANDBOX_REGION,
            {
                "eventTime": datetime.now(timezone.utc),
                "eventSource": "bedrock-mantle.amazonaws.com",
                "eventName": "GetModel",
                "sourceIPAddress": ATTACKER_IP,
                "userIdentity": identity,
                "errorCode": "AccessDenied",
                "requestParameters": {"callWithBearerToken": True, "bearerTokenType": "LONG_TERM"},
            },
        )
        investigate_run(run.run_id, settings)
    return build_report(load_run(run.paths.audit_log), run.paths), run.paths


def test_report_opens_with_the_paragraph_an_incident_commander_reads(tmp_path: Path) -> None:
    report, paths = contained_run(tmp_path, after_containment=False)
    markdown = paths.report_md.read_text()
    opening = markdown.split("\n\n")[2]
    assert opening.startswith("A long-term Bedrock API key")
    assert f"user {LEAKED_USER}" in opening and "key inactive" in opening and "after the run started" in opening
    assert "4 on Bedrock and 2 on Bedrock Mantle" in opening
    assert f"`responder investigate {report.run_id}`" in markdown  # follow-up with a time to run it
    assert "condition not met" not in markdown and "${" not in markdown
    assert "runs only with `-p delete_key=true`" in markdown
    assert str(tmp_path) not in markdown  # paths relative to the run's directory
    assert "| Undo |" not in markdown  # nothing was undone: no always-empty column
    assert '+      "bedrock-mantle:CallWithBearerToken"' in markdown  # the policy document's diff
    started = report.started_at  # journaled to the microsecond, shown to the second
    assert started not in markdown and f"{started[:10]} {started[11:19]} UTC" in markdown
    assert "FROM <EVENT_DATA_STORE_ID>" in markdown and "FROM <CLOUDTRAIL_TABLE>" in markdown


def test_short_term_expiry_is_at_the_latest() -> None:
    fields: dict[str, Any] = {
        "run_id": "r",
        "playbook": "leaked-short-term-key",
        "status": "planned",
        "outcome": "dry run",
        "dry_run": True,
        "key": {"kind": "short-term", "expires_at": "2026-12-02T11:00:00+00:00", "fingerprint": "sha256:x"},
        "params": {},
        "started_at": "2026-12-02T10:00:00.123456+00:00",
        "finished_at": "2026-12-02T10:00:01.5+00:00",
        "containment": None,
        "audit_records": 1,
        "audit_head": "0" * 64,
        "steps": [],
        "warnings": [],
        "timeline": [],
    }
    report = Report(**{**dict.fromkeys(f.name for f in dataclasses.fields(Report)), **fields})
    markdown = render_markdown(report)
    assert "2026-12-02 11:00:00 UTC at the latest" in markdown
    assert "10:00:00.123456" not in markdown and "2026-12-02 10:00:00 UTC" in markdown


def test_asff_findings_resolved_never_secret_and_imported(tmp_path: Path) -> None:
    report, _ = contained_run(tmp_path, after_containment=True)
    findings = asff_findings(report, SANDBOX_REGION)
    assert len(findings) == 1
    finding = findings[0]
    assert finding["Workflow"]["Status"] == "RESOLVED" and finding["Severity"]["Label"] == "CRITICAL"
    assert finding["ProductFields"]["responder/RunId"] == report.run_id
    assert finding["ProductFields"]["responder/CallsAfterContainment"] == "1"
    assert report.key["fingerprint"] in finding["Id"]
    assert finding["Resources"][0]["Id"] == f"arn:aws:iam::{ACCOUNT}:user/{LEAKED_USER}"
    assert "ABSK" not in json.dumps(findings)
    with mock_aws():
        install()
        hub = boto3.client("securityhub", region_name=SANDBOX_REGION)
        with pytest.raises(hub.exceptions.InvalidAccessException):  # the hub is off: AWS refuses the import
            import_findings(hub, findings)
        hub.enable_security_hub()
        bad = {**finding, "Id": "other", "ProductArn": product_arn("aws", SANDBOX_REGION, "999999999999")}
        assert import_findings(hub, [bad])[0] == 0
        assert import_findings(hub, findings) == (1, [])
        stored = hub.get_findings()["Findings"]
        assert [f["Id"] for f in stored] == [finding["Id"]]

"""`responder investigate`: CloudTrail read again from the run's containment moment; calls after it are loud."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest

from responder.engine.commands.investigation import investigate_run
from responder.engine.commands.operations import start_run
from responder.engine.journal.audit import verify_chain
from responder.engine.journal.run_state import load_run
from responder.engine.report.evidence import EVENTS_FILE
from responder.engine.running.context import Settings
from responder.errors import UserError
from responder.sandbox.cloudtrail_events import record_event
from responder.sandbox.seed import ATTACKER_IP, LEAKED_USER, SANDBOX_REGION, Seeded
from tests.factories import ACCOUNT


def _identity() -> dict[str, str]:
    return {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/{LEAKED_USER}", "userName": LEAKED_USER}


def test_run_keeps_every_event_read_and_counts_both_endpoints(account: Seeded, settings: Settings) -> None:
    run = start_run("leaked-long-term-key", {}, account.key, dry_run=False, confirm=None, settings=settings)
    assert run.status == "completed"
    evidence = run.report.evidence
    assert dict(evidence["by_source"]) == {"bedrock.amazonaws.com": 4, "bedrock-mantle.amazonaws.com": 2}
    lines = [json.loads(line) for line in (run.paths.directory / EVENTS_FILE).read_text().splitlines()]
    assert len(lines) == evidence["events_read"] == 6
    mantle = [e for e in lines if e["source"] == "bedrock-mantle.amazonaws.com"]
    assert {e["bearer_token_type"] for e in mantle} == {"LONG_TERM"} and all(e["bearer_token"] for e in mantle)
    assert set(lines[0]) >= {"event_id", "time", "name", "region", "source_ip", "user_agent", "error_code"}
    assert not any(e["after_containment"] for e in lines)
    assert account.key not in (run.paths.directory / EVENTS_FILE).read_text()
    queries = evidence["queries"]
    assert f"userIdentity.username = '{LEAKED_USER}'" in queries["cloudtrail_lake"]
    assert "bedrock-mantle.amazonaws.com" in queries["athena"]


def test_investigate_appends_calls_after_containment(account: Seeded, settings: Settings) -> None:
    run = start_run("leaked-long-term-key", {}, account.key, dry_run=False, confirm=None, settings=settings)
    quiet = investigate_run(run.run_id, settings)
    assert quiet.since_what == "containment" and quiet.after_containment == []
    assert "no bearer-token call since containment" in run.paths.report_md.read_text()
    # The attacker keeps trying on the Mantle endpoint after the deny (AccessDenied, but a call all the same);
    # CloudTrail writes whole seconds: wait for the next one, so the call is after the containment moment.
    time.sleep(1.05)
    record_event(
        ACCOUNT,
        SANDBOX_REGION,
        {
            "eventTime": datetime.now(timezone.utc),
            "eventSource": "bedrock-mantle.amazonaws.com",
            "eventName": "ListModels",
            "sourceIPAddress": ATTACKER_IP,
            "userIdentity": _identity(),
            "errorCode": "AccessDenied",
            "requestParameters": {"callWithBearerToken": True, "bearerTokenType": "LONG_TERM"},
        },
    )
    loud = investigate_run(run.run_id, settings)
    assert [e["name"] for e in loud.after_containment] == ["ListModels"]
    assert loud.after_containment[0]["error_code"] == "AccessDenied"
    check = verify_chain(run.paths.audit_log)
    assert check.ok and check.head == loud.audit_head  # appending extended the chain
    assert [r["event"] for r in load_run(run.paths.audit_log).records].count("run.investigated") == 2
    lines = [json.loads(line) for line in (run.paths.directory / EVENTS_FILE).read_text().splitlines()]
    assert len(lines) == 7 and [e["name"] for e in lines if e["after_containment"]] == ["ListModels"]
    report = run.paths.report_md.read_text()
    assert "**1 came after containment.**" in report
    assert json.loads(run.paths.report_json.read_text())["status"] == "completed"


def test_investigate_refuses_an_unknown_run(account: Seeded, settings: Settings) -> None:
    with pytest.raises(UserError, match="no run"):
        investigate_run("20990101T000000Z-abcdef", settings)

"""A run killed with SIGKILL between any two journal records can be resumed or rolled back exactly.

The run is a real `responder` process against an in-process emulator served over loopback HTTP; it kills
itself right after writing a chosen record (RESPONDER_FAULT_KILL_AFTER), as a power cut would. The deactivation
and the deny go out together, so `step.applying:2` may come before `step.applied:1`; one case kills the run while
both are in flight, the deactivation's request held at a proxy, then forwarded (or dropped) after the kill.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from responder.actions.iam_policies import DEFAULT_POLICY_NAME, DENY_BEARER_TOKENS
from responder.aws.clients import AwsOptions
from responder.engine import events as j
from responder.engine.audit import verify_chain
from responder.engine.context import Settings
from responder.engine.recovery import resume_run, rollback_run
from responder.engine.run_state import load_run
from responder.sandbox.seed import EXISTING_POLICY, Seeded, seed_incident
from tests.factories import ACCOUNT, credential_status, inline_policies, moto_http_server
from tests.faultproxy import FaultProxy

BIN = Path(sys.executable).parent
RESPONDER = [str(BIN / "responder")] if (BIN / "responder").exists() else [sys.executable, "-m", "responder"]
# Every record boundary of the apply phase of leaked-long-term-key where a mutation is in flight or just done.
BOUNDARIES = [
    "step.read:1",
    "step.applying:1",
    "step.applied:1",
    "step.verified:1",
    "step.applying:2",
    "step.applied:2",
    "step.verified:2",
]


@pytest.fixture
def server() -> Iterator[str]:
    with moto_http_server() as endpoint:
        yield endpoint


@pytest.fixture
def incident(server: str) -> Seeded:
    return seed_incident(ACCOUNT)


def iam_client(endpoint: str) -> Any:
    import boto3

    return boto3.client("iam", region_name="us-east-1", endpoint_url=endpoint)


# Every boundary once, recovering by resume or by rollback in turn; both ways where a mutation is in flight.
CASES = [(b, "resume" if i % 2 == 0 else "rollback") for i, b in enumerate(BOUNDARIES)]
CASES += [(b, "rollback" if r == "resume" else "resume") for b, r in CASES if b.startswith("step.applying")]


def _killed_run(endpoint: str, incident: Seeded, tmp_path: Path, boundary: str) -> Path:
    """Run leaked-long-term-key against `endpoint` until it kills itself after `boundary`; its audit log."""
    key_file = tmp_path / "leaked.txt"
    key_file.write_text(incident.key)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RESPONDER_"))}
    env |= {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "RESPONDER_FAULT_KILL_AFTER": boundary,
    }
    runs = tmp_path / "runs"
    killed = subprocess.run(
        [
            *RESPONDER,
            "run",
            "leaked-long-term-key",
            "--key-file",
            str(key_file),
            "--yes",
            "--endpoint-url",
            endpoint,
            "--runs-dir",
            str(runs),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr  # SIGKILL: no cleanup ran
    (run_dir,) = [d for d in runs.iterdir() if (d / "audit.jsonl").exists()]
    assert verify_chain(run_dir / "audit.jsonl").ok
    assert list((runs / "locks").iterdir())  # the dead run's lock is still there: the next one must break it
    return run_dir / "audit.jsonl"


def _recover(server: str, incident: Seeded, audit_log: Path, recovery: str) -> None:
    """Resume (then roll back) or roll back straight away: both end exactly where they should."""
    state = load_run(audit_log)
    iam = iam_client(server)
    runs = audit_log.parent.parent
    settings = Settings(runs_dir=runs, aws=AwsOptions(region="us-east-1", endpoint_url=server), verify_delays=(0.0,))
    if recovery == "resume":
        outcome = resume_run(state.run_id, settings)
        assert outcome.status == "completed", outcome.message
        assert credential_status(iam, incident.user_name, incident.credential_id) == "Inactive"
        assert inline_policies(iam, incident.user_name)[DEFAULT_POLICY_NAME] == DENY_BEARER_TOKENS
    outcome = rollback_run(state.run_id, True, settings)
    assert outcome.status == "rolled-back", outcome.message
    assert credential_status(iam, incident.user_name, incident.credential_id) == "Active"
    name, document = EXISTING_POLICY
    assert inline_policies(iam, incident.user_name) == {name: document}
    assert verify_chain(audit_log).ok
    assert json.loads((audit_log.parent / "report.json").read_text())["status"] == "rolled-back"


@pytest.mark.parametrize(("boundary", "recovery"), CASES)
def test_killed_between_records(server: str, incident: Seeded, tmp_path: Path, boundary: str, recovery: str) -> None:
    audit_log = _killed_run(server, incident, tmp_path, boundary)
    state = load_run(audit_log)
    assert state.status == "interrupted" and state.records[-1]["event"] == boundary.split(":")[0]
    _recover(server, incident, audit_log, recovery)


@pytest.mark.parametrize(("forwarded", "recovery"), [(True, "resume"), (False, "rollback")])
def test_killed_with_both_changes_in_flight(
    server: str, incident: Seeded, tmp_path: Path, forwarded: bool, recovery: str
) -> None:
    """Killed once both write-ahead records are on disk while the deactivation's request is still on its way;
    after the kill it reaches AWS (the change happens, nobody hears the answer) or never does."""
    with FaultProxy(server) as proxy:
        proxy.arm("UpdateServiceSpecificCredential", "hold")
        audit_log = _killed_run(proxy.url, incident, tmp_path, "step.applying:2")
        assert proxy.holding.is_set()  # the deactivation was sent before the process died
        proxy.release(forward=forwarded)
        assert proxy.settled.wait(30)
    state = load_run(audit_log)
    assert state.status == "interrupted"
    events = [(r["event"], r.get("step")) for r in state.records]
    assert (j.APPLYING, "deactivate") in events and (j.APPLYING, "deny-bearer-tokens") in events
    assert (j.APPLIED, "deactivate") not in events  # its answer never came
    iam = iam_client(server)
    expected = "Inactive" if forwarded else "Active"
    assert credential_status(iam, incident.user_name, incident.credential_id) == expected
    _recover(server, incident, audit_log, recovery)

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
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from responder.actions.iam_policies import DEFAULT_POLICY_NAME, DENY_BEARER_TOKENS
from responder.aws.clients import AwsOptions
from responder.engine.commands.outcome import save_report
from responder.engine.commands.recovery import resume_run, rollback_run
from responder.engine.journal import events as j
from responder.engine.journal.audit import verify_chain
from responder.engine.journal.run_state import load_run
from responder.engine.journal.runs import find_run
from responder.engine.running.context import Settings
from responder.sandbox.seed import EXISTING_POLICY, Seeded, seed_incident
from tests.factories import ACCOUNT, credential_status, inline_policies, moto_http_server
from tests.faultproxy import FaultProxy
from tests.oracle import check_claims

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


@pytest.mark.parametrize(("boundary", "recovery"), CASES)
def test_killed_between_records(server: str, incident: Seeded, tmp_path: Path, boundary: str, recovery: str) -> None:
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
            server,
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
    state = load_run(run_dir / "audit.jsonl")
    assert state.status == "interrupted" and state.records[-1]["event"] == boundary.split(":")[0]
    assert verify_chain(run_dir / "audit.jsonl").ok
    assert list((runs / "locks").iterdir())  # the dead run's lock is still there: the next one must break it

    iam = iam_client(server)
    save_report(find_run(runs, state.run_id))  # as `responder report RUN_ID` writes it for the killed run
    check_claims(iam, run_dir)  # what it says of the killed run is what AWS holds
    settings = Settings(runs_dir=runs, aws=AwsOptions(region="us-east-1", endpoint_url=server), verify_delays=(0.0,))
    if recovery == "resume":
        outcome = resume_run(state.run_id, settings)
        assert outcome.status == "completed", outcome.message
        assert credential_status(iam, incident.user_name, incident.credential_id) == "Inactive"
        assert inline_policies(iam, incident.user_name)[DEFAULT_POLICY_NAME] == DENY_BEARER_TOKENS
        check_claims(iam, run_dir)
    outcome = rollback_run(state.run_id, True, settings)
    assert outcome.status == "rolled-back", outcome.message
    check_claims(iam, run_dir)
    assert credential_status(iam, incident.user_name, incident.credential_id) == "Active"
    name, document = EXISTING_POLICY
    assert inline_policies(iam, incident.user_name) == {name: document}
    assert verify_chain(run_dir / "audit.jsonl").ok
    assert json.loads((run_dir / "report.json").read_text())["status"] == "rolled-back"


# ---- both changes in flight (they go out together)


def _start_run(endpoint: str, incident: Seeded, tmp_path: Path, kill_after: str | None) -> subprocess.Popen[str]:
    """leaked-long-term-key against `endpoint`, killing itself after the record `kill_after` if given."""
    key_file = tmp_path / "leaked.txt"
    key_file.write_text(incident.key)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RESPONDER_"))}
    env |= {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    if kill_after is not None:
        env["RESPONDER_FAULT_KILL_AFTER"] = kill_after
    command = ["run", "leaked-long-term-key", "--key-file", str(key_file), "--yes", "--endpoint-url", endpoint]
    return subprocess.Popen(
        [*RESPONDER, *command, "--runs-dir", str(tmp_path / "runs")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _killed(process: subprocess.Popen[str], tmp_path: Path) -> Path:
    """The audit log of a run that was killed: no cleanup ran, its lock is still there."""
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == -9, stderr  # SIGKILL: no cleanup ran
    runs = tmp_path / "runs"
    (run_dir,) = [d for d in runs.iterdir() if (d / "audit.jsonl").exists()]
    assert verify_chain(run_dir / "audit.jsonl").ok
    assert list((runs / "locks").iterdir())  # the dead run's lock is still there: the next one must break it
    return run_dir / "audit.jsonl"


def _recover(server: str, endpoint: str, incident: Seeded, audit_log: Path, recovery: str) -> None:
    """Resume (then roll back) or roll back straight away, through `endpoint` (the one the run recorded: another is
    refused): both end exactly where they should, as read from `server` itself."""
    state = load_run(audit_log)
    iam = iam_client(server)
    runs = audit_log.parent.parent
    settings = Settings(runs_dir=runs, aws=AwsOptions(region="us-east-1", endpoint_url=endpoint), verify_delays=(0.0,))
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


@pytest.mark.parametrize(("forwarded", "recovery"), [(True, "resume"), (False, "rollback")])
def test_killed_with_both_changes_in_flight(
    server: str, incident: Seeded, tmp_path: Path, forwarded: bool, recovery: str
) -> None:
    """Killed while the deactivation and the deny are both on their way (each journaled first, both held at the
    proxy); after the kill they reach AWS (the changes happen, nobody hears the answers) or never do."""
    with FaultProxy(server) as proxy:
        proxy.arm("UpdateServiceSpecificCredential", "hold")
        proxy.arm("PutUserPolicy", "hold")
        process = _start_run(proxy.url, incident, tmp_path, kill_after=None)
        deadline = time.monotonic() + 30
        while len(proxy.held) < 2 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sorted(proxy.held) == ["PutUserPolicy", "UpdateServiceSpecificCredential"]  # both sent at once
        process.kill()
        audit_log = _killed(process, tmp_path)
        proxy.release(forward=forwarded)
        while len(proxy.settled) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        state = load_run(audit_log)
        assert state.status == "interrupted"
        events = [(r["event"], r.get("step")) for r in state.records]
        assert (j.APPLYING, "deactivate") in events and (j.APPLYING, "deny-bearer-tokens") in events
        assert not [e for e in events if e[0] in (j.APPLIED, j.FAILED)]  # no answer ever came
        iam = iam_client(server)
        expected = "Inactive" if forwarded else "Active"
        assert credential_status(iam, incident.user_name, incident.credential_id) == expected
        assert (DEFAULT_POLICY_NAME in inline_policies(iam, incident.user_name)) is forwarded
        _recover(server, proxy.url, incident, audit_log, recovery)  # the held requests are settled: it forwards

"""A run killed with SIGKILL between any two journal records can be resumed or rolled back exactly.

The run is a real `responder` process against an in-process emulator served over loopback HTTP; it kills
itself right after writing a chosen record (RESPONDER_FAULT_KILL_AFTER), as a power cut would.
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
from responder.engine.audit import verify_chain
from responder.engine.context import Settings
from responder.engine.outcome import save_report
from responder.engine.recovery import resume_run, rollback_run
from responder.engine.run_state import load_run
from responder.engine.runs import find_run
from responder.sandbox.seed import EXISTING_POLICY, Seeded, seed_incident
from tests.factories import ACCOUNT, credential_status, inline_policies, moto_http_server
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

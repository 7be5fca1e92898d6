"""A rollback or a resume racing a live run: refused with the holder named, or with --wait done after the run's end
on its whole journal. The live run is a real `responder resume` process, kept live by a pause after its first
record (RESPONDER_FAULT_PAUSE_AFTER); the racing commands run here, against the same emulator over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from responder.actions.iam_policies import DEFAULT_POLICY_NAME
from responder.aws.clients import AwsOptions, Clients
from responder.engine.commands.operations import start_run
from responder.engine.commands.recovery import resume_run, rollback_run
from responder.engine.journal.locks import TargetBusy, holder
from responder.engine.running.context import Settings, run_lock
from responder.errors import Interrupted
from responder.sandbox.seed import EXISTING_POLICY, Seeded, seed_incident
from tests.factories import ACCOUNT, Requests, credential_status, inline_policies, moto_http_server
from tests.oracle import check_claims

BIN = Path(sys.executable).parent
RESPONDER = [str(BIN / "responder")] if (BIN / "responder").exists() else [sys.executable, "-m", "responder"]


@pytest.fixture
def server() -> Iterator[str]:
    with moto_http_server() as endpoint:
        yield endpoint


def settings_for(endpoint: str, runs: Path, requests: Requests) -> Settings:
    def open_clients(options: AwsOptions, read_only: bool) -> Clients:
        clients = Clients(options, read_only)
        clients.on_request(requests.handler)
        return clients

    aws = AwsOptions(region="us-east-1", endpoint_url=endpoint)
    return Settings(runs_dir=runs, aws=aws, open_clients=open_clients, verify_delays=(0.0,))


def live_resume(run_id: str, endpoint: str, runs: Path) -> subprocess.Popen[str]:
    """`responder resume RUN` in another process, paused 2 s after it journaled run.resumed (holding the run)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RESPONDER_"))}
    env |= {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "RESPONDER_FAULT_PAUSE_AFTER": "run.resumed:1=2.0",
    }
    command = [*RESPONDER, "resume", run_id, "--endpoint-url", endpoint, "--runs-dir", str(runs)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    # until the holder has written who it is: it takes the lock a moment before (a busy machine widens that moment)
    while (holder(runs, run_lock(run_id)) or {}).get("pid") is None:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    return proc


def test_rollback_and_resume_racing_a_live_run_refuse_or_wait_for_its_end(server: str, tmp_path: Path) -> None:
    seeded: Seeded = seed_incident(ACCOUNT)
    iam: Any = boto3.client("iam", region_name="us-east-1", endpoint_url=server)
    runs, requests = tmp_path / "runs", Requests()
    settings = settings_for(server, runs, requests)
    requests.faults["PutUserPolicy"] = [KeyboardInterrupt()]  # stopped after the deactivation, before the deny
    with pytest.raises(Interrupted) as stopped:
        start_run("leaked-long-term-key", {}, seeded.key, dry_run=False, confirm=None, settings=settings)
    run_id = str(stopped.value.run_id)

    proc = live_resume(run_id, server, runs)
    try:
        for race in (
            lambda: rollback_run(run_id, True, settings),
            lambda: resume_run(run_id, settings),
        ):
            with pytest.raises(TargetBusy) as refused:
                race()
            assert f"run {run_id} is live: pid {proc.pid} on " in str(refused.value)
            assert "--wait" in str(refused.value)
        back = rollback_run(run_id, True, settings, wait=True)  # waits for the resume's end, then undoes it all
    finally:
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert back.status == "rolled-back", back.message
    # the deny the live resume put in place while we waited is undone too: the account is as seeded
    assert credential_status(iam, seeded.user_name, seeded.credential_id) == "Active"
    assert DEFAULT_POLICY_NAME not in inline_policies(iam, seeded.user_name)
    assert inline_policies(iam, seeded.user_name) == dict([EXISTING_POLICY])
    check_claims(iam, back.paths.directory)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_mid_run_ends_it_interrupted_saying_so(server: str, tmp_path: Path, signum: int) -> None:
    """SIGTERM (or the terminal closing) between the deactivation and the deny: exit 130 with a word on how to go
    on, the run `interrupted`, and its report claims what AWS holds, the key only."""
    seeded: Seeded = seed_incident(ACCOUNT)
    iam: Any = boto3.client("iam", region_name="us-east-1", endpoint_url=server)
    runs, key_file = tmp_path / "runs", tmp_path / "leaked.txt"
    key_file.write_text(seeded.key)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RESPONDER_"))}
    env |= {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "RESPONDER_FAULT_PAUSE_AFTER": "step.verified:1=2",  # the signal comes in this pause
    }
    command = [*RESPONDER, "run", "leaked-long-term-key", "--key-file", str(key_file), "--yes"]
    command += ["--endpoint-url", server, "--runs-dir", str(runs)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not any('"step.verified"' in p.read_text() for p in runs.glob("*/audit.jsonl")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "responder resume" in err, err
    assert "Traceback" not in out + err
    (run_dir,) = [d for d in runs.iterdir() if (d / "audit.jsonl").exists()]
    assert json.loads((run_dir / "report.json").read_text())["status"] == "interrupted"
    assert credential_status(iam, seeded.user_name, seeded.credential_id) == "Inactive"
    check_claims(iam, run_dir, terminal=out)

"""End to end over real HTTP: `responder sandbox serve` in one process, `responder` in others.

The tests read the account back over the same wire, independently of responder: with boto3 from this process
(an `aws` CLI process costs ~0.5 s of CPU to start; the AWS CLI against the sandbox is exercised in
tests/export/test_stepfunctions_cli.py, which deploys with it as a team would)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from responder.aws.clients import is_read_only
from responder.playbook.shipped import shipped_playbooks

BIN = Path(sys.executable).parent
RESPONDER = [str(BIN / "responder")] if (BIN / "responder").exists() else [sys.executable, "-m", "responder"]


@dataclass
class Sandbox:
    endpoint: str
    key_files: dict[str, Path]
    request_log: Path
    seeded: dict[str, Any]
    env: dict[str, str]
    runs: Path
    organization: dict[str, Any] | None = None

    def responder(self, *args: str, check_exit: int | None = 0) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*RESPONDER, *args], capture_output=True, text=True, env=self.env, timeout=60, check=False
        )
        if check_exit is not None:
            assert result.returncode == check_exit, result.stdout + result.stderr
        return result

    def client(self, service: str) -> Any:
        """A boto3 client of the sandbox over HTTP: reads the account independently of responder."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def aws(self, *args: str) -> Any:
        """The AWS CLI in another process (costs ~0.5 s of CPU a call: `client` for plain reads)."""
        aws = shutil.which("aws", path=str(BIN)) or shutil.which("aws")
        if aws is None:
            pytest.fail("the AWS CLI is not installed: pip install -e '.[dev]' installs it")
        result = subprocess.run(
            [aws, "--endpoint-url", self.endpoint, "--output", "json", *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout) if result.stdout.strip() else {}

    def contain(self, playbook: str) -> dict[str, Any]:
        """`responder run PLAYBOOK --yes -o json` on the seeded incident's key: the one JSON object it prints."""
        run = self.responder("run", playbook, "--key-file", str(self.key_files[playbook]), "--yes", "-o", "json")
        return dict(json.loads(run.stdout))

    def operations(self) -> list[str]:
        return [json.loads(line)["operation"] for line in self.request_log.read_text().splitlines()]

    def status(self) -> list[str]:
        user = self.seeded["leaked-long-term-key"]["user_name"]
        listed = self.client("iam").list_service_specific_credentials(UserName=user)
        return [c["Status"] for c in listed["ServiceSpecificCredentials"]]


@contextmanager
def serve(tmp_path: Path, *extra: str) -> Iterator[Sandbox]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RESPONDER_"))}
    env |= {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    log = tmp_path / "requests.jsonl"
    server = subprocess.Popen(
        [
            *RESPONDER,
            "sandbox",
            "serve",
            "--port",
            "0",
            "--seed",
            "--keys-dir",
            str(tmp_path),
            "--request-log",
            str(log),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line:  # it died before it was ready: show why
            pytest.fail(f"responder sandbox serve did not start: {server.communicate(timeout=10)[1]}")
        ready = json.loads(line)
        env |= {"AWS_ENDPOINT_URL": ready["endpoint"], "RESPONDER_RUNS_DIR": str(tmp_path / "runs")}
        keys = {playbook: Path(seeded["key_file"]) for playbook, seeded in ready["seeded"].items()}
        yield Sandbox(ready["endpoint"], keys, log, ready["seeded"], env, tmp_path / "runs", ready.get("organization"))
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with serve(tmp_path) as running:
        yield running


def test_contain_and_roll_back_over_the_wire(sandbox: Sandbox) -> None:
    user = sandbox.seeded["leaked-long-term-key"]["user_name"]
    assert sandbox.status() == ["Active"]
    out = sandbox.contain("leaked-long-term-key")
    assert out["status"] == "completed"
    assert sandbox.status() == ["Inactive"]
    iam = sandbox.client("iam")
    policy = iam.get_user_policy(UserName=user, PolicyName="ResponderDenyBedrockBearerTokens")
    assert set(policy["PolicyDocument"]["Statement"]["Action"]) == {
        "bedrock:CallWithBearerToken",
        "bedrock-mantle:CallWithBearerToken",
    }
    # without --reactivate-keys the key stays inactive; the second rollback finishes the job
    first = json.loads(sandbox.responder("rollback", out["run_id"], "-o", "json").stdout)
    assert first["status"] == "rolled-back" and sandbox.status() == ["Inactive"]
    sandbox.responder("rollback", out["run_id"], "--reactivate-keys")
    assert sandbox.status() == ["Active"]
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == ["team-bedrock-access"]
    assert "chain intact" in sandbox.responder("audit", "verify", out["audit_log"]).stdout


def test_dry_run_sends_no_mutating_request(sandbox: Sandbox) -> None:
    """Read at the server, from the wire: every request a dry run of each shipped playbook makes is a read. One
    server for them all (it costs ~1.6 s of CPU to start and seed): a dry run needs no fresh account, and each is
    checked to have changed nothing before the next."""
    for playbook in sorted(shipped_playbooks()):
        _dry_run_sends_only_reads(sandbox, playbook)


def _dry_run_sends_only_reads(sandbox: Sandbox, playbook: str) -> None:
    before = len(sandbox.operations())
    extra = {
        "leaked-long-term-key": ["-p", "delete_key=true", "-p", "quarantine_user=true"],
        "bedrock-key-guardrails": ["-p", "principal_name=BedrockAPIKey-demo"],
        "contain-bedrock-keys": ["-p", "filter=all"],
    }.get(playbook, [])
    key = ["--key-file", str(sandbox.key_files[playbook])] if playbook in sandbox.key_files else []
    sandbox.responder("run", playbook, *key, *extra, "--dry-run")
    sent = sandbox.operations()[before:]
    assert "GetCallerIdentity" in sent and len(sent) >= 2, playbook  # it did plan against the account
    assert [op for op in sent if not is_read_only(op)] == [], playbook
    assert sandbox.status() == ["Active"], playbook


def test_full_inline_budget_falls_back_to_a_managed_policy(sandbox: Sandbox) -> None:
    user = sandbox.seeded["leaked-long-term-key"]["user_name"]
    resources = [f"arn:aws:s3:::bucket/{i:04d}" for i in range(66)]  # leaves room, but not for the deny
    big = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": resources}]}
    iam = sandbox.client("iam")
    iam.put_user_policy(UserName=user, PolicyName="big", PolicyDocument=json.dumps(big))
    assert "big" in iam.list_user_policies(UserName=user)["PolicyNames"]
    run = sandbox.contain("leaked-long-term-key")
    attached = iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
    assert [a["PolicyName"] for a in attached] == [f"ResponderDenyBedrockBearerTokens-{user}"]
    sandbox.responder("rollback", run["run_id"], "--reactivate-keys")
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == []
    assert sandbox.status() == ["Active"]


def test_short_term_key_over_the_wire(sandbox: Sandbox) -> None:
    role = sandbox.seeded["leaked-short-term-key"]["role_name"]
    key_file = str(sandbox.key_files["leaked-short-term-key"])
    identified = json.loads(sandbox.responder("identify", key_file, "-o", "json").stdout)
    assert identified["key"]["signer"] == "role-session" and identified["owner"]["principal"] == f"role {role}"
    run = sandbox.contain("leaked-short-term-key")
    assert run["status"] == "completed"
    iam = sandbox.client("iam")
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    assert sorted(names) == ["AWSRevokeOlderSessions", "ResponderDenyBedrockBearerTokens"]
    # The token is valid for hours yet: a plain rollback keeps the deny and the revocation, and says why.
    kept = sandbox.responder("rollback", run["run_id"])
    assert "valid until" in kept.stdout and len(iam.list_role_policies(RoleName=role)["PolicyNames"]) == 2
    back = sandbox.responder("rollback", run["run_id"], "--reactivate-keys")
    assert "work again" in back.stdout  # removing AWSRevokeOlderSessions re-opens old sessions: say so
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == []


def test_sweep_then_contain_every_key_it_lists(sandbox: Sandbox) -> None:
    """The sweep's hint, run as printed (with --yes): every key it listed is contained, in one run."""
    listed = json.loads(sandbox.responder("sweep", "-o", "json").stdout)
    assert len(listed) >= 2
    table = sandbox.responder("sweep").stdout
    hint = next(line for line in table.splitlines() if line.startswith("contain them: "))
    command = hint.removeprefix("contain them: responder ").replace("'", "").split()
    assert command == ["run", "contain-bedrock-keys", "-p", "filter=all", "--dry-run"]
    out = json.loads(sandbox.responder(*command[:-1], "--yes", "-o", "json").stdout)
    assert out["status"] == "completed", out
    groups = {step["id"] for step in out["steps"] if step["id"].startswith("deactivate[")}
    assert groups == {f"deactivate[{k['user_name']}/{k['credential_id']}]" for k in listed}
    assert {k["status"] for k in json.loads(sandbox.responder("sweep", "-o", "json").stdout)} == {"Inactive"}
    sandbox.responder("rollback", out["run_id"], "--reactivate-keys")
    assert {k["status"] for k in json.loads(sandbox.responder("sweep", "-o", "json").stdout)} == {"Active"}


def test_fan_out_over_the_wire_contains_every_reachable_account(tmp_path: Path) -> None:
    """An organization of two member accounts, plus one listed account with no role to assume."""
    with serve(tmp_path, "--accounts", "2", "--keys-per-account", "2") as sandbox:
        assert sandbox.organization is not None
        members = sandbox.organization["accounts"]
        listing = Path(sandbox.organization["accounts_file"])
        listing.write_text(listing.read_text() + "999999999999\n")
        swept = json.loads(sandbox.responder("sweep", "--org", "-o", "json").stdout)
        assert {row["account_id"] for row in swept} == {"123456789012", *members}
        run = sandbox.responder(
            "run",
            "contain-bedrock-keys",
            "-p",
            "filter=all",
            "--accounts",
            str(listing),
            "--yes",
            "-o",
            "json",
            check_exit=1,
        )
        out = json.loads(run.stdout)
        assert out["status"] == "mixed" and "999999999999: cannot assume" in out["message"]
        after = json.loads(sandbox.responder("sweep", "--org", "-o", "json").stdout)
        assert {r["status"] for r in after if r["account_id"] in members} == {"Inactive"}
        assert {r["status"] for r in after if r["account_id"] == "123456789012"} == {"Active"}  # not listed
        assert sandbox.operations().count("AssumeRole") >= 3
        back = json.loads(sandbox.responder("rollback", out["run_id"], "--reactivate-keys", "-o", "json").stdout)
        assert back["status"] == "rolled-back", back
        final = json.loads(sandbox.responder("sweep", "--org", "-o", "json").stdout)
        assert {r["status"] for r in final} == {"Active"}
        report = sandbox.responder("report", out["run_id"]).stdout
        assert all(f"## Account {account}" in report for account in members)


def test_a_fan_out_killed_midway_is_resumed_and_rolled_back_whole(tmp_path: Path) -> None:
    """SIGKILL inside the first account, before the parent heard of its run: resume finds that run and finishes
    it (no second run there), starts the others; rollback undoes all of them."""
    with serve(tmp_path, "--accounts", "3", "--keys-per-account", "1") as sandbox:
        assert sandbox.organization is not None
        members, listing = sandbox.organization["accounts"], sandbox.organization["accounts_file"]
        args = ["run", "contain-bedrock-keys", "-p", "filter=all", "--accounts", listing, "--yes", "--concurrency", "1"]
        killed = subprocess.run(
            [*RESPONDER, *args],
            env=sandbox.env | {"RESPONDER_FAULT_KILL_AFTER": "step.verified:1"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert killed.returncode == -9, killed.stderr
        (parent,) = [p.name for p in sandbox.runs.iterdir() if p.name != "locks"]
        resumed = json.loads(sandbox.responder("resume", parent, "-o", "json").stdout)
        assert resumed["status"] == "completed", resumed
        account_runs = [p for p in (sandbox.runs / parent / "accounts").iterdir() if (p / "audit.jsonl").exists()]
        assert len(account_runs) == len(members)
        swept = json.loads(sandbox.responder("sweep", "--accounts", listing, "-o", "json").stdout)
        assert [r["status"] for r in swept] == ["Inactive"] * len(members)
        back = json.loads(sandbox.responder("rollback", parent, "--reactivate-keys", "-o", "json").stdout)
        assert back["status"] == "rolled-back", back
        swept = json.loads(sandbox.responder("sweep", "--accounts", listing, "-o", "json").stdout)
        assert [r["status"] for r in swept] == ["Active"] * len(members)


# What an applying run of each shipped playbook needs (beyond the seeded key), and how many CloudTrail reads its
# containment itself consumes: a short-term key's role is found in CloudTrail, one page in each searched region.
APPLYING = {
    "leaked-long-term-key": ([], 0),
    "leaked-short-term-key": ([], 2),
    "contain-bedrock-keys": (["-p", "filter=user=BedrockAPIKey-*"], 0),
    "bedrock-key-guardrails": (["-p", "principal_name=BedrockAPIKey-demo"], 0),
}


@pytest.mark.parametrize("playbook", sorted(shipped_playbooks()))
def test_containment_is_never_behind_a_read_it_does_not_need(sandbox: Sandbox, playbook: str) -> None:
    """Read at the server: no CloudTrail request before the last change of an applying run, but those resolving
    the key's principal; the investigation comes after, and still reaches the output."""
    extra, resolving = APPLYING[playbook]
    before = len(sandbox.operations())
    key = ["--key-file", str(sandbox.key_files[playbook])] if playbook in sandbox.key_files else []
    out = json.loads(sandbox.responder("run", playbook, *key, *extra, "--yes", "-o", "json").stdout)
    assert out["status"] == "completed", out["message"]
    sent = sandbox.operations()[before:]
    changes = [i for i, op in enumerate(sent) if not is_read_only(op)]
    assert changes, "the run changed nothing: nothing to order reads against"
    early = [op for op in sent[: changes[-1]] if op == "LookupEvents"]
    assert len(early) <= resolving, sent
    if any(s["action"] == "cloudtrail.investigate-key-activity" for s in out["steps"]):
        assert "LookupEvents" in sent[changes[-1] :], sent  # what the key did is read after containment
        report = json.loads(Path(out["report_json"]).read_text())
        assert next(s for s in report["steps"] if s["id"] == "investigate")["outputs"]["activity"] is not None
    if playbook != "bedrock-key-guardrails":  # guardrails prevent; they contain no key
        assert out["containment"]["fully_denied_after_s"] > 0

"""`responder permissions`: every call any run makes is covered, and nothing is granted that no run uses."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from moto.iam.models import iam_backends
from typer.testing import CliRunner

from responder.aws.clients import AwsOptions, Clients
from responder.cli.main import app
from responder.engine.commands.operations import start_run
from responder.engine.commands.permissions import (
    FOOTHOLD_REMOVALS,
    NEVER_GRANTED,
    RESTORED_BY_AN_ADMINISTRATOR,
    ROLLBACK_ONLY,
    phase_permissions,
    required_permissions,
)
from responder.engine.commands.recovery import rollback_run
from responder.engine.running.context import Settings
from responder.keys import parse_short_term_key
from responder.playbook.checks import load_playbook
from responder.playbook.shipped import shipped_playbooks
from responder.sandbox import bedrock_usage
from responder.sandbox.event_data_stores import BEDROCK_DATA_SELECTORS, seed_event_data_store
from responder.sandbox.llmjacking import (
    seed_logging_deleted,
    seed_policy_footholds,
    seed_trust_change,
    window_start,
)
from responder.sandbox.seed import ROLE_TRUST, Seeded, SeededShortTerm
from responder.sandbox.service_credentials import create_credential
from responder.sandbox.window_jobs import seed_window_jobs, user_identity
from tests.factories import ACCOUNT, fill_inline_budget, make_token

# A service whose IAM action prefix is not the name it signs requests with.
IAM_PREFIX = {"monitoring": "cloudwatch"}


class Calls:
    """Every request the code under test sent, as the IAM action that authorises it (service:Operation), by phase:
    what containment sent, and what its rollback sent."""

    def __init__(self) -> None:
        self.made: set[str] = set()
        self.phase = "contain"
        self.by_phase: dict[str, set[str]] = {"contain": set(), "rollback": set()}

    def __call__(self, model: Any, **_: Any) -> None:
        prefix = IAM_PREFIX.get(model.service_model.signing_name, model.service_model.signing_name)
        call = f"{prefix}:{model.name}"
        self.made.add(call)
        self.by_phase[self.phase].add(call)


@pytest.fixture
def calls(tmp_path: Path) -> tuple[Calls, Settings]:
    recorder = Calls()

    def open_clients(options: AwsOptions, read_only: bool) -> Clients:
        clients = Clients(options, read_only)
        clients.on_request(recorder)
        return clients

    return recorder, Settings(
        runs_dir=tmp_path / "runs", aws=AwsOptions(region="us-east-1"), open_clients=open_clients, verify_delays=(0.0,)
    )


def test_every_call_of_every_path_is_granted_and_nothing_more(
    short_account: SeededShortTerm,
    account: Seeded,
    iam: Any,
    calls: tuple[Calls, Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorder, settings = calls
    # The investigation's every read: Bedrock metrics to sum; a trail (its selectors and status); a Lake store.
    now = datetime.now(timezone.utc)
    bedrock_usage.seed_metrics(ACCOUNT, "us-east-1", (now - timedelta(hours=2), now))
    bedrock_usage.seed_trail(ACCOUNT, "us-east-1")
    seed_event_data_store(ACCOUNT, "us-east-1", "bedrock-lake", BEDROCK_DATA_SELECTORS, now - timedelta(days=30))

    def contain_and_undo(playbook: str, key: str | None, **params: str) -> None:
        recorder.phase = "contain"
        run = start_run(playbook, dict(params), key, dry_run=False, confirm=None, settings=settings)
        assert run.status == "completed", run.message
        recorder.phase = "rollback"
        assert rollback_run(run.run_id, reactivate_keys=True, settings=settings).status == "rolled-back"

    # long-term: the normal path (with the footholds an attacker left), then the managed-policy fallback, then
    # deleting the key
    seed_policy_footholds(ACCOUNT, "user", account.user_name, window_start(110))
    create_credential(ACCOUNT, account.user_name)  # a second key, and a console password, made in the window
    iam.create_login_profile(UserName=account.user_name, Password="Attacker-chosen-1!")
    seed_logging_deleted(ACCOUNT, "us-east-1", window_start(110))
    contain_and_undo("leaked-long-term-key", account.key)
    # the console-made user quarantined too: its access key and console password
    iam.create_access_key(UserName=account.user_name)
    iam.delete_login_profile(UserName=account.user_name)  # the one the rollback above gave back: a fresh one
    iam.create_login_profile(UserName=account.user_name, Password="An0ld-Passw0rd!")
    contain_and_undo("leaked-long-term-key", account.key, quarantine_user="true")
    fill_inline_budget(iam, user=account.user_name)  # the user's deny falls back to a managed policy
    contain_and_undo("leaked-long-term-key", account.key)
    # the user's jobs stopped and its hourly throughput deleted, when asked (CloudTrail names the user their creator)
    seed_window_jobs(ACCOUNT, "us-east-1", window_start(100), user_identity(ACCOUNT, account.user_name))
    asked = {"delete_key": "true", "stop_jobs": "true", "delete_throughput": "true"}
    contain_and_undo("leaked-long-term-key", None, user_name=account.user_name, **asked)
    # short-term: a role session from CloudTrail, a role and a user named by hand, an IAM user's access key
    since = parse_short_term_key(short_account.key).issued_at  # the role's footholds, made during the key's life
    seed_policy_footholds(ACCOUNT, "role", short_account.role_name, since)
    seed_trust_change(ACCOUNT, short_account.role_name, since, ROLE_TRUST)
    contain_and_undo("leaked-short-term-key", short_account.key)
    contain_and_undo("leaked-short-term-key", None, role_name=short_account.role_name)
    fill_inline_budget(iam, role=short_account.role_name)  # the role's deny falls back to a managed policy
    contain_and_undo("leaked-short-term-key", None, role_name=short_account.role_name, revoke_sessions="false")
    iam.create_user(UserName="ci-bot")
    access_key = iam.create_access_key(UserName="ci-bot")["AccessKey"]["AccessKeyId"]
    contain_and_undo("leaked-short-term-key", make_token(access_key, "us-east-1"))
    # A multi-region trail: the account's regions too (two Bedrock regions keep it quick).
    monkeypatch.setattr("responder.actions.trail_coverage.service_regions", lambda *_: ["us-east-1", "us-west-2"])
    bedrock_usage.seed_trail(ACCOUNT, "us-east-1", multi_region=True)
    contain_and_undo("leaked-short-term-key", None, user_name="ci-bot")
    # preventive: the guardrails on a user and on a role
    contain_and_undo("bedrock-key-guardrails", None, principal_name="ci-bot", deny_bearer="short-term")
    iam.create_role(RoleName="guarded-role", AssumeRolePolicyDocument="{}")
    contain_and_undo("bedrock-key-guardrails", None, principal_type="role", principal_name="guarded-role")
    # many keys: every key a filter selects
    contain_and_undo("contain-bedrock-keys", None, filter="all")

    books = [load_playbook(p) for p in shipped_playbooks().values()]
    granted = set(required_permissions(books))
    assert recorder.made <= granted, f"called but not granted: {sorted(recorder.made - granted)}"
    assert granted <= recorder.made, f"granted but never called: {sorted(granted - recorder.made)}"
    # The containment identity's policy and the rollback's: each covers its own phase's calls, and containment's
    # holds no delete or detach (it cannot undo its own work).
    # Re-attaching the attacker's managed policy is the one rollback call no emitted policy grants (an escalation).
    for phase, rollback in (("contain", False), ("rollback", True)):
        allowed = set(phase_permissions(books, rollback=rollback))
        made = recorder.by_phase[phase] - (RESTORED_BY_AN_ADMINISTRATOR if rollback else set())
        assert made <= allowed, f"{phase}: called but not granted: {sorted(made - allowed)}"
    assert ROLLBACK_ONLY & set(phase_permissions(books)) <= FOOTHOLD_REMOVALS  # the attacker's policies only
    assert "iam:DeletePolicy" not in phase_permissions(books)
    assert not NEVER_GRANTED & (set(phase_permissions(books)) | set(phase_permissions(books, rollback=True)))


def test_the_policy_is_one_iam_can_take(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["permissions", "leaked-long-term-key", "leaked-short-term-key"])
    policy = json.loads(result.stdout)
    assert set(policy) == {"Version", "Statement"}  # IAM rejects any other top-level key
    allowed = {a for s in policy["Statement"] if s["Effect"] == "Allow" for a in s["Action"]}
    assert "iam:UpdateServiceSpecificCredential" in allowed and "sts:GetCallerIdentity" in allowed
    assert len("".join(json.dumps(policy).split())) < 6144
    only_long = json.loads(CliRunner().invoke(app, ["permissions", "leaked-long-term-key"]).stdout)
    assert "iam:PutRolePolicy" not in {a for s in only_long["Statement"] for a in s["Action"]}


def test_the_fan_out_operator_policy_covers_every_call(
    account: Seeded, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Sweep and contain across the organization, then roll back: every call the operator's credentials or the
    assumed roles made is in `permissions --sweep --fan-out`, and its sweep and fan-out grants are all used."""
    from responder.actions.key_inventory import SWEEP_PERMISSIONS
    from responder.engine.commands.permissions import ASSUME, ORGANIZATION, policy_document
    from responder.fanout.accounts import Organization
    from responder.fanout.runs import rollback_any_run, start_fanout
    from responder.sandbox.organization import DEFAULT_ROLE, seed_organization

    recorder = Calls()
    opened = Clients.__init__

    def watched(self: Clients, *args: Any, **kwargs: Any) -> None:
        opened(self, *args, **kwargs)
        self.on_request(recorder)

    monkeypatch.setattr(Clients, "__init__", watched)
    members = seed_organization(ACCOUNT, accounts=2, keys_per_account=1)
    inline = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}
    iam_backends[members[0].account_id]["aws"].put_user_policy(members[0].users[0], "app", json.dumps(inline))
    assert CliRunner().invoke(app, ["sweep", "--org", "-o", "json"]).exit_code == 0
    settings = Settings(runs_dir=tmp_path / "runs", aws=AwsOptions(region="us-east-1"), verify_delays=(0.0,))
    run = start_fanout("contain-bedrock-keys", {"filter": "all"}, False, settings, Organization(), DEFAULT_ROLE, 4)
    assert run.exit_code == 0, run.message
    assert rollback_any_run(run.run_id, reactivate_keys=True, settings=settings).exit_code == 0

    book = [load_playbook(shipped_playbooks()["contain-bedrock-keys"])]
    policy = policy_document(book, True, DEFAULT_ROLE)
    rollback = policy_document(book, True, rollback=True)  # the member role carries both (member-role template)
    granted = {
        action
        for s in policy["Statement"] + rollback["Statement"]
        if s["Effect"] == "Allow"
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert recorder.made <= granted, f"called but not granted: {sorted(recorder.made - granted)}"
    assert {ASSUME, *ORGANIZATION, *SWEEP_PERMISSIONS} <= recorder.made
    assert policy["Statement"][-2]["Resource"] == f"arn:*:iam::*:role/{DEFAULT_ROLE}"


def test_rollback_and_member_role_options() -> None:
    """--rollback prints the rollback's rights only; --member-role-template a template whose role trusts only the
    operator; the two never combine with --fan-out (one line, exit 2)."""
    runner = CliRunner()
    back = json.loads(runner.invoke(app, ["permissions", "leaked-long-term-key", "--rollback"]).stdout)
    allowed = {a for s in back["Statement"] if s["Effect"] == "Allow" for a in s["Action"]}
    assert "iam:DeleteUserPolicy" in allowed and not allowed & {"iam:AttachUserPolicy", "iam:CreatePolicy"}
    template = json.loads(runner.invoke(app, ["permissions", "contain-bedrock-keys", "--member-role-template"]).stdout)
    role = template["Resources"]["MemberRole"]["Properties"]
    assert role["RoleName"] == "ResponderMemberRole" and [p["PolicyName"] for p in role["Policies"]] == [
        "responder-containment",
        "responder-rollback",
    ]
    refused = runner.invoke(app, ["permissions", "contain-bedrock-keys", "--member-role-template", "--fan-out"])
    assert refused.exit_code == 2 and "--member-role-template" in refused.output
    bad = runner.invoke(app, ["permissions", "leaked-long-term-key", "--operator-arn", "arn:aws:iam::1:role/x"])
    assert bad.exit_code == 2 and "--operator-arn" in bad.output

"""Fan-out: a playbook or a sweep in many accounts through sts:AssumeRole, a bounded pool, one parent run."""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.iam.models import iam_backends
from typer.testing import CliRunner

from responder.actions.iam_policies import DEFAULT_POLICY_NAME
from responder.cli.main import app
from responder.engine.journal.run_state import load_run
from responder.engine.journal.runs import ACCOUNT_RUNS, find_run
from responder.engine.running.context import Settings
from responder.errors import UserError
from responder.fanout.accounts import Accounts, Organization, Target, in_pool, read_accounts_file
from responder.fanout.runs import account_results, start_fanout
from responder.fanout.runs import resume_any_run as resume_run
from responder.fanout.runs import rollback_any_run as rollback_run
from responder.sandbox.organization import DEFAULT_ROLE, Member, seed_organization
from responder.sandbox.seed import Seeded
from responder.sandbox.service_credentials import create_credential
from tests.factories import ACCOUNT, Requests

BOOK = "contain-bedrock-keys"
NO_ROLE = "999999999999"  # an account where the role to assume does not exist


def member_iam(account_id: str) -> Any:
    """IAM in a member account, straight through the role (as a test's observer, not through responder)."""
    sts = boto3.client("sts", region_name="us-east-1")
    arn = f"arn:aws:iam::{account_id}:role/{DEFAULT_ROLE}"
    creds = sts.assume_role(RoleArn=arn, RoleSessionName="observer")["Credentials"]
    return boto3.client(
        "iam",
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def statuses(account_id: str) -> list[str]:
    listed = member_iam(account_id).list_service_specific_credentials(AllUsers=True)
    return sorted(c["Status"] for c in listed["ServiceSpecificCredentials"])


@pytest.fixture
def members(account: Seeded) -> list[Member]:
    return seed_organization(ACCOUNT, accounts=3, keys_per_account=2)


def fan_out(settings: Settings, targets: list[Target] | None, dry_run: bool = False, concurrency: int = 8) -> Any:
    scope = Organization() if targets is None else Accounts(tuple(targets))
    return start_fanout(BOOK, {"filter": "all"}, dry_run, settings, scope, DEFAULT_ROLE, concurrency)


# ---- the accounts file


def test_accounts_file_lines(tmp_path: Path) -> None:
    path = tmp_path / "accounts.txt"
    path.write_text("# prod\n111122223333\n\n444455556666 , AuditRole  # ours\n")
    assert read_accounts_file(path) == [Target("111122223333"), Target("444455556666", "AuditRole")]


# ---- the pool


def test_the_pool_runs_exactly_concurrency_accounts_at_once() -> None:
    """A barrier of 3 only opens if 3 workers wait at once; the counter shows never more than 3."""
    barrier, lock = threading.Barrier(3, timeout=10), threading.Lock()
    active, peak = [0], [0]
    results: dict[str, Any] = {}

    def work(target: Target) -> str:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        barrier.wait()
        with lock:
            active[0] -= 1
        return target.account_id

    targets = [Target(f"{n:012d}") for n in range(6)]
    in_pool(targets, work, 3, lambda t, r: results.__setitem__(t.account_id, r))
    assert peak[0] == 3
    assert results == {t.account_id: t.account_id for t in targets}


def test_one_failing_account_does_not_stop_the_others() -> None:
    seen: dict[str, Any] = {}

    def work(target: Target) -> str:
        if target.account_id.endswith("2"):
            raise RuntimeError("boom")
        return "ok"

    in_pool([Target(f"{n:012d}") for n in range(5)], work, 2, lambda t, r: seen.__setitem__(t.account_id, r))
    assert [k for k, v in seen.items() if isinstance(v, RuntimeError)] == ["000000000002"]
    assert sorted(k for k, v in seen.items() if v == "ok") == [
        "000000000000",
        "000000000001",
        "000000000003",
        "000000000004",
    ]


# ---- a playbook in many accounts


def test_contains_every_account_and_reports_the_one_that_failed(
    members: list[Member], settings: Settings, requests: Requests
) -> None:
    targets = [Target(m.account_id) for m in members] + [Target(NO_ROLE)]
    outcome = fan_out(settings, targets)
    assert outcome.exit_code == 1 and outcome.status == "mixed"
    assert all(statuses(m.account_id) == ["Inactive", "Inactive"] for m in members)
    results = account_results(outcome.state, outcome.paths)
    assert {a: r.status for a, r in results.items()} == {
        **{m.account_id: "completed" for m in members},
        NO_ROLE: "failed",
    }
    assert results[NO_ROLE].run_id is None and "cannot assume" in results[NO_ROLE].message
    assert f"{NO_ROLE}: cannot assume arn:aws:iam::{NO_ROLE}:role/{DEFAULT_ROLE}" in outcome.message
    # each account's run: its own audit log under the parent's directory, saying how it got there
    for member in members:
        child = find_run(settings.runs_dir, results[member.account_id].run_id or "")
        assert child.root == outcome.paths.directory / ACCOUNT_RUNS
        started = load_run(child.audit_log).started
        assert started.account_id == member.account_id and started.parent_run == outcome.run_id
        assert started.assumed_role == f"arn:aws:iam::{member.account_id}:role/{DEFAULT_ROLE}"
        member_policies = member_iam(member.account_id).list_user_policies(UserName=member.users[0])
        assert DEFAULT_POLICY_NAME in member_policies["PolicyNames"]
    # one merged report, naming every account and holding each account's report
    merged = outcome.paths.report_md.read_text()
    assert all(f"## Account {m.account_id}" in merged for m in members)
    assert f"| {NO_ROLE} | failed | - | none started |" in merged
    # per account, the changes made: two keys of two users, each deactivated and each user denied
    assert all(f"| {m.account_id} | completed | 4 | `" in merged for m in members)
    saved = json.loads(outcome.paths.report_json.read_text())
    assert saved["accounts"][0]["report"]["playbook"] == BOOK
    # what holds is each account's claim; the parent, which changed nothing itself, claims nothing either way
    assert saved["claims"] is None
    assert all(a["report"]["claims"]["contained"]["holds"] for a in saved["accounts"] if a.get("report"))


def test_dry_run_fan_out_changes_nothing_anywhere(
    members: list[Member], settings: Settings, requests: Requests
) -> None:
    outcome = fan_out(settings, [Target(m.account_id) for m in members], dry_run=True)
    assert outcome.exit_code == 0 and outcome.status == "planned"
    assert all(f"| {m.account_id} | planned | 4 planned | `" in outcome.paths.report_md.read_text() for m in members)
    assert requests.sent and requests.mutating == []
    assert all(statuses(m.account_id) == ["Active", "Active"] for m in members)


def test_rollback_and_resume_of_the_parent_act_in_every_account(members: list[Member], settings: Settings) -> None:
    targets = [Target(m.account_id) for m in members] + [Target(NO_ROLE)]
    failed = fan_out(settings, targets)
    # An administrator creates the missing role: resume starts that account and keeps the others as they are.
    backend = iam_backends[NO_ROLE]["aws"]
    backend.create_role(DEFAULT_ROLE, "{}", "/", None, "", [], None)
    backend.create_user("us-east-1", "late-app")
    create_credential(NO_ROLE, "late-app")
    resumed = resume_run(failed.run_id, settings)
    assert resumed.exit_code == 0 and resumed.status == "completed", resumed.message
    assert resumed.message == "4 account(s): 4 completed"
    assert statuses(NO_ROLE) == ["Inactive"]
    back = rollback_run(failed.run_id, True, settings)
    assert back.exit_code == 0 and back.status == "rolled-back", back.message
    assert all(statuses(a) == ["Active"] * len(statuses(a)) for a in [m.account_id for m in members] + [NO_ROLE])


def test_org_reaches_every_active_account_and_its_own_without_a_role(members: list[Member], settings: Settings) -> None:
    outcome = fan_out(settings, None, concurrency=2)
    assert outcome.exit_code == 0, outcome.message
    results = account_results(outcome.state, outcome.paths)
    assert set(results) == {ACCOUNT, *(m.account_id for m in members)}
    assert results[ACCOUNT].role_arn is None  # the operator's own (management) account: its own credentials
    assert all(r.role_arn for a, r in results.items() if a != ACCOUNT)


def test_a_playbook_for_one_leaked_key_does_not_fan_out(members: list[Member], settings: Settings) -> None:
    with pytest.raises(UserError, match="names its own account"):
        start_fanout(
            "leaked-long-term-key", {}, True, settings, Accounts((Target(members[0].account_id),)), DEFAULT_ROLE, 8
        )


def test_the_assumed_sessions_secrets_stay_out_of_every_file(members: list[Member], settings: Settings) -> None:
    from moto.sts.models import sts_backends

    outcome = fan_out(settings, [Target(m.account_id) for m in members])
    sessions = [r for m in members for r in sts_backends[m.account_id]["aws"].assumed_roles]
    assert sessions, "the fan-out assumed no role: the check below would prove nothing"
    secrets = [s for r in sessions for s in (r.secret_access_key, r.session_token)]
    for path in outcome.paths.directory.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert not [s for s in secrets if s in text], path


def test_the_assumed_sessions_secrets_stay_out_of_every_output(
    members: list[Member], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the commands print, in text, JSON and --debug, for a fan-out that succeeds in some accounts and fails
    in one: no secret of any session it assumed."""
    from moto.sts.models import sts_backends

    listing = tmp_path / "accounts.txt"
    listing.write_text("".join(f"{m.account_id}\n" for m in members) + f"{NO_ROLE}\n")
    runs = ["--runs-dir", str(tmp_path / "runs")]
    shown = ""
    for args in (
        ["sweep", "--accounts", str(listing)],
        ["--debug", "sweep", "--accounts", str(listing), "-o", "json"],
        ["run", BOOK, "-p", "filter=all", "--accounts", str(listing), "--dry-run", *runs],
        ["--debug", "run", BOOK, "-p", "filter=all", "--accounts", str(listing), "--yes", "-o", "json", *runs],
    ):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 1, result.output  # the account without the role failed, the others did not
        shown += result.stdout + result.stderr
    sessions = [r for m in members for r in sts_backends[m.account_id]["aws"].assumed_roles]
    assert len(sessions) >= 4 * len(members), "the commands assumed too few roles: the check would prove little"
    secrets = [s for r in sessions for s in (r.secret_access_key, r.session_token)]
    assert [s for s in secrets if s in shown] == []
    assert "cannot assume" in shown  # the failure was printed, and printed without them


# ---- the sweep


def sweep_json(*args: str) -> Any:
    result = CliRunner().invoke(app, ["sweep", "-o", "json", *args])
    return result.exit_code, json.loads(result.stdout), result.stderr


def test_sweep_across_accounts_lists_each_accounts_keys(members: list[Member], tmp_path: Path) -> None:
    listing = tmp_path / "accounts.txt"
    listing.write_text("".join(f"{m.account_id}\n" for m in members) + f"{NO_ROLE}\n")
    code, rows, stderr = sweep_json("--accounts", str(listing), "--concurrency", "2")
    assert code == 1  # one account could not be swept: said on stderr, the others listed
    assert f"account {NO_ROLE}: cannot assume" in stderr
    assert sorted({r["account_id"] for r in rows}) == sorted(m.account_id for m in members)
    assert len(rows) == 2 * len(members)
    code, rows, _ = sweep_json("--org")
    assert code == 0 and {r["account_id"] for r in rows} == {ACCOUNT, *(m.account_id for m in members)}


def test_org_takes_active_accounts_by_state_not_the_retired_status() -> None:
    """`Status` was retired on 2026-09-09: `State` decides, and a page with only `Status` still works."""
    from responder.fanout.accounts import organization_accounts

    pages = [
        {
            "Accounts": [
                {"Id": "111111111111", "State": "ACTIVE", "Status": "ACTIVE"},
                {"Id": "222222222222", "State": "SUSPENDED", "Status": "SUSPENDED"},
                {"Id": "333333333333", "State": "CLOSED"},
                {"Id": "444444444444", "State": "PENDING_ACTIVATION"},
                {"Id": "555555555555", "Status": "ACTIVE"},
            ]
        }
    ]

    class Organizations:
        def get_paginator(self, name: str) -> Any:
            assert name == "list_accounts"
            return self

        def paginate(self) -> list[dict[str, Any]]:
            return pages

    class Fake:
        def client(self, service: str) -> Any:
            assert service == "organizations"
            return Organizations()

    found = organization_accounts(Fake())  # type: ignore[arg-type]
    assert [t.account_id for t in found] == ["111111111111", "555555555555"]


# ---- what a review found: the parent must follow each account's own run


def test_resume_after_a_rollback_is_refused(members: list[Member], settings: Settings) -> None:
    run = fan_out(settings, [Target(m.account_id) for m in members] + [Target(NO_ROLE)])
    rollback_run(run.run_id, True, settings)
    with pytest.raises(UserError, match="was rolled back"):
        resume_run(run.run_id, settings)
    assert all(statuses(m.account_id) == ["Active", "Active"] for m in members)


def test_an_account_resumed_on_its_own_counts_as_done(
    members: list[Member], settings: Settings, requests: Requests
) -> None:
    requests.fail("PutUserPolicy", "AccessDenied", times=1)  # one account's run stops at its first deny
    run = fan_out(settings, [Target(m.account_id) for m in members], concurrency=1)
    stopped = [r for r in account_results(run.state, run.paths).values() if r.status == "failed"]
    assert len(stopped) == 1 and stopped[0].run_id
    assert resume_run(stopped[0].run_id, settings).status == "completed"  # by its own id, not the parent's
    with pytest.raises(UserError, match="nothing to resume"):
        resume_run(run.run_id, settings)
    report = CliRunner().invoke(app, ["report", run.run_id, "--runs-dir", str(settings.runs_dir)]).stdout
    assert "| failed |" not in report and report.count("| completed |") == len(members)


def test_account_runs_take_the_same_locks_as_any_run(members: list[Member], settings: Settings) -> None:
    from responder.engine.journal.locks import locked

    settings = dataclasses.replace(settings, lock_wait=0.1)
    busy = members[0]
    with locked(settings.runs_dir, [f"{busy.account_id}/user/{busy.users[0]}"], "another-run", 0.1):
        run = fan_out(settings, [Target(m.account_id) for m in members])
    assert run.exit_code == 1
    results = account_results(run.state, run.paths)
    assert results[busy.account_id].status == "rejected" and "another-run" in results[busy.account_id].message
    assert statuses(busy.account_id) == ["Active", "Active"]  # nothing changed where the lock was held
    assert all(statuses(m.account_id) == ["Inactive", "Inactive"] for m in members[1:])


def test_a_rollback_that_cannot_reach_an_account_exits_3(members: list[Member], settings: Settings) -> None:
    run = fan_out(settings, [Target(m.account_id) for m in members])
    gone = members[0].account_id
    roles = iam_backends[gone]["aws"].roles
    kept = dict(roles)
    roles.clear()  # someone deleted the role the fan-out came through
    back = rollback_run(run.run_id, True, settings)
    roles.update(kept)  # back, so the test can look inside the account
    assert back.exit_code == 3
    results = account_results(back.state, back.paths)
    assert results[gone].status == "rollback-incomplete" and "cannot assume" in results[gone].message
    assert statuses(gone) == ["Inactive", "Inactive"]
    assert all(statuses(m.account_id) == ["Active", "Active"] for m in members[1:])


def test_resume_never_lists_keys_the_plan_did_not(account: Seeded, settings: Settings, requests: Requests) -> None:
    from responder.engine.commands.operations import start_run

    requests.fail("ListServiceSpecificCredentials", "ServiceUnavailable", times=99)
    failed = start_run(BOOK, {"filter": "all"}, None, dry_run=False, confirm=None, settings=settings)
    assert failed.status == "failed" and "planning failed" in failed.message
    requests.faults.clear()
    with pytest.raises(UserError, match="stopped before its plan listed what group contain contains"):
        resume_run(failed.run_id, settings)
    assert requests.mutating == []


def test_rolling_back_a_fan_out_that_reached_no_account(account: Seeded, settings: Settings) -> None:
    run = fan_out(settings, [Target(NO_ROLE)])
    assert run.exit_code == 1 and run.status == "failed"
    back = rollback_run(run.run_id, True, settings)
    assert (back.exit_code, back.status) == (0, "rolled-back")
    assert back.message == "nothing to roll back: no account had a run"


def test_an_account_whose_rollback_stopped_is_not_resumed(members: list[Member], settings: Settings) -> None:
    run = fan_out(settings, [Target(m.account_id) for m in members])
    child = account_results(run.state, run.paths)[members[0].account_id].run_id or ""
    rollback_run(child, True, settings)
    log = find_run(settings.runs_dir, child).audit_log
    log.write_text("".join(log.read_text().splitlines(keepends=True)[:-1]))  # died before run.finished
    with pytest.raises(UserError, match="rollback stopped"):
        resume_run(child, settings)
    with pytest.raises(UserError, match="nothing to resume"):
        resume_run(run.run_id, settings)
    assert statuses(members[0].account_id) == ["Active", "Active"]  # not contained again behind anyone's back


def test_an_account_that_failed_while_planning_is_started_again(
    members: list[Member], settings: Settings, requests: Requests
) -> None:
    requests.fail("ListServiceSpecificCredentials", "ServiceUnavailable", times=1)
    run = fan_out(settings, [Target(m.account_id) for m in members], concurrency=1)
    assert run.exit_code == 1
    resumed = resume_run(run.run_id, settings)
    assert (resumed.exit_code, resumed.status) == (0, "completed"), resumed.message
    assert all(statuses(m.account_id) == ["Inactive", "Inactive"] for m in members)


def test_a_rollback_with_bad_operator_setup_records_nothing(members: list[Member], settings: Settings) -> None:
    import dataclasses

    run = fan_out(settings, [Target(m.account_id) for m in members])
    before = run.paths.audit_log.read_text()
    bad = dataclasses.replace(settings, aws=dataclasses.replace(settings.aws, profile="no-such-profile"))
    with pytest.raises(UserError, match="no-such-profile"):
        rollback_run(run.run_id, True, bad)
    assert run.paths.audit_log.read_text() == before

"""Only what the key's principal started is stopped or deleted (CloudTrail's Create* events say who): the team's job
and what no event attributes stay, each listed with its command; throughput under a commitment term is left with its
expiry; both steps are irreversible and the run asks to type 'delete' before them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from responder.actions.bedrock_job_stops import StopJobsParams, StopWindowJobs
from responder.cli.main import app
from responder.engine.commands.operations import start_run
from responder.engine.commands.recovery import rollback_run
from responder.engine.running.context import Settings
from responder.errors import EXIT_CANCELLED
from responder.keys import parse_short_term_key
from responder.sandbox.bedrock_jobs import seed_invocation_job, seed_provisioned_throughput
from responder.sandbox.llmjacking import window_start
from responder.sandbox.seed import SANDBOX_REGION, Seeded, SeededShortTerm
from responder.sandbox.window_jobs import record_created, role_identity, seed_window_jobs, user_identity
from tests.factories import ACCOUNT, Requests, action_context

BOOK = "leaked-long-term-key"


def _status(kind: str, arn: str, region: str = SANDBOX_REGION) -> str:
    bedrock = boto3.client("bedrock", region_name=region)
    if kind == "customization":
        return str(bedrock.get_model_customization_job(jobIdentifier=arn)["status"])
    listed = (
        bedrock.list_model_invocation_jobs()["invocationJobSummaries"]
        if kind == "batch"
        else bedrock.list_evaluation_jobs()["jobSummaries"]
    )
    return next(str(j["status"]) for j in listed if j["jobArn"] == arn)


def _throughputs(region: str = SANDBOX_REGION) -> list[str]:
    listed = boto3.client("bedrock", region_name=region).list_provisioned_model_throughputs()
    return [t["provisionedModelArn"] for t in listed["provisionedModelSummaries"]]


def test_only_the_users_jobs_are_stopped_and_its_hourly_throughput_deleted(account: Seeded, settings: Settings) -> None:
    seeded = seed_window_jobs(ACCOUNT, SANDBOX_REGION, window_start(100), user_identity(ACCOUNT, account.user_name))
    asked = {"stop_jobs": "true", "delete_throughput": "true"}
    run = start_run(BOOK, asked, account.key, dry_run=False, confirm=None, settings=settings)
    notes = "\n".join(run.state.steps["jobs"].notes)
    assert f"started by arn:aws:iam::{ACCOUNT}:user/ml-platform, not changed" in notes
    assert "-p stop_jobs=true stops it" in notes and "-p delete_throughput=true deletes it" in notes
    stop, throughput = run.state.steps["stop"], run.state.steps["throughput"]
    assert (stop.status, throughput.status) == ("verified", "verified"), run.message
    assert sorted(c["call"] for c in stop.changes) == [
        "bedrock:StopEvaluationJob",
        "bedrock:StopModelCustomizationJob",
        "bedrock:StopModelInvocationJob",
    ]
    assert all(not c["reversible"] for c in [*stop.changes, *throughput.changes])
    assert _status("customization", seeded.principal["customization"]) == "Stopped"
    assert _status("batch", seeded.principal["batch"]) == "Stopping"
    assert _status("evaluation", seeded.principal["evaluation"]) == "Stopping"
    assert _status("batch", seeded.team_job) == "InProgress"  # the team's: untouched
    assert any("team-nightly-batch" in n and "not changed" in n for n in stop.notes)
    assert _throughputs() == [seeded.committed_throughput]  # the hourly one deleted, the committed one left
    assert any("is left: its commitment SixMonths runs until" in n for n in throughput.notes)

    back = rollback_run(run.run_id, reactivate_keys=True, settings=settings)
    assert (back.state.steps["stop"].undo_status, back.state.steps["throughput"].undo_status) == (
        "irreversible",
        "irreversible",
    )


def test_a_job_nobody_is_named_for_is_not_stopped_and_a_refused_lookup_names_its_permission(
    account: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    since = datetime.now(timezone.utc) - timedelta(hours=2)
    silent = seed_invocation_job(ACCOUNT, SANDBOX_REGION, "no-record-batch", since + timedelta(minutes=5))
    params = StopJobsParams(regions=[SANDBOX_REGION], since=since, user_name=account.user_name)
    action = StopWindowJobs()
    ctx = action_context()
    plan = action.plan(ctx, params, action.snapshot(ctx, params))
    assert plan.changes == []
    assert any("no-record-batch" in n and "no CreateModelInvocationJob event" in n and silent in n for n in plan.notes)

    # more Create* events than the cap: the oldest, unread, is "not all read", never "nobody started it"
    monkeypatch.setattr("responder.actions.bedrock_job_creators.MAX_CREATE_EVENTS", 1)
    team = user_identity(ACCOUNT, "ml-platform")
    record_created(ACCOUNT, SANDBOX_REGION, "batch", silent, user_identity(ACCOUNT, account.user_name), since)
    newer = seed_invocation_job(ACCOUNT, SANDBOX_REGION, "team-batch", since + timedelta(minutes=9))
    record_created(ACCOUNT, SANDBOX_REGION, "batch", newer, team, since + timedelta(minutes=9))
    fresh = action_context()
    plan = action.plan(fresh, params, action.snapshot(fresh, params))
    assert plan.changes == []
    assert any("no-record-batch" in n and "were not all read (more than 1 since" in n for n in plan.notes)

    requests = Requests()
    requests.fail("LookupEvents", "AccessDeniedException")
    refused = action_context(requests=requests)
    plan = action.plan(refused, params, action.snapshot(refused, params))
    assert plan.changes == []
    assert any("could not be read" in n and "cloudtrail:LookupEvents" in n for n in plan.notes)


def test_only_the_signing_sessions_jobs_are_stopped_by_the_short_term_playbook(
    short_account: SeededShortTerm, settings: Settings
) -> None:
    """The key's session started one batch job and bought one throughput; another session of the same role (the
    chat app's nightly work, as far as anyone knows) started another: only the key's session's are changed."""
    region = parse_short_term_key(short_account.key).region
    since = parse_short_term_key(short_account.key).issued_at
    session = short_account.identity
    assert session["accessKeyId"] == short_account.access_key_id
    job = seed_invocation_job(ACCOUNT, region, "session-batch", since + timedelta(minutes=1))
    record_created(ACCOUNT, region, "batch", job, session, since)
    pt = seed_provisioned_throughput(ACCOUNT, region, "session-pt", since + timedelta(minutes=1), commitment=None)
    record_created(ACCOUNT, region, "throughput", pt, session, since)
    nightly = seed_invocation_job(ACCOUNT, region, "nightly-batch", since + timedelta(minutes=2))
    record_created(ACCOUNT, region, "batch", nightly, role_identity(ACCOUNT, short_account.role_name), since)
    asked = {"stop_jobs": "true", "delete_throughput": "true"}
    run = start_run("leaked-short-term-key", asked, short_account.key, False, confirm=None, settings=settings)
    assert run.state.steps["stop"].status == "verified", run.message
    assert _status("batch", job, region) == "Stopping"
    assert pt not in _throughputs(region)
    assert _status("batch", nightly, region) == "InProgress"
    notes = " ".join(run.state.steps["stop"].notes)
    assert "nightly-batch" in notes and "not the access key that signed the key, not changed" in notes


@pytest.mark.parametrize(("typed", "deleted"), [("yes", False), ("delete", True)])
def test_deleting_throughput_asks_to_type_delete(
    account: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, typed: str, deleted: bool
) -> None:
    seeded = seed_window_jobs(ACCOUNT, SANDBOX_REGION, window_start(100), user_identity(ACCOUNT, account.user_name))
    monkeypatch.setattr("responder.cli.run.interactive", lambda: True)
    key = tmp_path / "leaked.txt"
    key.write_text(account.key + "\n")
    args = ["run", BOOK, "--key-file", str(key), "-p", "delete_throughput=true", "--runs-dir", str(tmp_path / "r")]
    result: Any = CliRunner().invoke(app, args, input=f"y\n{typed}\n")
    assert "cannot be undone. Type 'delete' to go ahead" in result.stderr
    assert result.exit_code == (0 if deleted else EXIT_CANCELLED)
    assert (seeded.hourly_throughput in _throughputs()) is not deleted

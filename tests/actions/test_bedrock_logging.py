"""Invocation logging deleted during the exposure window is put back after containment as CloudTrail shows it before
(the last Put before the window), per region; rollback deletes it again exactly; a change whose earlier
configuration CloudTrail cannot show is left, with the command."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import boto3

from responder.actions.bedrock_logging import RUN_REGION, SETTING
from responder.engine.commands.operations import start_run
from responder.engine.commands.recovery import rollback_run
from responder.engine.running.context import Settings
from responder.sandbox.bedrock_jobs import seed_customization_job
from responder.sandbox.llmjacking import TEAM_LOGGING, bedrock_event, seed_logging_deleted
from responder.sandbox.seed import SANDBOX_REGION, Seeded
from responder.sandbox.window_jobs import record_created, user_identity
from tests.factories import ACCOUNT, Requests

BOOK = "leaked-long-term-key"


def _logging(region: str = SANDBOX_REGION) -> Any:
    config = boto3.client("bedrock", region_name=region).get_model_invocation_logging_configuration()
    return config.get("loggingConfig") or None


def test_logging_deleted_in_the_window_is_restored_and_rolled_back(
    account: Seeded, settings: Settings, requests: Requests
) -> None:
    seed_logging_deleted(ACCOUNT, SANDBOX_REGION, datetime.now(timezone.utc) - timedelta(hours=2))
    assert _logging() is None

    dry = start_run(BOOK, {}, account.key, dry_run=True, confirm=None, settings=settings)
    assert dry.status == "planned" and requests.mutating == []
    (change,) = dry.state.steps["logging"].changes
    assert change["call"] == "bedrock:PutModelInvocationLoggingConfiguration" and change["after"] == TEAM_LOGGING

    outcome = start_run(BOOK, {}, account.key, dry_run=False, confirm=None, settings=settings)
    assert outcome.status == "completed", outcome.message
    assert outcome.state.steps["logging"].status == "verified"
    assert _logging() == TEAM_LOGGING
    applying = next(r for r in outcome.state.records if r["event"] == "step.applying" and r["step"] == "logging")
    assert applying["targets"] == [{"kind": "setting", "region": RUN_REGION, "setting": SETTING}]

    back = rollback_run(outcome.run_id, reactivate_keys=True, settings=settings)
    assert back.state.steps["logging"].undo_status == "undone"
    assert _logging() is None  # exactly as the window left it


def test_a_change_with_no_earlier_configuration_is_left_with_the_command(account: Seeded, settings: Settings) -> None:
    since = datetime.now(timezone.utc) - timedelta(hours=2)
    redirect = {"s3Config": {"bucketName": "attacker-bucket"}, "textDataDeliveryEnabled": True}
    boto3.client("bedrock", region_name=SANDBOX_REGION).put_model_invocation_logging_configuration(
        loggingConfig=redirect
    )
    bedrock_event(
        ACCOUNT,
        SANDBOX_REGION,
        "PutModelInvocationLoggingConfiguration",
        {"loggingConfig": redirect},
        since + timedelta(minutes=5),
    )
    dry = start_run(BOOK, {}, account.key, dry_run=True, confirm=None, settings=settings)
    step = dry.state.steps["logging"]
    assert step.changes == []
    assert any(
        "cannot be known" in n and "put-model-invocation-logging-configuration --region us-east-1" in n
        for n in step.notes
    )


def test_a_running_job_is_listed_and_stopped_only_when_asked(account: Seeded, settings: Settings) -> None:
    since = datetime.now(timezone.utc) - timedelta(hours=1)
    arn = seed_customization_job(ACCOUNT, SANDBOX_REGION, "llm-exfil-tune", since)
    record_created(ACCOUNT, SANDBOX_REGION, "customization", arn, user_identity(ACCOUNT, account.user_name), since)
    bedrock = boto3.client("bedrock", region_name=SANDBOX_REGION)
    outcome = start_run(BOOK, {}, account.key, dry_run=False, confirm=None, settings=settings)
    assert [job["arn"] for job in outcome.state.steps["jobs"].outputs["jobs"]] == [arn]
    assert outcome.state.steps["stop"].status == "skipped"
    assert bedrock.get_model_customization_job(jobIdentifier=arn)["status"] == "InProgress"
    asked = start_run(BOOK, {"stop_jobs": "true"}, account.key, dry_run=False, confirm=None, settings=settings)
    assert asked.state.steps["stop"].status == "verified", asked.message
    assert bedrock.get_model_customization_job(jobIdentifier=arn)["status"] == "Stopped"
    back = rollback_run(asked.run_id, reactivate_keys=True, settings=settings)
    assert back.state.steps["stop"].undo_status == "irreversible"

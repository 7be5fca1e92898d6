"""The attack-stage table: one place, its names AWS's, and the investigation and report built on it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import botocore.session
import pytest

from responder.actions.attack_stages import (
    BEDROCK,
    IAM,
    MANTLE,
    STAGE_OF_EVENT,
    STAGES,
    stage_of,
    stages_reached,
)
from responder.cli.render import outcome_dict
from responder.engine.commands.operations import start_run
from responder.engine.running.context import Settings
from responder.inert import code
from responder.sandbox.cloudtrail_events import record_event
from responder.sandbox.seed import ATTACKER_IP, LEAKED_USER, SANDBOX_REGION, Seeded
from tests.factories import ACCOUNT

# Rows whose name is no botocore operation, each with why (the module's comments give the source).
NOT_IN_BOTOCORE = {(BEDROCK, "PutFoundationModelEntitlement"), (MANTLE, "CreateInference")}
# CloudTrail logs Bedrock's runtime under bedrock.amazonaws.com: its names come from either model.
MODELS = {BEDROCK: ("bedrock", "bedrock-runtime"), IAM: ("iam",)}


def test_every_row_names_a_real_operation_and_a_known_stage() -> None:
    session = botocore.session.get_session()
    operations = {
        source: {op for model in models for op in session.get_service_model(model).operation_names}
        for source, models in MODELS.items()
    }
    for (source, name), stage in STAGE_OF_EVENT.items():
        assert stage in STAGES
        if (source, name) in NOT_IN_BOTOCORE:
            continue
        prefix = name.removesuffix("*")
        assert any(op == name or (name.endswith("*") and op.startswith(prefix)) for op in operations[source]), name
    assert {stage for stage in STAGE_OF_EVENT.values()} == set(STAGES)  # every stage can be reached


@pytest.mark.parametrize(
    ("source", "name", "stage"),
    [
        (BEDROCK, "InvokeModelWithResponseStream", "monetisation"),
        (BEDROCK, "ConverseStream", "monetisation"),
        (BEDROCK, "DeleteModelInvocationLoggingConfiguration", "evasion"),
        (IAM, "CreateAccessKey", "persistence"),
        (BEDROCK, "GetFoundationModelAvailability", "reconnaissance"),
        (BEDROCK, "PutUseCaseForModelAccess", "entitlement"),
        (IAM, "InvokeModel", None),  # the name alone is not enough: the source must match
        (BEDROCK, "ListCustomModels", None),
    ],
)
def test_an_event_is_classified_by_source_and_name(source: str, name: str, stage: str | None) -> None:
    assert stage_of(source, name) == stage


def test_refused_calls_only_attempt_a_stage_and_unmatched_events_are_counted() -> None:
    events = [
        {"source": BEDROCK, "name": "InvokeModel", "event_id": "a", "time": "2026-12-01T00:00:02Z"},
        {"source": BEDROCK, "name": "CreateProvisionedModelThroughput", "error_code": "AccessDenied"},
        {"source": IAM, "name": "CreateAccessKey", "error_code": "AccessDenied", "event_id": "b"},
        {"source": BEDROCK, "name": "ListCustomModels"},
    ]
    found = stages_reached(events)
    assert found["reached"] == ["monetisation"] and found["attempted"] == ["persistence"]
    assert found["counts"] == [["persistence", 1], ["monetisation", 2]] and found["unclassified"] == 1


def _iam_change(actor: str, name: str, user: str, when: datetime) -> dict[str, Any]:
    return record_event(
        ACCOUNT,
        SANDBOX_REGION,
        {
            "eventTime": when,
            "eventSource": IAM,
            "eventName": name,
            "sourceIPAddress": "198.51.100.9",
            "userAgent": "aws-cli/2",
            "userIdentity": {"type": "AssumedRole", "arn": actor},
            "requestParameters": {"userName": user},
        },
    )


def test_a_run_names_the_stages_reached_and_what_was_done_to_the_principal(account: Seeded, settings: Settings) -> None:
    when = datetime.now(timezone.utc) - timedelta(minutes=30)
    actor = f"arn:aws:sts::{ACCOUNT}:assumed-role/ops/\x1b[31m`evil`|<img src=x>"  # the session name is theirs
    to_it = _iam_change(actor, "CreateAccessKey", LEAKED_USER, when)
    _iam_change(actor, "CreateAccessKey", "someone-else", when)  # names another user: not this incident's
    evasion = record_event(
        ACCOUNT,
        SANDBOX_REGION,
        {
            "eventTime": when,
            "eventSource": BEDROCK,
            "eventName": "DeleteModelInvocationLoggingConfiguration",
            "sourceIPAddress": ATTACKER_IP,
            "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/{LEAKED_USER}"},
        },
    )
    run = start_run("leaked-long-term-key", {}, account.key, dry_run=False, confirm=None, settings=settings)
    assert run.status == "completed", run.message
    stages = run.report.evidence["stages"]
    assert stages["reached"] == ["reconnaissance", "evasion", "persistence", "monetisation"]
    assert stages["unclassified"] == 2  # the seeded Mantle management calls
    (persistence,) = [f for f in stages["findings"] if f["stage"] == "persistence"]
    assert persistence["event_id"] == to_it["eventID"] and persistence["actor"] == actor
    assert persistence["source_ip"] == "198.51.100.9" and persistence["region"] == SANDBOX_REGION
    assert [f["event_id"] for f in stages["findings"] if f["stage"] == "evasion"] == [evasion["eventID"]]
    markdown = run.paths.report_md.read_text()
    opening = markdown.split("## Follow-ups")[0]
    assert "Attack stages reached: **reconnaissance** (1), **evasion** (1), **persistence** (1)" in opening
    assert "2 event(s) read matched no stage" in opening
    section = markdown.split("## Attack stages")[1].split("## Timeline")[0]
    assert to_it["eventID"] in section and "\x1b" not in section
    assert code(actor, table=True) in section  # the attacker's session name only ever inside a code span
    shown = outcome_dict(run)["stages"]  # what -o json prints
    assert shown["reached"] == stages["reached"]
    (row,) = [f for f in shown["findings"] if f["stage"] == "persistence"]
    assert "\x1b" not in row["actor"] and "\\x1b" in row["actor"]
    assert json.loads(run.paths.report_json.read_text())["evidence"]["stages"]["findings"]


def test_model_access_put_in_the_window_is_a_follow_up_per_model_with_what_to_do() -> None:
    from responder.actions.attack_stages import entitlement_follow_ups

    def record(name: str, parameters: Any, error: str | None = None) -> dict[str, Any]:
        return {
            "eventSource": BEDROCK,
            "eventName": name,
            "requestParameters": parameters,
            "awsRegion": SANDBOX_REGION,
            "eventTime": "2026-01-01T00:00:00Z",
            "eventID": f"id-{name}",
            "errorCode": error,
        }

    agreement = record("CreateFoundationModelAgreement", {"modelId": "anthropic.claude-3-opus\x1b[2J`rm`"})
    notes = entitlement_follow_ups(
        [
            agreement,
            record("PutUseCaseForModelAccess", {"formData": "..."}),
            record("CreateFoundationModelAgreement", {"modelId": "refused"}, error="AccessDenied"),
            record("InvokeModel", {"modelId": "x"}),
        ]
    )
    assert len(notes) == 2
    assert "delete-foundation-model-agreement --region us-east-1 --model-id anthropic.claude-3-opus" in notes[0]
    assert "\x1b" not in notes[0] and "id-CreateFoundationModelAgreement" in notes[0]
    assert "no AWS API deletes a use-case form" in notes[1] and "(no model named)" in notes[1]

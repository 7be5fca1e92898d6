"""Where the investigation looks (the trails' regions, at once), what the account could see there, and what the
exposure cost: said in the report's opening, its sections and its JSON; a refused read is said, never "nothing"."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from responder.cli.render import outcome_dict
from responder.engine.commands.investigation import investigate_run
from responder.engine.commands.operations import start_run
from responder.engine.report.findings import asff_findings
from responder.engine.running.context import Settings
from responder.sandbox import bedrock_usage
from responder.sandbox.cloudtrail_events import record_event
from responder.sandbox.event_data_stores import BEDROCK_DATA_SELECTORS, seed_event_data_store
from responder.sandbox.seed import ATTACKER_IP, LEAKED_USER, SANDBOX_REGION, Seeded
from tests.factories import ACCOUNT, Requests, watched_settings

ELSEWHERE = "eu-west-1"


def _identity() -> dict[str, str]:
    return {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/{LEAKED_USER}", "userName": LEAKED_USER}


def _refusing(region: str, operation: str, code: str = "AccessDeniedException") -> Any:
    """A request hook refusing one operation in one region, as AWS refuses a read the operator may not make."""

    def handler(model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name == operation and f".{region}." in str(params.get("url")):
            raise ClientError({"Error": {"Code": code, "Message": "not authorized"}}, operation)

    return handler


@pytest.fixture
def few_regions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bedrock is offered in some thirty regions; three keep the multi-region searches here quick."""
    monkeypatch.setattr(
        "responder.actions.trail_coverage.service_regions", lambda *_: [SANDBOX_REGION, ELSEWHERE, "us-west-2"]
    )


def _multi_region_trail_homed_in(region: str, selectors: list[dict[str, Any]]) -> None:
    boto3.client("s3", region_name=region).create_bucket(
        Bucket="org-trail-logs", CreateBucketConfiguration={"LocationConstraint": region}
    )
    cloudtrail = boto3.client("cloudtrail", region_name=region)
    cloudtrail.create_trail(Name="org-trail", S3BucketName="org-trail-logs", IsMultiRegionTrail=True)
    cloudtrail.put_event_selectors(TrailName="org-trail", AdvancedEventSelectors=selectors)
    cloudtrail.start_logging(Name="org-trail")


def test_a_multi_region_trail_elsewhere_widens_the_search_and_a_refused_region_is_said(
    account: Seeded, tmp_path: Path, few_regions: None
) -> None:
    # A trail homed in us-west-2 (a shadow trail from us-east-1) logging every region; the key was used in eu-west-1.
    _multi_region_trail_homed_in(
        "us-west-2", [{"Name": "m", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]
    )
    record_event(
        ACCOUNT,
        ELSEWHERE,
        {
            "eventTime": datetime.now(timezone.utc) - timedelta(minutes=30),
            "eventSource": "bedrock.amazonaws.com",
            "eventName": "InvokeModel",
            "sourceIPAddress": ATTACKER_IP,
            "userIdentity": _identity(),
            "additionalEventData": {"callWithBearerToken": True},
        },
    )
    settings = watched_settings(tmp_path, _refusing("us-west-2", "LookupEvents"))
    run = start_run("leaked-long-term-key", {}, account.key, dry_run=False, confirm=None, settings=settings)
    assert run.status == "completed"  # what containment earned: the refused search changes nothing of it
    evidence = run.report.evidence
    assert dict(evidence["by_source"])["bedrock.amazonaws.com"] == 5  # 4 in us-east-1, 1 in eu-west-1
    assert {e["region"] for e in evidence["stages"]["findings"]} == {SANDBOX_REGION, ELSEWHERE}
    assert evidence["unsearched"] == [
        {
            "region": "us-west-2",
            "what": "CloudTrail in us-west-2",
            "permission": "cloudtrail:LookupEvents",
            "error": "AccessDeniedException",
            "why": "AccessDeniedException: needs cloudtrail:LookupEvents",
        }
    ]
    assert [r["region"] for r in evidence["visibility"]["regions"]] == [SANDBOX_REGION, ELSEWHERE, "us-west-2"]
    opening = run.paths.report_md.read_text().split("\n\n")[2]
    assert "**Not searched:** CloudTrail in us-west-2 (AccessDeniedException: needs cloudtrail:LookupEvents)" in opening
    assert "unknown, not nothing" in opening


def test_an_account_blind_to_inference_is_told_so_and_what_to_enable(account: Seeded, settings: Settings) -> None:
    now = datetime.now(timezone.utc)
    bedrock_usage.seed_trail(ACCOUNT, SANDBOX_REGION)  # management events only
    # The attacker deleted invocation logging during the window.
    record_event(
        ACCOUNT,
        SANDBOX_REGION,
        {
            "eventTime": now - timedelta(minutes=20),
            "eventSource": "bedrock.amazonaws.com",
            "eventName": "DeleteModelInvocationLoggingConfiguration",
            "sourceIPAddress": ATTACKER_IP,
            "userIdentity": _identity(),
        },
    )
    run = start_run("leaked-long-term-key", {}, account.key, dry_run=False, confirm=None, settings=settings)
    region = run.report.evidence["visibility"]["regions"][0]
    assert (region["mantle"], region["bedrock"], region["inference_visible"]) == (False, False, False)
    assert [c["name"] for c in region["invocation_logging_changed"]] == ["DeleteModelInvocationLoggingConfiguration"]
    opening = run.paths.report_md.read_text().split("\n\n")[2]
    assert "**The key's inference is invisible to CloudTrail**" in opening
    assert "model invocation logging was deleted during the window" in opening
    assert "AWS::BedrockMantle::Project" in opening and "put-model-invocation-logging-configuration" in opening


def test_an_account_that_records_inference_is_not_called_blind(
    account: Seeded, settings: Settings, few_regions: None
) -> None:
    types = [
        "AWS::Bedrock::Model",
        "AWS::Bedrock::AsyncInvoke",
        "AWS::BedrockMantle::Project",
        "AWS::BedrockMantle::CustomizedModel",
        "AWS::BedrockMantle::Reservation",
    ]
    _multi_region_trail_homed_in(
        "us-west-2",
        [
            {
                "Name": "data",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": types},
                ],
            }
        ],
    )
    boto3.client("logs", region_name=SANDBOX_REGION).create_log_group(logGroupName="bedrock-invocations")
    boto3.client("bedrock", region_name=SANDBOX_REGION).put_model_invocation_logging_configuration(
        loggingConfig={
            "cloudWatchConfig": {"logGroupName": "bedrock-invocations", "roleArn": f"arn:aws:iam::{ACCOUNT}:role/l"},
        }
    )
    run = start_run(
        "leaked-long-term-key", {"regions": SANDBOX_REGION}, account.key, dry_run=False, confirm=None, settings=settings
    )
    region = next(r for r in run.report.evidence["visibility"]["regions"] if r["region"] == SANDBOX_REGION)
    assert region["inference_visible"] is True and region["invocation_logging"]["on"] is True
    opening = run.paths.report_md.read_text().split("\n\n")[2]
    # The other regions the trail covers have no invocation logging: said of them, and only that is asked for.
    assert "(`eu-west-1`: model invocation logging is off; `us-west-2`: model invocation logging is off)" in opening
    assert "`us-east-1`" not in opening and "AWS::BedrockMantle::Project" not in opening


def test_inference_kept_only_in_a_lake_store_is_said_with_the_command_that_finds_it(
    account: Seeded, settings: Settings
) -> None:
    bedrock_usage.seed_trail(ACCOUNT, SANDBOX_REGION)  # the trail: management events only
    created = datetime.now(timezone.utc) - timedelta(days=30)
    store = seed_event_data_store(ACCOUNT, SANDBOX_REGION, "bedrock-lake", BEDROCK_DATA_SELECTORS, created)
    boto3.client("logs", region_name=SANDBOX_REGION).create_log_group(logGroupName="bedrock-invocations")
    boto3.client("bedrock", region_name=SANDBOX_REGION).put_model_invocation_logging_configuration(
        loggingConfig={
            "cloudWatchConfig": {"logGroupName": "bedrock-invocations", "roleArn": f"arn:aws:iam::{ACCOUNT}:role/l"},
        }
    )
    run = start_run("leaked-long-term-key", {}, account.key, dry_run=False, confirm=None, settings=settings)
    region = run.report.evidence["visibility"]["regions"][0]
    assert (region["mantle"], region["lake"]["mantle"], region["mantle_recorded"]) == (False, True, True)
    assert region["inference_visible"] is True
    report = run.paths.report_md.read_text()
    opening = report.split("\n\n")[2]
    assert "invisible to CloudTrail" not in opening
    assert "Bedrock Mantle's inference is recorded only in CloudTrail Lake (`us-east-1`: `bedrock-lake`)" in opening
    store_id = store["EventDataStoreArn"].rsplit("/", 1)[1]
    assert "| `bedrock-lake` | `us-east-1` | every region | `ENABLED` | 366 days | all | all | all of it" in report
    command = next(line for line in report.splitlines() if line.startswith("- `bedrock-lake`: `aws cloudtrail"))
    assert 'start-query --region us-east-1 --query-statement "SELECT eventTime' in command
    assert f"FROM {store_id} WHERE" in command and f"userIdentity.username = '{LEAKED_USER}'" in command


def test_the_bill_beside_its_baseline_and_a_refused_cost_explorer_skipped_with_a_sentence(
    account: Seeded, tmp_path: Path
) -> None:
    now = datetime.now(timezone.utc)
    bedrock_usage.seed_metrics(ACCOUNT, SANDBOX_REGION, (now - timedelta(hours=2), now))
    settings = watched_settings(tmp_path, _refusing("us-east-1", "GetCostAndUsage"))
    run = start_run("leaked-long-term-key", {}, account.key, dry_run=False, confirm=None, settings=settings)
    assert run.status == "completed"
    usage = run.report.evidence["usage"]
    rows = {(r["metric"], r["model"]): (r["window"], r["baseline"]) for r in usage["regions"][0]["rows"]}
    assert rows[("Invocations", bedrock_usage.MODEL)] == (412.0, 9.0)
    assert rows[("TotalOutputTokens", bedrock_usage.MANTLE_MODEL)] == (96_000.0, 0.0)
    assert usage["cost"]["problem"]["why"] == "AccessDeniedException: needs ce:GetCostAndUsage"
    report = run.paths.report_md.read_text()
    opening = report.split("\n\n")[2]
    assert "412 Bedrock invocations (baseline 9)" in opening and "account-wide" in opening
    assert "Cost Explorer was skipped: AccessDeniedException: needs ce:GetCostAndUsage." in opening
    assert "| `us-east-1` | AWS/Bedrock | `anthropic.claude-3-haiku-20240307-v1:0` | Invocations | 412 | 9 |" in report


def test_cost_explorer_by_day_window_against_baseline(account: Seeded, settings: Settings) -> None:
    created = datetime.now(timezone.utc) - timedelta(hours=2)  # the seeded key's creation: the window's start
    bedrock_usage.seed_cost(ACCOUNT, (created, datetime.now(timezone.utc)))
    run = start_run("leaked-long-term-key", {}, account.key, dry_run=False, confirm=None, settings=settings)
    cost = run.report.evidence["usage"]["cost"]
    days = 1 + (datetime.now(timezone.utc).date() - created.date()).days
    assert cost["window"]["amount"] == pytest.approx(183.40 * days)  # Bedrock only: the KMS line is left out
    assert cost["baseline"]["amount"] == pytest.approx(2.10 * days)
    assert "delayed up to a day" in run.paths.report_md.read_text().split("\n\n")[2]


def test_metric_and_trail_text_stays_inert(account: Seeded, settings: Settings) -> None:
    hostile = "m`](https://evil.example)\x1b[31m<img src=x>"
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    boto3.client("cloudwatch", region_name=SANDBOX_REGION).put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "ModelId", "Value": hostile}],
                "Timestamp": now - timedelta(minutes=5),
                "Value": 3.0,
            },
        ],
    )
    run = start_run("leaked-long-term-key", {}, account.key, dry_run=False, confirm=None, settings=settings)
    report = run.paths.report_md.read_text()
    span = "``m`](https://evil.example)\\x1b[31m<img src=x>``"  # a code span: no link, no image, no HTML
    assert "\x1b" not in report and span in report
    assert report.replace(span, "").count("evil.example") == 0
    shown = outcome_dict(run)  # what -o json prints: the same figures, every AWS string one inert line
    row = shown["usage"]["regions"][0]["rows"][0]
    assert row["model"] == "m`](https://evil.example)\\x1b[31m<img src=x>" and row["window"] == 3.0
    assert shown["visibility"]["regions"][0]["region"] == SANDBOX_REGION and shown["unsearched"] == []


def test_the_identity_center_user_behind_a_session_is_named_beside_its_arn(account: Seeded, settings: Settings) -> None:
    # Someone signed in through IAM Identity Center gave the leaked key's user a new access key (persistence).
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_AdministratorAccess_0123abcd/alice@example.com"
    record_event(
        ACCOUNT,
        "us-east-1",
        {
            "eventTime": datetime.now(timezone.utc) - timedelta(minutes=40),
            "eventSource": "iam.amazonaws.com",
            "eventName": "CreateAccessKey",
            "sourceIPAddress": ATTACKER_IP,
            "userIdentity": {
                "type": "AssumedRole",
                "arn": session,
                "sessionContext": {
                    "sessionIssuer": {"type": "Role", "userName": "AWSReservedSSO_AdministratorAccess_0123abcd"},
                    "sourceIdentity": "alice",
                },
                "onBehalfOf": {
                    "userId": "906754a1-4071-7031-0b52-2f1a5b3c9d0e",
                    "identityStoreArn": "arn:aws:identitystore::123456789012:identitystore/d-9067000000",
                },
            },
            "requestParameters": {"userName": LEAKED_USER},
        },
    )
    run = start_run("leaked-long-term-key", {}, account.key, dry_run=False, confirm=None, settings=settings)
    persistence = [f for f in run.report.evidence["stages"]["findings"] if f["stage"] == "persistence"]
    assert [f["actor"] for f in persistence] == [session]
    assert persistence[0]["on_behalf_of"] == (
        "Identity Center user 906754a1-4071-7031-0b52-2f1a5b3c9d0e in "
        "arn:aws:identitystore::123456789012:identitystore/d-9067000000; source identity alice; "
        "Identity Center session alice@example.com"
    )
    row = next(line for line in run.paths.report_md.read_text().splitlines() if "| persistence |" in line)
    assert f"`{session}` (`Identity Center user 906754a1" in row
    stage = next(f for f in asff_findings(run.report, SANDBOX_REGION) if f["Id"].endswith("/stage/persistence"))
    assert "on behalf of Identity Center user 906754a1" in stage["Description"]
    assert stage["Severity"]["Label"] == "HIGH"


def test_selectors_the_operator_may_not_read_leave_visibility_unknown_not_off(account: Seeded, tmp_path: Path) -> None:
    bedrock_usage.seed_trail(ACCOUNT, SANDBOX_REGION)
    refusals = [_refusing(SANDBOX_REGION, op, "AccessDenied") for op in ("GetEventSelectors", "ListEventDataStores")]

    def refuse(**kwargs: Any) -> None:
        for refusal in refusals:
            refusal(**kwargs)

    settings = watched_settings(tmp_path, refuse)
    run = start_run("leaked-long-term-key", {}, account.key, dry_run=False, confirm=None, settings=settings)
    assert run.status == "completed"
    region = run.report.evidence["visibility"]["regions"][0]
    assert region["mantle"] is None  # unknown: never "not logged"
    assert region["inference_visible"] is False  # for what is known: invocation logging is off
    report = run.paths.report_md.read_text()
    assert "the event selectors of trail management-events: AccessDenied: needs cloudtrail:GetEventSelectors" in report
    assert "event data stores of us-east-1: AccessDenied: needs cloudtrail:ListEventDataStores" in report
    assert "CloudTrail Lake event data stores could not be listed (see below)" in report
    assert region["lake"]["mantle"] is None  # a refused listing: unknown, never "no store"
    opening = report.split("\n\n")[2]
    assert "(`us-east-1`: model invocation logging is off)" in opening and "Mantle data events" not in opening


def test_a_recheck_reads_the_events_again_not_the_bill(account: Seeded, settings: Settings, requests: Requests) -> None:
    run = start_run("leaked-long-term-key", {}, account.key, dry_run=False, confirm=None, settings=settings)
    assert "GetCostAndUsage" in requests.sent and "GetModelInvocationLoggingConfiguration" in requests.sent
    requests.sent.clear()
    investigate_run(run.run_id, settings)
    assert "LookupEvents" in requests.sent and "DescribeTrails" in requests.sent  # every region the trails cover
    assert not {"GetCostAndUsage", "GetMetricData", "ListMetrics", "GetModelInvocationLoggingConfiguration"} & set(
        requests.sent
    )
    assert "What it cost" in run.paths.report_md.read_text()  # the run's own reading stays in the report

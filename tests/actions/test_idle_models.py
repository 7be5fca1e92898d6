"""Models idle for more than two weeks: ListMetrics no longer lists them, so an old window is summed also for the
models the key's CloudTrail events name, at a period CloudWatch still keeps; a window older than CloudWatch keeps
is said."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import boto3

from responder.actions.activity_reads import read_everywhere
from responder.actions.base import ActionContext
from responder.actions.bedrock_usage import named_models
from responder.aws.clients import AwsOptions, Clients
from responder.engine.report.cost import cost_lines, cost_sentence
from responder.sandbox.seed import Seeded
from tests.factories import ACCOUNT

REGION = "us-east-1"
OLD_MODEL = "anthropic.claude-v2:1"  # called by the key 40 days ago, idle since
MANTLE_MODEL = "openai.gpt-oss-120b-1:0"


def _event(source: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {"eventSource": source, "awsRegion": REGION, "eventName": "X", "requestParameters": parameters}


def test_the_models_named_are_bedrocks_model_id_and_mantles_model_and_only_usable_values() -> None:
    records = [
        _event("bedrock.amazonaws.com", {"modelId": f"arn:aws:bedrock:{REGION}::foundation-model/{OLD_MODEL}"}),
        _event("bedrock-mantle.amazonaws.com", {"model": MANTLE_MODEL}),
        _event("bedrock.amazonaws.com", {"modelId": "x" * 2000}),  # no dimension value: it would fail the request
        _event("iam.amazonaws.com", {"modelId": "not-a-model-call"}),
    ]
    assert named_models(records) == {
        REGION: {
            "AWS/Bedrock": [f"arn:aws:bedrock:{REGION}::foundation-model/{OLD_MODEL}", OLD_MODEL],
            "AWS/BedrockMantle": [MANTLE_MODEL],
        }
    }


def test_an_old_window_sums_the_models_the_key_called_though_listmetrics_forgot_them(account: Seeded) -> None:
    now = datetime.now(timezone.utc)
    start, end = now - timedelta(days=50), now - timedelta(days=30)
    cw = boto3.client("cloudwatch", region_name=REGION)
    for when, value in ((now - timedelta(days=40), 500.0), (now - timedelta(days=60), 7.0)):  # window, baseline
        cw.put_metric_data(
            Namespace="AWS/Bedrock",
            MetricData=[
                {
                    "MetricName": "Invocations",
                    "Dimensions": [{"Name": "ModelId", "Value": OLD_MODEL}],
                    "Timestamp": when,
                    "Value": value,
                }
            ],
        )
    assert cw.list_metrics(Namespace="AWS/Bedrock")["Metrics"] == []  # as AWS: no data in the past two weeks

    def lookup(region: str) -> tuple[list[dict[str, Any]], bool]:
        return [_event("bedrock.amazonaws.com", {"modelId": OLD_MODEL})], False

    ctx = ActionContext(Clients(AwsOptions(region=REGION)), ACCOUNT)
    found = read_everywhere(ctx, [REGION], lookup, (start, end), now)
    usage = found.usage or {}
    region = usage["regions"][0]
    assert region["period_s"] == 3600  # the baseline began 70 days ago: 5-minute data is kept 63 days, 1-hour 455
    rows = {(r["metric"], r["model"]): (r["window"], r["baseline"]) for r in region["rows"]}
    assert rows == {("Invocations", OLD_MODEL): (500.0, 7.0)}  # the models with nothing add no row
    assert region["rows"][0]["named_by_events"] is True and usage["beyond_retention"] == []
    report: Any = SimpleNamespace(evidence={"queries": {"x": ""}, "usage": usage})
    row = next(line for line in cost_lines(report) if OLD_MODEL in line)
    assert row.startswith(f"| `{REGION}` | AWS/Bedrock | `{OLD_MODEL}` (no data in the past two weeks, so ListMetrics")
    assert row.endswith("| Invocations | 500 | 7 |")
    assert "500 Bedrock invocations (baseline 7)" in cost_sentence({"usage": usage})


def test_a_window_older_than_cloudwatch_keeps_is_said(account: Seeded) -> None:
    now = datetime.now(timezone.utc)
    start, end = now - timedelta(days=500), now - timedelta(days=400)

    def lookup(region: str) -> tuple[list[dict[str, Any]], bool]:
        return [], False

    ctx = ActionContext(Clients(AwsOptions(region=REGION)), ACCOUNT)
    usage = read_everywhere(ctx, [REGION], lookup, (start, end), now).usage or {}
    assert usage["beyond_retention"] == ["window", "baseline"]
    assert (
        "The window and the baseline began more than 455 days ago, before CloudWatch's oldest data points: Bedrock "
        "use before then is not counted." in cost_sentence({"usage": usage})
    )

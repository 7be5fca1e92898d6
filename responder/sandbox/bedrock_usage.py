"""What the rehearsal's account could see and what the exposure cost: a trail, Bedrock's CloudWatch metrics for the
window and the baseline before it, and Cost Explorer's daily Bedrock cost.

Seeded on moto's backends directly (the sandbox server has no mock around it: a boto3 client there would reach AWS).
moto keeps metric data points as put (`put_metric_data`) and answers `GetMetricData` and `ListMetrics` from them;
its Cost Explorer answers `GetCostAndUsage` from a queue of results set beforehand (moto's documented way), the
next request taking the next result: the queue holds one, for the run's own investigation.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

TRAIL = "management-events"  # logs management events only: no Bedrock or Mantle data events
TRAIL_BUCKET = "sandbox-cloudtrail-logs"
MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
MANTLE_MODEL = "openai.gpt-oss-20b-1:0"
# (namespace, model dimension, model, metric, window value, baseline value): the attacker's burst against the
# account's own quiet use of the same model.
POINTS: tuple[tuple[str, str, str, str, float, float], ...] = (
    ("AWS/Bedrock", "ModelId", MODEL, "Invocations", 412.0, 9.0),
    ("AWS/Bedrock", "ModelId", MODEL, "InputTokenCount", 1_840_000.0, 21_000.0),
    ("AWS/Bedrock", "ModelId", MODEL, "OutputTokenCount", 610_000.0, 7_400.0),
    ("AWS/BedrockMantle", "Model", MANTLE_MODEL, "Inferences", 57.0, 0.0),
    ("AWS/BedrockMantle", "Model", MANTLE_MODEL, "TotalInputTokens", 230_000.0, 0.0),
    ("AWS/BedrockMantle", "Model", MANTLE_MODEL, "TotalOutputTokens", 96_000.0, 0.0),
)
DAILY_COST = {"window": "183.40", "baseline": "2.10"}  # USD a day, as Cost Explorer would say it


def seed_trail(account_id: str, region: str, multi_region: bool = False) -> None:
    """A trail logging management events only, as most accounts have: Bedrock's and Mantle's data events are not
    recorded, so the report must say the key's Mantle inference is invisible to CloudTrail."""
    from moto.cloudtrail.models import cloudtrail_backends
    from moto.s3.models import s3_backends

    name = f"{TRAIL}-every-region" if multi_region else TRAIL
    bucket = f"{TRAIL_BUCKET}-{region}{'-every-region' if multi_region else ''}"
    s3_backends[account_id]["aws"].create_bucket(bucket, region)
    backend = cloudtrail_backends[account_id][region]
    trail = backend.create_trail(name, bucket, "", "", True, multi_region, False, False, "", "", "", [])
    trail.put_event_selectors(
        [], [{"Name": "Management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]
    )
    trail.start_logging()


def seed_metrics(account_id: str, region: str, window: tuple[datetime, datetime]) -> None:
    """One data point of each metric in the middle of the window, one in the middle of the baseline before it."""
    from moto.cloudwatch.models import cloudwatch_backends

    start, end = (moment.astimezone(timezone.utc).replace(tzinfo=None) for moment in window)  # moto's naive UTC
    inside, before = start + (end - start) / 2, start - (end - start) / 2
    backend = cloudwatch_backends[account_id][region]
    for namespace, dimension, model, metric, now, usual in POINTS:
        data: list[dict[str, Any]] = [
            {
                "MetricName": metric,
                "Dimensions": [{"Name": dimension, "Value": model}],
                "Timestamp": when,
                "Value": value,
                "Unit": "Count",
            }
            for when, value in ((inside, now), (before, usual))
            if value
        ]
        if data:
            backend.put_metric_data(namespace, data)


def seed_cost(account_id: str, window: tuple[datetime, datetime]) -> None:
    """Cost Explorer's answer for the window's days and as many before them, queued for the next request."""
    from moto.ce.models import ce_backends

    first, last = window[0].date(), window[1].date()
    days = (last - first).days + 1
    results = [_day(first - timedelta(days=days - i), DAILY_COST["baseline"]) for i in range(days)]
    results += [_day(first + timedelta(days=i), DAILY_COST["window"]) for i in range(days)]
    backend = ce_backends[account_id]["global"]
    backend.cost_usage_results_queue.append({"ResultsByTime": results, "DimensionValueAttributes": []})


def _day(day: date, amount: str) -> dict[str, Any]:
    services = (("Amazon Bedrock", amount), ("AWS Key Management Service", "0.03"))  # the other is not Bedrock's
    return {
        "TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
        "Total": {},
        "Groups": [
            {"Keys": [name], "Metrics": {"UnblendedCost": {"Amount": value, "Unit": "USD"}}} for name, value in services
        ],
        "Estimated": True,
    }


def seed_usage(account_id: str, region: str, window: tuple[datetime, datetime]) -> None:
    """All three: the trail, the metrics and the cost."""
    seed_trail(account_id, region)
    seed_metrics(account_id, region, window)
    seed_cost(account_id, window)


def usage_window() -> tuple[datetime, datetime]:
    """The seeded long-term key's life: made two hours ago (seed.seed_incident), used since."""
    now = datetime.now(timezone.utc)
    return now - timedelta(hours=2), now


def usage_checks(evidence: dict[str, Any]) -> list[tuple[str, bool]]:
    """What the rehearsal checks of the report's evidence: the trail's blind spot said, and the bill against its
    baseline."""
    regions = (evidence.get("visibility") or {}).get("regions") or []
    rows = [row for r in (evidence.get("usage") or {}).get("regions") or [] for row in r.get("rows") or []]
    invocations: dict[str, Any] = next((r for r in rows if r["metric"] == "Invocations"), {})
    return [
        (
            "the report says the key's inference is invisible to CloudTrail (no trail logs Mantle data events)",
            any(r.get("inference_visible") is False and r.get("mantle") is False for r in regions),
        ),
        (
            f"the account-wide Bedrock invocations over the window beside the baseline (found "
            f"{invocations.get('window')} against {invocations.get('baseline')})",
            (invocations.get("window"), invocations.get("baseline")) == (POINTS[0][4], POINTS[0][5]),
        ),
        (
            "Cost Explorer's Bedrock cost over the window's days beside as many days before",
            ((evidence.get("usage") or {}).get("cost") or {}).get("window", {}).get("amount", 0) > 0,
        ),
    ]

"""What the exposure may have cost, from AWS's own figures: CloudWatch's Bedrock and Bedrock Mantle metrics per
region and model over the window and over a baseline of equal length just before it, and Cost Explorer's daily
Bedrock cost over the same days. No price is known here: the cost is what Cost Explorer says, or nothing.

The metrics have no principal dimension: they are the account's, every caller's, and the report says so. Cost
Explorer updates at least once a day, so the last day may be incomplete. Read-only.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from responder.actions.base import ActionContext
from responder.actions.cloudtrail_records import BEDROCK_SOURCE, MANTLE_SOURCE
from responder.actions.reads import together
from responder.actions.trail_coverage import problem
from responder.aws.clients import ClientError

# Namespace -> (the model's dimension, the metrics to sum): FACTS.md, from the Bedrock user guide.
METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "AWS/Bedrock": ("ModelId", ("Invocations", "InputTokenCount", "OutputTokenCount")),
    "AWS/BedrockMantle": ("Model", ("Inferences", "TotalInputTokens", "TotalOutputTokens")),
}
COST_EXPLORER_REGION = "us-east-1"  # Cost Explorer's one endpoint (aws partition)
COST_METRIC = "UnblendedCost"
_QUERIES_PER_CALL = 500  # GetMetricData's limit
KEPT_FOR = timedelta(days=455)  # CloudWatch keeps 1-hour data points 455 days (GetMetricData's documentation)
# eventSource -> (namespace, the requestParameters field naming the model): Bedrock's modelId, Mantle's model.
_MODEL_FIELDS = {BEDROCK_SOURCE: ("AWS/Bedrock", "modelId"), MANTLE_SOURCE: ("AWS/BedrockMantle", "model")}
_DIMENSION_CHARS = 1024  # a longer dimension value fails the whole GetMetricData request
_NAMED_MODELS = 50  # per region and namespace: the events are the caller's, their count is not ours to trust


def baseline_of(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The window of equal length that ends where the exposure window begins."""
    return start - (end - start), start


def _period(oldest: datetime, now: datetime) -> int:
    """The finest period CloudWatch still keeps for data this old: 1 min for 15 days, 5 min for 63, then 1 h (kept
    455 days). A request for older data at a finer period returns nothing (GetMetricData's documentation)."""
    age = now - oldest
    return 60 if age <= timedelta(days=15) else 300 if age <= timedelta(days=63) else 3600


def _listed(cw: Any, namespace: str, dimension: str) -> dict[tuple[str, str], list[list[dict[str, str]]]]:
    """The namespace's series by (metric, model), from one listing of the namespace. A model whose metric exists
    with the model alone is summed from that series; otherwise from each set naming it (e.g. one per Mantle
    project), which then do not overlap. ListMetrics lists what had data in the last two weeks."""
    found: dict[tuple[str, str], list[list[dict[str, str]]]] = {}
    wanted = METRICS[namespace][1]
    for page in cw.get_paginator("list_metrics").paginate(Namespace=namespace):
        for listed in page.get("Metrics") or []:
            dims = listed.get("Dimensions") or []
            model = next((d["Value"] for d in dims if d.get("Name") == dimension), None)
            if model is not None and listed.get("MetricName") in wanted:
                found.setdefault((str(listed["MetricName"]), str(model)), []).append(dims)
    return {key: [d for d in sets if len(d) == 1] or sets for key, sets in found.items()}


def _sums(cw: Any, queries: list[dict[str, Any]], start: datetime, end: datetime) -> dict[str, float]:
    totals: dict[str, float] = {}
    for first in range(0, len(queries), _QUERIES_PER_CALL):
        batch = queries[first : first + _QUERIES_PER_CALL]
        kwargs: dict[str, Any] = {"MetricDataQueries": batch, "StartTime": start, "EndTime": end}
        while True:
            answer = cw.get_metric_data(**kwargs)
            for result in answer.get("MetricDataResults") or []:
                totals[result["Id"]] = totals.get(result["Id"], 0.0) + sum(result.get("Values") or [])
            if not answer.get("NextToken"):
                break
            kwargs["NextToken"] = answer["NextToken"]
    return totals


def region_usage(ctx: ActionContext, region: str, start: datetime, end: datetime, now: datetime) -> dict[str, Any]:
    """Per model and metric in one region: the sum over the window and over the baseline, for every model
    ListMetrics lists (those with data in the past two weeks; `add_named_models` adds the ones it cannot)."""
    cw = ctx.clients.client_in("cloudwatch", region)
    period = _period(baseline_of(start, end)[0], now)
    series: list[tuple[str, str, str, list[list[dict[str, str]]]]] = []
    try:
        for namespace, (dimension, metrics) in METRICS.items():
            listed = _listed(cw, namespace, dimension)
            for (metric, model), sets in sorted(listed.items(), key=lambda i: (metrics.index(i[0][0]), i[0][1])):
                series.append((namespace, metric, model, sets))
    except ClientError as exc:
        return {"region": region, "rows": [], "problem": problem(exc, "cloudwatch:ListMetrics", f"metrics in {region}")}
    try:
        rows = _summed(cw, series, start, end, period)
    except ClientError as exc:
        return {
            "region": region,
            "rows": [],
            "problem": problem(exc, "cloudwatch:GetMetricData", f"metric data in {region}"),
        }
    return {"region": region, "rows": rows, "period_s": period}


def _summed(
    cw: Any,
    series: list[tuple[str, str, str, list[list[dict[str, str]]]]],
    start: datetime,
    end: datetime,
    period: int,
) -> list[dict[str, Any]]:
    """One row per (namespace, metric, model): its series summed over the window and over the baseline."""
    rows: list[dict[str, Any]] = []
    queries: list[dict[str, Any]] = []
    for namespace, metric, model, sets in series:
        ids = []
        for dims in sets:
            ids.append(f"q{len(queries)}")
            stat = {"Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dims}}
            queries.append({"Id": ids[-1], "MetricStat": {**stat, "Period": period, "Stat": "Sum"}})
        rows.append({"namespace": namespace, "metric": metric, "model": model, "ids": ids})
    if not queries:
        return []
    base_start, base_end = baseline_of(start, end)
    window = _sums(cw, queries, start, end)
    baseline = _sums(cw, queries, base_start, base_end)
    for row in rows:
        ids = row.pop("ids")
        row["window"] = sum(window.get(i, 0.0) for i in ids)
        row["baseline"] = sum(baseline.get(i, 0.0) for i in ids)
    return rows


def named_models(records: list[dict[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """Per region and namespace, the models the key's CloudTrail events name: Bedrock's `modelId`, Mantle's
    `model` (requestParameters). A model ARN is also tried by the id at its end. Values are the caller's: only
    those CloudWatch would take as a dimension value are kept, at most `_NAMED_MODELS` per region and namespace."""
    found: dict[str, dict[str, list[str]]] = {}
    for record in records:
        namespace, field = _MODEL_FIELDS.get(str(record.get("eventSource")), (None, None))
        parameters = record.get("requestParameters")
        if namespace is None or not isinstance(parameters, dict) or not isinstance(parameters.get(field), str):
            continue
        value = str(parameters[field])
        models = found.setdefault(str(record.get("awsRegion")), {}).setdefault(namespace, [])
        for model in dict.fromkeys([value, value.rsplit("/", 1)[-1]]):
            if 0 < len(model) <= _DIMENSION_CHARS and model not in models and len(models) < _NAMED_MODELS:
                models.append(model)
    return found


def add_named_models(
    ctx: ActionContext, usage: dict[str, Any], named: dict[str, dict[str, list[str]]], start: datetime, end: datetime
) -> None:
    """Sum, in each region's usage, the models the key's events name that ListMetrics did not list (idle two weeks
    or more: a key used months ago). A model with nothing over the window or the baseline adds no row. Reads at
    once; a refused read is said in the region's problems."""

    def one(region: dict[str, Any]) -> None:
        listed = {(r["namespace"], r["metric"], r["model"]) for r in region["rows"]}
        series = [
            (namespace, metric, model, [[{"Name": METRICS[namespace][0], "Value": model}]])
            for namespace, models in named.get(region["region"], {}).items()
            for metric in METRICS[namespace][1]
            for model in models
            if (namespace, metric, model) not in listed
        ]
        if not series:
            return
        cw = ctx.clients.client_in("cloudwatch", region["region"])
        try:
            rows = _summed(cw, series, start, end, int(region["period_s"]))
        except ClientError as exc:
            region["problem"] = problem(exc, "cloudwatch:GetMetricData", f"metric data in {region['region']}")
            usage["problems"].append(region["problem"])
            return
        region["rows"] += [{**r, "named_by_events": True} for r in rows if r["window"] or r["baseline"]]
        region["named_models"] = sorted({model for _, _, model, _ in series})

    regions = [r for r in usage.get("regions") or [] if "period_s" in r and r["region"] in named]
    if regions:
        together(*(functools.partial(one, r) for r in regions))


def daily_cost(ctx: ActionContext, start: datetime, end: datetime) -> dict[str, Any]:
    """Cost Explorer's Bedrock cost by day (every service whose name says Bedrock: third-party models bill under
    their own service names), the window's days against as many days before them. Each request costs USD 0.01."""
    first, last = start.date(), end.date()
    days = (last - first).days + 1
    since = first - timedelta(days=days)
    ce = ctx.clients.client_in("ce", COST_EXPLORER_REGION)
    kwargs: dict[str, Any] = {
        "TimePeriod": {"Start": since.isoformat(), "End": (last + timedelta(days=1)).isoformat()},
        "Granularity": "DAILY",
        "Metrics": [COST_METRIC],
        "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}],
    }
    by_day: list[dict[str, Any]] = []
    try:
        while True:
            answer = ce.get_cost_and_usage(**kwargs)
            for period in answer.get("ResultsByTime") or []:
                by_day.append(_day(period))
            if not answer.get("NextPageToken"):
                break
            kwargs["NextPageToken"] = answer["NextPageToken"]
    except ClientError as exc:
        return {"problem": problem(exc, "ce:GetCostAndUsage", "Bedrock's cost")}
    window_days = [d for d in by_day if d["day"] >= first.isoformat()]
    baseline_days = [d for d in by_day if d["day"] < first.isoformat()]
    units = sorted({d["unit"] for d in by_day if d["unit"]})
    return {
        "days": by_day,
        "window": {"from": first.isoformat(), "to": last.isoformat(), "amount": sum(d["amount"] for d in window_days)},
        "baseline": {"from": since.isoformat(), "amount": sum(d["amount"] for d in baseline_days)},
        "unit": units[0] if len(units) == 1 else ", ".join(units) or None,
        "estimated": any(d["estimated"] for d in by_day),
    }


def _day(period: dict[str, Any]) -> dict[str, Any]:
    amount, unit, services = 0.0, None, []
    for group in period.get("Groups") or []:
        service = str((group.get("Keys") or [""])[0])
        if "bedrock" not in service.lower():
            continue
        figure = (group.get("Metrics") or {}).get(COST_METRIC) or {}
        amount += float(figure.get("Amount") or 0)
        unit = figure.get("Unit") or unit
        services.append(service)
    return {
        "day": str((period.get("TimePeriod") or {}).get("Start")),
        "amount": amount,
        "unit": unit,
        "services": services,
        "estimated": bool(period.get("Estimated")),
    }


def read_usage(ctx: ActionContext, regions: list[str], start: datetime, end: datetime, now: datetime) -> dict[str, Any]:
    """The metrics of every region searched and the account's daily cost, read at once."""
    reads = [functools.partial(region_usage, ctx, r, start, end, now) for r in regions]
    *per_region, cost = together(*reads, functools.partial(daily_cost, ctx, start, end))
    base_start, base_end = baseline_of(start, end)
    return {
        "window": [start.isoformat(), end.isoformat()],
        "baseline": [base_start.isoformat(), base_end.isoformat()],
        # What began before CloudWatch's oldest data point: its use there is not counted.
        "beyond_retention": [
            part for part, began in (("window", start), ("baseline", base_start)) if began < now - KEPT_FOR
        ],
        "regions": per_region,
        "cost": cost,
        "problems": [r["problem"] for r in per_region if r.get("problem")]
        + ([cost["problem"]] if "problem" in cost else []),
    }

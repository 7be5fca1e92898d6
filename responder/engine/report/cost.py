"""The report on what the exposure cost: CloudWatch's Bedrock and Mantle metrics per region and model, window
against a baseline of equal length before it, labelled account-wide (they have no principal dimension); Cost
Explorer's Bedrock cost by day, labelled as delayed up to a day, or the sentence saying why it was skipped.

No price is known here: every figure is AWS's. Model names are dimension values the caller chose: code spans.
"""

from __future__ import annotations

from typing import Any

from responder.engine.report.model import Report
from responder.engine.report.words import second
from responder.inert import code, prose

ACCOUNT_WIDE = (
    "account-wide: CloudWatch's Bedrock metrics have no principal dimension, so they count every caller in the "
    "account, not only the key"
)
DELAYED = "Cost Explorer's figures are delayed up to a day: the last day may be incomplete"
NAMED = "no data in the past two weeks, so ListMetrics no longer lists it: queried because the key's events name it"


def retention_sentence(usage: dict[str, Any]) -> str:
    """Where the window or the baseline began before CloudWatch's oldest data point (455 days of 1-hour data)."""
    beyond = usage.get("beyond_retention") or []
    if not beyond:
        return ""
    parts = " and the ".join(str(b) for b in beyond)
    return (
        f"The {parts} began more than 455 days ago, before CloudWatch's oldest data points: Bedrock use before "
        "then is not counted."
    )


def _n(value: Any) -> str:
    number = float(value or 0)
    return f"{int(number):,}" if number.is_integer() else f"{number:,.2f}"


def _totals(usage: dict[str, Any]) -> dict[str, list[float]]:
    """Per metric name, [window, baseline] summed over regions and models."""
    sums: dict[str, list[float]] = {}
    for region in usage.get("regions") or []:
        for row in region.get("rows") or []:
            pair = sums.setdefault(str(row["metric"]), [0.0, 0.0])
            pair[0] += float(row.get("window") or 0)
            pair[1] += float(row.get("baseline") or 0)
    return sums


def cost_sentence(evidence: dict[str, Any]) -> str:
    """The opening's word on the bill: the account-wide token counts against the baseline, and Cost Explorer's."""
    usage = evidence.get("usage")
    if not usage:
        return ""
    totals = _totals(usage)
    parts = []
    said = [
        f"{_n(totals[m][0])} {label} (baseline {_n(totals[m][1])})"
        for m, label in (
            ("Invocations", "Bedrock invocations"),
            ("InputTokenCount", "input tokens"),
            ("OutputTokenCount", "output tokens"),
            ("Inferences", "Mantle inferences"),
            ("TotalInputTokens", "Mantle input tokens"),
            ("TotalOutputTokens", "Mantle output tokens"),
        )
        if m in totals
    ]
    if said:
        parts.append(f"Bedrock use over the window, {ACCOUNT_WIDE}: {', '.join(said)}.")
    elif not usage.get("problems"):
        parts.append("CloudWatch shows no Bedrock or Mantle use in the regions searched over the window.")
    if retention_sentence(usage):
        parts.append(retention_sentence(usage))
    cost = usage.get("cost") or {}
    if "window" in cost and not cost.get("days"):
        parts.append(f"Cost Explorer returned no Bedrock cost for the window's days or those before ({DELAYED}).")
    elif "window" in cost:
        unit = prose(cost.get("unit") or "")
        parts.append(
            f"Cost Explorer: {_n(cost['window']['amount'])} {unit} of Bedrock over the window's days against "
            f"{_n(cost['baseline']['amount'])} {unit} the same number of days before ({DELAYED})."
        )
    elif cost.get("problem"):
        parts.append(f"Cost Explorer was skipped: {prose(cost['problem'].get('why'))}.")
    return " ".join(parts)


def cost_lines(report: Report) -> list[str]:
    evidence = report.evidence or {}
    usage = evidence.get("usage")
    if not evidence.get("queries") or not usage:
        return ["Not read by this run."]
    window, baseline = usage.get("window") or ["", ""], usage.get("baseline") or ["", ""]
    lines = [
        f"Window {second(window[0])} to {second(window[1])}; baseline {second(baseline[0])} to "
        f"{second(baseline[1])}. The metrics are {ACCOUNT_WIDE}. No price is assumed: the cost is Cost Explorer's.",
        "",
    ]
    if retention_sentence(usage):
        lines += [retention_sentence(usage), ""]
    rows = [(r["region"], row) for r in usage.get("regions") or [] for row in r.get("rows") or []]
    if rows:
        lines += ["| Region | Namespace | Model | Metric | Window | Baseline |", "|---|---|---|---|---|---|"]
        for region, row in rows:
            named = f" ({NAMED})" if row.get("named_by_events") else ""
            lines.append(
                f"| {code(region, table=True)} | {row['namespace']} | {code(row['model'], table=True)}{named} | "
                f"{row['metric']} | {_n(row['window'])} | {_n(row['baseline'])} |"
            )
    else:
        queried = any(r.get("named_models") for r in usage.get("regions") or [])
        lines.append(
            "CloudWatch listed no Bedrock or Mantle metric in the regions searched (ListMetrics lists what had data "
            "in the past two weeks)"
            + (", and the models the key's events name had none over the window or the baseline." if queried else ".")
        )
    cost = usage.get("cost") or {}
    lines.append("")
    if "window" in cost:
        unit = prose(cost.get("unit") or "")
        lines += [
            f"Cost Explorer, every service whose name says Bedrock, by day ({DELAYED}"
            f"{'; AWS marks these figures estimated' if cost.get('estimated') else ''}):",
            "",
            "| Day (UTC) | Cost | Part of |",
            "|---|---|---|",
        ]
        for day in cost.get("days") or []:
            part = "window" if day["day"] >= cost["window"]["from"] else "baseline"
            lines.append(f"| {code(day['day'], table=True)} | {_n(day['amount'])} {unit} | {part} |")
    elif cost.get("problem"):
        lines.append(f"Cost Explorer was skipped: {prose(cost['problem'].get('why'))}.")
    problems = [p for p in usage.get("problems") or [] if p != cost.get("problem")]
    if problems:
        lines += ["", 'Could not be read (never read as "no use"):', ""]
        lines += [f"- {prose(p.get('what'))}: {prose(p.get('why'))}" for p in problems]
    return lines

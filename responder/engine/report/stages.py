"""The report's section on the attack's stages: each finding CloudTrail shows, by stage, with the event to pivot to.

Every value in a row came from CloudTrail, so from whoever held the key (a session name in the actor's ARN, a source
IP field): each is an inert code span."""

from __future__ import annotations

from typing import Any

from responder.engine.report.model import Report
from responder.engine.report.words import second
from responder.inert import code

ROWS_PER_STAGE = 25  # monetisation may be thousands of calls: the rest are in events.jsonl and `-o json`


def stage_lines(report: Report) -> list[str]:
    evidence = report.evidence or {}
    stages = evidence.get("stages")
    if not evidence.get("queries") or not stages:
        return ["Not investigated by this run: no CloudTrail event was read to classify."]
    lines = [
        "Each event read is classified into the stages of an LLMjacking attack (reconnaissance, entitlement, "
        "evasion, persistence, monetisation) from its source and name; IAM changes made TO the key's principal by "
        f"any actor are read too. {stages['unclassified']} event(s) matched no stage and are counted, not listed.",
    ]
    if not stages["findings"]:
        return lines
    lines += [
        "",
        "| Stage | Time (UTC) | Call | Region | Source IP | Actor | Error | Event id |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for stage, count in stages["counts"]:
        rows = [f for f in stages["findings"] if f["stage"] == stage]
        for f in rows[:ROWS_PER_STAGE]:
            lines.append(
                f"| {stage} | {second(f.get('time'))} | {_cell(f.get('name'))} | {_cell(f.get('region'))} | "
                f"{_cell(f.get('source_ip'))} | {_cell(f.get('actor') or 'unknown')} | "
                f"{_cell(f.get('error_code') or 'none')} | {_cell(f.get('event_id'))} |"
            )
        if count > ROWS_PER_STAGE:
            lines.append(f"| {stage} | … | {count - ROWS_PER_STAGE} more in `{evidence['events_file']}` | | | | | |")
    return lines


def _cell(value: Any) -> str:
    return code(value, table=True)

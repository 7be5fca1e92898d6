"""The report's sentences: times to the second, why a step was skipped, what a change did, and policy diffs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from responder.clock import parse_time
from responder.engine.journal import events as j
from responder.engine.journal.run_state import RunState
from responder.engine.running.skip_words import condition_words

CLOUDTRAIL_LAG = timedelta(minutes=15)  # CloudTrail delivers events 5 to 15 minutes after the call


def second(value: Any) -> str:
    """'2026-12-02 14:02:07 UTC': a report's times, to the second."""
    moment = parse_time(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else str(value or "?")


def clock(value: Any) -> str:
    """'14:02:07 UTC': a time of day, when the date is plain from context."""
    moment = parse_time(value)
    return moment.strftime("%H:%M:%S UTC") if moment else str(value or "?")


def recheck_after(contained_at: Any) -> datetime | None:
    """When `responder investigate` sees every call made up to containment: CloudTrail's delay after it."""
    moment = parse_time(contained_at)
    return moment + CLOUDTRAIL_LAG if moment else None


def skip_reason(state: RunState, step_id: str) -> str:
    """Why a step was skipped, in words: which of its conditions was false, and how to have it run."""
    record = next((r for r in state.records if r.get("event") == j.SKIPPED and r.get("step") == step_id), {})
    reason = str(record.get("reason") or "")
    if not reason.startswith("condition not met"):
        return reason or "its condition was false"
    steps = {step.id: step.outputs for step in state.steps.values()}
    return condition_words(reason, state.started.params or {}, steps)


def value_words(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, dict) and "Statement" in value:
        return "a policy document (diff below)"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def change_words(change: dict[str, Any], applied: dict[str, Any]) -> str:
    """One change as a sentence: what it is on, before and after."""
    call, target = change["call"], change["target"]
    policy = (change.get("parameters") or {}).get("PolicyName")
    before, after = change.get("before"), change.get("after")
    if call == "iam:UpdateServiceSpecificCredential":
        return f"{target}: {value_words(before)} -> {value_words(after)}"
    if policy and call in ("iam:PutUserPolicy", "iam:PutRolePolicy"):
        what = f"inline policy `{policy}` on {target}"
        if applied.get("revoked_before"):
            return (
                f"{what}: {'added' if before is None else 'moved forward'}; it denies every action to the sessions "
                f"issued before {second(applied['revoked_before'])} (`aws:TokenIssueTime`)"
            )
        return f"{what}: {'added' if before is None else 'replaced'}"
    return f"`{call}` on {target}: {value_words(before)} -> {value_words(after)}"

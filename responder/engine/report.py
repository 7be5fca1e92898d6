"""The ticket report: built from the journal alone, rendered as Markdown or JSON."""

from __future__ import annotations

import json
from typing import Any

from responder.actions.registry import get_action
from responder.engine import events as j
from responder.engine.audit import verify_chain
from responder.engine.run_state import RunState
from responder.engine.runs import RunPaths

OUTCOMES = {
    "planned": "dry run: nothing was changed",
    "completed": "every step is done and verified",
    "failed": "a step failed; what was applied before it is kept",
    "rolled-back": "the run's changes were undone",
    "rollback-incomplete": "a rollback could not undo everything: a human must look",
    "rejected": "bad input: nothing was changed",
    "cancelled": "cancelled at the confirmation prompt: nothing was changed",
    "interrupted": "the process stopped mid-run: resume or roll back",
    "running": "still running: its process holds its locks",
    "mixed": "the accounts ended differently: see each one below",
}
STEP_RESULTS = {
    "pending": "not run",
    "planned": "planned (dry run)",
    "skipped": "skipped",
    "read": "done (read-only)",
    "unchanged": "already in place",
    "in-flight": "interrupted mid-call",
    "applied": "applied, not verified",
    "verified": "applied and verified",
    "failed": "FAILED",
}


def containment_times(state: RunState) -> dict[str, Any]:
    """When each containment change took hold (AWS answered it), in seconds after its process started; and the
    two figures on-call cares about: the key inactive, the principal fully denied (the last of its changes)."""
    reached = [
        {
            "step": r["step"],
            "milestone": r["milestone"],
            "seconds_after_start": r.get("seconds_after_start"),
            "at": r.get("ts"),
            "already": r.get("event") == j.UNCHANGED,  # in place before this run: nothing to time
            "stops": r.get("stops"),
        }
        for r in state.records
        if r.get("event") in (j.APPLIED, j.UNCHANGED) and r.get("milestone")
    ]
    timed = [m for m in reached if not m["already"] and m["seconds_after_start"] is not None]
    key = [m["seconds_after_start"] for m in timed if m["stops"] == "key"]
    denied = [m["seconds_after_start"] for m in timed if m["stops"] in ("key", "principal")]
    return {
        "key_inactive_after_s": max(key) if key else None,
        "fully_denied_after_s": max(denied) if denied else None,
        "milestones": reached,
    }


def containment_line(times: dict[str, Any] | None) -> str | None:
    """ "key inactive 0.41 s after start; principal fully denied 0.43 s", or None when nothing was timed."""
    if not times:
        return None
    parts = []
    if times["key_inactive_after_s"] is not None:
        parts.append(f"key inactive {times['key_inactive_after_s']:.2f} s after start")
    if times["fully_denied_after_s"] is not None:
        parts.append(f"principal fully denied {times['fully_denied_after_s']:.2f} s")
    already = sorted({m["milestone"] for m in times["milestones"] if m["already"]})
    if already:
        parts.append(f"already in place before this run: {', '.join(already)}")
    return "; ".join(parts) or None


def build_report(state: RunState, paths: RunPaths) -> dict[str, Any]:
    started = state.started
    chain = verify_chain(paths.audit_log)
    steps = []
    for step in state.steps.values():
        steps.append(
            {
                "id": step.id,
                "action": step.action,
                "status": step.status,
                "result": STEP_RESULTS.get(step.status, step.status),
                "changes": step.changes,
                "notes": step.notes,
                "request_ids": step.request_ids,
                "outputs": step.outputs,
                "undo_request_ids": step.undo_request_ids,
                "error": step.error,
                "undo": step.undo_status,
                "undo_message": step.undo_message,
                "reversible": step.reversible,
            }
        )
    return {
        "run_id": state.run_id,
        "playbook": state.playbook,
        "status": state.status,
        "outcome": OUTCOMES.get(state.status, state.status),
        "dry_run": bool(started.get("dry_run")),
        "account": started.get("account_id"),
        "operator": started.get("operator"),
        "key": started.get("key"),
        "params": started.get("params", {}),
        "started_at": started.get("ts"),
        "finished_at": state.records[-1].get("ts"),
        "steps": steps,
        "containment": containment_times(state),
        "timeline": [_timeline_entry(r) for r in state.records],
        "audit_log": str(paths.audit_log),
        "audit_records": chain.records,
        "audit_head": chain.head,
        "warnings": state.warnings,
    }


def _timeline_entry(record: dict[str, Any]) -> dict[str, Any]:
    event = record.get("event")
    detail = record.get("error") or record.get("message") or record.get("reason") or ""
    if event in (j.PLANNED, j.APPLYING) and record.get("changes"):
        detail = "; ".join(f"{c['call']} on {c['target']}" for c in record["changes"])
    elif event in (j.PLANNED, j.READ, j.UNCHANGED):
        detail = "; ".join(record.get("notes", [])) or ("no change needed" if event != j.READ else "")
    elif event == j.APPLIED and record.get("request_ids"):
        detail = "AWS request ids " + ", ".join(record["request_ids"])
    elif event == j.RUN_STARTED:
        detail = f"{'dry run' if record.get('dry_run') else 'apply'} by {record.get('operator')}"
    return {"ts": record.get("ts"), "event": record.get("event"), "step": record.get("step"), "detail": detail}


def save_reports(paths: RunPaths, report: dict[str, Any], markdown: str) -> None:
    """The run's report.md and report.json, beside its audit log."""
    paths.report_md.write_text(markdown, encoding="utf-8")
    paths.report_json.write_text(render_json(report), encoding="utf-8")


def render_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=True)


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else "none" if value is None else json.dumps(value, sort_keys=True)
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: dict[str, Any]) -> str:
    run_id = report["run_id"]
    key = report.get("key") or {}
    lines = [
        f"# Leaked Bedrock API key response: {report['playbook']}",
        "",
        f"**{report['status'].upper()}**: {report['outcome']}.",
        "",
        "| | |",
        "|---|---|",
        f"| Run | `{run_id}`{' (dry run)' if report['dry_run'] else ''} |",
        f"| Account | {report.get('account') or '?'} |",
        f"| Operator | {report.get('operator') or '?'} |",
    ]
    if key:
        lines.append(f"| Key | {_describe_key(key)} |")
    params = {k: v for k, v in report["params"].items() if v is not None}
    lines += [
        f"| Parameters | {_cell(params) if params else 'none'} |",
        f"| Started | {report['started_at']} |",
        *([f"| Time to containment | {line} |"] if (line := containment_line(report["containment"])) else []),
        f"| Last record | {report['finished_at']} |",
        f"| Audit log | `{report['audit_log']}` |",
        f"| Audit chain | {report['audit_records']} records, head `{report['audit_head']}` |",
        "",
        "## Steps",
        "",
        "| Step | Action | Result | Undo |",
        "|---|---|---|---|",
    ]
    for step in report["steps"]:
        undo = step["undo"] or ("irreversible" if not step["reversible"] and step["status"] != "skipped" else "")
        lines.append(f"| {step['id']} | `{step['action']}` | {step['result']} | {undo} |")
    lines += ["", "## Changes", ""]
    changed = [s for s in report["steps"] if s["changes"] and s["status"] != "unchanged"]
    if not changed:
        lines.append("None." if not report["dry_run"] else "None (dry run); the plan is below.")
    for step in report["steps"]:
        if not step["changes"]:
            continue
        verb = "Would call" if step["status"] == "planned" else "Called"
        for change in step["changes"]:
            lines.append(
                f"- **{step['id']}**: {verb} `{change['call']}` on {change['target']}: "
                f"`{_cell(change['before'])}` -> `{_cell(change['after'])}`"
                + ("" if change.get("reversible", True) else " (**irreversible**)")
            )
        if step["request_ids"]:
            lines.append(f"  - AWS request ids: {', '.join(step['request_ids'])}")
    lines += ["", "## Not done, and why", ""]
    lines += _not_done(report) or ["Nothing: every step ran."]
    notes = [f"- {s['id']}: {note}" for s in report["steps"] for note in s["notes"]]
    if notes:
        lines += ["", "## Notes", "", *notes]
    lines += ["", "## How to roll back", ""]
    lines += _rollback_advice(report)
    lines += [
        "",
        "## What the key did",
        "",
        *_activity(report),
        "",
        "## Timeline",
        "",
        "| Time (UTC) | Event | Step | Detail |",
        "|---|---|---|---|",
    ]
    for entry in report["timeline"]:
        lines.append(f"| {entry['ts']} | {entry['event']} | {entry['step'] or ''} | {_cell(entry['detail'])} |")
    lines += ["", f"Verify the audit trail: `responder audit verify {report['audit_log']}`", ""]
    return "\n".join(lines)


def _describe_key(key: dict[str, Any]) -> str:
    if key.get("kind") == "short-term":
        return (
            f"short-term key signed by `{key.get('access_key_id')}` ({key.get('signer')}) in {key.get('region')}, "
            f"issued {key.get('issued_at')}, expires {key.get('expires_at')}, fingerprint `{key.get('fingerprint')}`"
        )
    return f"long-term key, alias `{key.get('alias')}`, fingerprint `{key.get('fingerprint')}`"


def _declared(action_name: str, attribute: str) -> Any:
    """What a step's action declares for the report (its undo warning, its summary output), if it is known."""
    action = get_action(action_name)
    return getattr(action, attribute, None) if action is not None else None


def _activity(report: dict[str, Any]) -> list[str]:
    """The investigation's summary, from the outputs of the step that produced `activity`."""
    found: list[dict[str, Any]] = [
        (s.get("outputs") or {})[output]
        for s in report["steps"]
        if (output := _declared(s["action"], "report_output")) and (s.get("outputs") or {}).get(output)
    ]
    if not found:
        return [
            "Not investigated by this run. Search CloudTrail for events with "
            "`additionalEventData.callWithBearerToken = true` by the key's principal; Bedrock Mantle inference is "
            "a data event that `LookupEvents` cannot see."
        ]
    lines: list[str] = []
    for activity in found:
        searched = activity["searched"]
        lines += [
            f"Searched CloudTrail `LookupEvents` by `{searched['by']}` in {', '.join(searched['regions'])}, "
            f"from {searched['window'][0]} to {searched['window'][1]}: {activity['events_read']} management events, "
            f"**{activity['bearer_token_calls']} made with a bearer token**"
            + (" (stopped at the event cap: there may be more)." if activity["cap_hit"] else "."),
            "",
        ]
        if activity["bearer_token_calls"]:
            lines += [
                f"- First seen {activity['first_seen']}, last seen {activity['last_seen']}; "
                f"after the run started: {activity['after_containment']}",
                f"- By call: {_counts(activity['by_event'])}",
                f"- By region: {_counts(activity['by_region'])}",
                f"- Source IPs: {', '.join(activity['source_ips'])}",
                f"- User agents: {', '.join(activity['user_agents'])}",
            ]
            if activity["errors"]:
                lines.append(f"- Failed calls: {_counts(activity['errors'])}")
    lines += [
        "",
        "Not visible here: Bedrock Mantle inference (a CloudTrail data event `LookupEvents` cannot see), and events "
        "from the last 5 to 15 minutes (CloudTrail's delivery delay): look again later to check that calls stopped.",
    ]
    return lines


def _counts(counts: list[list[Any]]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts)


def _not_done(report: dict[str, Any]) -> list[str]:
    lines = []
    for step in report["steps"]:
        if step["status"] in ("skipped", "pending", "failed", "in-flight"):
            reason = step["error"] or {
                "skipped": "its condition was false",
                "pending": "the run stopped before it",
            }.get(step["status"], "the call may or may not have reached AWS")
            lines.append(f"- **{step['id']}** ({step['result']}): {reason}")
        if step["undo"] in ("withheld", "irreversible", "failed"):
            lines.append(f"- **{step['id']}** undo {step['undo']}: {step['undo_message']}")
    lines += [f"- warning: {w}" for w in report["warnings"]]
    return lines


def _rollback_advice(report: dict[str, Any]) -> list[str]:
    run_id = report["run_id"]
    if report["dry_run"] or report["status"] in ("rejected", "cancelled"):
        return ["Nothing to roll back: this run changed nothing."]
    if report["status"] == "rolled-back":
        withheld = [s["id"] for s in report["steps"] if s["undo"] == "withheld"]
        if not withheld:
            return ["Already rolled back (see the timeline)."]
        return [
            f"Rolled back, except that the leaked key stays inactive ({', '.join(withheld)}). "
            f"Only for a false alarm: `responder rollback {run_id} --reactivate-keys`."
        ]
    lines = [
        f"- `responder rollback {run_id}` undoes every change except re-activating leaked keys.",
        f"- `responder rollback {run_id} --reactivate-keys` also re-activates them. Only for a false alarm.",
    ]
    warnings = {w for s in report["steps"] if s["changes"] and (w := _declared(s["action"], "undo_warning"))}
    lines += [f"- {warning}" for warning in sorted(warnings)]
    irreversible = [s["id"] for s in report["steps"] if not s["reversible"] and s["changes"]]
    if irreversible:
        lines.append(f"- Cannot be undone: {', '.join(irreversible)}.")
    if report["status"] in ("failed", "interrupted"):
        lines.insert(0, f"- `responder resume {run_id}` finishes the containment instead.")
    return lines

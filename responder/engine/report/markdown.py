"""The ticket report as Markdown: a paragraph for whoever reads only that, then follow-ups, changes, evidence.

Times are to the second and paths relative to the run's directory (the ticket outlives the operator's laptop).
"""

from __future__ import annotations

import json
from typing import Any

from responder.actions.registry import get_action
from responder.engine.journal import events as j
from responder.engine.report.cost import cost_lines
from responder.engine.report.evidence import report_output_of
from responder.engine.report.model import Report
from responder.engine.report.stages import stage_lines
from responder.engine.report.summary import follow_ups, made_by, opening
from responder.engine.report.visibility import visibility_lines
from responder.engine.report.words import change_words, clock, second
from responder.engine.running.policy_diff import policy_diff
from responder.inert import code, prose
from responder.keys.journaled import key_words
from responder.keys.kinds import said_of


def containment_line(report: Report) -> str | None:
    """ "key inactive 0.41 s after start; principal denied 0.43 s", or None when the run claims nothing. Read from
    the run's claims (claims.py) alone: a milestone speaks only for itself, and an undone change no longer holds."""
    claims = report.claims
    if not claims:
        return None
    parts = []
    for label, name in (("key inactive", "key_inactive"), ("principal denied", "principal_denied")):
        claim = claims[name]
        if claim["holds"] and claim["seconds_after_start"] is not None:
            parts.append(f"{label} {claim['seconds_after_start']:.2f} s after {_origin(claims, name)}")
    approvals = [c["seconds_after_approval"] for c in claims["in_force"] if c.get("seconds_after_approval") is not None]
    if approvals:
        parts.append(f"{max(approvals):.2f} s after the plan was approved at the prompt")
    already = sorted({c["milestone"] for c in claims["in_force"] if c["already"]})
    if already:
        parts.append(f"already in place before this run: {', '.join(already)}")
    if claims["in_force"] and not claims["contained"]["holds"]:
        parts.append("NOT fully contained")
    if claims["unknown"]:
        steps = ", ".join(u["step"] for u in claims["unknown"])
        parts.append(f"unknown (the answer never came): {steps}; `{claims['unknown'][0]['settle']}` reads AWS")
    return "; ".join(parts) or None


def notifications_line(deliveries: list[dict[str, Any]] | None) -> str | None:
    """Who was told, at which moment of the run, and who could not be (the run's outcome stands either way)."""
    if not deliveries:
        return None
    said = []
    for d in deliveries:
        host = _cell(d.get("host"))
        if d.get("delivered"):
            said.append(f"{host}: told ({d.get('moment')})")
        else:
            said.append(
                f"{host}: NOT told ({d.get('moment')}): {_cell(d.get('error'))} after {d.get('attempts')} attempt(s)"
            )
    return "; ".join(said)


def exposure_line(alert: dict[str, Any] | None) -> str | None:
    """ "exposed 2026-11-29 17:00:00 UTC (gitleaks); contained 2 d 3 h 4 min later", from `run --from`."""
    if not alert:
        return None
    source = f"{alert.get('source')}, {len(alert.get('findings') or [])} finding(s)"
    if not alert.get("exposed_at"):
        return f"from {source}; the alert does not say when the key was exposed"
    line = f"exposed {second(alert['exposed_at'])} ({source})"
    seconds = alert.get("exposed_to_contained_s")
    if seconds is None:
        return line + "; not contained in this run"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    took = " ".join(f"{n} {u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")) if n) or "0 s"
    return line + f"; contained {took} later"


def _origin(claims: dict[str, Any], name: str) -> str:
    processes = made_by(claims, name)
    return f"the start of its process ({', '.join(processes)})" if processes else "start"


def _cell(value: Any) -> str:
    """A table cell of text that may quote AWS (an error message, a note): inert Markdown, one line."""
    text = value if isinstance(value, str) else "none" if value is None else json.dumps(value, sort_keys=True)
    return prose(text, table=True)


def _counts(counts: list[list[Any]]) -> str:
    """`name` n, ...: names CloudTrail recorded (event names, regions, error codes) as code spans."""
    return ", ".join(f"{code(name)} {n}" for name, n in counts)


def render_markdown(report: Report) -> str:
    run_id = report.run_id
    key = report.key or {}
    lines = [
        f"# Leaked {key_words(key)} API key response: {report.playbook}",
        "",
        f"**{report.status.upper()}**: {report.outcome}.",
        "",
        opening(report),
        "",
        "| | |",
        "|---|---|",
        f"| Run | `{run_id}`{' (dry run)' if report.dry_run else ''} |",
        f"| Account | {report.account or '?'} |",
        f"| Operator | {report.operator or '?'} |",
    ]
    if key:
        lines.append(f"| Key | {_describe_key(key)} |")
    params = {k: v for k, v in report.params.items() if v not in (None, "")}
    lines += [
        f"| Parameters | {', '.join(f'{k}={_cell(v)}' for k, v in sorted(params.items())) or 'none'} |",
        f"| Started | {second(report.started_at)} |",
        *([f"| Time to containment | {line} |"] if (line := containment_line(report)) else []),
        *([f"| Exposure | {line} |"] if (line := exposure_line(report.alert)) else []),
        *([f"| Notifications | {line} |"] if (line := notifications_line(report.notifications)) else []),
        f"| Last record | {second(report.finished_at)} |",
    ]
    execution = report.execution
    if execution:
        lines += [
            f"| Ran on | {execution['engine']}: `{execution['arn']}` |",
            "| Record | the execution's history and its write-ahead records in S3 |",
        ]
    else:
        lines += ["| Audit log | `audit.jsonl` in the run's directory |", _chain_row(report)]
    if report.evidence is not None:
        lines.append(f"| Events read | `{report.evidence['events_file']}` in the run's directory |")
    lines += ["", "## Follow-ups", "", *follow_ups(report), "", "## Steps", "", *_steps(report)]
    lines += ["", "## Changes", "", *_changes(report)]
    lines += ["", "## Not done, and why", ""]
    lines += _not_done(report) or ["Nothing: every step ran."]
    notes = [f"- {s['id']}: {prose(note)}" for s in report.steps for note in s["notes"]]
    if notes:
        lines += ["", "## Notes", "", *notes]
    lines += ["", "## How to roll back", "", *_rollback_advice(report)]
    lines += ["", "## What the key did", "", *_activity(report)]
    lines += ["", "## Attack stages", "", *stage_lines(report)]
    lines += ["", "## Where CloudTrail looked, and what it could see", "", *visibility_lines(report)]
    lines += ["", "## What it cost", "", *cost_lines(report)]
    lines += ["", "## Timeline", "", "| Time (UTC) | Event | Step | Detail |", "|---|---|---|---|"]
    for entry in _timeline(report):
        lines.append(f"| {clock(entry['ts'])} | {entry['event']} | {entry['step'] or ''} | {_cell(entry['detail'])} |")
    if not execution and not report.audit_chain_broken:
        lines += [
            "",
            f"Verify the audit trail against the head above: `responder audit verify {run_id} --head "
            f"{report.audit_head}`",
        ]
    return "\n".join([*lines, ""])


def _chain_row(report: Report) -> str:
    """The chain's head, to paste in the ticket; never the head of a broken chain, which anchors nothing."""
    broken = report.audit_chain_broken
    if broken:
        return (
            f"| Audit chain | **BROKEN** at {prose(broken, table=True)}: its head anchors nothing "
            f"(`responder audit verify {report.run_id}` lists every problem) |"
        )
    return f"| Audit chain | {report.audit_records} records, head `{report.audit_head}` |"


def _describe_key(key: dict[str, Any]) -> str:
    return said_of(key).described(key, second)


def _steps(report: Report) -> list[str]:
    with_undo = any(s["undo"] for s in report.steps)  # no column that would be empty on every row
    lines = ["| Step | Action | Result |" + (" Undo |" if with_undo else ""), "|---|---|---|" + ("---|" * with_undo)]
    for step in report.steps:
        row = f"| {step['id']} | `{step['action']}` | {step['result']} |"
        if with_undo:
            row += f" {step['undo'] or ''} |"
        lines.append(row)
    return lines


def _changes(report: Report) -> list[str]:
    changed = [s for s in report.steps if s["changes"] and s["status"] != "unchanged"]
    if not changed:
        return ["None." if not report.dry_run else "None (dry run); the plan is below."]
    lines: list[str] = []
    for step in changed:
        verb = "Would change" if step["status"] == "planned" else "Changed"
        for change in step["changes"]:
            mark = "" if change.get("reversible", True) else " (**irreversible**)"
            lines.append(f"- **{step['id']}**: {verb} {change_words(change, step.get('applied') or {})}{mark}")
            diff = policy_diff(change.get("before"), change.get("after"))
            if diff:
                lines += ["", "  ```diff", *(f"  {line}" for line in diff), "  ```", ""]
        if step["request_ids"]:
            lines.append(f"  - AWS request ids: {', '.join(step['request_ids'])}")
    return lines


def _timeline(report: Report) -> list[dict[str, Any]]:
    """What happened, once each: a run that applied shows what it did, not also what it planned to."""
    applied = not report.dry_run
    skip = {j.PLANNED, j.APPLYING} if applied else set()
    why = {s["id"]: s["skip_reason"] for s in report.steps if s.get("skip_reason")}
    return [
        {**e, "detail": why[e["step"]]} if e["event"] == j.SKIPPED and e["step"] in why else e
        for e in report.timeline
        if e["event"] not in skip
    ]


def _activity(report: Report) -> list[str]:
    evidence = report.evidence or {}
    queries = evidence.get("queries")
    if not queries:
        return [
            "Not investigated by this run. Search CloudTrail for Bedrock (`additionalEventData.callWithBearerToken`) "
            "and Bedrock Mantle (`requestParameters.callWithBearerToken`) events by the key's principal."
        ]
    sources = ", ".join(f"{n} on {code(source)}" for source, n in evidence["by_source"])
    lines = [
        f"CloudTrail `LookupEvents` read {evidence['events_read']} events of the principal; "
        f"**{evidence['bearer_token_calls']} made with a bearer token**: {sources}. Every event read is in "
        f"`{evidence['events_file']}` (event id, time, source, name, region, source IP, user agent, error code, "
        "bearer-token type, and whether it came after containment).",
        "",
    ]
    for step in report.steps:
        output = report_output_of(step["action"])  # the action says which output is its summary
        activity = (step.get("outputs") or {}).get(output) if output else None
        if not isinstance(activity, dict) or not activity.get("bearer_token_calls"):
            continue
        searched = activity["searched"]
        lines += [
            f"- Searched by {code(searched['by'])} in {', '.join(map(code, searched['regions']))}, from "
            f"{second(searched['window'][0])} to {second(searched['window'][1])}"
            + (" (stopped at the event cap: there may be more)" if activity["cap_hit"] else ""),
            f"- First seen {second(activity['first_seen'])}, last seen {second(activity['last_seen'])}",
            f"- By call: {_counts(activity['by_event'])}",
            f"- By region: {_counts(activity['by_region'])}",
            f"- Source IPs: {', '.join(map(code, activity['source_ips']))}",
            f"- User agents: {', '.join(map(code, activity['user_agents']))}",
        ]
        if activity["errors"]:
            lines.append(f"- Failed calls: {_counts(activity['errors'])}")
    for recheck in evidence.get("rechecks", []):
        lines.append(
            f"- Re-checked at {second(recheck['at'])} (`responder investigate`), from {second(recheck['since'])}: "
            f"{recheck['events_read']} events, {recheck['bearer_token_calls']} with a bearer token"
        )
    lines += [*_after_containment(evidence), "", *_pictures(report), "", *_not_visible(queries)]
    return lines


def _after_containment(evidence: dict[str, Any]) -> list[str]:
    """Calls made after containment: the key still works somewhere, or the deny is not what it should be."""
    after = evidence.get("after_containment") or []
    if not after:
        return []
    lines = [
        "",
        f"**{len(after)} BEARER-TOKEN CALL(S) AFTER CONTAINMENT:**",
        "",
        "| Time (UTC) | Endpoint | Call | Region | Source IP | Error | Event id |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in after:
        lines.append(
            f"| {second(e.get('time'))} | {_code_cell(e.get('source'))} | {_code_cell(e.get('name'))} | "
            f"{_code_cell(e.get('region'))} | {_code_cell(e.get('source_ip'))} | "
            f"{_code_cell(e.get('error_code') or 'none')} | {_code_cell(e.get('event_id'))} |"
        )
    return lines


def _code_cell(value: Any) -> str:
    return code(value, table=True)


def _pictures(report: Report) -> list[str]:
    pictures = (report.evidence or {}).get("pictures") or []
    svgs = [p for p in pictures if p.endswith(".svg")]
    if svgs:
        return [f"![Calls over time: {p}]({p})" for p in svgs] + [
            f"PNG for ticket systems that do not show SVG: {', '.join(p for p in pictures if p.endswith('.png'))}."
        ]
    return [
        f"Timeline picture: `responder report {report.run_id} --timeline` draws it (SVG and PNG, one per "
        "endpoint) into the run's directory; it needs the `timeline` extra: "
        "`pip install 'bedrock-key-responder[timeline]'`."
    ]


def _not_visible(queries: dict[str, str]) -> list[str]:
    return [
        "**Not visible to `LookupEvents`:** Bedrock Mantle inference (a CloudTrail data event), "
        "and data events generally; anything older than 90 days; and calls from the last 5 to 15 minutes "
        "(CloudTrail's delivery delay). Query a CloudTrail Lake event data store that records data events "
        "(replace `<EVENT_DATA_STORE_ID>`):",
        "",
        "```sql",
        queries["cloudtrail_lake"],
        "```",
        "",
        "or, with Athena over a trail's S3 logs (replace `<CLOUDTRAIL_TABLE>`; widen the dates to look further back):",
        "",
        "```sql",
        queries["athena"],
        "```",
    ]


def _not_done(report: Report) -> list[str]:
    lines = []
    for step in report.steps:
        if step["status"] in ("skipped", "pending", "failed", "in-flight"):
            reason = (
                (step["error"] and prose(step["error"]))
                or step.get("skip_reason")
                or {
                    "skipped": "its condition was false",
                    "pending": "the run stopped before it",
                }.get(step["status"], "the call may or may not have reached AWS")
            )
            lines.append(f"- **{step['id']}** ({step['result']}): {reason}")
        if step["undo"] in ("withheld", "irreversible", "failed"):
            lines.append(f"- **{step['id']}** undo {step['undo']}: {prose(step['undo_message'])}")
    lines += [f"- warning: {prose(w)}" for w in report.warnings]
    return lines


def _rollback_advice(report: Report) -> list[str]:
    run_id = report.run_id
    if report.dry_run or report.status in ("rejected", "cancelled"):
        return ["Nothing to roll back: this run changed nothing."]
    if report.execution:
        given = f'{{"journal_bucket": "...", "execution_name": "{run_id}", "reactivate_keys": false}}'
        return [
            "- Start the rollback machine (`responder export` wrote it beside this one): `aws stepfunctions "
            f"start-execution --state-machine-arn ROLLBACK_MACHINE_ARN --input '{given}'`. It undoes every change "
            "the write-ahead records name, except re-activating leaked keys.",
            '- With `"reactivate_keys": true` it re-activates them too. Only for a false alarm.',
        ]
    if report.status == "rolled-back":
        withheld = [s["id"] for s in report.steps if s["undo"] == "withheld"]
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
    warnings = set()
    for step in report.steps:
        action = get_action(step["action"]) if step["changes"] else None
        if action is not None and action.undo_warning:
            warnings.add(action.undo_warning)
    lines += [f"- {warning}" for warning in sorted(warnings)]
    irreversible = [s["id"] for s in report.steps if not s["reversible"] and s["changes"]]
    if irreversible:
        lines.append(f"- Cannot be undone: {', '.join(irreversible)}.")
    if report.status in ("failed", "interrupted"):
        lines.insert(0, f"- `responder resume {run_id}` finishes the containment instead.")
    return lines

"""The ticket report: built from the journal alone, rendered as Markdown (markdown.py) or JSON."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from responder.actions.attack_stages import stages_reached
from responder.engine.journal import events as j
from responder.engine.journal.audit import audit_key, verify_chain
from responder.engine.journal.notifications import recorded_deliveries
from responder.engine.journal.opening import Opening
from responder.engine.journal.run_state import RunState
from responder.engine.journal.runs import RunPaths
from responder.engine.report.evidence import (
    ENDPOINT_SOURCES,
    EVENTS_FILE,
    athena_query,
    collect_events,
    containment_moment,
    first_activity,
    first_search,
    lake_query,
    lake_store_queries,
    write_events,
)
from responder.engine.report.markdown import containment_line, render_markdown
from responder.engine.report.model import Report
from responder.engine.report.timeline_files import existing_pictures
from responder.engine.report.words import skip_reason
from responder.engine.running.claims import Claims, claims_of
from responder.private_files import write_private

__all__ = ["build_report", "containment_line", "containment_times", "render_json", "render_markdown", "save_reports"]

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


def containment_times(state: RunState, claims: Claims | None = None) -> dict[str, Any]:
    """When each containment change took hold (AWS answered it), in seconds after the start of the process that
    made it; and the two figures on-call cares about, each read from its claim (claims.py): the key inactive, and
    the run fully contained (the key and the principal both: "key inactive" alone is never "fully denied")."""
    claims = claims if claims is not None else claims_of(state)
    touched = {r.get("step") for r in state.records if r.get("event") == j.APPLYING}
    reached = [
        {
            "step": r["step"],
            "milestone": r["milestone"],
            "seconds_after_start": r.get("seconds_after_start"),
            "at": r.get("ts"),
            "already": r.get("event") == j.UNCHANGED and _read_before_change(state, r, touched),
            "stops": r.get("stops"),
        }
        for r in state.records
        if r.get("event") in (j.APPLIED, j.UNCHANGED) and r.get("milestone")
    ]
    key, contained = claims.key_inactive, claims.contained
    return {
        "key_inactive_after_s": key.seconds if key.holds else None,
        "fully_denied_after_s": contained.seconds if contained.holds else None,
        "milestones": reached,
    }


def exposure(alert: dict[str, Any] | None, contained: datetime | None) -> dict[str, Any] | None:
    """Where a `run --from` key came from and, when its alert said when it was exposed, how long it was out
    before containment took hold."""
    if not alert:
        return None
    exposed = alert.get("exposed_at")
    seconds = None
    if exposed and contained is not None:
        seconds = (contained - datetime.fromisoformat(exposed)).total_seconds()
    return {**alert, "exposed_to_contained_s": seconds}


def _read_before_change(state: RunState, unchanged: dict[str, Any], touched: set[Any]) -> bool:
    """A `step.unchanged` read is "already in place before this run" only when this run sent nothing to it before."""
    if unchanged.get("step") not in touched:
        return True
    for record in state.records:
        if record is unchanged:
            return True
        if record.get("event") == j.APPLYING and record.get("step") == unchanged.get("step"):
            return False
    return True


def build_report(state: RunState, paths: RunPaths | None, events: list[dict[str, Any]] | None = None) -> Report:
    """The report of a run; `paths` None for one read back from another engine (an exported machine's
    execution: `responder report --execution`), which has no audit log of its own. `events`: the run's CloudTrail
    events (evidence.collect_events), when the caller has them already."""
    started = state.started
    chain = verify_chain(paths.audit_log, key=audit_key()) if paths is not None else None
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
                "applied": step.applied,  # how it was applied: e.g. the aws:TokenIssueTime cutoff it set
                "skip_reason": skip_reason(state, step.id) if step.status == "skipped" else None,
            }
        )
    moment = containment_moment(state)
    claims = claims_of(state)  # what the report may say holds: read once, for every section
    return Report(
        run_id=state.run_id,
        playbook=state.playbook,
        status=state.status,
        outcome=OUTCOMES.get(state.status, state.status),
        dry_run=bool(started.dry_run),
        account=started.account_id,
        operator=started.operator,
        key=started.key,
        params=started.params,
        started_at=started.ts,
        finished_at=state.records[-1].get("ts"),
        steps=steps,
        containment=containment_times(state, claims),
        claims=claims.as_json(),
        timeline=[_timeline_entry(r) for r in state.records],
        audit_log=str(paths.audit_log) if paths is not None else None,
        audit_records=chain.records if chain is not None else len(state.records),
        audit_head=chain.head if chain is not None else None,
        # Where the chain breaks (an edited or cut journal): then its head anchors nothing, and the report says so.
        audit_chain_broken=chain.problems[0] if chain is not None and not chain.ok else None,
        execution=_execution(started),
        warnings=state.warnings,
        contained_at=moment.isoformat() if moment else None,
        alert=exposure(started.alert, moment),
        notifications=recorded_deliveries(paths.directory) if paths is not None else [],
        principal=principal(state),
        evidence=evidence(state, paths, events if events is not None else collect_events(state, moment))
        if paths is not None
        else None,
    )


def _execution(started: Opening) -> dict[str, Any] | None:
    """Where a run read back from AWS Step Functions ran, and how its rollback machine is started."""
    arn = started.execution_arn
    if not arn:
        return None
    return {"engine": "AWS Step Functions", "arn": arn, "name": started.run_id}


def principal(state: RunState) -> dict[str, str] | None:
    """Whose key it was: the first step output naming a role or a user (the resolving step's)."""
    for step in state.steps.values():
        for kind in ("role", "user"):
            name = step.outputs.get(f"{kind}_name")
            if isinstance(name, str) and name:
                return {"type": kind, "name": name}
    key = state.started.key or {}
    return {"type": "user", "name": str(key["user_name"])} if key.get("user_name") else None


def evidence(state: RunState, paths: RunPaths, events: list[dict[str, Any]]) -> dict[str, Any]:
    """The events the run and `responder investigate` read, summed up; where they are kept; and the queries for
    what LookupEvents cannot see."""
    bearer = [e for e in events if e.get("bearer_token")]
    search = first_search(state)
    rechecks = [
        {
            "at": r.get("ts"),
            "since": r.get("since"),
            "until": r.get("until"),
            "events_read": len(r.get("events", [])),
            "bearer_token_calls": sum(1 for e in r.get("events", []) if e.get("bearer_token")),
        }
        for r in state.records
        if r.get("event") == j.INVESTIGATED
    ]
    reach = _reach(first_activity(state))
    queries = None
    if search is not None:
        queries = {
            "cloudtrail_lake": lake_query(search),
            "athena": athena_query(search),
            # The same Lake query, as the command that runs it on each event data store logging Bedrock's data events.
            "lake_stores": lake_store_queries(search, reach["visibility"]),
        }
    times = sorted(str(e["time"]) for e in bearer if e.get("time"))
    return {
        "events_file": EVENTS_FILE,
        "events_read": len(events),
        "bearer_token_calls": len(bearer),
        "by_source": [
            [source, sum(1 for e in bearer if e.get("source") == source)]
            for source in dict.fromkeys([*ENDPOINT_SOURCES, *_sources(bearer)])
        ],
        "first_seen": times[0] if times else None,
        "last_seen": times[-1] if times else None,
        "after_containment": [e for e in bearer if e.get("after_containment")],
        "rechecks": rechecks,
        # The attack's stages these events reach (attack_stages' one table), each finding by event.
        "stages": stages_reached(events),
        # Where CloudTrail could not be searched and why; what the account's trails and invocation logging record
        # of Bedrock inference per region; the account-wide metrics and cost against the baseline.
        **reach,
        "queries": queries,
        "pictures": existing_pictures(paths.directory),
    }


def _reach(activity: dict[str, Any] | None) -> dict[str, Any]:
    activity = activity or {}
    return {
        "unsearched": (activity.get("searched") or {}).get("unsearched") or [],
        "visibility": activity.get("visibility"),
        "usage": activity.get("usage"),
    }


def _sources(events: list[dict[str, Any]]) -> list[str]:
    return sorted({str(e.get("source")) for e in events})


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


def save_reports(paths: RunPaths, report: Report, markdown: str, events: list[dict[str, Any]] | None = None) -> None:
    """The run's report.md and report.json, beside its audit log; and, given the events the run read (a fan-out's
    parent has none of its own), events.jsonl."""
    write_private(paths.report_md, markdown)
    write_private(paths.report_json, render_json(report))
    if events is not None:
        write_events(paths.directory / EVENTS_FILE, events)


def render_json(report: Report) -> str:
    return json.dumps(report.as_json(), indent=2, sort_keys=True)

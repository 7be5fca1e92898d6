"""`responder investigate RUN_ID`: did it stop? Read CloudTrail again from the run's containment moment to now,
journal what was found (extending the audit chain), and rewrite the report and events.jsonl.

CloudTrail delivers events 5 to 15 minutes after the call, so a call made just before containment may show up
only now; one made after it means the containment does not hold (or the key works elsewhere).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from responder.actions.cloudtrail import InvestigateKeyActivity, InvestigateParams
from responder.clock import parse_time
from responder.engine.commands.operations import scope_for
from responder.engine.commands.outcome import current_status, save_report
from responder.engine.journal import events as j
from responder.engine.journal.run_state import RunState
from responder.engine.journal.runs import RunPaths, find_run
from responder.engine.journal.writer import Journal
from responder.engine.report.evidence import containment_moment
from responder.engine.running.context import Settings, open_context
from responder.engine.running.journal_trust import journal_acceptance, same_endpoint, trusted_run
from responder.errors import UserError
from responder.playbook.refs import resolve


@dataclass(frozen=True)
class Investigation:
    run_id: str
    paths: RunPaths
    since: datetime
    since_what: str  # "containment" or "run start"
    until: datetime
    events_read: int
    bearer_token_calls: int
    after_containment: list[dict[str, Any]]  # bearer-token calls at or after the moment: the loud part
    notes: list[str]
    audit_head: str


def investigate_run(run_id: str, settings: Settings) -> Investigation:
    paths = find_run(settings.runs_dir, run_id)
    trusted = trusted_run(paths, "investigate", settings.accept_broken_chain)
    state = trusted.state
    if state.started.is_fanout:
        raise UserError(
            f"run {state.run_id} is a fan-out's parent run: investigate each account's own run "
            f"(`responder report {state.run_id}` lists them)"
        )
    status = current_status(state, settings.locks_in)
    if status == "running":
        raise UserError(f"run {state.run_id} is still running: investigate it once it has finished")
    arguments = _investigation_arguments(state)
    moment = containment_moment(state)
    since_what = "containment" if moment is not None else "run start"
    since = moment or parse_time(state.started.ts)
    if since is None:
        raise UserError(f"run {state.run_id} has no start time in its audit log")
    now = datetime.now(timezone.utc)
    params = InvestigateParams.model_validate({**arguments, "since": since, "until": now, "contained_at": since})
    aws = same_endpoint(settings.aws, state.started.to_record(), f"run {state.run_id}", settings.aws_from_env)
    ctx = open_context(dataclasses.replace(settings, aws=aws), read_only=True)
    if ctx.account_id != state.started.account_id:
        raise UserError(
            f"run {state.run_id} was made in account {state.started.account_id}, "
            f"but your credentials are for account {ctx.account_id}"
        )
    action = InvestigateKeyActivity()
    plan = action.plan(ctx, params, action.snapshot(ctx, params))
    activity: dict[str, Any] = plan.outputs["activity"] or {}
    events: list[dict[str, Any]] = plan.outputs["events"]
    journal = Journal(paths.audit_log, state.run_id, settings.journal_listeners)
    with journal:
        journal_acceptance(journal, trusted, "investigate")
        journal.record(
            j.INVESTIGATED,
            since=since.isoformat(),
            since_what=since_what,
            until=now.isoformat(),
            searched=activity.get("searched"),
            bearer_token_calls=activity.get("bearer_token_calls", 0),
            after_containment=activity.get("after_containment", 0),
            events=events,
            notes=plan.notes,
        )
    _, report = save_report(paths, status if status != "interrupted" else None)
    after = [e for e in events if e.get("bearer_token") and e.get("after_containment")]
    return Investigation(
        state.run_id,
        paths,
        since,
        since_what,
        now,
        len(events),
        int(activity.get("bearer_token_calls", 0)),
        after,
        plan.notes,
        str(report.audit_head),
    )


def _investigation_arguments(state: RunState) -> dict[str, Any]:
    """The run's own CloudTrail investigation's arguments (by what and where to look), resolved as the run resolved
    them: from its parameters and the outputs its steps journaled."""
    scope = scope_for(state.started.params or {}, None, state.run_id, state.started.ts)
    scope["steps"] = {step_id: step.outputs for step_id, step in state.steps.items()}
    for step in (state.started.playbook_document or {}).get("steps", []):
        if step.get("action") == InvestigateKeyActivity.name and step.get("id") in state.steps:
            arguments: dict[str, Any] = resolve(step.get("with") or {}, scope)
            return {name: value for name, value in arguments.items() if value is not None}
    raise UserError(
        f"run {state.run_id} has no CloudTrail investigation step ({InvestigateKeyActivity.name}) to repeat"
    )

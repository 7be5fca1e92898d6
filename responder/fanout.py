"""A playbook in many accounts as one parent run: each account's run (its own audit log) under the parent's
directory, the parent's own audit log saying which account ended how, and one merged report.

Resume and rollback of the parent act on every account's run; each account's run can also be resumed or rolled
back alone by its own id.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from typing import Any

from responder import __version__
from responder import journal as j
from responder.accounts import Operator, Target, check_fanout_options, in_pool, organization_accounts, reach
from responder.errors import EXIT_OK, EXIT_ROLLBACK_INCOMPLETE, EXIT_STEP_FAILED, ResponderError, UserError
from responder.executor import describe_failure
from responder.fanout_report import render_fanout_markdown
from responder.journal import Journal, RunState, load_run
from responder.operations import (
    Outcome,
    Settings,
    open_context,
    resume_run,
    rollback_run,
    run_playbook,
    with_run_endpoint,
)
from responder.playbook import Playbook, bind_parameters, find_playbook, load_playbook
from responder.report import build_report, save_reports
from responder.runs import ACCOUNT_RUNS, RunPaths, find_run, new_run


@dataclass
class AccountResult:
    account_id: str
    role_arn: str | None
    run_id: str | None  # None: no run started there (e.g. AssumeRole was refused)
    status: str
    exit_code: int
    message: str


def is_fanout(state: RunState) -> bool:
    return bool(state.started.get("fanout"))


def start_fanout(
    playbook_ref: str,
    given_params: dict[str, str],
    dry_run: bool,
    settings: Settings,
    targets: list[Target] | None,
    role_name: str,
    concurrency: int,
) -> Outcome:
    """Run a playbook in every target account (targets None: every active account of the organization)."""
    check_fanout_options(role_name, concurrency)
    playbook = load_playbook(find_playbook(playbook_ref))
    if playbook.key is not None:
        raise UserError(f"playbook {playbook.name} contains one leaked key, which names its own account: run it there")
    params = bind_parameters(playbook, given_params)
    operator_ctx, operator_arn = open_context(settings, read_only=True)
    operator = Operator(settings.aws, operator_ctx.account_id, operator_ctx.partition, operator_ctx.clients.sts)
    if targets is None:
        targets = organization_accounts(operator_ctx.clients)
        if not targets:
            raise UserError("--org: the organization lists no active account")
    paths = new_run(settings.runs_dir)
    journal = Journal(paths.audit_log, paths.run_id, settings.listeners)
    journal.record(
        "run.started",
        playbook=playbook.name,
        playbook_document=playbook.model_dump(mode="json", by_alias=True),
        params=params,
        key=None,
        dry_run=dry_run,
        operator=operator_arn,
        account_id=operator_ctx.account_id,
        endpoint_url=settings.aws.endpoint_url,
        region=settings.aws.region,
        version=__version__,
        steps=[],
        fanout={
            "accounts": [dataclasses.asdict(t) for t in targets],
            "role_name": role_name,
            "concurrency": concurrency,
        },
    )
    session_name = f"responder-{paths.run_id}"[:64]  # shows in each account's CloudTrail: ties the calls to the run

    def one(target: Target) -> AccountResult:
        options, role_arn = reach(target, operator, role_name, session_name)
        account = _account_settings(settings, paths, options)
        origin = {"parent_run": paths.run_id, "assumed_role": role_arn}
        outcome = run_playbook(playbook, params, None, dry_run, None, account, None, origin=origin)
        return AccountResult(
            target.account_id, role_arn, outcome.run_id, outcome.status, outcome.exit_code, outcome.message
        )

    _each_account(journal, targets, one, concurrency, role_name, operator_ctx.partition)
    return _finish(journal, paths)


def resume_fanout(state: RunState, paths: RunPaths, settings: Settings) -> Outcome:
    """Finish the job in every account: resume the runs that stopped, start the ones that never began."""
    if state.started.get("dry_run"):
        raise UserError(f"run {state.run_id} was a dry run; start a real one with `responder run`")
    playbook = Playbook.model_validate(state.started["playbook_document"])
    results = latest_results(state)
    todo = [Target(a["account_id"], a.get("role_name")) for a in state.started["fanout"]["accounts"]]
    todo = [t for t in todo if results.get(t.account_id) is None or results[t.account_id].status != "completed"]
    if not todo:
        raise UserError(f"run {state.run_id} is completed in every account: there is nothing to resume")
    settings.aws = with_run_endpoint(settings.aws, state.started)
    operator_ctx, _ = open_context(settings, read_only=False)
    operator = Operator(settings.aws, operator_ctx.account_id, operator_ctx.partition, operator_ctx.clients.sts)
    role_name = state.started["fanout"]["role_name"]
    session_name = f"responder-{state.run_id}"[:64]
    journal = Journal(paths.audit_log, state.run_id, settings.listeners)
    journal.record("run.resumed", accounts=[t.account_id for t in todo])

    def one(target: Target) -> AccountResult:
        earlier = results.get(target.account_id)
        if earlier is not None and earlier.run_id is not None:
            outcome = resume_run(earlier.run_id, _account_settings(settings, paths, settings.aws))
            return AccountResult(
                target.account_id, earlier.role_arn, outcome.run_id, outcome.status, outcome.exit_code, outcome.message
            )
        options, role_arn = reach(target, operator, role_name, session_name)
        origin = {"parent_run": state.run_id, "assumed_role": role_arn}
        account = _account_settings(settings, paths, options)
        outcome = run_playbook(playbook, state.started["params"], None, False, None, account, None, origin=origin)
        return AccountResult(
            target.account_id, role_arn, outcome.run_id, outcome.status, outcome.exit_code, outcome.message
        )

    _each_account(journal, todo, one, state.started["fanout"]["concurrency"], role_name, operator_ctx.partition)
    return _finish(journal, paths)


def rollback_fanout(state: RunState, paths: RunPaths, reactivate_keys: bool, settings: Settings) -> Outcome:
    """Roll back every account's run (each one idempotent, so a second rollback finishes what the first could not)."""
    if state.started.get("dry_run"):
        raise UserError(f"run {state.run_id} was a dry run: it changed nothing, so there is nothing to roll back")
    settings.aws = with_run_endpoint(settings.aws, state.started)
    started = [r for r in latest_results(state).values() if r.run_id is not None]
    journal = Journal(paths.audit_log, state.run_id, settings.listeners)
    journal.record("rollback.started", reactivate_keys=reactivate_keys, accounts=[r.account_id for r in started])
    by_account = {r.account_id: r for r in started}

    def one(target: Target) -> AccountResult:
        earlier = by_account[target.account_id]
        assert earlier.run_id is not None  # only accounts with a run are rolled back
        outcome = rollback_run(earlier.run_id, reactivate_keys, _account_settings(settings, paths, settings.aws))
        return AccountResult(
            target.account_id, earlier.role_arn, outcome.run_id, outcome.status, outcome.exit_code, outcome.message
        )

    targets = [Target(r.account_id) for r in started]
    _each_account(journal, targets, one, state.started["fanout"]["concurrency"], None, None)
    return _finish(journal, paths, rollback=True)


def _account_settings(settings: Settings, paths: RunPaths, options: Any) -> Settings:
    # Per-step progress from many accounts at once would interleave unreadably: the parent reports per account.
    return dataclasses.replace(settings, runs_dir=paths.directory / ACCOUNT_RUNS, aws=options, listeners=[])


def _each_account(
    journal: Journal,
    targets: list[Target],
    one: Any,
    concurrency: int,
    role_name: str | None,
    partition: str | None,
) -> None:
    def done(target: Target, result: AccountResult | Exception) -> None:
        if isinstance(result, Exception):
            role_arn = target.role_arn(partition, role_name) if role_name and partition else None
            message = describe_failure(result)
            code = result.exit_code if isinstance(result, ResponderError) else EXIT_STEP_FAILED
            result = AccountResult(target.account_id, role_arn, None, "failed", code, message)
        journal.record(j.ACCOUNT_FINISHED, **dataclasses.asdict(result))

    in_pool(targets, one, concurrency, done)


def latest_results(state: RunState) -> dict[str, AccountResult]:
    """Each account's latest result in the parent's log; a later record without a run id never hides an
    account's earlier run."""
    results: dict[str, AccountResult] = {}
    for record in state.records:
        if record.get("event") != j.ACCOUNT_FINISHED:
            continue
        result = AccountResult(
            record["account_id"],
            record.get("role_arn"),
            record.get("run_id"),
            record["status"],
            record["exit_code"],
            record["message"],
        )
        earlier = results.get(result.account_id)
        if result.run_id is None and earlier is not None and earlier.run_id is not None:
            result.run_id = earlier.run_id
        results[result.account_id] = result
    return results


SEVERITY = {EXIT_OK: 0, EXIT_STEP_FAILED: 1, 2: 1, EXIT_ROLLBACK_INCOMPLETE: 2}


def _finish(journal: Journal, paths: RunPaths, rollback: bool = False) -> Outcome:
    """The parent's outcome over every account (a rollback: every account that had a run to roll back)."""
    state = load_run(paths.audit_log)
    results = [r for r in latest_results(state).values() if not (rollback and r.run_id is None)]
    failed = [r for r in results if r.exit_code != EXIT_OK]
    worst = max((r.exit_code for r in results), key=lambda code: SEVERITY.get(code, 1), default=EXIT_OK)
    exit_code = EXIT_OK if not failed else (EXIT_ROLLBACK_INCOMPLETE if worst == EXIT_ROLLBACK_INCOMPLETE else 1)
    counts = Counter(r.status for r in results)
    status = next(iter(counts)) if len(counts) == 1 else "mixed"
    message = f"{len(results)} account(s): " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    if failed:
        message += ". Not done: " + "; ".join(f"{r.account_id}: {r.message}" for r in failed)
    journal.record(j.FINISHED, status=status, message=message)
    journal.close()
    state = load_run(paths.audit_log)
    report = build_fanout_report(state, paths)
    save_reports(paths, report, render_fanout_markdown(report))
    return Outcome(state.run_id, status, exit_code, message, state, paths, report)


def build_fanout_report(state: RunState, paths: RunPaths) -> dict[str, Any]:
    """The parent's report: its own facts, each account's result, and each account's own report whole."""
    report = build_report(state, paths)
    accounts = []
    for result in sorted(latest_results(state).values(), key=lambda r: r.account_id):
        entry: dict[str, Any] = dataclasses.asdict(result)
        if result.run_id is not None:
            child = find_run(paths.directory / ACCOUNT_RUNS, result.run_id)
            entry["report"] = build_report(load_run(child.audit_log), child)
        accounts.append(entry)
    report["accounts"] = accounts
    report["fanout"] = state.started.get("fanout")
    return report


def find_parent(run_id: str, settings: Settings) -> tuple[RunState, RunPaths] | None:
    paths = find_run(settings.runs_dir, run_id)
    state = load_run(paths.audit_log)
    return (state, paths) if is_fanout(state) else None

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

from responder.aws.clients import session_name
from responder.engine.commands.operations import RunRequest, run_playbook, start_journal
from responder.engine.commands.outcome import Outcome
from responder.engine.commands.recovery import Confirm, resume_run, rollback_run, rolled_back, unplanned_groups
from responder.engine.journal import events as j
from responder.engine.journal.run_state import RunState, load_run
from responder.engine.journal.runs import ACCOUNT_RUNS, RunPaths, all_runs, find_run
from responder.engine.journal.writer import Journal
from responder.engine.report.build import build_report, save_reports
from responder.engine.report.model import Report
from responder.engine.running.context import Settings, open_context
from responder.engine.running.failures import describe_failure
from responder.engine.running.journal_trust import TrustedRun, journal_acceptance, same_endpoint, trusted_run
from responder.errors import EXIT_OK, EXIT_ROLLBACK_INCOMPLETE, EXIT_STEP_FAILED, UserError
from responder.fanout.accounts import (
    FanoutScope,
    Operator,
    Target,
    accounts_of,
    check_fanout_options,
    in_pool,
    reach,
)
from responder.fanout.report import render_fanout_markdown
from responder.playbook.checks import find_playbook, load_playbook
from responder.playbook.model import Playbook
from responder.playbook.param_checks import check_parameters
from responder.playbook.params import bind_parameters


@dataclass
class AccountResult:
    account_id: str
    role_arn: str | None
    run_id: str | None  # None: no run started there (e.g. AssumeRole was refused)
    status: str
    exit_code: int
    message: str

    @classmethod
    def of(cls, account_id: str, role_arn: str | None, outcome: Outcome) -> AccountResult:
        return cls(account_id, role_arn, outcome.run_id, outcome.status, outcome.exit_code, outcome.message)


def start_fanout(
    playbook_ref: str,
    given_params: dict[str, str],
    dry_run: bool,
    settings: Settings,
    scope: FanoutScope,
    role_name: str,
    concurrency: int,
) -> Outcome:
    """Run a playbook in every account of `scope`: the accounts named, or the organization's."""
    check_fanout_options(role_name, concurrency)
    playbook = load_playbook(find_playbook(playbook_ref))
    if playbook.key is not None:
        raise UserError(f"playbook {playbook.name} contains one leaked key, which names its own account: run it there")
    params = bind_parameters(playbook, given_params)
    check_parameters(playbook, params)  # every parameter, before the first AWS request
    operator_ctx = open_context(settings, read_only=True)
    operator_arn = operator_ctx.identity.arn
    operator = Operator.of(operator_ctx.clients, operator_ctx.account_id, operator_ctx.partition)
    targets = accounts_of(scope, operator_ctx.clients)
    paths, journal = start_journal(
        settings,
        RunRequest(playbook, params, dry_run=dry_run),
        operator_arn,
        operator_ctx.account_id,
        key=None,
        steps=[],
        fanout={
            "accounts": [dataclasses.asdict(t) for t in targets],
            "role_name": role_name,
            "concurrency": concurrency,
        },
    )

    def one(target: Target) -> AccountResult:
        return _start_account(target, playbook, params, dry_run, operator, role_name, settings, paths)

    _each_account(journal, targets, one, concurrency)
    return _finish(journal, paths)


def _start_account(
    target: Target,
    playbook: Playbook,
    params: dict[str, Any],
    dry_run: bool,
    operator: Operator,
    role_name: str,
    settings: Settings,
    parent: RunPaths,
) -> AccountResult:
    """A new run of the playbook in the target account, under the parent run, through the role."""
    options, role_arn = reach(target, operator, role_name, session_name(parent.run_id))
    origin = {"parent_run": parent.run_id, "assumed_role": role_arn}
    account = _account_settings(settings, parent, options)
    outcome = run_playbook(RunRequest(playbook, params, dry_run=dry_run, origin=origin), account)
    return AccountResult.of(target.account_id, role_arn, outcome)


def resume_fanout(trusted: TrustedRun, paths: RunPaths, settings: Settings) -> Outcome:
    """Finish the job in every account: resume the account runs that stopped, start the ones that never began or
    were refused before changing anything. Each account's own journal says where it stands."""
    state, run = trusted.state, f"run {trusted.state.run_id}"
    if state.started.dry_run:
        raise UserError(f"run {state.run_id} was a dry run; start a real one with `responder run`")
    if rolled_back(state):
        raise UserError(f"run {state.run_id} was rolled back: start a new run rather than resume it")
    playbook = Playbook.model_validate(state.started.playbook_document)
    runs = account_runs(paths)  # each account's own journal decides, whatever the parent's log recorded

    def restart(run: RunState) -> bool:
        """Refused, or stopped while planning, before any change: start that account afresh."""
        return run.status in ("rejected", "cancelled") or (
            bool(unplanned_groups(playbook, run)) and not any(s.touched for s in run.steps.values())
        )

    def resumable(run: RunState) -> bool:
        return run.status in ("failed", "interrupted") and not rolled_back(run) and not restart(run)

    todo = [Target(a["account_id"], a.get("role_name")) for a in state.started.fanout["accounts"]]
    todo = [t for t in todo if t.account_id not in runs or restart(runs[t.account_id]) or resumable(runs[t.account_id])]
    if not todo:
        raise UserError(f"run {state.run_id} has nothing to resume: every account's run is done or rolled back")
    settings = dataclasses.replace(
        settings, aws=same_endpoint(settings.aws, state.started.to_record(), run, settings.aws_from_env)
    )
    operator_ctx = open_context(settings, read_only=False)
    operator = Operator.of(operator_ctx.clients, operator_ctx.account_id, operator_ctx.partition)
    role_name = state.started.fanout["role_name"]
    journal = Journal(paths.audit_log, state.run_id, settings.journal_listeners)
    journal_acceptance(journal, trusted, "resume")
    journal.record(j.RUN_RESUMED, accounts=[t.account_id for t in todo])

    def one(target: Target) -> AccountResult:
        earlier = runs.get(target.account_id)
        if earlier is not None and resumable(earlier):
            outcome = resume_run(earlier.run_id, _account_settings(settings, paths, settings.aws))
            role_arn = earlier.started.assumed_role
            return AccountResult.of(target.account_id, role_arn, outcome)
        return _start_account(target, playbook, state.started.params, False, operator, role_name, settings, paths)

    _each_account(journal, todo, one, state.started.fanout["concurrency"])
    return _finish(journal, paths)


def rollback_fanout(trusted: TrustedRun, paths: RunPaths, reactivate_keys: bool, settings: Settings) -> Outcome:
    """Roll back every account run under the parent, whatever the parent's log recorded of it (a run an
    interrupted fan-out never reported is undone too). Each is idempotent: a second rollback finishes the first."""
    state, run = trusted.state, f"run {trusted.state.run_id}"
    if state.started.dry_run:
        raise UserError(f"run {state.run_id} was a dry run: it changed nothing, so there is nothing to roll back")
    settings = dataclasses.replace(
        settings, aws=same_endpoint(settings.aws, state.started.to_record(), run, settings.aws_from_env)
    )
    open_context(settings, read_only=False).identity  # noqa: B018  # the operator's own setup, checked before anything is journaled
    runs = account_runs(paths)
    journal = Journal(paths.audit_log, state.run_id, settings.journal_listeners)
    journal_acceptance(journal, trusted, "rollback")
    journal.record(j.ROLLBACK_STARTED, reactivate_keys=reactivate_keys, accounts=sorted(runs))

    def one(target: Target) -> AccountResult:
        run = runs[target.account_id]
        role_arn = run.started.assumed_role
        try:
            outcome = rollback_run(run.run_id, reactivate_keys, _account_settings(settings, paths, settings.aws))
        except Exception as exc:  # it could not even begin (its role is gone): its changes remain, a human must look
            failed = "rollback-incomplete", EXIT_ROLLBACK_INCOMPLETE, describe_failure(exc)
            return AccountResult(target.account_id, role_arn, run.run_id, *failed)
        return AccountResult.of(target.account_id, role_arn, outcome)

    _each_account(journal, [Target(a) for a in sorted(runs)], one, state.started.fanout["concurrency"])
    return _finish(journal, paths, rollback=True)


def _account_settings(settings: Settings, paths: RunPaths, options: Any) -> Settings:
    # Per-step progress from many accounts at once would interleave unreadably: the parent reports per account.
    # Locks stay where every other run takes them, so an account run and a single-account run exclude each other.
    return dataclasses.replace(
        settings,
        runs_dir=paths.directory / ACCOUNT_RUNS,
        lock_root=settings.locks_in,
        aws=options,
        listeners=[],
    )


def _each_account(journal: Journal, targets: list[Target], one: Any, concurrency: int) -> None:
    """Run one(target) in the pool; record each account's end in the parent's log (from this thread only).
    An exception is that account failing, with its reason (a rollback's one() reports its own failures)."""

    def done(target: Target, result: AccountResult | Exception) -> None:
        if isinstance(result, Exception):
            status, code, run_id = "failed", EXIT_STEP_FAILED, None
            if isinstance(result, UserError):
                code, run_id = result.exit_code, result.run_id
            if run_id is not None:  # refused after its run began (e.g. the principal was locked): as its run says
                status = "rejected"
            result = AccountResult(target.account_id, None, run_id, status, code, describe_failure(result))
        journal.record(j.ACCOUNT_FINISHED, **dataclasses.asdict(result))

    in_pool(targets, one, concurrency, done)


def account_runs(paths: RunPaths) -> dict[str, RunState]:
    """Each account's latest run under the parent, from its own journal."""
    latest: dict[str, RunState] = {}
    for run in all_runs(paths.directory / ACCOUNT_RUNS):
        try:
            state = load_run(run.audit_log)
        except (ValueError, OSError):
            continue
        account = str(state.started.account_id)
        if account not in latest or str(state.started.ts) > str(latest[account].started.ts):
            latest[account] = state
    return latest


def account_results(
    state: RunState, paths: RunPaths, runs: dict[str, RunState] | None = None
) -> dict[str, AccountResult]:
    """How each account stands (runs: account_runs(paths), when the caller has it already). Its own run's
    journal is the truth (it may have been resumed or rolled back on its own, or never reported by an interrupted
    fan-out); the parent's log says why an account has no run, or why the last attempt on it failed before
    reaching its run."""
    recorded: dict[str, tuple[str, AccountResult]] = {}
    for record in state.records:
        if record.get("event") == j.ACCOUNT_FINISHED:
            result = AccountResult(
                record["account_id"],
                record.get("role_arn"),
                record.get("run_id"),
                record["status"],
                record["exit_code"],
                record["message"],
            )
            recorded[result.account_id] = (str(record.get("ts")), result)
    results = {account: result for account, (_, result) in recorded.items()}
    for account, run in (account_runs(paths) if runs is None else runs).items():
        last = next((r for r in reversed(run.records) if r.get("event") == j.FINISHED), None)
        interrupted = run.status == "interrupted"
        own = AccountResult(
            account,
            run.started.assumed_role,
            run.run_id,
            run.status,
            EXIT_STEP_FAILED if interrupted or last is None else int(last.get("exit_code", EXIT_OK)),
            "the process stopped mid-run: resume or roll back"
            if interrupted or last is None
            else str(last.get("message", "")),
        )
        when, attempt = recorded.get(account, ("", None))
        if attempt is not None and when > str(run.records[-1].get("ts")):  # a later attempt that never reached it
            own.status, own.exit_code, own.message = attempt.status, attempt.exit_code, attempt.message
        results[account] = own
    return results


def _finish(journal: Journal, paths: RunPaths, rollback: bool = False) -> Outcome:
    """The parent's outcome over every account (a rollback: every account that had a run to roll back)."""
    state = load_run(paths.audit_log)
    runs = account_runs(paths)  # every account's journal, read once for the outcome and the report
    results = [r for r in account_results(state, paths, runs).values() if not (rollback and r.run_id is None)]
    failed = [r for r in results if r.exit_code != EXIT_OK]
    codes = {r.exit_code for r in failed}
    # A refused account (exit 2 in its own run) fails the parent with 1: the parent's own input was fine.
    exit_code = EXIT_OK if not failed else EXIT_ROLLBACK_INCOMPLETE if EXIT_ROLLBACK_INCOMPLETE in codes else 1
    counts = Counter(r.status for r in results)
    status = next(iter(counts)) if len(counts) == 1 else ("rolled-back" if rollback and not counts else "mixed")
    message = f"{len(results)} account(s): " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    if rollback and not results:
        message = "nothing to roll back: no account had a run"
    if failed:
        message += ". Not done: " + "; ".join(f"{r.account_id}: {r.message}" for r in failed)
    journal.record(j.FINISHED, status=status, message=message, exit_code=exit_code)
    journal.close()
    state = load_run(paths.audit_log)
    report = build_fanout_report(state, paths, runs)
    save_reports(paths, report, render_fanout_markdown(report))
    return Outcome(state.run_id, status, exit_code, message, state, paths, report)


def build_fanout_report(state: RunState, paths: RunPaths, runs: dict[str, RunState] | None = None) -> Report:
    """The parent's report: its own facts, each account's result, and each account's own report whole."""
    report = build_report(state, paths)
    runs = account_runs(paths) if runs is None else runs
    accounts = []
    for result in sorted(account_results(state, paths, runs).values(), key=lambda r: r.account_id):
        entry: dict[str, Any] = dataclasses.asdict(result)
        if result.run_id is not None:
            child = find_run(paths.directory / ACCOUNT_RUNS, result.run_id)
            known = runs.get(result.account_id)
            child_state = known if known is not None and known.run_id == result.run_id else load_run(child.audit_log)
            entry["report"] = build_report(child_state, child)
        accounts.append(entry)
    # The parent changes nothing itself: what holds is each account's own claims (accounts[].report.claims), never
    # a parent-level "nothing contained".
    return dataclasses.replace(report, accounts=accounts, fanout=state.started.fanout, claims=None)


def resume_any_run(run_id: str, settings: Settings, confirm: Confirm | None = None, wait: bool = False) -> Outcome:
    """`responder resume`: a fan-out's parent resumes in every account; any other run, as the engine does (asking
    with `confirm` when its plan was never approved)."""
    paths = find_run(settings.runs_dir, run_id)
    trusted = trusted_run(paths, "resume", settings.accept_broken_chain)
    state = trusted.state
    if state.started.is_fanout:
        return resume_fanout(trusted, paths, settings)
    return resume_run(run_id, settings, confirm, wait)


def rollback_any_run(run_id: str, reactivate_keys: bool, settings: Settings, wait: bool = False) -> Outcome:
    """`responder rollback`: a fan-out's parent rolls back every account's run; any other run, as the engine does."""
    paths = find_run(settings.runs_dir, run_id)
    trusted = trusted_run(paths, "roll back", settings.accept_broken_chain)
    if trusted.state.started.is_fanout:
        return rollback_fanout(trusted, paths, reactivate_keys, settings)
    return rollback_run(run_id, reactivate_keys, settings, wait)

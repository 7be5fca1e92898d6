"""What the commands do: start a run or apply a saved plan. Plain functions the CLI calls."""

from __future__ import annotations

import dataclasses
import functools
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from responder import __version__
from responder.actions.base import ActionContext
from responder.actions.reads import in_background
from responder.engine.commands.outcome import Outcome, apply_steps, finish, lock_targets, rejected
from responder.engine.journal import events as j
from responder.engine.journal.audit import load_structlog
from responder.engine.journal.locks import LockSet
from responder.engine.journal.opening import Opening
from responder.engine.journal.run_state import RunState, load_run
from responder.engine.journal.runs import RunPaths, find_run, new_run
from responder.engine.journal.saved_plan import made_from, read_plan, stale_steps, write_plan
from responder.engine.journal.writer import Journal
from responder.engine.running.context import Settings, hold_targets, open_context, run_lock
from responder.engine.running.executor import (
    Executor,
    reversible_action,
)
from responder.engine.running.failures import describe_failure
from responder.engine.running.journal_trust import same_endpoint, trusted_run
from responder.errors import (
    EXIT_CANCELLED,
    EXIT_OK,
    EXIT_STEP_FAILED,
    JournalUnwritable,
    UserError,
)
from responder.keys import LeakedKey, parse_key, playbook_for
from responder.keys.journaled import key_from_facts as key_from_facts  # recovery reads it here
from responder.keys.journaled import public_key
from responder.playbook.checks import find_playbook, load_playbook
from responder.playbook.model import Playbook
from responder.playbook.param_checks import check_parameters
from responder.playbook.params import bind_parameters

Confirm = Callable[[RunState], bool]


def read_leaked_key(playbook: Playbook, key_text: str | None) -> LeakedKey | None:
    """The key, checked against the kind the playbook contains: the wrong kind names the playbook that fits."""
    if key_text is None:
        if playbook.key is not None and playbook.key.required:
            raise UserError(f"playbook {playbook.name} needs the leaked key: --key-file FILE (or - for stdin)")
        return None
    if playbook.key is None:
        raise UserError(f"playbook {playbook.name} takes no key; drop --key-file")
    key = parse_key(key_text)
    if key.kind != playbook.key.kind:
        fits = playbook_for(key)
        raise UserError(
            f"this is a {key.kind} key and {playbook.name} contains {playbook.key.kind} keys: "
            f"run `responder run {fits} --key-file ...` (see `responder identify`)"
        )
    return key


def start_run(
    playbook_ref: str,
    given_params: dict[str, str],
    key_text: str | None,
    dry_run: bool,
    confirm: Confirm | None,
    settings: Settings,
    expired_key_plans_only: bool = False,
    save_plan: Path | None = None,
    alert: dict[str, Any] | None = None,
) -> Outcome:
    """Plan, confirm, apply. With expired_key_plans_only (no --yes), an expired short-term key is planned only:
    the session that signed it may be alive, but the operator should choose to act. `alert`: where the key came
    from (`run --from`: the format, the findings, when it was exposed), kept in run.started for the report."""
    playbook = load_playbook(find_playbook(playbook_ref))
    key = read_leaked_key(playbook, key_text)  # first: its secret parts are registered before a parameter is echoed
    params = bind_parameters(playbook, given_params)
    check_parameters(playbook, params)  # every parameter, before the first AWS request
    plans_only_because = None
    if key is not None and key.alive_until is not None and key.expired() and expired_key_plans_only and not dry_run:
        dry_run = True
        plans_only_because = (
            f"the key expired at {key.alive_until.isoformat()}: planned only, nothing changed. The session or access "
            "key that signed it may still be alive: re-run with --yes to contain it"
        )
    if save_plan is not None and not dry_run:
        raise UserError("--save-plan goes with --dry-run: a saved plan is reviewed before it is applied")
    request = RunRequest(playbook, params, key, dry_run, confirm, plans_only_because, save_plan)
    if alert is not None:
        request = dataclasses.replace(request, origin={"alert": alert})
    return run_playbook(request, settings)


def apply_plan(plan_file: Path, confirm: Confirm | None, settings: Settings) -> Outcome:
    """Apply exactly a saved plan: refuse, changing nothing, if the plan is not what its run planned, or the account
    no longer is what was planned."""
    plan = read_plan(plan_file)
    accepted = _check_made_from(plan_file, plan, settings)
    try:
        playbook = Playbook.model_validate(plan["playbook_document"])
    except ValueError:
        raise UserError(f"{plan_file}: its playbook does not validate") from None
    aws = same_endpoint(settings.aws, plan, f"the plan {plan_file}", settings.aws_from_env)
    settings = dataclasses.replace(settings, aws=aws)
    origin = {"broken_chain_accepted": accepted} if accepted else {}
    request = RunRequest(playbook, plan["params"], key_from_facts(plan.get("key")), confirm=confirm, plan=plan)
    return run_playbook(dataclasses.replace(request, origin=origin), settings)


def _check_made_from(plan_file: Path, plan: dict[str, Any], settings: Settings) -> str | None:
    """The plan runs what its planning run journaled, or is refused: its own hash first, then that run's journal
    (intact, or accepted broken: what was wrong is returned, for the new run's journal)."""
    if plan.get("made_from") != made_from(plan):
        raise UserError(
            f"{plan_file}: its playbook, parameters or key are not the ones it was made from (their hash differs): "
            "nothing was changed; make a new plan with `responder run ... --dry-run --save-plan FILE`"
        )
    try:
        planning = find_run(settings.runs_dir, str(plan["planned_by_run"]))
    except UserError:
        raise UserError(
            f"{plan_file}: the run that made it ({plan['planned_by_run']}) is not in {settings.runs_dir}, so the "
            "plan cannot be checked against its journal: apply it with the --runs-dir it was made in"
        ) from None
    trusted = trusted_run(planning, "apply a plan made", settings.accept_broken_chain)
    if made_from(trusted.state.started.to_record()) != plan["made_from"]:
        raise UserError(
            f"{plan_file}: its playbook, parameters or key differ from what run {planning.run_id} planned: "
            "nothing was changed; make a new plan"
        )
    return trusted.broken


@dataclass(frozen=True)
class RunRequest:
    """What starting a run needs beside the settings: one object, not ten positional parameters."""

    playbook: Playbook
    params: dict[str, Any]
    key: LeakedKey | None = None
    dry_run: bool = False
    confirm: Confirm | None = None  # None: apply without asking (--yes)
    plans_only_because: str | None = None  # why a run that would apply only plans (an expired short-term key)
    save_plan: Path | None = None  # with dry_run: where to write the plan for `responder apply`
    plan: dict[str, Any] | None = None  # a saved plan being applied: refuse if the account changed since
    origin: dict[str, Any] = field(default_factory=dict)  # what a fan-out adds to run.started


def scope_for(params: dict[str, Any], key: LeakedKey | None, run_id: str, started_at: str) -> dict[str, Any]:
    """What `${...}` references resolve against; the same for a new run and a resumed one."""
    return {"params": params, "key": key, "steps": {}, "run": {"id": run_id, "started_at": started_at}}


def run_playbook(request: RunRequest, settings: Settings) -> Outcome:
    """Who the operator is (sts:GetCallerIdentity) is asked together with the first steps' reads; the journal
    begins (run.started) when the answer comes, and no step records, let alone changes, anything before.
    """
    playbook, plan = request.playbook, request.plan
    ctx = open_context(settings, read_only=request.dry_run)
    paths = new_run(settings.runs_dir)
    journal = Journal(paths.audit_log, paths.run_id, settings.journal_listeners, pending=True)
    facts = {
        "key": public_key(request.key),
        "from_plan": None if plan is None else plan.get("planned_by_run"),
        "steps": [{"id": s.id, "action": s.action or "group"} for s in playbook.steps],
        "reversible": {s.id: s.is_group or reversible_action(s.action) for s in playbook.steps},
        # Approved before it began (--yes, or a saved plan applied without a prompt): in run.started, so that no
        # record waits for the operator's identity before the first change. A prompt's yes is run.approved.
        "approved": _approved_up_front(request),
        **request.origin,
    }
    began = in_background(functools.partial(_begin, journal, settings, request, ctx, facts))
    executor = Executor(
        playbook, ctx, journal, settings.verify_delays, concurrency=settings.concurrency, allow_self=settings.allow_self
    )
    started_at = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    scope = scope_for(request.params, request.key, paths.run_id, started_at)
    try:
        return _run(executor, journal, paths, scope, settings, request)
    except BaseException:
        cause = began.exception()
        if cause is None:
            raise
        # The run never began: nothing is journaled, nothing was changed.
        shutil.rmtree(paths.directory, ignore_errors=True)
        if isinstance(cause, JournalUnwritable):
            raise UserError(f"{cause.message}: nothing was changed (point --runs-dir at a writable disk)") from None
        raise cause from None


def _begin(
    journal: Journal, settings: Settings, request: RunRequest, ctx: ActionContext, facts: dict[str, Any]
) -> None:
    try:
        load_structlog()  # for the journal, while the identity and the first reads are out: run.started goes sooner
        identity = ctx.identity
        started = _started(settings, request, identity.arn, identity.account_id, facts)
        # the region in effect (profile or default): resume keeps it
        journal.begin(**dataclasses.replace(started, region=ctx.clients.region).to_record())
    except BaseException as exc:
        journal.abandon(exc)
        raise


def _run(
    executor: Executor,
    journal: Journal,
    paths: RunPaths,
    scope: dict[str, Any],
    settings: Settings,
    request: RunRequest,
) -> Outcome:
    dry_run, confirm, plan = request.dry_run, request.confirm, request.plan
    plans_only_because, save_plan = request.plans_only_because, request.save_plan
    ctx = executor.ctx
    if plan is not None and plan["account_id"] != ctx.account_id:
        raise UserError(f"the plan is for account {plan['account_id']}, your credentials for {ctx.account_id}")
    locks = LockSet(settings.locks_in, paths.run_id, settings.lock_wait)
    executor.hold = functools.partial(hold_targets, locks, ctx)
    with locks:
        try:
            locks.hold([run_lock(paths.run_id)])  # live while this process is: a racing resume or rollback sees it
        except UserError as exc:  # the locks directory refuses: nothing was changed
            return rejected(journal, paths, exc)
        if not dry_run and confirm is None and plan is None:
            # --yes: each step goes as soon as its inputs are there, each change locking its principal first
            return apply_steps(executor, journal, paths, scope, done={})
        try:
            # A dry run reads everything, what the key did included; a plan to approve only what the changes need.
            executor.plan(scope, include_deferred=dry_run)
            if plan is not None and (
                stale := stale_steps(plan, load_run(paths.audit_log), executor.deferred - executor.asked_first)
            ):
                raise UserError(
                    f"the account changed since the plan was made (steps {', '.join(stale)} would differ): "
                    "nothing was changed; make a new plan and review it"
                )
            if not dry_run:
                planned = load_run(paths.audit_log)
                locks.hold(lock_targets(planned))
        except UserError as exc:
            return rejected(journal, paths, exc)
        except Exception as exc:
            return finish(journal, paths, "failed", EXIT_STEP_FAILED, f"planning failed: {describe_failure(exc)}")
        if dry_run:
            outcome = finish(journal, paths, "planned", EXIT_OK, plans_only_because or "dry run: nothing was changed")
            if save_plan is not None:
                write_plan(save_plan, outcome.state)
            return outcome
        if confirm is not None:
            if not confirm(planned):
                return finish(
                    journal, paths, "cancelled", EXIT_CANCELLED, "cancelled at the prompt: nothing was changed"
                )
            journal.record(j.APPROVED, how="prompt")
            executor.reuse_snapshots = False  # the operator took their time: read what changes afresh
            ctx.reads.clear()
        scope["steps"] = {}
        return apply_steps(executor, journal, paths, scope, done={})


def _approved_up_front(request: RunRequest) -> str | None:
    if request.dry_run or request.confirm is not None:
        return None
    return "saved-plan" if request.plan is not None else "yes"


def _started(settings: Settings, request: RunRequest, operator: str, account_id: str, facts: dict[str, Any]) -> Opening:
    """The `run.started` record every reader relies on."""
    return Opening.from_record(
        {
            "playbook": request.playbook.name,
            "playbook_document": request.playbook.model_dump(mode="json", by_alias=True),
            "params": request.params,
            "dry_run": request.dry_run,
            "operator": operator,
            "account_id": account_id,
            "endpoint_url": settings.aws.endpoint_url,
            "region": settings.aws.region,
            "version": __version__,
            **facts,
        }
    )


def start_journal(
    settings: Settings, request: RunRequest, operator: str, account_id: str, **facts: Any
) -> tuple[RunPaths, Journal]:
    """A new run's directory and journal, opened with the `run.started` record every reader relies on."""
    paths = new_run(settings.runs_dir)
    journal = Journal(paths.audit_log, paths.run_id, settings.journal_listeners, pending=True)
    journal.begin(**_started(settings, request, operator, account_id, facts).to_record())
    return paths, journal

"""Resume a stopped run, or roll one back: from its journal alone, in the account and endpoint it used."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

from responder.actions.base import ActionContext
from responder.aws.clients import assume_role, session_name
from responder.engine.commands.operations import key_from_facts, scope_for
from responder.engine.commands.outcome import (
    Outcome,
    apply_steps,
    lock_targets,
    roll_back,
    save_report,
)
from responder.engine.journal import events as j
from responder.engine.journal.locks import LockSet, TargetBusy, holder
from responder.engine.journal.run_state import RunState, approved
from responder.engine.journal.runs import RunPaths, find_run
from responder.engine.journal.writer import Journal
from responder.engine.running.context import Settings, hold_targets, open_context, run_lock
from responder.engine.running.executor import (
    Executor,
)
from responder.engine.running.journal_trust import journal_acceptance, same_endpoint, trusted_run
from responder.errors import (
    NotApproved,
    ResponderError,
    RollbackIncomplete,
    UserError,
)
from responder.playbook.model import Playbook

Confirm = Callable[[RunState], bool]


WAIT_FOREVER = float("inf")


def resume_run(run_id: str, settings: Settings, confirm: Confirm | None = None, wait: bool = False) -> Outcome:
    """Finish a stopped run. A run whose plan nobody approved (stopped at its prompt) is approved now: `confirm`
    asks, None approves (--yes). A run still live in another process is refused, or with `wait` waited for."""
    paths = find_run(settings.runs_dir, run_id)
    with LockSet(settings.locks_in, run_id, settings.lock_wait) as live:
        _after_the_run(paths, settings, live, wait, "resume")
        return _resume(paths, settings, confirm)


def _after_the_run(paths: RunPaths, settings: Settings, live: LockSet, wait: bool, command: str) -> None:
    """Return once no process runs the run: refuse when one does (naming it), or wait for its end with `wait`.
    The caller reads the journal only then, so that what the run did while we waited is acted on too."""
    held = holder(settings.locks_in, run_lock(paths.run_id))
    if held is not None and not wait:
        raise TargetBusy(
            f"run {paths.run_id} is live: pid {held.get('pid')} on {held.get('host')} holds it since "
            f"{held.get('since')} (lock file {held.get('lock_file')}). Let it end, or `responder {command} "
            f"{paths.run_id} --wait` to wait for its end and then act on its whole journal"
        )
    live.wait = WAIT_FOREVER if wait else live.wait
    live.hold([run_lock(paths.run_id)])


def _resume(paths: RunPaths, settings: Settings, confirm: Confirm | None) -> Outcome:
    trusted = trusted_run(paths, "resume", settings.accept_broken_chain)
    state = trusted.state
    if state.started.is_fanout:  # the fan-out builds on the engine, not the other way round
        raise UserError(
            f"run {state.run_id} is a fan-out's parent run: responder.fanout.runs.resume_any_run resumes it"
        )
    if state.started.dry_run:
        raise UserError(f"run {state.run_id} was a dry run; start a real one with `responder run`")
    if rolled_back(state):  # an interrupted rollback leaves the run "interrupted": finish the undo, not the run
        raise UserError(
            f"run {state.run_id} has been rolled back (or its rollback stopped): "
            f"`responder rollback {state.run_id}` finishes an interrupted rollback; contain again with a new run"
        )
    # A "no" at the prompt is final; a run that stopped at its prompt with no answer (kill -9) may be resumed,
    # and is asked again (or needs --yes) below.
    unanswered = state.status == "cancelled" and state.records[-1].get("event") != j.FINISHED
    if state.status not in ("failed", "interrupted") and not unanswered:
        raise UserError(f"run {state.run_id} is {state.status}: there is nothing to resume")
    playbook = Playbook.model_validate(state.started.playbook_document)
    unplanned = unplanned_groups(playbook, state)
    if unplanned:  # the run stopped before its plan listed the group's items: nobody has seen what it would touch
        raise UserError(
            f"run {state.run_id} stopped before its plan listed what group {unplanned[0]} contains: "
            "start a new run (review it with --dry-run)"
        )
    playbook, ctx = _reopen(state, settings, read_only=False)
    done = {s.id: s.outputs for s in state.steps.values() if s.done}
    key = key_from_facts(state.started.key)
    scope = scope_for(state.started.params, key, state.run_id, state.started.ts)
    # Locked before anything is journaled: a refused resume leaves the run exactly as it was.
    with LockSet(settings.locks_in, state.run_id, settings.lock_wait) as locks:
        locks.hold(lock_targets(state))
        asked = not approved(state.records)
        if asked and confirm is not None and not confirm(state):
            raise NotApproved(f"run {state.run_id}'s plan was not approved: nothing was changed")
        journal = Journal(paths.audit_log, state.run_id, settings.journal_listeners)
        journal_acceptance(journal, trusted, "resume")
        journal.record(j.RUN_RESUMED, operator_account=ctx.account_id)
        if asked:
            journal.record(j.APPROVED, how="yes" if confirm is None else "prompt")
        save_report(paths, "running")
        # A group's keys are the ones the plan listed (unplanned groups were refused above), never listed afresh.
        executor = Executor(
            playbook,
            ctx,
            journal,
            settings.verify_delays,
            expansions=state.expansions,
            concurrency=settings.concurrency,
            hold=functools.partial(hold_targets, locks, ctx),
            allow_self=settings.allow_self,
        )
        return apply_steps(executor, journal, paths, scope, done)


def rolled_back(state: RunState) -> bool:
    return any(r.get("event") == j.ROLLBACK_STARTED for r in state.records)


def unplanned_groups(playbook: Playbook, state: RunState) -> list[str]:
    """The groups whose items the run never listed (it stopped while planning)."""
    return [s.id for s in playbook.steps if s.is_group and s.id not in state.expansions]


def rollback_run(run_id: str, reactivate_keys: bool, settings: Settings, wait: bool = False) -> Outcome:
    """Undo the run's changes. A run still live in another process is refused, or with `wait` waited for: the
    undo then covers every change its journal holds, not only those made before the wait."""
    paths = find_run(settings.runs_dir, run_id)
    with LockSet(settings.locks_in, run_id, settings.lock_wait) as live:
        _after_the_run(paths, settings, live, wait, "rollback")
        return _rollback(paths, reactivate_keys, settings)


def _rollback(paths: RunPaths, reactivate_keys: bool, settings: Settings) -> Outcome:
    trusted = trusted_run(paths, "roll back", settings.accept_broken_chain)
    state = trusted.state
    if state.started.is_fanout:
        raise UserError(
            f"run {state.run_id} is a fan-out's parent run: responder.fanout.runs.rollback_any_run rolls it back"
        )
    if state.started.dry_run:
        raise UserError(f"run {state.run_id} was a dry run: it changed nothing, so there is nothing to roll back")
    if state.status in ("cancelled", "rejected") and not any(s.touched for s in state.steps.values()):
        # It stays what it was: a rollback of nothing must not relabel it rolled-back.
        raise UserError(f"run {state.run_id} is {state.status}: it changed nothing, so there is nothing to roll back")
    try:
        playbook, ctx = _reopen(state, settings, read_only=False, reactivate_keys=reactivate_keys)
    except ResponderError as exc:
        if isinstance(exc, UserError):
            raise
        # e.g. the role a fan-out came through is gone: the run's changes stay in place, a human must look
        raise RollbackIncomplete(f"cannot roll back run {state.run_id}: {exc.message}") from None
    with LockSet(settings.locks_in, state.run_id, settings.lock_wait) as locks:
        locks.hold(lock_targets(state))
        journal = Journal(paths.audit_log, state.run_id, settings.journal_listeners)
        journal_acceptance(journal, trusted, "rollback")
        journal.record(j.ROLLBACK_STARTED, reactivate_keys=reactivate_keys)
        save_report(paths, "running")
        return roll_back(Executor(playbook, ctx, journal, settings.verify_delays), journal, paths, state, None)


def _reopen(
    state: RunState, settings: Settings, read_only: bool, reactivate_keys: bool = False
) -> tuple[Playbook, ActionContext]:
    """The playbook exactly as it ran (from the journal), and clients for the run's account.

    Unless told otherwise, talk to the endpoint and region the run used (a sandbox run stays in the sandbox).
    """
    playbook = Playbook.model_validate(state.started.playbook_document)
    aws = same_endpoint(settings.aws, state.started.to_record(), f"run {state.run_id}", settings.aws_from_env)
    if state.started.assumed_role:  # a fan-out's account: get back in the way the run did
        aws = assume_role(aws, state.started.assumed_role, session_name(state.run_id))
    settings = dataclasses.replace(settings, aws=aws)
    ctx = open_context(settings, read_only, reactivate_keys)
    key = key_from_facts(state.started.key)
    if key is not None:  # a short-term key works until its expiry: undoing its containment waits (ActionContext)
        ctx.key_alive_until = key.alive_until
    if ctx.account_id != state.started.account_id:
        raise UserError(
            f"run {state.run_id} was made in account {state.started.account_id}, "
            f"but your credentials are for account {ctx.account_id}"
        )
    return playbook, ctx

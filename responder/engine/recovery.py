"""Resume a stopped run, or roll one back: from its journal alone, in the account and endpoint it used."""

from __future__ import annotations

import dataclasses
import functools

from responder.actions.base import ActionContext
from responder.aws.clients import assume_role, session_name
from responder.engine import events as j
from responder.engine.context import Settings, hold_targets, open_context
from responder.engine.executor import (
    Executor,
)
from responder.engine.journal import Journal
from responder.engine.journal_trust import journal_acceptance, same_endpoint, trusted_run
from responder.engine.locks import LockSet
from responder.engine.operations import key_from_facts, scope_for
from responder.engine.outcome import (
    Outcome,
    apply_steps,
    lock_targets,
    roll_back,
    save_report,
)
from responder.engine.run_state import RunState
from responder.engine.runs import find_run
from responder.errors import (
    ResponderError,
    RollbackIncomplete,
    UserError,
)
from responder.keys import ShortTermKey
from responder.playbook.model import Playbook


def resume_run(run_id: str, settings: Settings) -> Outcome:
    paths = find_run(settings.runs_dir, run_id)
    trusted = trusted_run(paths, "resume", settings.accept_broken_chain)
    state = trusted.state
    if state.started.get("fanout"):  # the fan-out builds on the engine, not the other way round
        raise UserError(
            f"run {state.run_id} is a fan-out's parent run: responder.fanout.runs.resume_any_run resumes it"
        )
    if state.started.get("dry_run"):
        raise UserError(f"run {state.run_id} was a dry run; start a real one with `responder run`")
    if rolled_back(state):  # an interrupted rollback leaves the run "interrupted": finish the undo, not the run
        raise UserError(
            f"run {state.run_id} has been rolled back (or its rollback stopped): "
            f"`responder rollback {state.run_id}` finishes an interrupted rollback; contain again with a new run"
        )
    if state.status not in ("failed", "interrupted"):
        raise UserError(f"run {state.run_id} is {state.status}: there is nothing to resume")
    playbook = Playbook.model_validate(state.started["playbook_document"])
    unplanned = unplanned_groups(playbook, state)
    if unplanned:  # the run stopped before its plan listed the group's items: nobody has seen what it would touch
        raise UserError(
            f"run {state.run_id} stopped before its plan listed what group {unplanned[0]} contains: "
            "start a new run (review it with --dry-run)"
        )
    playbook, ctx = _reopen(state, settings, read_only=False)
    done = {s.id: s.outputs for s in state.steps.values() if s.done}
    key = key_from_facts(state.started.get("key"))
    scope = scope_for(state.started["params"], key, state.run_id, state.started["ts"])
    # Locked before anything is journaled: a refused resume leaves the run exactly as it was.
    with LockSet(settings.locks_in, state.run_id, settings.lock_wait) as locks:
        locks.hold(lock_targets(state))
        journal = Journal(paths.audit_log, state.run_id, settings.journal_listeners)
        journal_acceptance(journal, trusted, "resume")
        journal.record(j.RUN_RESUMED, operator_account=ctx.account_id)
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


def rollback_run(run_id: str, reactivate_keys: bool, settings: Settings) -> Outcome:
    paths = find_run(settings.runs_dir, run_id)
    trusted = trusted_run(paths, "roll back", settings.accept_broken_chain)
    state = trusted.state
    if state.started.get("fanout"):
        raise UserError(
            f"run {state.run_id} is a fan-out's parent run: responder.fanout.runs.rollback_any_run rolls it back"
        )
    if state.started.get("dry_run"):
        raise UserError(f"run {state.run_id} was a dry run: it changed nothing, so there is nothing to roll back")
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
    playbook = Playbook.model_validate(state.started["playbook_document"])
    aws = same_endpoint(settings.aws, state.started, f"run {state.run_id}", settings.aws_from_env)
    if state.started.get("assumed_role"):  # a fan-out's account: get back in the way the run did
        aws = assume_role(aws, state.started["assumed_role"], session_name(state.run_id))
    settings = dataclasses.replace(settings, aws=aws)
    ctx = open_context(settings, read_only, reactivate_keys)
    key = key_from_facts(state.started.get("key"))
    if isinstance(key, ShortTermKey):
        ctx.key_alive_until = key.expires_at
    if ctx.account_id != state.started.get("account_id"):
        raise UserError(
            f"run {state.run_id} was made in account {state.started.get('account_id')}, "
            f"but your credentials are for account {ctx.account_id}"
        )
    return playbook, ctx

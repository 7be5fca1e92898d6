"""What the commands do: start a run, resume it, roll it back. Plain functions the CLI calls."""

from __future__ import annotations

import dataclasses
import functools
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

from responder import __version__
from responder.actions.base import ActionContext, Identity, Target
from responder.actions.reads import in_background
from responder.actions.registry import get_action
from responder.aws.clients import AwsOptions, Clients, assume_role, session_name
from responder.engine import events as j
from responder.engine.audit import load_structlog
from responder.engine.executor import (
    DEFAULT_CONCURRENCY,
    VERIFY_DELAYS,
    Executor,
    StepError,
    describe_failure,
    reversible_action,
)
from responder.engine.journal import Journal, Listener
from responder.engine.locks import LOCK_WAIT_SECONDS, LockSet, holder
from responder.engine.report import build_report, render_markdown, save_reports
from responder.engine.run_state import RunState, load_run
from responder.engine.runs import RunPaths, find_run, new_run
from responder.engine.saved_plan import read_plan, stale_steps, write_plan
from responder.errors import (
    EXIT_CANCELLED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_ROLLBACK_INCOMPLETE,
    EXIT_STEP_FAILED,
    Interrupted,
    JournalUnwritable,
    ResponderError,
    RollbackIncomplete,
    UserError,
)
from responder.keys import LeakedKey, LongTermKey, ShortTermKey, parse_key
from responder.playbook.model import Playbook, bind_parameters, find_playbook, load_playbook

Confirm = Callable[[RunState], bool]


@dataclass
class Settings:
    runs_dir: Path
    aws: AwsOptions = field(default_factory=AwsOptions)
    listeners: list[Listener] = field(default_factory=list)
    verify_delays: tuple[float, ...] = VERIFY_DELAYS
    lock_wait: float = LOCK_WAIT_SECONDS
    lock_root: Path | None = None  # where locks live, when not runs_dir (a fan-out's account runs share the top's)
    concurrency: int = DEFAULT_CONCURRENCY  # steps in flight at once within one account's run
    aws_from_env: frozenset[str] = frozenset()  # "endpoint_url", "region": given by the environment, not the CLI
    # Listeners every journal of the run calls, a fan-out's account runs included (the crash-safety tests' hook).
    hooks: tuple[Listener, ...] = ()

    @property
    def journal_listeners(self) -> list[Listener]:
        return [*self.listeners, *self.hooks]

    @property
    def locks_in(self) -> Path:
        return self.lock_root or self.runs_dir

    open_clients: Callable[[AwsOptions, bool], Clients] = Clients  # tests wrap it to watch requests


@dataclass
class Outcome:
    run_id: str
    status: str
    exit_code: int
    message: str
    state: RunState
    paths: RunPaths
    report: dict[str, Any]


def open_context(settings: Settings, read_only: bool, reactivate_keys: bool = False) -> ActionContext:
    """Clients for the operator's account; who the operator is (sts:GetCallerIdentity) is asked at once and
    answered in the background, so the first reads need not wait for it."""
    clients = settings.open_clients(settings.aws, read_only)
    clients.iam  # noqa: B018  # made here, on this thread, while the identity is asked on another
    return ActionContext(clients, in_background(functools.partial(_identity, clients)), reactivate_keys)


def _identity(clients: Clients) -> Identity:
    answer = clients.sts.get_caller_identity()
    return Identity(answer["Account"], answer["Arn"])


def _finish(journal: Journal, paths: RunPaths, status: str, exit_code: int, message: str, **extra: Any) -> Outcome:
    journal.record(j.FINISHED, status=status, message=message, exit_code=exit_code, **extra)
    journal.close()
    state, report = _save_report(paths)
    return Outcome(state.run_id, status, exit_code, message, state, paths, report)


def _save_report(paths: RunPaths, status: str | None = None) -> tuple[RunState, dict[str, Any]]:
    """The report files, rewritten from the journal: at every end, and when a resume or rollback begins (as
    `running`), so a report never says COMPLETED about a run whose rollback is under way or was cut short."""
    state = load_run(paths.audit_log)
    if status is not None:
        state.status = status
    report = build_report(state, paths)
    save_reports(paths, report, render_markdown(report))
    return state, report


def current_status(state: RunState, locks_root: Path) -> str:
    """A run without an end record is `running` while a live process holds one of its locks, else `interrupted`."""
    if state.status != "interrupted":
        return state.status
    for target in _targets(state):
        held = holder(locks_root, target)
        if held is not None and held.get("run_id") == state.run_id:
            return "running"
    return state.status


FITTING_PLAYBOOK = {"long-term": "leaked-long-term-key", "short-term": "leaked-short-term-key"}


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
        fits = FITTING_PLAYBOOK[key.kind]
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
) -> Outcome:
    """Plan, confirm, apply. With expired_key_plans_only (no --yes), an expired short-term key is planned only:
    the session that signed it may be alive, but the operator should choose to act."""
    playbook = load_playbook(find_playbook(playbook_ref))
    params = bind_parameters(playbook, given_params)
    key = read_leaked_key(playbook, key_text)
    plans_only_because = None
    if isinstance(key, ShortTermKey) and key.expired() and expired_key_plans_only and not dry_run:
        dry_run = True
        plans_only_because = (
            f"the key expired at {key.expires_at.isoformat()}: planned only, nothing changed. The session or access "
            "key that signed it may still be alive: re-run with --yes to contain it"
        )
    if save_plan is not None and not dry_run:
        raise UserError("--save-plan goes with --dry-run: a saved plan is reviewed before it is applied")
    return run_playbook(playbook, params, key, dry_run, confirm, settings, plans_only_because, save_plan=save_plan)


def apply_plan(plan_file: Path, confirm: Confirm | None, settings: Settings) -> Outcome:
    """Apply exactly a saved plan: refuse, changing nothing, if the account no longer is what was planned."""
    plan = read_plan(plan_file)
    try:
        playbook = Playbook.model_validate(plan["playbook_document"])
    except ValueError:
        raise UserError(f"{plan_file}: its playbook does not validate") from None
    settings.aws = with_run_endpoint(settings.aws, plan, settings.aws_from_env)
    return run_playbook(
        playbook, plan["params"], key_from_facts(plan.get("key")), False, confirm, settings, None, plan=plan
    )


def run_playbook(
    playbook: Playbook,
    params: dict[str, Any],
    key: LeakedKey | None,
    dry_run: bool,
    confirm: Confirm | None,
    settings: Settings,
    plans_only_because: str | None,
    save_plan: Path | None = None,
    plan: dict[str, Any] | None = None,
    origin: dict[str, Any] | None = None,
) -> Outcome:
    """origin: what a fan-out adds to the run's first record (its parent run, the role assumed to get here).

    Who the operator is (sts:GetCallerIdentity) is asked together with the first steps' reads; the journal
    begins (run.started) when the answer comes, and no step records, let alone changes, anything before.
    """
    ctx = open_context(settings, read_only=dry_run)
    paths = new_run(settings.runs_dir)
    journal = Journal(paths.audit_log, paths.run_id, settings.journal_listeners, pending=True)
    facts = {
        "key": _public_key(key),
        "from_plan": None if plan is None else plan.get("planned_by_run"),
        "steps": [{"id": s.id, "action": s.action or "group"} for s in playbook.steps],
        "reversible": {s.id: s.is_group or reversible_action(s.action) for s in playbook.steps},
        **(origin or {}),
    }
    began = in_background(functools.partial(_begin, journal, settings, playbook, params, dry_run, ctx, facts))
    executor = Executor(playbook, ctx, journal, settings.verify_delays, concurrency=settings.concurrency)
    scope: dict[str, Any] = {"params": params, "key": key, "steps": {}, "run": _run_facts(paths.run_id)}
    try:
        return _run(executor, journal, paths, scope, settings, dry_run, confirm, plans_only_because, save_plan, plan)
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
    journal: Journal,
    settings: Settings,
    playbook: Playbook,
    params: dict[str, Any],
    dry_run: bool,
    ctx: ActionContext,
    facts: dict[str, Any],
) -> None:
    try:
        load_structlog()  # for the journal, while the identity and the first reads are out: run.started goes sooner
        identity = ctx.identity
        started = _started(settings, playbook, params, dry_run, identity.arn, identity.account_id, facts)
        started["region"] = ctx.clients.region  # the region in effect (profile or default): resume keeps it
        journal.begin(**started)
    except BaseException as exc:
        journal.abandon(exc)
        raise


def _run(
    executor: Executor,
    journal: Journal,
    paths: RunPaths,
    scope: dict[str, Any],
    settings: Settings,
    dry_run: bool,
    confirm: Confirm | None,
    plans_only_because: str | None,
    save_plan: Path | None,
    plan: dict[str, Any] | None,
) -> Outcome:
    ctx = executor.ctx
    if plan is not None and plan["account_id"] != ctx.account_id:
        raise UserError(f"the plan is for account {plan['account_id']}, your credentials for {ctx.account_id}")
    locks = LockSet(settings.locks_in, paths.run_id, settings.lock_wait)
    executor.hold = functools.partial(_hold, locks, ctx)
    with locks:
        if not dry_run and confirm is None and plan is None:
            # --yes: each step goes as soon as its inputs are there, each change locking its principal first
            return _apply(executor, journal, paths, scope, done={})
        try:
            # A dry run reads everything, what the key did included; a plan to approve only what the changes need.
            executor.plan(scope, include_deferred=dry_run)
            if plan is not None and (stale := stale_steps(plan, load_run(paths.audit_log), executor.deferred)):
                raise UserError(
                    f"the account changed since the plan was made (steps {', '.join(stale)} would differ): "
                    "nothing was changed; make a new plan and review it"
                )
            if not dry_run:
                planned = load_run(paths.audit_log)
                locks.hold(_targets(planned))
        except UserError as exc:
            return _rejected(journal, paths, exc)
        except Exception as exc:
            return _finish(journal, paths, "failed", EXIT_STEP_FAILED, f"planning failed: {describe_failure(exc)}")
        if dry_run:
            outcome = _finish(journal, paths, "planned", EXIT_OK, plans_only_because or "dry run: nothing was changed")
            if save_plan is not None:
                write_plan(save_plan, outcome.state)
            return outcome
        if confirm is not None:
            if not confirm(planned):
                return _finish(
                    journal, paths, "cancelled", EXIT_CANCELLED, "cancelled at the prompt: nothing was changed"
                )
            executor.reuse_snapshots = False  # the operator took their time: read what changes afresh
            ctx.reads.clear()
        scope["steps"] = {}
        return _apply(executor, journal, paths, scope, done={})


def _hold(locks: LockSet, ctx: ActionContext, targets: list[Target]) -> None:
    locks.hold(lock_names(ctx.account_id, targets))


def lock_names(account_id: str | None, targets: list[Target]) -> list[str]:
    """Lock names, one per principal: ACCOUNT/user/NAME or ACCOUNT/role/NAME."""
    return [f"{account_id}/{t.principal}" for t in targets]


def _rejected(journal: Journal, paths: RunPaths, exc: UserError) -> Outcome:
    _finish(journal, paths, "rejected", exc.exit_code, str(exc))
    exc.run_id = paths.run_id
    raise exc


def _started(
    settings: Settings,
    playbook: Playbook,
    params: dict[str, Any],
    dry_run: bool,
    operator: str,
    account_id: str,
    facts: dict[str, Any],
) -> dict[str, Any]:
    """The `run.started` record every reader relies on."""
    return {
        "playbook": playbook.name,
        "playbook_document": playbook.model_dump(mode="json", by_alias=True),
        "params": params,
        "dry_run": dry_run,
        "operator": operator,
        "account_id": account_id,
        "endpoint_url": settings.aws.endpoint_url,
        "region": settings.aws.region,
        "version": __version__,
        **facts,
    }


def start_journal(
    settings: Settings,
    playbook: Playbook,
    params: dict[str, Any],
    dry_run: bool,
    operator: str,
    account_id: str,
    **facts: Any,
) -> tuple[RunPaths, Journal]:
    """A new run's directory and journal, opened with the `run.started` record every reader relies on."""
    paths = new_run(settings.runs_dir)
    journal = Journal(paths.audit_log, paths.run_id, settings.journal_listeners, pending=True)
    journal.begin(**_started(settings, playbook, params, dry_run, operator, account_id, facts))
    return paths, journal


def _targets(state: RunState) -> list[str]:
    """The principals this run changes, as lock names, from what each step's action declares."""
    targets: list[Target] = []
    for step in state.steps.values():
        action = get_action(step.action)
        if action is None or not action.mutating or not step.params:
            continue
        targets += action().targets(action.Params.model_validate(step.params))
    return lock_names(state.started.get("account_id"), targets)


def resume_run(run_id: str, settings: Settings) -> Outcome:
    paths = find_run(settings.runs_dir, run_id)
    state = load_run(paths.audit_log)
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
    scope: dict[str, Any] = {
        "params": state.started["params"],
        "key": key_from_facts(state.started.get("key")),
        "steps": {},
        "run": {"id": state.run_id, "started_at": state.started["ts"]},
    }
    # Locked before anything is journaled: a refused resume leaves the run exactly as it was.
    with LockSet(settings.locks_in, state.run_id, settings.lock_wait) as locks:
        locks.hold(_targets(state))
        journal = Journal(paths.audit_log, state.run_id, settings.journal_listeners)
        journal.record(j.RUN_RESUMED, operator_account=ctx.account_id)
        _save_report(paths, "running")
        # A group's keys are the ones the plan listed (unplanned groups were refused above), never listed afresh.
        executor = Executor(
            playbook,
            ctx,
            journal,
            settings.verify_delays,
            expansions=state.expansions,
            concurrency=settings.concurrency,
            hold=functools.partial(_hold, locks, ctx),
        )
        return _apply(executor, journal, paths, scope, done)


def rolled_back(state: RunState) -> bool:
    return any(r.get("event") == j.ROLLBACK_STARTED for r in state.records)


def unplanned_groups(playbook: Playbook, state: RunState) -> list[str]:
    """The groups whose items the run never listed (it stopped while planning)."""
    return [s.id for s in playbook.steps if s.is_group and s.id not in state.expansions]


def rollback_run(run_id: str, reactivate_keys: bool, settings: Settings) -> Outcome:
    paths = find_run(settings.runs_dir, run_id)
    state = load_run(paths.audit_log)
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
        locks.hold(_targets(state))
        journal = Journal(paths.audit_log, state.run_id, settings.journal_listeners)
        journal.record(j.ROLLBACK_STARTED, reactivate_keys=reactivate_keys)
        _save_report(paths, "running")
        return _roll_back(Executor(playbook, ctx, journal, settings.verify_delays), journal, paths, state, None)


def _apply(
    executor: Executor, journal: Journal, paths: RunPaths, scope: dict[str, Any], done: dict[str, Any]
) -> Outcome:
    run_id = paths.run_id
    try:
        executor.apply(scope, done)
    except KeyboardInterrupt:
        _interrupted(
            journal,
            paths,
            f"interrupted: the changes in flight finished and are journaled, nothing more was sent. Finish with "
            f"`responder resume {run_id}`, or undo with `responder rollback {run_id}`",
        )
    except JournalUnwritable as exc:
        _journal_failed(paths, exc)
    except UserError as exc:
        if not executor.touched and not done:  # e.g. the key matches no credential: bad input, nothing changed
            return _rejected(journal, paths, exc)
        return _finish(journal, paths, "failed", EXIT_STEP_FAILED, str(exc))
    except StepError as exc:
        if not executor.touched and not done:  # a read failed before any change: as a plan that failed
            return _finish(journal, paths, "failed", EXIT_STEP_FAILED, f"planning failed: {exc.description}")
        failed = f"step {exc.step_id} failed: {exc.description}"
        if executor.playbook.on_failure == "rollback":
            journal.record(j.ROLLBACK_STARTED, reason=failed, reactivate_keys=False)
            return _roll_back(executor, journal, paths, load_run(paths.audit_log), failed)
        return _finish(
            journal,
            paths,
            "failed",
            EXIT_STEP_FAILED,
            f"{failed}. The steps applied before it are kept (partial containment beats none). "
            f"Fix the cause, then `responder resume {run_id}`; or undo with `responder rollback {run_id}`",
        )
    return _finish(journal, paths, "completed", EXIT_OK, "every step is done and verified")


def _interrupted(journal: Journal, paths: RunPaths, message: str) -> NoReturn:
    """Ctrl-C: record it as the run's end (resume and rollback still work), write the report, say how to go on."""
    _finish(journal, paths, "interrupted", EXIT_INTERRUPTED, message)
    exc = Interrupted(f"run {paths.run_id} {message}")
    exc.run_id = paths.run_id
    raise exc


def _journal_failed(paths: RunPaths, cause: JournalUnwritable) -> NoReturn:
    """The disk refused a record: nothing was sent after it. Say what the journal holds and how to finish."""
    state = load_run(paths.audit_log)
    done = [s.id for s in state.steps.values() if s.status in ("verified", "applied", "in-flight")]
    held = f"changes made before it: {', '.join(done)}" if done else "no change was made"
    exc = JournalUnwritable(
        f"run {paths.run_id} stopped: {cause.message}; {held} (the audit log says which are verified). Free space, "
        f"then `responder resume {paths.run_id}`"
    )
    exc.run_id = paths.run_id
    raise exc


def _roll_back(executor: Executor, journal: Journal, paths: RunPaths, state: RunState, cause: str | None) -> Outcome:
    try:
        return _undo(executor, journal, paths, state, cause)
    except KeyboardInterrupt:
        _interrupted(
            journal,
            paths,
            f"rollback interrupted: finish it with `responder rollback {paths.run_id}` (it is safe twice)",
        )
    except JournalUnwritable as exc:
        _journal_failed(paths, exc)


def _undo(executor: Executor, journal: Journal, paths: RunPaths, state: RunState, cause: str | None) -> Outcome:
    failures = executor.undo(state)
    after = load_run(paths.audit_log)
    withheld = [s for s in after.steps.values() if s.undo_status == "withheld"]
    lost = [s for s in after.steps.values() if s.undo_status == "irreversible"]
    notes = [s.undo_message or "" for s in withheld + lost]
    prefix = f"{cause}; " if cause else ""
    if failures:
        message = prefix + "rollback incomplete, a human must look: " + "; ".join(failures)
        return _finish(journal, paths, "rollback-incomplete", EXIT_ROLLBACK_INCOMPLETE, message, failures=failures)
    touched = any(s.touched for s in after.steps.values())
    undone = any(s.undo_status == "undone" for s in after.steps.values())
    until = executor.ctx.key_alive_until
    if touched and not undone and withheld and not lost and until is not None:
        # A short-term key's containment is kept while the key lives: say so once, not once per step.
        message = (
            f"{prefix}nothing undone: containment withheld, the leaked key being valid until {until.isoformat()} at "
            f"the latest. To lift it now: responder rollback {paths.run_id} --reactivate-keys"
        )
        return _finish(journal, paths, "rolled-back", EXIT_STEP_FAILED if cause else EXIT_OK, message)
    message = prefix + ("rolled back" if touched else "nothing to undo: this run changed nothing")
    message += ": " + "; ".join(dict.fromkeys(notes)) if notes else ""
    if withheld:
        message += f". To re-activate: responder rollback {paths.run_id} --reactivate-keys"
    code = EXIT_STEP_FAILED if cause else EXIT_OK
    return _finish(journal, paths, "rolled-back", code, message)


def _reopen(
    state: RunState, settings: Settings, read_only: bool, reactivate_keys: bool = False
) -> tuple[Playbook, ActionContext]:
    """The playbook exactly as it ran (from the journal), and clients for the run's account.

    Unless told otherwise, talk to the endpoint and region the run used (a sandbox run stays in the sandbox).
    """
    playbook = Playbook.model_validate(state.started["playbook_document"])
    settings.aws = with_run_endpoint(settings.aws, state.started, settings.aws_from_env)
    if state.started.get("assumed_role"):  # a fan-out's account: get back in the way the run did
        settings.aws = assume_role(settings.aws, state.started["assumed_role"], session_name(state.run_id))
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


def with_run_endpoint(aws: AwsOptions, facts: dict[str, Any], from_env: frozenset[str] = frozenset()) -> AwsOptions:
    """The endpoint and region a run (or plan) used, unless the command line gives others: a sandbox run stays in
    the sandbox, and an exported AWS_ENDPOINT_URL or AWS_REGION that differs is refused rather than followed."""
    chosen: dict[str, Any] = {}
    for name, option in (("endpoint_url", "--endpoint-url"), ("region", "--region")):
        given, recorded = getattr(aws, name), facts.get(name)
        if name in from_env and given != recorded and (recorded is not None or name == "endpoint_url"):
            raise UserError(
                f"the run used {option.lstrip('-')} {recorded or 'of AWS itself'}, but the environment sets {given}: "
                f"unset it, or give {option} on the command line to choose"
            )
        chosen[name] = given if given is not None and name not in from_env else (recorded or given)
    return dataclasses.replace(aws, **chosen)


def _run_facts(run_id: str) -> dict[str, Any]:
    return {"id": run_id, "started_at": datetime.now(timezone.utc).isoformat(timespec="microseconds")}


def _public_key(key: LeakedKey | None) -> dict[str, Any] | None:
    """What the journal keeps of a key: the parsed, public facts; never the key."""
    if key is None:
        return None
    facts = dataclasses.asdict(key)
    if isinstance(key, ShortTermKey):
        facts["signer"] = key.signer
    return {"kind": key.kind, **facts}


def key_from_facts(facts: dict[str, Any] | None) -> LeakedKey | None:
    """The key object rebuilt from its journaled public facts: all a resume or a saved plan needs."""
    public = dict(facts or {})
    if not public:
        return None
    kind = public.pop("kind")
    public.pop("signer", None)
    if kind == "short-term":
        for moment in ("issued_at", "expires_at"):
            public[moment] = datetime.fromisoformat(public[moment])
        return ShortTermKey(**public)
    return LongTermKey(**public)


__all__ = ["Outcome", "ResponderError", "Settings", "resume_run", "rollback_run", "start_run"]

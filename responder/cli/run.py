"""`responder run`, `resume` and `rollback`: the commands that touch an account."""

from __future__ import annotations

import contextlib
import dataclasses
import shlex
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from responder.cli import run_inputs
from responder.cli.options import (
    DEFAULT_ROLE_NAME,
    AcceptBrokenChain,
    Accounts,
    AllowSelf,
    AnchorTo,
    Concurrency,
    EndpointUrl,
    ExcludeAccounts,
    ExternalId,
    FromFormat,
    Org,
    Ous,
    Output,
    Profile,
    Query,
    Region,
    Repo,
    RoleName,
    RunsDir,
    fanout_targets,
    from_environment,
    runs_dir_or_default,
)
from responder.cli.output import TEXT_JSON, emit, reported_output
from responder.cli.render import Progress, irreversible_changes, outcome_dict, outcome_text, say
from responder.cli.replay import rebuilt_command
from responder.engine.running.concurrency import DEFAULT_CONCURRENCY, MAX_CONCURRENCY
from responder.errors import EXIT_STEP_FAILED, UserError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from responder.engine.commands.alerts import KeysToRun, PrincipalToRun
    from responder.engine.commands.notify import Channel
    from responder.engine.commands.notify_contained import ContainmentNotice
    from responder.engine.commands.outcome import Outcome
    from responder.engine.journal.anchor import Anchor
    from responder.engine.journal.run_state import RunState
    from responder.engine.running.context import Settings


def _settings(
    runs_dir: Path | None,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    output: str,
    ctx: typer.Context | None = None,
    external_id: str | None = None,
    accept_broken_chain: bool = False,
    allow_self: bool = False,
) -> Settings:
    from responder.aws.clients import AwsOptions
    from responder.engine.running.context import Settings
    from responder.engine.running.faults import kill_after_from_env

    crash = kill_after_from_env()  # the crash-safety tests' SIGKILL, only when they ask for it
    return Settings(
        runs_dir=runs_dir_or_default(runs_dir),
        aws=AwsOptions(profile=profile, region=region, endpoint_url=endpoint_url, external_id=external_id),
        listeners=[Progress(err=output == "json")],
        hooks=(crash,) if crash else (),
        aws_from_env=_from_environment(ctx),
        accept_broken_chain=accept_broken_chain,
        allow_self=allow_self,
    )


def _from_environment(ctx: typer.Context | None) -> frozenset[str]:
    """Which AWS options came from AWS_ENDPOINT_URL / AWS_REGION rather than the command line: a resume or rollback
    keeps the endpoint and region its run used, and refuses an exported one that differs."""
    return frozenset() if ctx is None else from_environment(ctx, ("endpoint_url", "region"))


def _finish(
    outcome: Outcome,
    output: str,
    query: str | None,
    then: str | None = None,
    anchor: Anchored | None = None,
    hooks: Sequence[Channel] = (),
    notice: ContainmentNotice | None = None,
) -> None:
    """The outcome, as JSON or for people; `then`: the command that applies what a dry run planned; `anchor`: where
    to anchor the chain's head; `hooks`: the webhooks to tell (both after the run: they never delay containment,
    and a failed notification never changes the exit code)."""
    shown = outcome_dict(outcome)
    if then is not None and outcome.exit_code == 0:
        shown["apply_command"] = then  # what `apply it:` says in text
    anchored, problem = _anchor_head(outcome, anchor)
    if anchor is not None:
        shown["anchor"] = anchored
    deliveries = []
    if hooks:
        from dataclasses import asdict

        from responder.engine.commands.notify import notify

        contained = notice.record(outcome.paths.directory) if notice is not None else []
        ended = notify(outcome, hooks)
        deliveries = contained + ended
        shown["notifications"] = [{"moment": "contained", **asdict(d)} for d in contained] + [
            {"moment": "run ended", **asdict(d)} for d in ended
        ]
        if outcome.report.fanout is None:
            from responder.engine.commands.outcome import save_report

            save_report(outcome.paths)  # the report names who was told, and who could not be

    def text() -> None:
        outcome_text(outcome, then)
        if anchored:
            say(f"anchored:  {anchored} (Object Lock)")
        for d in deliveries:
            if d.delivered:
                say(f"notified:  {d.host} (HTTP {d.status})")
            else:
                say(f"NOT notified: {d.host}: {d.error} after {d.attempts} attempt(s) (the run's outcome stands)")

    emit(shown, output, query, text)
    if problem is not None:
        from responder.cli.errors import fail

        fail(problem)
        raise typer.Exit(max(outcome.exit_code, EXIT_STEP_FAILED))
    raise typer.Exit(outcome.exit_code)


Anchored = tuple["Anchor", "Settings"]  # where to anchor, and the AWS settings to reach it with


def _anchor_to(anchor: str | None, settings: Settings) -> Anchored | None:
    """--anchor, parsed before anything runs: a bad address is bad input, not a failure after containment."""
    if anchor is None:
        return None
    from responder.engine.journal.anchor import Anchor

    return Anchor.parse(anchor), settings


def _anchor_head(outcome: Outcome, anchor: Anchored | None) -> tuple[str | None, str | None]:
    """(the anchor object's address, None), or (None, why it could not be written)."""
    if anchor is None:
        return None, None
    from responder.aws.clients import Clients
    from responder.engine.journal.anchor import write_anchor

    where, settings = anchor
    report = outcome.report
    if report.audit_chain_broken:
        return None, f"run {outcome.run_id}: its audit chain is broken ({report.audit_chain_broken}): not anchored"
    try:
        s3 = Clients(settings.aws).client("s3")
        return write_anchor(s3, where, outcome.run_id, str(report.audit_head), int(report.audit_records)), None
    except UserError as exc:
        return None, f"run {outcome.run_id} ended {outcome.status}, but {exc.message}"


def expired_short_term(key_text: str) -> bool:
    from responder.errors import UserError
    from responder.keys.registry import parse_short_term

    try:
        key = parse_short_term(key_text)
    except UserError:
        return False  # the run reports a malformed key in its own words
    return key is not None and key.expired()


def interactive() -> bool:
    return sys.stdin.isatty()


def _confirm_resume(state: RunState) -> bool:
    """A resume of a run whose plan nobody approved: show what it would change, then ask as `run` does."""
    say(f"run {state.run_id} stopped before its plan was approved; it would make these changes:", err=True)
    for step in state.steps.values():
        for change in step.changes:
            say(f"  {step.id}: {change.get('call')} on {change.get('target')}", err=True)
    return _confirm(state)


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP (the terminal closed) end a run as Ctrl-C does: at the prompt it is a no (`cancelled`),
    mid-run the changes sent are journaled and the run ends `interrupted`, saying how to go on."""

    def interrupt(signum: int, _: Any) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _confirm(state: RunState) -> bool:
    """Ask; Ctrl-C or Ctrl-D at the prompt is a no, recorded as one: the run ends `cancelled`, never resumable."""
    account = state.started.account_id
    if not any(s.changes for s in state.steps.values()):
        return True  # nothing would change: no need to ask
    try:
        if not typer.confirm(f"Apply these changes to account {account}?", default=False, err=True):
            return False
        doomed = irreversible_changes(state)
        if doomed:
            answer = typer.prompt(
                f"{len(doomed)} change(s) above cannot be undone. Type 'delete' to go ahead", default="", err=True
            )
            return bool(answer.strip() == "delete")
    except (typer.Abort, EOFError, KeyboardInterrupt):
        typer.echo("", err=True)  # the prompt's line is left open
        return False
    return True


def run(
    ctx: typer.Context,
    playbook: Annotated[
        str,
        typer.Argument(
            metavar="PLAYBOOK",
            help="A shipped playbook name (see `responder list`) or a YAML file.",
        ),
    ],
    alert_file: Annotated[
        str | None,
        typer.Argument(metavar="ALERT_FILE", help="With --from FORMAT: the alert file holding the key(s)."),
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", metavar="NAME=VALUE", help="A playbook parameter; repeatable.")
    ] = None,
    key_file: Annotated[
        str | None,
        typer.Option(
            "--key-file", metavar="FILE", help="File holding the leaked key, or - for stdin. Never pass a key as -p."
        ),
    ] = None,
    from_format: FromFormat = None,
    repo: Repo = Path("."),
    key_fingerprint: Annotated[
        str | None,
        typer.Option("--key", metavar="FINGERPRINT", help="With --from: contain this key of the alert file's keys."),
    ] = None,
    regions: Annotated[
        str | None,
        typer.Option(
            "--regions", metavar="REGION,...", help="CloudTrail regions to investigate, comma-separated (-p regions=)."
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan only: read calls, no change.")] = False,
    save_plan: Annotated[
        Path | None,
        typer.Option(
            "--save-plan",
            metavar="FILE",
            help="With --dry-run: write the plan for review; `responder apply FILE` runs it.",
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Apply without asking (after reviewing a --dry-run).")
    ] = False,
    output: Output = None,
    query: Query = None,
    runs_dir: RunsDir = None,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
    accounts: Accounts = None,
    org: Org = False,
    ou: Ous = None,
    exclude_accounts: ExcludeAccounts = None,
    role_name: RoleName = DEFAULT_ROLE_NAME,
    external_id: ExternalId = None,
    concurrency: Concurrency = DEFAULT_CONCURRENCY,
    allow_self: AllowSelf = False,
    anchor: AnchorTo = None,
    notify_urls: Annotated[
        list[str] | None,
        typer.Option(
            "--notify",
            envvar="RESPONDER_NOTIFY",
            metavar="URL",
            help="Tell the outcome when the run ends: an https JSON webhook, an Apprise URL (slack://, msteams://, "
            "pagerduty://, mailtos://, ...; the notify extra) or `jira` (JIRA_* environment); repeatable. Default: "
            "RESPONDER_NOTIFY, else the lines of ~/.config/responder/notify.",
        ),
    ] = None,
) -> None:
    """Run a playbook: plan, confirm, apply step by step, verify, and write the audit log and report.

    With --accounts or --org, run it in each account (one parent run, a run per account, one merged report).

    Example: responder run leaked-long-term-key --key-file leaked.txt --dry-run
    Example: responder run contain-bedrock-keys -p filter=no-expiry --org --dry-run
    Example: responder run leaked-long-term-key --from gitleaks gitleaks-report.json --dry-run
    """
    with reported_output(output, query, TEXT_JSON) as output, signals_interrupt():
        from responder.engine.commands.operations import start_run
        from responder.keys import read_key_file
        from responder.playbook.params import parse_assignments

        # The key first: its secret parts are registered (redacted) before any -p value can be echoed back.
        if alert_file is not None and from_format is None:
            raise UserError(f"unexpected argument {alert_file!r}: an alert file is read with --from FORMAT FILE")
        if from_format is not None and key_file is not None:
            raise UserError("give the key once: --from FORMAT FILE or --key-file, not both")
        key_text = read_key_file(key_file) if key_file is not None else None
        alert = None
        many: KeysToRun | None = None
        named: PrincipalToRun | None = None
        if from_format is not None or key_fingerprint is not None:
            if run_inputs.names_principals(from_format):
                named = run_inputs.principal_from_alert(playbook, from_format, alert_file, repo, key_fingerprint)
                alert = named.origin
            elif run_inputs.takes_many_keys(playbook):
                many = run_inputs.keys_from_alert(from_format, alert_file, repo, key_fingerprint)
                alert = many.origin
            else:
                key_text, alert = run_inputs.key_from_alert(from_format, alert_file, repo, key_fingerprint)
        hooks = run_inputs.webhooks(notify_urls)
        given = parse_assignments(param or [])
        if many is not None:
            run_inputs.many_keys_params(given, many, fanned_out=accounts is not None or org or bool(ou))
        if named is not None:
            if set(given) & set(named.params):
                raise UserError(f"give the principal once: --from or -p {', '.join(sorted(named.params))}, not both")
            given |= named.params
        if regions is not None:
            if "regions" in given:
                raise UserError("give the regions once: --regions or -p regions=, not both")
            given["regions"] = regions
        targets = fanout_targets(accounts, org, ou, exclude_accounts)

        then = rebuilt_command(ctx, _PLAN_ONLY, ("--yes",) if targets is not None else ()) if dry_run else None
        if targets is not None:
            settings = _settings(
                runs_dir, profile, region, endpoint_url, output, external_id=external_id, allow_self=allow_self
            )
            fan_out = (targets, role_name, concurrency)
            to = _anchor_to(anchor, settings)
            one_key = key_file or (alert_file if many is None else None)  # a many-key alert goes by -p keys=
            outcome = _fan_out(playbook, given, one_key, save_plan, dry_run, yes, fan_out, settings)
            _finish(outcome, output, query, then, to, hooks)
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise UserError(f"--concurrency {concurrency}: give 1 to {MAX_CONCURRENCY}")
        # An expired short-term key is planned only unless --yes (start_run says why): no prompt needed then.
        plans_only = key_text is not None and not yes and expired_short_term(key_text)
        if not dry_run and not yes and not plans_only and not interactive():
            raise UserError("refusing to prompt without a terminal: review with --dry-run, then re-run with --yes")
        settings = dataclasses.replace(
            _settings(runs_dir, profile, region, endpoint_url, output, allow_self=allow_self), concurrency=concurrency
        )
        confirm = None if (yes or dry_run) else _confirm
        to = _anchor_to(anchor, settings)
        if named is not None:
            run_inputs.same_account(named.account_id, settings)
        notice = None
        if hooks:  # told the moment containment holds, as well as at the end
            from responder.engine.commands.notify_contained import ContainmentNotice

            notice = ContainmentNotice(hooks)
            settings = dataclasses.replace(settings, listeners=[*settings.listeners, notice])
        outcome = start_run(
            playbook,
            given,
            key_text,
            dry_run,
            confirm,
            settings,
            expired_key_plans_only=not yes,
            save_plan=save_plan,
            alert=alert,
        )
        if save_plan is not None and output == "text":
            say(f"plan saved to {save_plan}: review it, then `responder apply {shlex.quote(str(save_plan))}`")
            then = None
        _finish(outcome, output, query, then, to, hooks, notice)


_PLAN_ONLY = frozenset({"dry_run", "save_plan"})


def _fan_out(
    playbook: str,
    given: dict[str, str],
    key_file: str | None,
    save_plan: Path | None,
    dry_run: bool,
    yes: bool,
    fan_out: tuple[Any, str, int],  # (Accounts | Organization, role name, concurrency)
    settings: Settings,
) -> Outcome:
    from responder.fanout.runs import start_fanout

    targets, role_name, concurrency = fan_out
    if key_file is not None:
        raise UserError("a leaked key names its own account: drop --accounts/--org and run it there")
    if save_plan is not None:
        raise UserError("--save-plan is for one account; review a fan-out with --dry-run")
    if not dry_run and not yes:
        raise UserError("a fan-out does not prompt per account: review it with --dry-run, then re-run with --yes")
    return start_fanout(playbook, given, dry_run, settings, targets, role_name, concurrency)


def apply(
    ctx: typer.Context,
    plan_file: Annotated[
        Path, typer.Argument(metavar="PLAN_FILE", help="A plan saved with `responder run ... --dry-run --save-plan`.")
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")] = False,
    output: Output = None,
    query: Query = None,
    runs_dir: RunsDir = None,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
    accept_broken_chain: AcceptBrokenChain = False,
    allow_self: AllowSelf = False,
    anchor: AnchorTo = None,
) -> None:
    """Apply exactly a saved plan; refuse (exit 2, nothing changed) if the account changed since it was made.

    Example: responder apply plan.json --yes
    """
    with reported_output(output, query, TEXT_JSON) as output, signals_interrupt():
        from responder.engine.commands.operations import apply_plan

        if not yes and not interactive():
            raise UserError("refusing to prompt without a terminal: re-run with --yes once the plan is approved")
        settings = _settings(
            runs_dir, profile, region, endpoint_url, output, ctx, None, accept_broken_chain, allow_self
        )
        to = _anchor_to(anchor, settings)
        _finish(apply_plan(plan_file, None if yes else _confirm, settings), output, query, anchor=to)


def resume(
    ctx: typer.Context,
    run_id: Annotated[
        str,
        typer.Argument(metavar="RUN_ID", help="The run to continue (see `responder runs`)."),
    ],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Approve a plan nobody approved yet (its run stopped at the prompt).")
    ] = False,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="If the run is still live in another process, wait for its end, then act on it."),
    ] = False,
    output: Output = None,
    query: Query = None,
    runs_dir: RunsDir = None,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
    external_id: ExternalId = None,
    accept_broken_chain: AcceptBrokenChain = False,
    allow_self: AllowSelf = False,
    anchor: AnchorTo = None,
) -> None:
    """Continue a stopped or interrupted run from its journal: done steps are kept, the rest re-planned.

    A run whose plan was never approved (stopped at its prompt) asks again, or needs --yes. A run still live in
    another process is refused, naming it; --wait waits for its end.

    Example: responder resume 20261123T101500Z-3fa9c1
    """
    with reported_output(output, query, TEXT_JSON) as output, signals_interrupt():
        from responder.fanout.runs import resume_any_run as resume_run

        settings = _settings(
            runs_dir, profile, region, endpoint_url, output, ctx, external_id, accept_broken_chain, allow_self
        )
        to = _anchor_to(anchor, settings)
        _finish(resume_run(run_id, settings, None if yes else _confirm_resume, wait), output, query, anchor=to)


def rollback(
    ctx: typer.Context,
    run_id: Annotated[
        str,
        typer.Argument(metavar="RUN_ID", help="The run to undo (see `responder runs`)."),
    ],
    reactivate_keys: Annotated[
        bool,
        typer.Option("--reactivate-keys", help="Also re-activate the leaked key(s). Only for a false alarm."),
    ] = False,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="If the run is still live in another process, wait for its end, then act on it."),
    ] = False,
    output: Output = None,
    query: Query = None,
    runs_dir: RunsDir = None,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
    external_id: ExternalId = None,
    accept_broken_chain: AcceptBrokenChain = False,
    anchor: AnchorTo = None,
) -> None:
    """Undo a run's changes in reverse order, restoring the journaled snapshots.

    A leaked key stays inactive unless --reactivate-keys is given (as AWSSupport-ContainIAMPrincipal does).
    Running it again is safe: what is already undone is skipped. A run still live in another process is refused,
    naming it; --wait waits for its end and then undoes everything its journal holds.

    Example: responder rollback 20261123T101500Z-3fa9c1 --reactivate-keys
    """
    with reported_output(output, query, TEXT_JSON) as output, signals_interrupt():
        from responder.fanout.runs import rollback_any_run as rollback_run

        settings = _settings(runs_dir, profile, region, endpoint_url, output, ctx, external_id, accept_broken_chain)
        to = _anchor_to(anchor, settings)
        _finish(rollback_run(run_id, reactivate_keys, settings, wait), output, query, anchor=to)

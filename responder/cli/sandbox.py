"""`responder rehearse` and `responder sandbox serve`: practice without an AWS account."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from responder.cli.command import ResponderTyper
from responder.cli.errors import reported_errors
from responder.cli.options import Output, Query
from responder.cli.output import JSON_ONLY, TEXT_JSON, emit, output_option, reported_output
from responder.cli.render import Progress, say
from responder.cli.terminal import paint

sandbox_app = ResponderTyper(
    help="The built-in AWS emulator (moto, with Bedrock API keys added).", no_args_is_help=True
)

# The ready line is JSON by nature: json is all there is to choose (and --query picks from it).
ServeOutput = Annotated[str | None, output_option(JSON_ONLY)]

# The emulator is an extra: the core, which runs with IAM-admin credentials, ships without moto and its server.
SANDBOX_INSTALL = "pip install 'bedrock-key-responder[sandbox]'"
SANDBOX_MODULES = ("moto", "aws_bedrock_token_generator", "token_generator_for_aws_external_anthropic")


def require_sandbox() -> None:
    """Exit 2 with the one command that installs the sandbox, before anything imports the emulator."""
    import importlib

    for name in SANDBOX_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            from responder.errors import UserError

            raise UserError(
                f"the sandbox is not installed (no module {name!r}): {SANDBOX_INSTALL} "
                "(from a checkout: pip install '.[sandbox]')"
            ) from None


@sandbox_app.callback()
def _sandbox_group() -> None:
    with reported_errors():
        require_sandbox()


def rehearse(
    playbook: Annotated[
        str, typer.Argument(metavar="PLAYBOOK", help="The playbook to rehearse.")
    ] = "leaked-long-term-key",
    runs_dir: Annotated[
        Path | None,
        typer.Option(
            "--runs-dir",
            metavar="DIR",
            help="Where the rehearsal's runs go. Default: $XDG_STATE_HOME/responder/rehearsals.",
        ),
    ] = None,
    output: Output = None,
    query: Query = None,
) -> None:
    """Rehearse a playbook on an emulated account: seed a leaked key, run, check, print the report, roll back.

    No AWS account or credentials are needed, and none is touched.

    Example: responder rehearse leaked-long-term-key
    """
    with reported_output(output, query, TEXT_JSON) as output:
        require_sandbox()
        from responder.engine.journal.runs import default_runs_dir
        from responder.engine.report.build import render_markdown
        from responder.sandbox.rehearsal import REHEARSALS
        from responder.sandbox.rehearsal import rehearse as run_rehearsal

        err = output == "json"  # the story goes to stderr, stdout holds the JSON alone
        say(f"Rehearsing {playbook} on an emulated account (no AWS account is touched).", err)
        if playbook in REHEARSALS:
            say(REHEARSALS[playbook][0] + "\n", err)
        result = run_rehearsal(playbook, runs_dir or default_runs_dir("rehearsals"), [Progress(err=err)])
        verdict = {
            "playbook": playbook,
            "ok": result.ok,
            "run_id": result.run.run_id,
            "status": result.run.status,
            "rollback": {"status": result.rollback.status, "message": result.rollback.message},
            "checks": [{"what": check.what, "ok": check.ok} for check in result.checks],
            "report": str(result.run.paths.report_md),
            "audit_log": str(result.run.paths.audit_log),
        }

        def text() -> None:
            say("\nThe report as it stood when containment finished (what you would attach to the ticket):\n")
            say(render_markdown(result.run.report))
            rollback = result.rollback
            say(f"Then the rehearsal rolled the run back ({rollback.status}). Rollback said: {rollback.message}.\n")
            say("Checks against the emulated account:")
            for check in result.checks:
                say(f"  [{paint('ok') if check.ok else paint('FAILED', 'failed')}] {check.what}")
            say()
            say(f"report (now including the rollback): {result.run.paths.report_md}")
            say(f"audit log: {result.run.paths.audit_log}")
            if result.ok:
                say("rehearsal passed: contained, verified, and rolled back exactly.")

        emit(verdict, output, query, text)
        if not result.ok:
            say("rehearsal FAILED: see the checks above", err=True)
            raise typer.Exit(1)


@sandbox_app.command("serve")
def serve(
    port: Annotated[
        int, typer.Option("--port", metavar="PORT", help="TCP port on 127.0.0.1; 0 picks a free one.")
    ] = 4566,
    seed: Annotated[
        bool,
        typer.Option("--seed", help="Seed both incidents: a user's leaked long-term key, a role's short-term key."),
    ] = False,
    keys_dir: Annotated[
        Path,
        typer.Option("--keys-dir", metavar="DIR", help="With --seed: where to write <playbook>.key files (mode 0600)."),
    ] = Path("."),
    request_log: Annotated[
        Path | None,
        typer.Option("--request-log", metavar="FILE", help="Append one JSON line per AWS request received."),
    ] = None,
    accounts: Annotated[
        int,
        typer.Option(
            "--accounts",
            metavar="N",
            help="Also seed an organization of N member accounts (for --org and --accounts fan-outs); "
            "their ids go to <keys-dir>/accounts.txt.",
        ),
    ] = 0,
    keys_per_account: Annotated[
        int,
        typer.Option("--keys-per-account", metavar="K", help="With --accounts: long-term keys in each member account."),
    ] = 2,
    output: ServeOutput = None,
    query: Query = None,
) -> None:
    """Run the emulator as a loopback HTTP server for the AWS CLI, boto3 and responder.

    Prints one JSON line with the endpoint and account id once ready, then serves until interrupted.

    Example: responder sandbox serve --port 4566 --seed --keys-dir /tmp/incident
    """
    with reported_output(output, query, JSON_ONLY) as output:
        from responder.errors import UserError
        from responder.sandbox.server import make_server, ready_line, seed_members, seed_server, serve

        if not 0 <= port <= 65535:
            raise UserError(f"--port must be 0 to 65535, got {port}")
        if not 0 <= accounts <= 1000 or not 0 <= keys_per_account <= 10000:
            raise UserError("--accounts must be 0 to 1000 and --keys-per-account 0 to 10000")
        try:
            server = make_server("127.0.0.1", port, request_log)
        except OSError as exc:
            raise UserError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
        seeded = seed_server(keys_dir) if seed else None
        line = ready_line(server, seeded)
        if accounts:
            line["organization"] = seed_members(keys_dir, accounts, keys_per_account)
        if query is None:
            typer.echo(json.dumps(line))  # one line: scripts read it with `head -1` as the server starts
        else:
            emit(line, output, query)
        sys.stdout.flush()
        serve(server)

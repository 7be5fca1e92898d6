"""`responder rehearse` and `responder sandbox serve`: practice without an AWS account."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from responder.cli.errors import reported_errors
from responder.cli.render import Progress, say

sandbox_app = typer.Typer(help="The built-in AWS emulator (moto, with Bedrock API keys added).", no_args_is_help=True)

# The emulator is an extra: the core, which runs with IAM-admin credentials, ships without moto and its server.
SANDBOX_INSTALL = "pip install 'bedrock-key-responder[sandbox]'"
SANDBOX_MODULES = ("moto", "aws_bedrock_token_generator")


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
            "--runs-dir", help="Where the rehearsal's runs go. Default: $XDG_STATE_HOME/responder/rehearsals."
        ),
    ] = None,
) -> None:
    """Rehearse a playbook on an emulated account: seed a leaked key, run, check, print the report, roll back.

    No AWS account or credentials are needed, and none is touched.

    Example: responder rehearse leaked-long-term-key
    """
    with reported_errors():
        require_sandbox()
        from responder.engine.report import render_markdown
        from responder.engine.runs import default_runs_dir
        from responder.sandbox.rehearsal import REHEARSALS
        from responder.sandbox.rehearsal import rehearse as run_rehearsal

        say(f"Rehearsing {playbook} on an emulated account (no AWS account is touched).")
        if playbook in REHEARSALS:
            say(REHEARSALS[playbook][0] + "\n")
        result = run_rehearsal(playbook, runs_dir or default_runs_dir("rehearsals"), [Progress(err=False)])

        say("\nThe report as it stood when containment finished (what you would attach to the ticket):\n")
        say(render_markdown(result.run.report))
        say(f"Then the rehearsal rolled the run back: {result.rollback.status}: {result.rollback.message}.\n")
        say("Checks against the emulated account:")
        for check in result.checks:
            say(f"  [{'ok' if check.ok else 'FAILED'}] {check.what}")
        say()
        say(f"report (now including the rollback): {result.run.paths.report_md}")
        say(f"audit log: {result.run.paths.audit_log}")
        if not result.ok:
            say("rehearsal FAILED: see the checks above", err=True)
            raise typer.Exit(1)
        say("rehearsal passed: contained, verified, and rolled back exactly.")


@sandbox_app.command("serve")
def serve(
    port: Annotated[int, typer.Option("--port", help="TCP port on 127.0.0.1; 0 picks a free one.")] = 4566,
    seed: Annotated[
        bool,
        typer.Option("--seed", help="Seed both incidents: a user's leaked long-term key, a role's short-term key."),
    ] = False,
    keys_dir: Annotated[
        Path, typer.Option("--keys-dir", help="With --seed: where to write <playbook>.key files (mode 0600).")
    ] = Path("."),
    request_log: Annotated[
        Path | None, typer.Option("--request-log", help="Append one JSON line per AWS request received.")
    ] = None,
    accounts: Annotated[
        int,
        typer.Option(
            "--accounts",
            help="Also seed an organization of N member accounts (for --org and --accounts fan-outs); "
            "their ids go to <keys-dir>/accounts.txt.",
        ),
    ] = 0,
    keys_per_account: Annotated[
        int, typer.Option("--keys-per-account", help="With --accounts: long-term keys in each member account.")
    ] = 2,
) -> None:
    """Run the emulator as a loopback HTTP server for the AWS CLI, boto3 and responder.

    Prints one JSON line with the endpoint and account id once ready, then serves until interrupted.

    Example: responder sandbox serve --port 4566 --seed --keys-dir /tmp/incident
    """
    with reported_errors():
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
        typer.echo(json.dumps(line))
        sys.stdout.flush()
        serve(server)

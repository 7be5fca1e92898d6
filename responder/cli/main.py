"""The `responder` command: one module per group of commands, combined here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from responder import __version__
from responder.cli import export, identify, investigate, playbooks, run, runs, sandbox, sweep
from responder.cli.command import DEBUG_HELP, NO_COLOR_HELP, ResponderTyper
from responder.cli.errors import DEBUG
from responder.cli.options import ENDPOINT_HELP, PROFILE_HELP, REGION_HELP, RUNS_DIR_HELP
from responder.cli.terminal import COLOUR

app = ResponderTyper(
    name="responder",
    help=(
        "Incident response for leaked Amazon Bedrock API keys.\n\n"
        "Exit codes: 0 done; 1 a step failed (what was applied is kept or rolled back, as the output says); "
        "2 bad input, nothing changed; 3 a rollback could not complete (a human must look); 4 cancelled: the plan "
        "was not approved (a no, or a signal, at the prompt), nothing changed; 130 interrupted mid-run (Ctrl-C, "
        "SIGTERM, SIGHUP): what was sent is journaled, resume or roll back.\n\n"
        "The options below also work after the command's name (`responder run --debug ...`), as the AWS CLI's do."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold a leaked key
    add_completion=True,  # typer's --install-completion / --show-completion; completions are computed lazily
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"responder {__version__}")
        raise typer.Exit()


# Before the command's name these only record what was given; each command that can use one reads it
# (command.ResponderCommand takes them), so `responder --profile x list` is accepted as the AWS CLI would accept it.
@app.callback()
def _global(
    debug: Annotated[bool, typer.Option("--debug", help=DEBUG_HELP)] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help=NO_COLOR_HELP)] = False,
    profile: Annotated[str | None, typer.Option("--profile", metavar="NAME", help=PROFILE_HELP)] = None,
    region: Annotated[str | None, typer.Option("--region", metavar="REGION", help=REGION_HELP)] = None,
    endpoint_url: Annotated[str | None, typer.Option("--endpoint-url", metavar="URL", help=ENDPOINT_HELP)] = None,
    runs_dir: Annotated[Path | None, typer.Option("--runs-dir", metavar="DIR", help=RUNS_DIR_HELP)] = None,
    output: Annotated[
        str | None, typer.Option("--output", "-o", metavar="FORMAT", help="The command's --output (json, text, ...).")
    ] = None,
    query: Annotated[str | None, typer.Option("--query", metavar="JMESPATH", help="The command's --query.")] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    # Reset for each invocation (tests invoke the app many times in one process); a subcommand's own --debug or
    # --no-color, parsed after this, can only turn them on.
    DEBUG["enabled"], COLOUR["off"] = debug, no_color


app.command()(identify.identify)
app.command("list")(playbooks.list_playbooks)
app.command()(playbooks.show)
app.command()(playbooks.validate)
app.command()(playbooks.schema)
app.command()(playbooks.actions)
app.command()(playbooks.permissions)
app.command()(run.run)
app.command()(run.apply)
app.command()(run.resume)
app.command()(run.rollback)
app.command()(sweep.sweep)
app.command()(investigate.investigate)
app.command("runs")(runs.runs)
app.command()(runs.report)
app.add_typer(runs.audit_app, name="audit")
app.command()(sandbox.rehearse)
app.add_typer(sandbox.sandbox_app, name="sandbox")
app.add_typer(export.export_app, name="export")


def main() -> None:
    """Run the CLI; a usage error is one line and exit 2, like every other bad input."""
    import sys

    try:
        code = app(standalone_mode=False)
    except Exception as exc:  # Click's usage errors, which Typer vendors: recognised by their interface
        if type(exc).__name__ == "NoArgsIsHelpError":  # a bare `responder` or `responder sandbox`: show help
            app([*sys.argv[1:], "--help"])
        message, exit_code = getattr(exc, "format_message", None), getattr(exc, "exit_code", None)
        if message is None or not isinstance(exit_code, int):
            raise
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        typer.echo(f"error: {message()}{hint}", err=True)
        sys.exit(exit_code)
    sys.exit(code if isinstance(code, int) else 0)

"""The `responder` command: one module per group of commands, combined here."""

from __future__ import annotations

from typing import Annotated

import typer

from responder import __version__
from responder.cli import export, identify, investigate, playbooks, run, runs, sandbox, sweep
from responder.cli.errors import DEBUG

app = typer.Typer(
    name="responder",
    help=(
        "Incident response for leaked Amazon Bedrock API keys.\n\n"
        "Exit codes: 0 done; 1 a step failed (what was applied is kept or rolled back, as the output says); "
        "2 bad input, nothing changed; 3 a rollback could not complete (a human must look)."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold a leaked key
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"responder {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks (secrets still redacted).")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    DEBUG["enabled"] = debug


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

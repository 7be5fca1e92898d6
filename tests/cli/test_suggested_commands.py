"""Every command the outputs suggest is one the tool accepts: each is split as a shell would (shlex) and parsed by
responder's own click parser, options and arguments checked, with no placeholder left where the tool knows the
value (the run id, the audit head, the key file's path)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import typer
from typer.testing import CliRunner

from responder.cli.main import app
from responder.engine.commands.operations import start_run
from responder.engine.commands.recovery import rollback_run
from responder.engine.running.context import Settings
from responder.sandbox.seed import Seeded
from tests.factories import Requests

runner = CliRunner()
PLACEHOLDERS = re.compile(r"\b(RUN_ID|HEAD|FILE|KEY_FILE)\b|\.\.\.")


def parses(command: str) -> None:
    """Parse `responder ...` with the app's parser down to its command: unknown options or missing arguments fail."""
    argv = shlex.split(command)
    assert argv[0] == "responder", command
    assert not PLACEHOLDERS.search(command), f"a placeholder the tool could fill: {command}"
    group: Any = typer.main.get_command(app)
    ctx = group.make_context("responder", argv[1:])
    args = [*_protected(ctx), *ctx.args]
    while isinstance(group, click.Group):
        name, sub, args = group.resolve_command(ctx, args)
        assert sub is not None, command
        ctx = sub.make_context(name, args, parent=ctx)
        group, args = sub, [*_protected(ctx), *ctx.args]


def _protected(ctx: click.Context) -> list[str]:
    """The subcommand and its arguments, which a group's context keeps aside (click 8.2 renamed the attribute)."""
    return list(getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", None) or [])


def suggested(text: str) -> list[str]:
    """The `responder ...` commands a text suggests, read as Markdown renders it (inert text escapes with `\\`)."""
    rendered = re.sub(r"\\(.)", r"\1", text)
    return [c for c in re.findall(r"`(responder [^`]*)`", rendered)]


def test_the_reports_suggestions_parse(account: Seeded, settings: Settings, requests: Requests) -> None:
    requests.fail("PutUserPolicy", "AccessDenied")
    failed = start_run("leaked-long-term-key", {}, account.key, dry_run=False, confirm=None, settings=settings)
    texts = [failed.paths.report_md.read_text(), failed.message]
    done = start_run("leaked-long-term-key", {}, account.key, dry_run=False, confirm=None, settings=settings)
    texts.append(done.paths.report_md.read_text())
    back = rollback_run(done.run_id, reactivate_keys=False, settings=settings)
    texts += [done.paths.report_md.read_text(), back.message]
    commands = [c for t in texts for c in suggested(t)]
    assert len(commands) >= 5, commands
    for command in commands:
        parses(command)


def test_the_terminals_suggestions_parse_with_run_id_and_head_filled(account: Seeded, tmp_path: Path) -> None:
    key_file = tmp_path / "my key $(touch x).txt"
    key_file.write_text(account.key)
    runs = ["--runs-dir", str(tmp_path / "runs")]
    result = runner.invoke(app, ["run", "leaked-long-term-key", "--key-file", str(key_file), "--yes", *runs])
    assert result.exit_code == 0, result.output
    commands = suggested(result.output)
    assert any(c.startswith("responder audit verify") for c in commands), result.output
    assert "skipped" in result.output and "${" not in result.output  # a skipped step's condition, in words
    assert "it runs only with `-p delete_key=true`" in result.output
    run_id = next(c for c in commands if c.startswith("responder audit verify")).split()[3]
    investigated = runner.invoke(app, ["investigate", run_id, *runs])
    assert investigated.exit_code == 0, investigated.output
    assert "searched only" in investigated.output and "-p regions" not in investigated.output  # it takes no -p
    commands += suggested(investigated.output)
    identified = runner.invoke(app, ["identify", "--offline", str(key_file)])
    assert identified.exit_code == 0, identified.output
    nexts = [line[line.index("responder run") :] for line in identified.output.splitlines() if "responder run" in line]
    assert nexts and all(shlex.split(n)[shlex.split(n).index("--key-file") + 1] == str(key_file) for n in nexts)
    for command in [*commands, *nexts]:
        parses(command)


def test_help_lists_every_exit_code() -> None:
    from responder import errors

    shown = " ".join(runner.invoke(app, ["--help"]).output.split())
    for code in (errors.EXIT_OK, errors.EXIT_STEP_FAILED, errors.EXIT_BAD_INPUT, errors.EXIT_ROLLBACK_INCOMPLETE):
        assert f"{code} " in shown
    assert "4 cancelled" in shown and "130 interrupted" in shown, shown

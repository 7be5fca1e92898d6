"""Machine output everywhere: every command of the app takes `-o json` and `--query`, through one mechanism."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from responder.cli.command import ResponderTyper
from responder.cli.main import app
from responder.cli.options import Output, Query

runner = CliRunner()

# Commands allowed to lack `-o json`, each with the reason. Empty today: a command added without it (`export`,
# `investigate`, ...) fails test_every_command_writes_json until it has it, or until it is listed here with why.
EXEMPT_FROM_JSON: dict[str, str] = {}


def walk(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command of a Click group, recursively (groups themselves are not commands one runs)."""
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        return [(path, command)]
    return [found for name, sub in sorted(subcommands.items()) for found in walk(sub, (*path, name))]


def lacking_json(typer_app: typer.Typer) -> list[str]:
    lacking = []
    for path, command in walk(typer.main.get_command(typer_app)):
        options = {opt: param for param in command.params for opt in getattr(param, "opts", [])}
        output, query = options.get("--output"), options.get("--query")
        has_json = output is not None and "-o" in output.opts and "json" in (output.metavar or "").split("|")
        if not (has_json and query is not None) and " ".join(path) not in EXEMPT_FROM_JSON:
            lacking.append(" ".join(path))
    return lacking


def test_every_command_writes_json_and_takes_a_query() -> None:
    commands = [" ".join(path) for path, _ in walk(typer.main.get_command(app))]
    assert {"list", "show", "actions", "runs", "report", "audit verify", "sandbox serve", "sweep"} <= set(commands)
    assert lacking_json(app) == []


def test_the_walk_catches_a_command_added_without_json() -> None:
    extra = ResponderTyper()

    @extra.command("export")
    def export() -> None:
        """Export."""

    @extra.command("investigate")
    def investigate(output: Output = None, query: Query = None) -> None:
        """Investigate."""

    nested = ResponderTyper()
    nested.add_typer(extra, name="more")
    assert lacking_json(nested) == ["more export"]


def test_every_command_takes_debug_and_no_color_after_its_name() -> None:
    for path, command in walk(typer.main.get_command(app)):
        names = {opt for param in command.params for opt in getattr(param, "opts", [])}
        assert {"--debug", "--no-color"} <= names, path


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


@pytest.mark.parametrize(
    ("args", "check"),
    [
        (["list"], lambda v: {"leaked-long-term-key", "contain-bedrock-keys"} <= {b["name"] for b in v}),
        (["show", "leaked-long-term-key"], lambda v: "iam:UpdateServiceSpecificCredential" in v["permissions"]),
        (["actions"], lambda v: any(a["kind"] == "irreversible" for a in v)),
        (["schema"], lambda v: v["title"] == "Playbook"),
        (["permissions", "leaked-long-term-key"], lambda v: v["Version"] == "2012-10-17"),
        (["validate", "playbooks/leaked-long-term-key.yaml"], lambda v: v[0]["ok"] is True),
    ],
)
def test_json_of_commands_that_touch_no_account(args: list[str], check: Any) -> None:
    result = invoke(*args, "-o", "json")
    assert result.exit_code == 0, result.output
    assert check(json.loads(result.stdout))


def test_query_keeps_what_the_expression_selects() -> None:
    result = invoke("list", "--query", "[].name")  # --query alone implies -o json
    assert result.exit_code == 0
    names = json.loads(result.stdout)
    assert "leaked-long-term-key" in names and all(isinstance(n, str) for n in names)
    shown = invoke("show", "leaked-long-term-key", "-o", "json", "--query", "steps[?kind=='IRREVERSIBLE'].id")
    assert json.loads(shown.stdout) == ["delete", "stop", "throughput"]  # the key, the jobs, the throughput


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "--query", "[?"], "is not a JMESPath expression"),
        (["list", "-o", "text", "--query", "[].name"], "--query filters JSON output"),
        (["sweep", "-o", "yaml"], "--output must be one of: table, json, csv"),
        (["report", "x", "-o", "csv"], "--output/--format must be one of: markdown, json"),
    ],
)
def test_bad_output_or_query_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_help_and_accepted_values_agree() -> None:
    """The help names exactly the values the command accepts (sweep said `text, or json` and took table|csv)."""
    for path, command in walk(typer.main.get_command(app)):
        output = next(p for p in command.params if "--output" in getattr(p, "opts", []))
        choices = output.metavar.split("|")
        assert output.help.startswith(", ".join(choices[:-1]) + f" or {choices[-1]}" if len(choices) > 1 else "json")
        for bad in ("yaml", "TABLE"):
            result = invoke(*path, "-o", bad, *(["x"] if path in (("report",), ("resume",)) else []))
            if result.exit_code == 2 and "must be one of" in result.stderr:
                assert f"must be one of: {', '.join(choices)}" in result.stderr, path
    sweep_help = invoke("sweep", "--help").stdout
    assert "table|json|csv" in sweep_help and "table, json or csv" in sweep_help


def test_report_keeps_format_as_an_alias(tmp_path: Path) -> None:
    for spelling in ("--format", "-f", "-o", "--output"):
        result = invoke("report", "20990101T000000Z-000000", spelling, "json", "--runs-dir", str(tmp_path))
        assert result.exit_code == 2 and json.loads(result.stdout)["status"] == "rejected"  # JSON even on failure

"""Machine output for every command: one `--output/-o` option type, `--query` (JMESPath), and one `emit`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import typer

from responder.redaction import SECRETS

QUERY_SOURCE = "responder.query"


def _choices_text(choices: tuple[str, ...]) -> str:
    return ", ".join(choices[:-1]) + f" or {choices[-1]}" if len(choices) > 1 else choices[0]


def output_option(*choices: str, aliases: tuple[str, ...] = ()) -> Any:
    """The `--output/-o` option of a command that can write `choices` (the first is its default). Help, metavar and
    validation come from the one tuple, so they cannot disagree; `responder -o json CMD` counts as `CMD -o json`."""

    def check(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> str | None:
        from responder.cli.options import given_before

        value = given_before(ctx, param, value)
        if value is not None and value not in choices:
            raise typer.BadParameter(f"{value!r}: give {_choices_text(choices)}")
        return value

    return typer.Option(
        "--output",
        "-o",
        *aliases,
        metavar="|".join(choices),
        callback=check,
        help=f"{_choices_text(choices)} (default {choices[0]}); json is exactly one JSON document on stdout.",
    )


def query_option() -> Any:
    def check(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> str | None:
        from responder.cli.options import given_before

        value = given_before(ctx, param, value)
        if value is not None:
            _compiled(value)  # a bad expression is bad input, found before any work is done
        return value

    return typer.Option(
        "--query",
        metavar="JMESPATH",
        callback=check,
        help="Keep only this JMESPath expression of the JSON output (implies -o json), as the AWS CLI's --query.",
    )


def output_format(output: str | None, query: str | None, default: str = "text") -> str:
    """What to write: the --output given, json when only --query was given, else the command's default."""
    if query is not None:
        if output is not None and output != "json":
            raise typer.BadParameter(f"--query filters JSON output: drop -o {output} or give -o json")
        return "json"
    return output or default


def _compiled(query: str) -> Any:
    import jmespath  # ships with botocore; imported only when a query is given
    from jmespath.exceptions import JMESPathError

    try:
        return jmespath.compile(query)
    except JMESPathError as exc:
        raise typer.BadParameter(f"{query!r} is not a JMESPath expression: {str(exc).splitlines()[0]}") from None


def emit(value: Any, output: str, query: str | None = None, text: Callable[[], None] | None = None) -> None:
    """Write a command's result: under json, `value` (filtered by `query`) as one redacted JSON document; otherwise
    `text()` draws it for people."""
    if output == "json":
        if query is not None:
            value = _compiled(query).search(value)
        typer.echo(SECRETS.redact(json.dumps(value, indent=2, sort_keys=True, default=str)))
    elif text is not None:
        text()

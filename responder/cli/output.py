"""Machine output for every command: one `--output/-o` option type, `--query` (JMESPath), and one `emit`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer

from responder.errors import UserError
from responder.redaction import SECRETS


def _choices_text(choices: tuple[str, ...]) -> str:
    return ", ".join(choices[:-1]) + f" or {choices[-1]}" if len(choices) > 1 else choices[0]


# What each kind of command can write; the first is its default. The option's help and the check share the tuple.
TEXT_JSON = ("text", "json")
JSON_ONLY = ("json",)  # a schema, a policy, the sandbox's ready line: JSON by nature
SWEEP_OUTPUTS = ("table", "json", "csv")
REPORT_OUTPUTS = ("markdown", "json", "asff")  # asff: AWS Security Finding Format, for Security Hub


def output_option(choices: tuple[str, ...], aliases: tuple[str, ...] = ()) -> Any:
    """The `--output/-o` option of a command that can write `choices` (`responder -o json CMD` counts as `CMD -o
    json`: command.ResponderCommand). The value is checked by output_format, inside the command's error handler."""
    return typer.Option(
        "--output",
        "-o",
        *aliases,
        metavar="|".join(choices),
        help=f"{_choices_text(choices)} (default {choices[0]}); json is exactly one JSON document on stdout.",
    )


def query_option() -> Any:
    return typer.Option(
        "--query",
        metavar="JMESPATH",
        help="Keep only this JMESPath expression of the JSON output (implies -o json), as the AWS CLI's --query.",
    )


@contextmanager
def reported_output(output: str | None, query: str | None, choices: tuple[str, ...]) -> Iterator[str]:
    """A command's body: its failures reported as one line (and, asked for json, one JSON object), with the
    format it is to write, checked first."""
    from responder.cli.errors import reported_errors

    with reported_errors(_asked(output, query)):
        yield output_format(output, query, choices)


def _asked(output: str | None, query: str | None) -> str | None:
    """The format asked for before it is checked (for the error handler): a --query alone asks for json."""
    return "json" if output is None and query is not None else output


def output_format(output: str | None, query: str | None, choices: tuple[str, ...]) -> str:
    """What to write: the --output given, json when only --query was given, else the command's default (the first
    choice). A value the command cannot write, or a query that is not JMESPath, is bad input."""
    if output is not None and output not in choices:
        names = "--output/--format" if choices == REPORT_OUTPUTS else "--output"  # report's older spelling too
        raise UserError(f"{names} must be one of: {', '.join(choices)} (got {output!r})")
    if query is not None:
        _compiled(query)
        if output is not None and output != "json":
            raise UserError(f"--query filters JSON output: drop -o {output} or give -o json")
        return "json"
    return output or choices[0]


def _compiled(query: str) -> Any:
    import jmespath  # ships with botocore; imported only when a query is given
    from jmespath.exceptions import JMESPathError

    try:
        return jmespath.compile(query)
    except JMESPathError as exc:
        raise UserError(f"--query {query!r} is not a JMESPath expression: {str(exc).splitlines()[0]}") from None


def emit(value: Any, output: str, query: str | None = None, text: Callable[[], None] | None = None) -> None:
    """Write a command's result: under json, `value` (filtered by `query`) as one redacted JSON document; otherwise
    `text()` draws it for people."""
    if output == "json":
        if query is not None:
            value = _compiled(query).search(value)
        typer.echo(SECRETS.redact(json.dumps(value, indent=2, sort_keys=True, default=str)))
    elif text is not None:
        text()

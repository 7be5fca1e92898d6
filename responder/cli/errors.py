"""The one error handler: every failure becomes one redacted line on stderr and an exit code."""

from __future__ import annotations

import json
import os
import sys
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer

from responder.errors import EXIT_BAD_INPUT, EXIT_CANCELLED, EXIT_INTERRUPTED, EXIT_STEP_FAILED, ResponderError
from responder.inert import terminal
from responder.redaction import SECRETS, OperatorNote

DEBUG = {"enabled": False}  # set by the global --debug option


LINE_LIMIT = 1_000  # characters: far above any message responder writes, far below a pasted file


def fail(message: str) -> None:
    typer.echo(bounded(terminal(SECRETS.redact(f"error: {message}"))), err=True)


def bounded(line: str, limit: int = LINE_LIMIT) -> str:
    """The last net under every echo of operator input that forgot redaction.shown (Click's, AWS's, an option's):
    an over-long line keeps its head, which says what failed, and its tail, which usually says what to do."""
    if len(line) <= limit:
        return line
    head, tail = line[: limit * 2 // 3], line[-(limit // 3) :]
    return f"{head} ... ({len(line) - len(head) - len(tail):,} characters cut) ... {tail}"


def note(message: str) -> None:
    typer.echo(bounded(terminal(SECRETS.redact(f"note: {message}"))), err=True)


@contextmanager
def reported_errors(output: str | None = "text") -> Iterator[None]:
    """Every failure as one line on stderr and an exit code; under `--output json` also exactly one JSON object on
    stdout (status, error, exit_code, and the run id when a run recorded it), so a script never parses nothing."""
    with _notices_shown(output or "text"):
        yield


@contextmanager
def _notices_shown(output: str) -> Iterator[None]:
    """An OperatorNote raised while a command runs (what was stripped from a pasted key, a key that looks
    truncated) is one `note:` line on stderr, when it happens; other warnings go where they went."""
    with warnings.catch_warnings():
        warnings.simplefilter("always", OperatorNote)
        shown_elsewhere = warnings.showwarning

        def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
            if issubclass(category, OperatorNote):
                note(str(message))
            else:
                shown_elsewhere(message, category, *args, **kwargs)

        warnings.showwarning = show
        with _errors_reported(output):
            yield


@contextmanager
def _errors_reported(output: str) -> Iterator[None]:
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except BrokenPipeError:  # `responder runs | head`: the reader has what it wanted; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except ResponderError as exc:
        _debug_traceback()
        _failed(str(exc), exc.exit_code, output, exc.run_id)
    except KeyboardInterrupt:
        _failed("interrupted before any run began: nothing was changed", EXIT_INTERRUPTED, output, None)
    except Exception as exc:
        _debug_traceback()
        described = _describe_aws(exc)
        if described is not None:
            message, is_users = described
            _failed(message, EXIT_BAD_INPUT if is_users else EXIT_STEP_FAILED, output, None)
        _failed(
            f"internal error: {type(exc).__name__}: {exc} (re-run with --debug for the traceback)",
            EXIT_STEP_FAILED,
            output,
            None,
        )


STATUS_OF_CODE = {EXIT_BAD_INPUT: "rejected", EXIT_INTERRUPTED: "interrupted", EXIT_CANCELLED: "cancelled"}


def _failed(message: str, code: int, output: str, run_id: str | None) -> NoReturn:
    fail(message)
    if output == "json":
        shown = bounded(SECRETS.redact(message))
        status = STATUS_OF_CODE.get(code, "failed")
        typer.echo(json.dumps({"status": status, "error": shown, "exit_code": code, "run_id": run_id}, sort_keys=True))
    raise typer.Exit(code) from None


def _describe_aws(exc: Exception) -> tuple[str, bool] | None:
    if "botocore" not in sys.modules:  # no AWS call was made, so it cannot be an AWS error
        return None
    from responder.aws.clients import describe_aws_error

    return describe_aws_error(exc)


def _debug_traceback() -> None:
    if DEBUG["enabled"]:
        typer.echo(SECRETS.redact(traceback.format_exc()), err=True)

"""The one error handler: every failure becomes one redacted line on stderr and an exit code."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from responder.errors import EXIT_BAD_INPUT, EXIT_STEP_FAILED, ResponderError
from responder.redaction import SECRETS

DEBUG = {"enabled": False}  # set by the global --debug option


def fail(message: str) -> None:
    typer.echo(SECRETS.redact(f"error: {message}"), err=True)


@contextmanager
def reported_errors() -> Iterator[None]:
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except ResponderError as exc:
        _debug_traceback()
        fail(str(exc))
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        fail("interrupted; the journal holds what was done: see `responder runs`")
        raise typer.Exit(130) from None
    except Exception as exc:
        _debug_traceback()
        described = _describe_aws(exc)
        if described is not None:
            message, is_users = described
            fail(message)
            raise typer.Exit(EXIT_BAD_INPUT if is_users else EXIT_STEP_FAILED) from None
        fail(f"internal error: {type(exc).__name__}: {exc} (re-run with --debug for the traceback)")
        raise typer.Exit(EXIT_STEP_FAILED) from None


def _describe_aws(exc: Exception) -> tuple[str, bool] | None:
    if "botocore" not in sys.modules:  # no AWS call was made, so it cannot be an AWS error
        return None
    from responder.aws import describe_aws_error

    return describe_aws_error(exc)


def _debug_traceback() -> None:
    if DEBUG["enabled"]:
        typer.echo(SECRETS.redact(traceback.format_exc()), err=True)

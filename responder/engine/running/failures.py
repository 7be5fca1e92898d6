"""A failure in one line, for the journal, the report and the operator: AWS's code and message, and the
permission a step lacked when AWS said AccessDenied. Steps, the fan-out, the sweep and identify all say it so."""

from __future__ import annotations

from typing import Any

from responder.actions.base import Action
from responder.aws.clients import describe_aws_error, error_code
from responder.errors import ResponderError


def describe_failure(exc: BaseException, action: type[Action[Any, Any]] | None = None) -> str:
    aws = describe_aws_error(exc)
    text = aws[0] if aws else (exc.message if isinstance(exc, ResponderError) else f"{type(exc).__name__}: {exc}")
    if action is not None and error_code(exc) in ("AccessDenied", "AccessDeniedException"):
        text += f"; this step needs {', '.join(action.permissions)}"
    return text

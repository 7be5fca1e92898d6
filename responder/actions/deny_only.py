"""Documents responder puts, and puts back, may only deny.

responder's own policies (the bearer-token deny, the session revocation, the guardrails) are all `Deny`. A document
it was given (a guardrail step's argument) or reads back from its journal (undo's "before") that allows anything
is either a mistake or a forgery (an edited `audit.jsonl` putting `Allow *` back on a user): refused, never put.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator


class NotDenyOnly(ValueError):
    """A policy document with a statement that is not a Deny."""


def non_deny_statements(document: Any) -> list[str]:
    """Why `document` is not a deny-only IAM policy: one line per offending statement (empty when it is one)."""
    if not isinstance(document, dict):
        return [f"not a policy document ({type(document).__name__})"]
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        return ["no Statement"]
    problems = []
    for number, statement in enumerate(statements, 1):
        effect = statement.get("Effect") if isinstance(statement, dict) else None
        if effect != "Deny":
            sid = statement.get("Sid") if isinstance(statement, dict) else None
            named = f" ({sid})" if isinstance(sid, str) and sid else ""
            problems.append(f"statement {number}{named} has Effect {effect!r}, not 'Deny'")
    return problems


def require_deny_only(document: Any, what: str) -> None:
    """Raise NotDenyOnly, naming `what` and the first offending statement, unless every statement denies."""
    problems = non_deny_statements(document)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise NotDenyOnly(f"{what}: {problems[0]}{more}: responder puts only deny-only documents")


def _deny_only(document: dict[str, Any]) -> dict[str, Any]:
    require_deny_only(document, "document")
    return document


# A step argument that is a policy document to put: checked by `responder validate` and again when the step runs.
DenyOnlyDocument = Annotated[dict[str, Any], AfterValidator(_deny_only)]

"""The action registry: actions register themselves; everything else finds them here."""

from __future__ import annotations

import importlib
from typing import Any, TypeVar

from responder.actions.base import Action

# One line per module of actions (one module per AWS service). Adding an action module adds a line here.
# get_action imports them in this order until it finds the action: the modules a leaked long-term key's playbook
# needs come first, so a run imports only those (each module costs milliseconds: its pydantic models) before its
# first request.
ACTION_MODULES = (
    "responder.actions.iam_credentials",
    "responder.actions.iam_policies",
    "responder.actions.cloudtrail",
    "responder.actions.iam_access_keys",
    "responder.actions.iam_sessions",
    "responder.actions.iam_key_selection",
    "responder.actions.guardrails",
    "responder.actions.footholds",
    "responder.actions.footholds_policies",
    "responder.actions.footholds_credentials",
    "responder.actions.footholds_trust",
    "responder.actions.bedrock_logging",
    "responder.actions.bedrock_jobs",
    "responder.actions.bedrock_job_stops",
    "responder.actions.iam_quarantine",
)

_ACTIONS: dict[str, type[Action[Any, Any]]] = {}
A = TypeVar("A", bound=type[Action[Any, Any]])


def register(cls: A) -> A:
    if cls.name in _ACTIONS:
        raise RuntimeError(f"action {cls.name} registered twice")
    _ACTIONS[cls.name] = cls
    return cls


def all_actions() -> dict[str, type[Action[Any, Any]]]:
    for module in ACTION_MODULES:
        importlib.import_module(module)
    return dict(sorted(_ACTIONS.items()))


def get_action(name: str) -> type[Action[Any, Any]] | None:
    for module in ACTION_MODULES:
        if name in _ACTIONS:
            break
        importlib.import_module(module)
    return _ACTIONS.get(name)

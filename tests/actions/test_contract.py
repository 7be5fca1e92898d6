"""Every registered action keeps the contract the executor, the CLI and the schema rely on."""

from __future__ import annotations

import re

import pytest

from responder.actions.base import Action, ActionParams
from responder.playbook import load_playbook, shipped_playbooks
from responder.registry import all_actions

ACTIONS = all_actions()
IAM_ACTION = re.compile(r"^[a-z0-9-]+:[A-Z][A-Za-z]+$")


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_action_declares_its_contract(name: str) -> None:
    action = ACTIONS[name]
    assert issubclass(action, Action) and action.name == name
    assert issubclass(action.Params, ActionParams)
    assert action.summary and action.permissions
    assert all(IAM_ACTION.match(p) for p in action.permissions), action.permissions
    if action.mutating:
        # a mutating action must say how it changes things: it overrides apply, verify and undo
        for method in ("apply", "verify", "undo"):
            assert getattr(action, method) is not getattr(Action, method), f"{name} lacks {method}"
    else:
        assert action.outputs, "a read-only action exists to produce outputs"


def test_every_action_a_shipped_playbook_uses_is_registered() -> None:
    used = {s.action for p in shipped_playbooks().values() for s in load_playbook(p).actions()}
    assert used <= set(ACTIONS)

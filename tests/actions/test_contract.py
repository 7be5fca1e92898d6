"""Every registered action keeps the contract the executor, the CLI and the schema rely on."""

from __future__ import annotations

import re
from typing import Any, Literal, get_args, get_origin, get_type_hints

import pytest

from responder.actions.base import Action, ActionParams, ActionSnapshot
from responder.actions.registry import all_actions
from responder.actions.targets import TARGET_KINDS
from responder.playbook.checks import load_playbook
from responder.playbook.shipped import shipped_playbooks

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


def _example(annotation: Any) -> Any:
    """A plausible value for a required parameter, enough for an action to name what it changes."""
    if get_origin(annotation) is Literal:
        return get_args(annotation)[0]
    if annotation is str or annotation == "str":
        return "example-name"
    if get_origin(annotation) is list:
        return ["ACCAEXAMPLEEXAMPLE0001"]
    if get_origin(annotation) is dict:
        return {}
    return None


@pytest.mark.parametrize("name", sorted(n for n, a in ACTIONS.items() if a.mutating))
def test_a_mutating_action_names_what_it_changes(name: str) -> None:
    """Locks and the order of steps ask the action, never guess from parameter names."""
    action = ACTIONS[name]
    fields = {f: _example(info.annotation) for f, info in action.Params.model_fields.items() if info.is_required()}
    params = action.Params.model_construct(**fields)
    targets = action().targets(params)
    assert targets, f"{name} declares no target"
    assert all(type(t) in TARGET_KINDS.values() for t in targets), targets  # one of the kinds the seam knows
    assert all(t.lock and t.scope for t in targets)
    owners = [t.owner for t in targets if t.owner is not None]
    assert all(o.split("/")[0] in ("user", "role") and o.split("/")[1] for o in owners)


@pytest.mark.parametrize("name", sorted(n for n, a in ACTIONS.items() if a.mutating))
def test_a_mutating_action_declares_its_snapshot_model(name: str) -> None:
    """What undo restores is a typed model beside Params, the one snapshot() returns, never a dict read by keys."""
    action = ACTIONS[name]
    assert action.Snapshot is not None, f"{name} declares no Snapshot model"
    assert issubclass(action.Snapshot, ActionSnapshot) and action.Snapshot.model_config.get("frozen")
    assert get_type_hints(action.snapshot)["return"] is action.Snapshot


def test_a_read_only_action_changes_nothing() -> None:
    for name, action in ACTIONS.items():
        if not action.mutating:
            assert action.targets is Action.targets, f"{name} is read-only but declares targets"


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_what_an_action_declares_for_the_report_is_what_it_has(name: str) -> None:
    """The report asks the action (its milestone, what it stops, its undo warning, its summary output)."""
    action = ACTIONS[name]
    if action.stops is not None:
        assert action.mutating and action.milestone, f"{name} stops something but names no milestone"
    if action.undo_warning is not None:
        assert action.mutating and action.reversible and action.undo_warning.endswith(".")
    if action.report_output is not None:
        assert action.report_output in action.outputs


@pytest.mark.parametrize("name", sorted(n for n, a in ACTIONS.items() if a.known_before is not Action.known_before))
def test_what_an_action_knows_before_asking_aws_is_among_its_outputs(name: str) -> None:
    """A later change reads its snapshot on these (engine.running.read_ahead): they must be outputs the action declares,
    and known without a request (the example parameters reach no AWS)."""
    action = ACTIONS[name]
    assert not action.mutating, f"{name}: only a read's outputs are guessed; a change waits for its answer"
    fields = {f: _example(info.annotation) for f, info in action.Params.model_fields.items()}
    known = action().known_before(action.Params.model_construct(**{**fields, "user_name": "example-name"}))
    assert known and set(known) <= set(action.outputs), known

"""The registry: actions register themselves once, and a run imports action modules only until it finds its own."""

from __future__ import annotations

import subprocess
import sys

import pytest

from responder.actions.iam_credentials import DeactivateServiceCredentials
from responder.actions.registry import ACTION_MODULES, all_actions, get_action, register


def test_every_module_listed_registers_something() -> None:
    modules = {action.__module__ for action in all_actions().values()}
    assert modules == set(ACTION_MODULES)
    assert list(all_actions()) == sorted(all_actions())


def test_finds_by_name_and_nothing_else() -> None:
    assert get_action("iam.deactivate-service-credentials") is DeactivateServiceCredentials
    assert get_action("iam.no-such-action") is None


def test_a_name_registers_once() -> None:
    with pytest.raises(RuntimeError, match="registered twice"):
        register(DeactivateServiceCredentials)


def test_a_run_imports_only_the_modules_before_its_action() -> None:
    """The long-term key's actions come first: a run of that playbook does not import the others."""
    code = (
        "import sys; from responder.actions.registry import get_action;"
        "get_action('iam.deactivate-service-credentials');"
        "print(sorted(m for m in sys.modules if m.startswith('responder.actions.')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "responder.actions.iam_credentials" in loaded
    assert "responder.actions.guardrails" not in loaded and "responder.actions.cloudtrail" not in loaded

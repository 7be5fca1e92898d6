"""A dry run with every parameter that gates a foothold change turned on sends no mutating request, on accounts
where each of those steps has something to change: the plan shows the change, AWS is only read. (The wire test in
tests/test_sandbox_e2e.py runs every shipped playbook against a plain account, where the foothold steps find
nothing to change, so it could not catch one of them writing during a dry run.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from responder.engine.commands.operations import start_run
from responder.engine.running.context import Settings
from responder.sandbox.emulator import install
from responder.sandbox.llmjacking import seed_llmjacking, seed_role_llmjacking
from responder.sandbox.user_signed import seed_user_signed_llmjacking
from tests.factories import ACCOUNT, Requests

EVERYTHING = {"stop_jobs": "true", "delete_throughput": "true", "close_older": "true"}
# playbook, the account's seeding, the parameters, the steps that must plan a change (so the test can fail)
CASES: dict[str, tuple[str, Callable[[str], Any], dict[str, str], set[str]]] = {
    "long-term": (
        "leaked-long-term-key",
        seed_llmjacking,
        EVERYTHING | {"delete_key": "true", "quarantine_user": "true"},
        {"delete", "footholds", "policies", "logging", "stop", "throughput", "quarantine"},
    ),
    "short-term-role": (
        "leaked-short-term-key",
        seed_role_llmjacking,
        EVERYTHING,
        {"policies", "trust", "logging", "stop", "throughput"},
    ),
    "short-term-user": (
        "leaked-short-term-key",
        seed_user_signed_llmjacking,
        EVERYTHING,
        {"footholds", "grants", "credentials", "logging"},
    ),
}


@pytest.fixture
def emulated() -> Iterator[None]:
    from moto import mock_aws

    with mock_aws():
        install()
        yield


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_dry_run_of_every_foothold_change_only_reads(
    case: str, emulated: None, settings: Settings, requests: Requests
) -> None:
    playbook, seed, params, changing = CASES[case]
    seeded = seed(ACCOUNT)
    dry = start_run(playbook, params, seeded.key, dry_run=True, confirm=None, settings=settings)
    assert dry.status == "planned", dry.message
    planned = {step for step, state in dry.state.steps.items() if state.changes}
    assert changing <= planned, changing - planned
    assert requests.mutating == []

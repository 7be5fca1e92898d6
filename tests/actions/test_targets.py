"""The change-target seam: every kind keeps the contract the locks, the order of steps, the journal and the report
rely on, and a run journals what each change targets, typed, while journals written before still read back."""

from __future__ import annotations

import json
from typing import Any

import pytest

from responder.actions.targets import (
    TARGET_KINDS,
    ChangeTarget,
    CredentialTarget,
    ResourceTarget,
    SettingTarget,
    Target,
    target_from_journal,
    target_to_journal,
)
from responder.engine.commands.operations import start_run
from responder.engine.commands.outcome import lock_targets
from responder.engine.journal.run_state import StepState, load_run
from responder.engine.running.context import Settings, lock_names
from responder.engine.running.step_graph import overlap
from responder.engine.running.step_targets import step_principals, step_targets
from responder.sandbox.seed import Seeded

EXAMPLES: dict[str, ChangeTarget] = {
    "principal": Target("user/alice", "access-keys"),
    "credential": CredentialTarget("user/alice", "access-keys", "AKIAEXAMPLE000000001"),
    "setting": SettingTarget("eu-west-1", "bedrock/model-invocation-logging"),
    "resource": ResourceTarget("arn:aws:bedrock:eu-west-1:123456789012:model-customization-job/abc"),
}


def test_every_kind_has_an_example_here() -> None:
    assert set(EXAMPLES) == set(TARGET_KINDS)


@pytest.mark.parametrize("kind", sorted(TARGET_KINDS))
def test_a_kind_keeps_the_contract(kind: str) -> None:
    target = EXAMPLES[kind]
    assert type(target) is TARGET_KINDS[kind] and target.kind == kind
    assert target.lock and target.scope and target.describe()
    assert target_from_journal(json.loads(json.dumps(target_to_journal(target)))) == target
    if target.owner is not None:  # what the report names and the own-principal check compares: a user or role
        kind_of, _, name = target.owner.partition("/")
        assert kind_of in ("user", "role") and name


def test_locks_and_order_by_what_is_changed() -> None:
    key, keys = EXAMPLES["credential"], EXAMPLES["principal"]
    # one key of a user waits for a change to all the user's keys, and both take the user's lock
    assert overlap([key], [keys]) and key.lock == keys.lock == "user/alice"
    assert not overlap([key], [Target("user/alice", "inline-policy/deny")])
    here, there = EXAMPLES["setting"], SettingTarget("us-east-1", "bedrock/model-invocation-logging")
    assert not overlap([here], [there]) and overlap([here], [here])
    names = lock_names("123456789012", list(EXAMPLES.values()))
    assert names == [
        "123456789012/user/alice",
        "123456789012/setting/eu-west-1/bedrock/model-invocation-logging",
        f"123456789012/resource/{EXAMPLES['resource'].describe()}",
    ]


@pytest.mark.parametrize(
    "journaled",
    [{"kind": "bucket", "arn": "x"}, {"kind": "setting", "region": "eu-west-1"}, {"kind": "resource", "arn": ""}],
)
def test_a_journaled_target_this_version_cannot_read_is_refused(journaled: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        target_from_journal(journaled)
    assert step_targets(StepState("s", "iam.deactivate-access-key", targets=[journaled])) == []


def test_a_setting_names_no_principal_in_the_report() -> None:
    step = StepState("s", "some.future-action", targets=[target_to_journal(t) for t in EXAMPLES.values()])
    assert step_principals(step) == ("user/alice",)


def test_a_run_journals_its_targets_and_an_old_journal_reads_back(account: Seeded, settings: Settings) -> None:
    outcome = start_run("leaked-long-term-key", {}, account.key, dry_run=False, confirm=None, settings=settings)
    assert outcome.status == "completed", outcome.message
    audit = outcome.paths.directory / "audit.jsonl"
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    applying = [r for r in records if r.get("event") == "step.applying"]
    assert applying and all(r["targets"] for r in applying)
    assert {"kind": "principal", "principal": f"user/{account.user_name}", "part": "service-credentials"} in [
        t for r in applying for t in r["targets"]
    ]
    state = load_run(audit)
    locks = lock_targets(state)
    assert locks == [f"{state.started.account_id}/user/{account.user_name}"] * len(locks) and locks
    for step in state.steps.values():  # as a journal written before targets were journaled reads
        step.targets = None
    assert lock_targets(state) == locks

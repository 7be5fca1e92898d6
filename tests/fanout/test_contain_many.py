"""`contain-bedrock-keys`: every key a sweep filter selects, one step group per key, in one run."""

from __future__ import annotations

import json
from typing import Any

import pytest

from responder.actions.iam_policies import DEFAULT_POLICY_NAME, DENY_BEARER_TOKENS
from responder.engine.commands.operations import start_run
from responder.engine.commands.recovery import resume_run, rollback_run
from responder.engine.journal.audit import verify_chain
from responder.engine.running.context import Settings
from responder.errors import UserError
from responder.sandbox.seed import Seeded
from responder.sandbox.service_credentials import create_credential
from tests.factories import ACCOUNT, Requests, credential_status, inline_policies

BOOK = "contain-bedrock-keys"
# A policy of the same name put there before the run: rollback must restore it, not delete it.
EARLIER = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}


def seed_ci_keys(iam: Any, users: int = 2, keys_each: int = 2) -> dict[str, list[str]]:
    """Users ci-0, ci-1... each holding some keys: what a filter user=ci-* selects."""
    made: dict[str, list[str]] = {}
    for n in range(users):
        user = f"ci-{n}"
        iam.create_user(UserName=user)
        made[user] = [create_credential(ACCOUNT, user)["ServiceSpecificCredentialId"] for _ in range(keys_each)]
    return made


def run(settings: Settings, dry_run: bool = False, **params: str) -> Any:
    return start_run(BOOK, dict(params), None, dry_run=dry_run, confirm=None, settings=settings)


def test_one_group_per_selected_key_and_nothing_else(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    made = seed_ci_keys(iam)
    outcome = run(settings, filter="user=ci-*")
    assert outcome.status == "completed", outcome.message
    labels = [f"{user}/{cred}" for user, creds in sorted(made.items()) for cred in sorted(creds)]
    expected = ["select"] + [f"{step}[{label}]" for label in labels for step in ("deactivate", "deny-bearer-tokens")]
    assert sorted(outcome.state.steps) == sorted(expected)
    for user, creds in made.items():
        assert all(credential_status(iam, user, cred) == "Inactive" for cred in creds)
        assert inline_policies(iam, user)[DEFAULT_POLICY_NAME] == DENY_BEARER_TOKENS
    # The seeded users are outside the filter and untouched.
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"
    assert DEFAULT_POLICY_NAME not in inline_policies(iam, account.user_name)
    # The deny is put once per user: a user's second key finds it in place.
    assert requests.mutating.count("PutUserPolicy") == len(made)
    assert requests.mutating.count("UpdateServiceSpecificCredential") == sum(map(len, made.values()))
    assert verify_chain(outcome.paths.audit_log).ok
    assert outcome.report.steps[1]["id"].startswith("deactivate[ci-0/")


def test_dry_run_plans_every_group_and_sends_no_mutation(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    made = seed_ci_keys(iam, users=3, keys_each=1)
    outcome = run(settings, dry_run=True, filter="user=ci-*")
    assert outcome.status == "planned"
    assert requests.mutating == []
    planned = [s for s in outcome.state.steps.values() if s.status == "planned" and s.changes]
    assert len(planned) == 2 * len(made)
    assert all(credential_status(iam, u, c[0]) == "Active" for u, c in made.items())


def test_rollback_restores_every_group(account: Seeded, settings: Settings, iam: Any) -> None:
    made = seed_ci_keys(iam)
    iam.put_user_policy(UserName="ci-1", PolicyName=DEFAULT_POLICY_NAME, PolicyDocument=json.dumps(EARLIER))
    outcome = run(settings, filter="user=ci-*")
    undo = rollback_run(outcome.run_id, reactivate_keys=True, settings=settings)
    assert undo.status == "rolled-back", undo.message
    assert all(credential_status(iam, u, c) == "Active" for u, creds in made.items() for c in creds)
    assert DEFAULT_POLICY_NAME not in inline_policies(iam, "ci-0")
    assert inline_policies(iam, "ci-1")[DEFAULT_POLICY_NAME] == EARLIER


def test_resume_contains_the_planned_keys_not_new_ones(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    made = seed_ci_keys(iam, users=2, keys_each=1)
    requests.fail("PutUserPolicy", "ServiceUnavailable", times=99)
    failed = run(settings, filter="user=ci-*")
    assert failed.status == "failed" and failed.exit_code == 1
    late = seed_ci_keys_named(iam, "ci-late")
    requests.faults.clear()
    done = resume_run(failed.run_id, settings)
    assert done.status == "completed", done.message
    assert all(credential_status(iam, u, c[0]) == "Inactive" for u, c in made.items())
    assert credential_status(iam, "ci-late", late) == "Active"  # not in the plan the operator saw


def seed_ci_keys_named(iam: Any, user: str) -> str:
    iam.create_user(UserName=user)
    return create_credential(ACCOUNT, user)["ServiceSpecificCredentialId"]


def test_nothing_selected_completes_with_a_note(account: Seeded, settings: Settings, requests: Requests) -> None:
    outcome = run(settings, filter="user=nobody-*")
    assert outcome.status == "completed" and outcome.exit_code == 0
    assert list(outcome.state.steps) == ["select"]
    assert "nothing to contain" in outcome.state.steps["select"].notes[0]
    assert requests.mutating == []


@pytest.mark.parametrize("bad", ["", "user=", "older-than=x", "everything", "user=a;rm", "no-expiry,,"])
def test_a_bad_filter_is_refused_before_any_call(
    account: Seeded, settings: Settings, requests: Requests, bad: str
) -> None:
    with pytest.raises(UserError, match="filter"):
        run(settings, filter=bad)
    assert requests.sent == []


def test_the_filter_is_required(account: Seeded, settings: Settings, requests: Requests) -> None:
    with pytest.raises(UserError, match="-p filter="):
        start_run(BOOK, {}, None, dry_run=True, confirm=None, settings=settings)


def test_the_sweep_prints_the_filter_that_selects_the_same_keys(account: Seeded, iam: Any) -> None:
    from typer.testing import CliRunner

    from responder.cli.main import app

    seed_ci_keys(iam, users=2, keys_each=1)
    table = CliRunner().invoke(app, ["sweep", "--user", "ci-*", "--no-expiry"]).stdout
    hint = next(line for line in table.splitlines() if "contain-bedrock-keys" in line)
    assert "-p filter='user=ci-*,no-expiry'" in hint

"""The executor through its operations: plan, apply, idempotence, failure policies, resume and rollback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from responder.actions.iam_credentials import DeactivateServiceCredentials
from responder.actions.iam_policies import DEFAULT_POLICY_NAME, DENY_BEARER_TOKENS
from responder.engine.commands.operations import start_run
from responder.engine.commands.recovery import resume_run, rollback_run
from responder.engine.journal.audit import verify_chain
from responder.engine.running.context import Settings
from responder.errors import UserError
from responder.sandbox.seed import EXISTING_POLICY, Seeded
from tests.factories import Requests, credential_status, inline_policies, make_key

BOOK = "leaked-long-term-key"


def contain(account: Seeded, settings: Settings, **params: str) -> Any:
    return start_run(BOOK, dict(params), account.key, dry_run=False, confirm=None, settings=settings)


def test_dry_run_changes_nothing(account: Seeded, settings: Settings, requests: Requests, iam: Any) -> None:
    outcome = start_run(BOOK, {}, account.key, dry_run=True, confirm=None, settings=settings)
    assert outcome.status == "planned" and outcome.exit_code == 0
    assert requests.sent and requests.mutating == []
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"
    planned = outcome.state.steps["deactivate"].changes
    assert [c["call"] for c in planned] == ["iam:UpdateServiceSpecificCredential"]


def test_contains_and_verifies(account: Seeded, settings: Settings, requests: Requests, iam: Any) -> None:
    outcome = contain(account, settings)
    assert outcome.status == "completed" and outcome.exit_code == 0
    statuses = {s.id: s.status for s in outcome.state.steps.values()}
    assert statuses == {
        "resolve": "read",
        "deactivate": "verified",
        "deny-bearer-tokens": "verified",
        "delete": "skipped",
        "footholds": "unchanged",  # the seeded user has no access key made during the key's life
        "policies": "unchanged",  # nor a policy given to it during the window
        "credentials": "unchanged",  # nor another credential or a console password
        "logging": "unchanged",  # and its invocation logging was left alone
        "jobs": "read",
        "stop": "skipped",  # only with -p stop_jobs=true
        "throughput": "skipped",  # only with -p delete_throughput=true
        "quarantine": "skipped",  # only with -p quarantine_user=true
        "investigate": "read",
    }
    assert credential_status(iam, account.user_name, account.credential_id) == "Inactive"
    assert inline_policies(iam, account.user_name)[DEFAULT_POLICY_NAME] == DENY_BEARER_TOKENS
    assert credential_status(iam, "ml-pipeline", account.bystander_credential_id) == "Active"
    assert sorted(requests.mutating) == ["PutUserPolicy", "UpdateServiceSpecificCredential"]  # sent together
    assert all(s.request_ids for s in outcome.state.steps.values() if s.status == "verified")
    assert verify_chain(outcome.paths.audit_log).ok


def test_rerun_is_a_noop(account: Seeded, settings: Settings, requests: Requests) -> None:
    contain(account, settings)
    requests.sent.clear()
    again = contain(account, settings)
    assert again.status == "completed"
    assert requests.mutating == []
    assert {s.status for s in again.state.steps.values()} == {"read", "unchanged", "skipped"}
    undo = rollback_run(again.run_id, reactivate_keys=True, settings=settings)
    assert undo.status == "rolled-back" and requests.mutating == []  # it changed nothing, so undoes nothing


def test_stop_keeps_what_was_applied_and_resume_finishes(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    requests.fail("PutUserPolicy", "AccessDenied")
    failed = contain(account, settings)
    assert failed.status == "failed" and failed.exit_code == 1
    assert f"responder resume {failed.run_id}" in failed.message
    assert "iam:PutUserPolicy" in (failed.state.steps["deny-bearer-tokens"].error or "")
    assert credential_status(iam, account.user_name, account.credential_id) == "Inactive"  # kept
    requests.sent.clear()
    resumed = resume_run(failed.run_id, settings)
    assert resumed.status == "completed"
    assert requests.mutating == ["PutUserPolicy"]  # the deactivation was not redone
    assert inline_policies(iam, account.user_name)[DEFAULT_POLICY_NAME] == DENY_BEARER_TOKENS
    with pytest.raises(UserError, match="nothing to resume"):
        resume_run(failed.run_id, settings)


def test_on_failure_rollback_undoes_applied_steps(
    account: Seeded, settings: Settings, requests: Requests, iam: Any, tmp_path: Path
) -> None:
    from responder.playbook.shipped import shipped_playbooks

    text = shipped_playbooks()[BOOK].read_text().replace("on_failure: stop", "on_failure: rollback")
    book = tmp_path / "rollback-book.yaml"
    book.write_text(text)
    requests.fail("PutUserPolicy", "ServiceUnavailable", times=10)
    outcome = start_run(str(book), {}, account.key, dry_run=False, confirm=None, settings=settings)
    assert outcome.status == "rolled-back" and outcome.exit_code == 1
    # the key was deactivated before the failure; rollback never re-activates it on its own
    assert outcome.state.steps["deactivate"].undo_status == "withheld"
    assert credential_status(iam, account.user_name, account.credential_id) == "Inactive"
    assert "--reactivate-keys" in outcome.message


def test_rollback_restores_exactly_and_is_idempotent(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    before = inline_policies(iam, account.user_name)
    run = contain(account, settings)
    first = rollback_run(run.run_id, reactivate_keys=False, settings=settings)
    assert first.status == "rolled-back" and first.exit_code == 0
    assert "stay Inactive" in first.message
    assert inline_policies(iam, account.user_name) == before
    assert credential_status(iam, account.user_name, account.credential_id) == "Inactive"
    second = rollback_run(run.run_id, reactivate_keys=True, settings=settings)
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"
    assert second.state.steps["deactivate"].undo_status == "undone"
    requests.sent.clear()
    third = rollback_run(run.run_id, reactivate_keys=True, settings=settings)
    assert third.status == "rolled-back" and requests.mutating == []
    assert inline_policies(iam, account.user_name) == before == {EXISTING_POLICY[0]: EXISTING_POLICY[1]}
    assert verify_chain(run.paths.audit_log).ok


def test_verification_retries_through_eventual_consistency(
    account: Seeded, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = DeactivateServiceCredentials.verify
    answers = iter([False, False])

    def lagging(self: Any, ctx: Any, params: Any, applied: Any = None) -> bool:
        return next(answers, None) is None and real(self, ctx, params, applied)

    monkeypatch.setattr(DeactivateServiceCredentials, "verify", lagging)
    outcome = contain(account, settings)
    assert outcome.status == "completed"
    verified = [r for r in outcome.state.records if r["event"] == "step.verified" and r["step"] == "deactivate"]
    assert verified[0]["attempts"] == 3


def test_verification_that_never_holds_fails_the_step(
    account: Seeded, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(DeactivateServiceCredentials, "verify", lambda *_: False)
    outcome = contain(account, settings)
    assert outcome.status == "failed"
    assert "reading it back did not show it" in (outcome.state.steps["deactivate"].error or "")


def test_bad_input_is_rejected_before_any_change(account: Seeded, settings: Settings, requests: Requests) -> None:
    with pytest.raises(UserError, match="belongs to account 210987654321"):
        start_run(BOOK, {}, make_key("alice-at-210987654321"), dry_run=False, confirm=None, settings=settings)
    with pytest.raises(UserError, match="is not a Bedrock credential"):
        start_run(
            BOOK, {"user_name": account.user_name, "credential_id": "ACCA" + "0" * 17}, None, False, None, settings
        )
    assert requests.mutating == []


def test_delete_needs_the_parameter_and_cannot_be_undone(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    run = contain(account, settings, delete_key="true")
    assert run.status == "completed"
    assert credential_status(iam, account.user_name, account.credential_id) == "missing"
    back = rollback_run(run.run_id, reactivate_keys=True, settings=settings)
    assert back.state.steps["delete"].undo_status == "irreversible"
    assert "cannot be restored" in back.message
    assert DEFAULT_POLICY_NAME not in inline_policies(iam, account.user_name)


def test_cancelled_at_the_prompt_changes_nothing(account: Seeded, settings: Settings, requests: Requests) -> None:
    outcome = start_run(BOOK, {}, account.key, dry_run=False, confirm=lambda state: False, settings=settings)
    assert outcome.status == "cancelled" and requests.mutating == []


def test_a_rollback_that_cannot_finish_exits_3_and_can_be_retried(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    run = contain(account, settings)
    requests.fail("DeleteUserPolicy", "AccessDenied")
    stuck = rollback_run(run.run_id, reactivate_keys=True, settings=settings)
    assert stuck.status == "rollback-incomplete" and stuck.exit_code == 3
    assert "iam:DeleteUserPolicy" in stuck.message
    # the other step was still undone: best effort, newest first
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"
    done = rollback_run(run.run_id, reactivate_keys=True, settings=settings)
    assert done.status == "rolled-back" and done.exit_code == 0
    assert DEFAULT_POLICY_NAME not in inline_policies(iam, account.user_name)

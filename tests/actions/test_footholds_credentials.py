"""Credentials made on the key's user during the exposure window are closed after containment: another service-
specific credential set Inactive, a console password removed; rollback re-activates the one and recreates the other
(with a password nobody knows, reset required). Older ones are listed with their command, never changed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from unittest import mock

from responder.engine.commands.operations import start_run
from responder.engine.commands.recovery import rollback_run
from responder.engine.running.context import Settings
from responder.sandbox.seed import Seeded
from responder.sandbox.service_credentials import create_credential
from tests.factories import ACCOUNT, Requests, credential_status

BOOK = "leaked-long-term-key"


def test_window_credentials_closed_after_containment_and_rolled_back(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    user = account.user_name
    planted = create_credential(ACCOUNT, user)["ServiceSpecificCredentialId"]  # a second Bedrock key, just now
    long_ago = datetime.now(timezone.utc) - timedelta(days=30)
    with mock.patch("responder.sandbox.service_credentials._now", return_value=long_ago):
        team = create_credential(ACCOUNT, user, "codecommit.amazonaws.com")["ServiceSpecificCredentialId"]
    iam.create_login_profile(UserName=user, Password="Attacker-chosen-1!")

    dry = start_run(BOOK, {}, account.key, dry_run=True, confirm=None, settings=settings)
    assert dry.status == "planned" and requests.mutating == []
    step = dry.state.steps["credentials"]
    assert sorted(c["call"] for c in step.changes) == ["iam:DeleteLoginProfile", "iam:UpdateServiceSpecificCredential"]
    assert not any(account.credential_id in str(c) for c in step.changes)  # the leaked key is containment's
    (older,) = [n for n in step.notes if team in n]
    assert "predates the exposure window" in older and f"--service-specific-credential-id {team}" in older

    outcome = start_run(BOOK, {}, account.key, dry_run=False, confirm=None, settings=settings)
    assert outcome.status == "completed", outcome.message
    assert outcome.state.steps["credentials"].status == "verified"
    assert credential_status(iam, user, planted) == "Inactive"
    assert credential_status(iam, user, team) == "Active"
    assert "LoginProfile" not in _profile(iam, user)

    back = rollback_run(outcome.run_id, reactivate_keys=True, settings=settings)
    assert back.state.steps["credentials"].undo_status == "undone"
    assert credential_status(iam, user, planted) == "Active"
    assert _profile(iam, user)["LoginProfile"]["PasswordResetRequired"] is True
    assert "nobody knows" in (back.state.steps["credentials"].undo_message or "")
    assert "Attacker-chosen" not in outcome.paths.audit_log.read_text()


def _profile(iam: Any, user: str) -> dict[str, Any]:
    try:
        return dict(iam.get_login_profile(UserName=user))
    except iam.exceptions.NoSuchEntityException:
        return {}

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
from responder.sandbox.login_profiles import seed_login_profile
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


def _key_status(iam: Any, user: str) -> dict[str, str]:
    return {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}


def test_ways_in_older_than_the_key_are_closed_only_with_close_older(
    account: Seeded, settings: Settings, iam: Any
) -> None:
    from moto.iam.models import iam_backends

    user, long_ago = account.user_name, datetime.now(timezone.utc) - timedelta(days=30)
    team_key = iam_backends[ACCOUNT]["aws"].create_access_key(user)
    team_key.create_date = long_ago.replace(tzinfo=None)  # moto's naive UTC
    with mock.patch("responder.sandbox.service_credentials._now", return_value=long_ago):
        team = create_credential(ACCOUNT, user, "codecommit.amazonaws.com")["ServiceSpecificCredentialId"]
    seed_login_profile(ACCOUNT, user, long_ago)

    def older_state() -> tuple[Any, ...]:
        return _key_status(iam, user), credential_status(iam, user, team), "LoginProfile" in _profile(iam, user)

    before = older_state()
    assert before == ({team_key.access_key_id: "Active"}, "Active", True)
    plain = start_run(BOOK, {}, account.key, dry_run=False, confirm=None, settings=settings)
    assert plain.status == "completed", plain.message
    assert older_state() == before  # without the parameter: listed, never touched
    assert any("close_older=true" in n for n in plain.state.steps["footholds"].notes)
    assert rollback_run(plain.run_id, reactivate_keys=True, settings=settings).status == "rolled-back"

    asked = start_run(BOOK, {"close_older": "true"}, account.key, dry_run=False, confirm=None, settings=settings)
    assert asked.status == "completed", asked.message
    assert older_state() == ({team_key.access_key_id: "Inactive"}, "Inactive", False)
    assert credential_status(iam, user, account.credential_id) == "Inactive"  # containment's, as ever
    back = rollback_run(asked.run_id, reactivate_keys=True, settings=settings)
    assert back.status == "rolled-back", back.message
    assert older_state() == before

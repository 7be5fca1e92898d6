"""Revoking a role's older sessions: the console's AWSRevokeOlderSessions policy, moved forward, and its undo."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from responder.actions.iam_principals import InlinePolicySnapshot
from responder.actions.iam_sessions import (
    REVOKE_POLICY_NAME,
    RevokeParams,
    RevokeRoleSessions,
    revoke_document,
    revoked_before,
)
from responder.sandbox.seed import Seeded
from tests.factories import action_context

ROLE = "chat-app"


@pytest.fixture
def role(account: Seeded, iam: Any) -> str:
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    return ROLE


def role_policies(iam: Any) -> list[str]:
    return list(iam.list_role_policies(RoleName=ROLE)["PolicyNames"])


def test_the_document_says_the_moment_it_revokes_before() -> None:
    moment = datetime(2026, 5, 1, 12, 30, tzinfo=timezone.utc)
    document = revoke_document(moment)
    assert document["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"] == "2026-05-01T12:30:00Z"
    assert revoked_before(document) == moment
    assert revoked_before({"Statement": [{**document["Statement"][0], "Effect": "Allow"}]}) is None
    assert revoked_before({"Version": "2012-10-17"}) is None


def test_revokes_verifies_and_undo_warns(role: str, iam: Any) -> None:
    action, p = RevokeRoleSessions(), RevokeParams(role_name=role)
    snap = action.snapshot(action_context(), p)
    assert snap == InlinePolicySnapshot(policy=None)
    applied = action.apply(action_context(), p, snap, action.plan(action_context(), p, snap))
    assert role_policies(iam) == [REVOKE_POLICY_NAME] and action.verify(action_context(), p)
    undone = action.undo(action_context(), p, snap, applied.details)
    assert undone.status == "undone" and "WARNING" in undone.message
    assert role_policies(iam) == []


def test_a_revocation_already_late_enough_is_left_alone(role: str) -> None:
    action, now = RevokeRoleSessions(), RevokeParams(role_name=role)
    snap = action.snapshot(action_context(), now)
    action.apply(action_context(), now, snap, action.plan(action_context(), now, snap))
    earlier = RevokeParams(role_name=role, issued_before=datetime.now(timezone.utc) - timedelta(hours=1))
    plan = action.plan(action_context(), earlier, action.snapshot(action_context(), earlier))
    assert plan.noop and "already revoked" in plan.notes[0]


def test_undo_waits_while_the_leaked_key_still_works(role: str, iam: Any) -> None:
    action, p = RevokeRoleSessions(), RevokeParams(role_name=role)
    snap = action.snapshot(action_context(), p)
    action.apply(action_context(), p, snap, action.plan(action_context(), p, snap))
    alive = action_context(key_alive_until=datetime.now(timezone.utc) + timedelta(hours=1))
    assert action.undo(alive, p, snap, {}).status == "withheld"
    assert role_policies(iam) == [REVOKE_POLICY_NAME]

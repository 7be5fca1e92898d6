"""The access key that signed a short-term key: set Inactive, re-activated only on request."""

from __future__ import annotations

from typing import Any

import pytest

from responder.actions.iam_access_keys import AccessKeyParams, AccessKeySnapshot, DeactivateAccessKey
from responder.sandbox.seed import Seeded
from tests.factories import action_context


@pytest.fixture
def signer(account: Seeded, iam: Any) -> AccessKeyParams:
    key_id = iam.create_access_key(UserName=account.user_name)["AccessKey"]["AccessKeyId"]
    return AccessKeyParams(user_name=account.user_name, access_key_id=key_id)


def status(iam: Any, p: AccessKeyParams) -> str:
    keys = iam.list_access_keys(UserName=p.user_name)["AccessKeyMetadata"]
    return str(next(k["Status"] for k in keys if k["AccessKeyId"] == p.access_key_id))


def test_deactivates_and_reactivates_only_on_request(signer: AccessKeyParams, iam: Any) -> None:
    action = DeactivateAccessKey()
    snap = action.snapshot(action_context(), signer)
    assert snap == AccessKeySnapshot(status="Active")
    plan = action.plan(action_context(), signer, snap)
    assert [c.call for c in plan.changes] == ["iam:UpdateAccessKey"]
    action.apply(action_context(), signer, snap, plan)
    assert status(iam, signer) == "Inactive" and action.verify(action_context(), signer)
    assert action.plan(action_context(), signer, action.snapshot(action_context(), signer)).noop
    assert action.undo(action_context(), signer, snap, {}).status == "withheld"
    assert status(iam, signer) == "Inactive"
    assert action.undo(action_context(reactivate=True), signer, snap, {}).status == "undone"
    assert status(iam, signer) == "Active"


def test_a_key_the_user_does_not_have_is_a_note_not_a_change(account: Seeded) -> None:
    action = DeactivateAccessKey()
    p = AccessKeyParams(user_name=account.user_name, access_key_id="AKIAEXAMPLEEXAMPLE01")
    plan = action.plan(action_context(), p, action.snapshot(action_context(), p))
    assert plan.noop and "is not a key of user" in plan.notes[0]


def test_undo_of_a_deleted_key_says_it_is_gone(signer: AccessKeyParams, iam: Any) -> None:
    action = DeactivateAccessKey()
    snap = action.snapshot(action_context(), signer)
    iam.delete_access_key(UserName=signer.user_name, AccessKeyId=signer.access_key_id)
    assert action.undo(action_context(reactivate=True), signer, snap, {}).status == "irreversible"
    assert action.undo(action_context(), signer, AccessKeySnapshot(status="Inactive"), {}).status == "nothing-to-undo"


def test_targets_the_users_access_keys(signer: AccessKeyParams) -> None:
    (target,) = DeactivateAccessKey().targets(signer)
    assert (target.principal, target.part) == (f"user/{signer.user_name}", "access-keys")

from __future__ import annotations

from typing import Any

import pytest

from responder.actions.base import ActionContext
from responder.actions.iam_credentials import (
    DeactivateServiceCredentials,
    DeleteServiceCredentials,
    ResolveLongTermKey,
    ResolveParams,
    list_bedrock_credentials,
)
from responder.aws.clients import AwsOptions, Clients
from responder.errors import UserError
from responder.keys import parse_long_term_key
from responder.sandbox.seed import Seeded
from responder.sandbox.service_credentials import create_credential
from tests.factories import ACCOUNT, credential_status


def ctx(reactivate: bool = False) -> ActionContext:
    return ActionContext(Clients(AwsOptions(region="us-east-1")), ACCOUNT, reactivate)


def resolve(**params: Any) -> dict[str, Any]:
    action, p = ResolveLongTermKey(), ResolveParams(**params)
    return action.plan(ctx(), p, action.snapshot(ctx(), p)).outputs


def test_resolve_from_the_key(account: Seeded) -> None:
    out = resolve(key=parse_long_term_key(account.key))
    assert out["user_name"] == account.user_name
    assert out["credential_ids"] == [account.credential_id]


def test_resolve_from_user_and_credential_id(account: Seeded) -> None:
    out = resolve(user_name=account.user_name, credential_id=account.credential_id)
    assert out["credential_ids"] == [account.credential_id]


def test_resolve_finds_only_the_credential_whose_alias_the_key_carries(account: Seeded) -> None:
    """The sandbox, like AWS, names a user's second credential `<user>+1-at-...`: each key finds its own."""
    created = create_credential(ACCOUNT, account.user_name)
    assert created["ServiceCredentialAlias"] == f"{account.user_name}+1-at-{ACCOUNT}"
    second = parse_long_term_key(created["ServiceCredentialSecret"])
    assert (second.user_name, second.marker) == (account.user_name, "+1")
    out = resolve(key=second)
    assert (out["user_name"], out["credential_ids"]) == (account.user_name, [created["ServiceSpecificCredentialId"]])
    assert resolve(key=parse_long_term_key(account.key))["credential_ids"] == [account.credential_id]


def test_resolve_rejects_a_key_of_another_account(account: Seeded) -> None:
    from tests.factories import make_key

    with pytest.raises(UserError, match="belongs to account 999999999999"):
        resolve(key=parse_long_term_key(make_key("alice-at-999999999999")))


def test_resolve_rejects_a_deleted_key(account: Seeded) -> None:
    from tests.factories import make_key

    with pytest.raises(UserError, match="already be deleted"):
        resolve(key=parse_long_term_key(make_key(f"ghost-at-{ACCOUNT}")))


def test_listing_paginates_by_hand(account: Seeded, iam: Any) -> None:
    for i in range(120):  # more than one page of 100
        iam.create_user(UserName=f"u{i}")
        create_credential(ACCOUNT, f"u{i}")
    assert len(list_bedrock_credentials(iam, AllUsers=True)) == 122


def test_deactivate_round_trip(account: Seeded, iam: Any) -> None:
    action = DeactivateServiceCredentials()
    p = action.Params(user_name=account.user_name, credential_ids=[account.credential_id])
    snap = action.snapshot(ctx(), p)
    plan = action.plan(ctx(), p, snap)
    assert [(c.before, c.after) for c in plan.changes] == [("Active", "Inactive")]
    applied = action.apply(ctx(), p, snap, plan)
    assert applied.request_ids and action.verify(ctx(), p)
    assert credential_status(iam, account.user_name, account.credential_id) == "Inactive"
    assert action.plan(ctx(), p, action.snapshot(ctx(), p)).noop  # idempotent
    withheld = action.undo(ctx(), p, snap, applied.details)
    assert withheld.status == "withheld" and "re-activated only on request" in withheld.message
    assert credential_status(iam, account.user_name, account.credential_id) == "Inactive"
    assert action.undo(ctx(reactivate=True), p, snap, applied.details).status == "undone"
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"
    assert credential_status(iam, "ml-pipeline", account.bystander_credential_id) == "Active"


def test_undo_does_not_activate_what_was_already_inactive(account: Seeded, iam: Any) -> None:
    iam.update_service_specific_credential(
        UserName=account.user_name, ServiceSpecificCredentialId=account.credential_id, Status="Inactive"
    )
    action = DeactivateServiceCredentials()
    p = action.Params(user_name=account.user_name, credential_ids=[account.credential_id])
    snap = action.snapshot(ctx(), p)
    assert action.plan(ctx(), p, snap).noop
    assert action.undo(ctx(reactivate=True), p, snap, {}).status == "nothing-to-undo"
    assert credential_status(iam, account.user_name, account.credential_id) == "Inactive"


def test_delete_is_irreversible(account: Seeded, iam: Any) -> None:
    action = DeleteServiceCredentials()
    p = action.Params(user_name=account.user_name, credential_ids=[account.credential_id])
    snap = action.snapshot(ctx(), p)
    plan = action.plan(ctx(), p, snap)
    assert [c.reversible for c in plan.changes] == [False]
    action.apply(ctx(), p, snap, plan)
    assert action.verify(ctx(), p)
    assert credential_status(iam, account.user_name, account.credential_id) == "missing"
    assert action.undo(ctx(True), p, snap, {}).status == "irreversible"

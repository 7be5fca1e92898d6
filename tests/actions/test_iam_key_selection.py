"""Selecting an account's Bedrock keys with a sweep filter: the items a containment group runs over."""

from __future__ import annotations

from typing import Any

from responder.actions.iam_credentials import CredentialsParams, DeactivateServiceCredentials
from responder.actions.iam_key_selection import SelectBedrockKeys, SelectParams
from responder.keys import FAMILIES
from responder.sandbox.seed import BYSTANDER, Seeded
from tests.factories import Requests, action_context


def select(filter_text: str, requests: Requests | None = None) -> dict[str, Any]:
    action, p = SelectBedrockKeys(), SelectParams(filter=filter_text)
    ctx = action_context(requests=requests)
    return action.plan(ctx, p, action.snapshot(ctx, p)).outputs


def test_every_key_one_labelled_item(account: Seeded) -> None:
    outputs = select("all")
    labels = {k["label"] for k in outputs["keys"]}
    assert labels == {f"{account.user_name}/{account.credential_id}", f"{BYSTANDER}/{account.bystander_credential_id}"}
    assert outputs["count"] == 2
    assert all(k["status"] == "Active" and k["created"] for k in outputs["keys"])


def test_the_filter_selects(account: Seeded) -> None:
    (key,) = select(f"user={BYSTANDER}")["keys"]
    assert key["credential_id"] == account.bystander_credential_id
    assert select("no-expiry")["keys"] == [key]  # the leaked key expires in 30 days, the bystander's never
    assert select("older-than=1")["count"] == 0  # both were made today


def test_the_listing_answers_each_keys_own_snapshot(account: Seeded, requests: Requests) -> None:
    """One account-wide listing, then no read per key: a sweep of many keys starts containing sooner."""
    ctx = action_context(requests=requests)
    action, p = SelectBedrockKeys(), SelectParams(filter="all")
    action.snapshot(ctx, p)
    assert requests.sent.count("ListServiceSpecificCredentials") == len(FAMILIES)  # one per family
    deactivate = DeactivateServiceCredentials()
    params = CredentialsParams(user_name=BYSTANDER, credential_ids=[account.bystander_credential_id])
    assert deactivate.snapshot(ctx, params).credentials[account.bystander_credential_id] is not None
    assert requests.sent.count("ListServiceSpecificCredentials") == len(FAMILIES)

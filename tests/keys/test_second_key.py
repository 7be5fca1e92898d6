"""A user's second key: its alias reads `<user>+1-at-...`; a bystander may be literally named `<user>+1`."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from responder.actions.base import ActionContext
from responder.actions.iam_credentials import ResolveLongTermKey, ResolveParams
from responder.aws.clients import AwsOptions, Clients
from responder.engine.commands.operations import start_run
from responder.engine.running.context import Settings
from responder.errors import UserError
from responder.keys import parse_long_term_key
from responder.sandbox.seed import Seeded
from responder.sandbox.service_credentials import create_credential
from tests.factories import ACCOUNT, Requests, credential_status, make_key


def resolve(**params: Any) -> dict[str, Any]:
    ctx = ActionContext(Clients(AwsOptions(region="us-east-1")), ACCOUNT, False)
    action, p = ResolveLongTermKey(), ResolveParams(**params)
    return action.plan(ctx, p, action.snapshot(ctx, p)).outputs


def test_decoding_splits_the_marker_from_the_user() -> None:
    key = parse_long_term_key(make_key(f"thomas+1-at-{ACCOUNT}"))
    assert (key.user_name, key.marker, key.alias_user) == ("thomas", "+1", "thomas+1")
    assert key.candidate_users == ("thomas", "thomas+1")
    plain = parse_long_term_key(make_key(f"a+b-at-{ACCOUNT}"))  # a '+' inside a name is no marker
    assert (plain.user_name, plain.marker) == ("a+b", "")


def test_the_second_key_is_contained_on_its_user(account: Seeded, settings: Settings, requests: Requests) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    second = create_credential(ACCOUNT, account.user_name)
    outcome = start_run("leaked-long-term-key", {}, second["ServiceCredentialSecret"], False, None, settings)
    assert outcome.status == "completed"
    assert outcome.state.steps["resolve"].outputs["user_name"] == account.user_name
    assert credential_status(iam, account.user_name, second["ServiceSpecificCredentialId"]) == "Inactive"
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"  # the first key: not leaked


def test_a_bystander_named_user_plus_1_is_never_touched(
    account: Seeded, settings: Settings, requests: Requests
) -> None:
    """`thomas`'s second key and user `thomas+1`'s first carry the same alias: stop before any change."""
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="thomas")
    iam.create_user(UserName="thomas+1")
    create_credential(ACCOUNT, "thomas")
    second = create_credential(ACCOUNT, "thomas")
    bystander = create_credential(ACCOUNT, "thomas+1")
    assert second["ServiceCredentialAlias"] == bystander["ServiceCredentialAlias"] == f"thomas+1-at-{ACCOUNT}"
    with pytest.raises(UserError) as stopped:
        start_run("leaked-long-term-key", {}, second["ServiceCredentialSecret"], False, None, settings)
    message = stopped.value.message
    assert "user thomas:" in message and "user thomas+1:" in message and "-p credential_id=" in message
    assert requests.mutating == []
    assert credential_status(iam, "thomas+1", bystander["ServiceSpecificCredentialId"]) == "Active"
    # Named, the one credential is contained, and the bystander still is not touched.
    cid = second["ServiceSpecificCredentialId"]
    start_run("leaked-long-term-key", {"credential_id": cid}, second["ServiceCredentialSecret"], False, None, settings)
    assert credential_status(iam, "thomas", cid) == "Inactive"
    assert credential_status(iam, "thomas+1", bystander["ServiceSpecificCredentialId"]) == "Active"
    assert "ResponderDenyBedrockBearerTokens" not in iam.list_user_policies(UserName="thomas+1")["PolicyNames"]


def test_a_user_named_plus_1_alone_is_found_by_alias(account: Seeded) -> None:
    boto3.client("iam", region_name="us-east-1").create_user(UserName="anika+1")
    first = create_credential(ACCOUNT, "anika+1")
    out = resolve(key=parse_long_term_key(first["ServiceCredentialSecret"]))
    assert (out["user_name"], out["credential_ids"]) == ("anika+1", [first["ServiceSpecificCredentialId"]])


def test_identify_gives_the_machine_the_second_keys_user_and_credential(account: Seeded, settings: Settings) -> None:
    """The exported machine contains every key of the user it is given unless credential_ids narrow it."""
    from responder.engine.commands.identify import identify

    second = create_credential(ACCOUNT, account.user_name)
    found = identify(second["ServiceCredentialSecret"], "key.txt", True, settings)
    assert found["execution_input"] == {
        "user_name": account.user_name,
        "credential_ids": [second["ServiceSpecificCredentialId"]],
    }
    assert identify(second["ServiceCredentialSecret"], "key.txt", False, settings)["execution_input"] == {
        "user_name": account.user_name
    }

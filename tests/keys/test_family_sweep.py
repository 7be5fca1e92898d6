"""`sweep` and `contain-bedrock-keys` cover every key family: one listing per family, a family column and filter."""

from __future__ import annotations

import boto3

from responder.actions.key_inventory import SweepFilter, sweep
from responder.engine.commands.operations import start_run
from responder.engine.running.context import Settings
from responder.keys import FAMILIES
from responder.sandbox.seed import Seeded
from responder.sandbox.service_credentials import create_credential
from tests.factories import ACCOUNT, credential_status, inline_policies


def seed_every_family() -> dict[str, str]:
    """A user per family holding one key of it: family name -> credential id."""
    iam = boto3.client("iam", region_name="us-east-1")
    held = {}
    for family in FAMILIES.values():
        if family.name == "bedrock":
            continue
        iam.create_user(UserName=f"{family.name}-owner")
        held[family.name] = create_credential(ACCOUNT, f"{family.name}-owner", family.service_name)[
            "ServiceSpecificCredentialId"
        ]
    return held


def test_sweep_lists_every_family_and_filters_by_one(account: Seeded) -> None:
    held = seed_every_family()
    iam = boto3.client("iam", region_name="us-east-1")
    found = sweep(iam, SweepFilter(), None, ACCOUNT, flag_owners=False)
    assert {(f.family, f.credential_id) for f in found} >= {(name, cid) for name, cid in held.items()}
    assert {f.family for f in found} == set(FAMILIES)
    only = sweep(iam, SweepFilter.parse("family=cloudwatch-logs"), None, ACCOUNT, flag_owners=False)
    assert [(f.family, f.credential_id) for f in only] == [("cloudwatch-logs", held["cloudwatch-logs"])]


def test_contain_bedrock_keys_contains_a_family_with_its_own_deny(account: Seeded, settings: Settings) -> None:
    held = seed_every_family()
    outcome = start_run("contain-bedrock-keys", {"filter": "family=cloudwatch-logs"}, None, False, None, settings)
    assert outcome.status == "completed"
    iam = boto3.client("iam", region_name="us-east-1")
    listed = iam.list_service_specific_credentials(UserName="cloudwatch-logs-owner", ServiceName="logs.amazonaws.com")
    assert [c["Status"] for c in listed["ServiceSpecificCredentials"]] == ["Inactive"]
    deny = inline_policies(iam, "cloudwatch-logs-owner")[FAMILIES["cloudwatch-logs"].deny_policy_name]
    assert deny["Statement"]["Action"] == ["logs:CallWithBearerToken"]
    # Every other family's key, Bedrock's included, is untouched.
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"
    other = iam.list_service_specific_credentials(UserName="cloudwatch-owner", ServiceName="cloudwatch.amazonaws.com")
    assert [c["Status"] for c in other["ServiceSpecificCredentials"]] == ["Active"]
    assert held


def test_family_neutral_names_find_the_playbooks_that_cover_every_family() -> None:
    from responder.playbook.checks import find_playbook

    assert find_playbook("contain-api-keys") == find_playbook("contain-bedrock-keys")
    assert find_playbook("api-key-guardrails") == find_playbook("bedrock-key-guardrails")


def test_sweep_flags_users_named_as_a_family_console_names_them(account: Seeded) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="AeaApiKey-x1y2")
    create_credential(ACCOUNT, "AeaApiKey-x1y2", FAMILIES["claude-platform"].service_name)
    flags = {f.user_name: f.flags for f in sweep(iam, SweepFilter(), None, ACCOUNT, flag_owners=False)}
    assert "console-made" in flags["AeaApiKey-x1y2"] and "console-made" in flags[account.user_name]
    assert "console-made" not in flags["ml-pipeline"]

"""A short-term key signed by an IAM user's access key: after containment (the signing key deactivated, the user
denied bearer tokens) the footholds of the key's life are undone as for a long-term key (an access key, a Bedrock key,
policies and a console password made on the user, the region's invocation logging deleted), and rollback puts back
exactly what the run found. The signing key is containment's alone, and a key the team made before the key is never
touched unless the operator asks (close_older)."""

from __future__ import annotations

from typing import Any

import boto3

from responder.actions.iam_policies import DEFAULT_POLICY_NAME, DENY_BEARER_TOKENS
from responder.engine.commands.operations import start_run
from responder.engine.commands.recovery import rollback_run
from responder.engine.journal import events as j
from responder.engine.running.context import Settings
from responder.sandbox.llmjacking import BACKDOOR_INLINE, TEAM_LOGGING
from responder.sandbox.seed import Seeded
from responder.sandbox.user_signed import (
    SIGNING_USER,
    date_back,
    seed_user_signed_key,
    seed_user_signed_llmjacking,
)
from tests.factories import ACCOUNT, Requests

BOOK = "leaked-short-term-key"
USER, REGION = SIGNING_USER, "us-west-2"
FOOTHOLD_STEPS = ("footholds", "grants", "credentials", "logging")


def _keys(iam: Any) -> dict[str, str]:
    return {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]}


def _state(iam: Any, bedrock: Any) -> dict[str, Any]:
    """Everything the run may change, read from the emulated account afresh."""
    inline = iam.list_user_policies(UserName=USER)["PolicyNames"]
    try:
        iam.get_login_profile(UserName=USER)
        console = True
    except iam.exceptions.NoSuchEntityException:
        console = False
    logging = bedrock.get_model_invocation_logging_configuration()
    credentials = iam.list_service_specific_credentials(UserName=USER)["ServiceSpecificCredentials"]
    return {
        "keys": _keys(iam),
        "credentials": {c["ServiceSpecificCredentialId"]: c["Status"] for c in credentials},
        "inline": {n: iam.get_user_policy(UserName=USER, PolicyName=n)["PolicyDocument"] for n in inline},
        "attached": [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=USER)["AttachedPolicies"]],
        "console": console,
        "logging": logging.get("loggingConfig") or None,
    }


def test_every_foothold_of_the_keys_life_is_undone_and_rolled_back_exactly(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    seeded = seed_user_signed_llmjacking(ACCOUNT)
    signing, planted, token, policies = (
        seeded.signed.signing_key_id,
        seeded.planted_key_id,
        seeded.key,
        seeded.policies,
    )
    bedrock = boto3.client("bedrock", region_name=REGION)
    before = _state(iam, bedrock)

    dry = start_run(BOOK, {}, token, dry_run=True, confirm=None, settings=settings)
    assert dry.status == "planned" and requests.mutating == []  # shown, nothing sent
    planned = {s: [c["call"] for c in dry.state.steps[s].changes] for s in FOOTHOLD_STEPS}
    assert planned == {
        "footholds": ["iam:UpdateAccessKey"],
        "grants": ["iam:DetachUserPolicy", "iam:DeleteUserPolicy"],
        "credentials": ["iam:UpdateServiceSpecificCredential", "iam:DeleteLoginProfile"],
        "logging": ["bedrock:PutModelInvocationLoggingConfiguration"],
    }

    run = start_run(BOOK, {}, token, dry_run=False, confirm=None, settings=settings)
    assert run.status == "completed", run.message
    steps = run.state.steps
    assert {s: steps[s].status for s in ("deactivate-access-key", "deny-user-bearer-tokens", *FOOTHOLD_STEPS)} == {
        s: "verified" for s in ("deactivate-access-key", "deny-user-bearer-tokens", *FOOTHOLD_STEPS)
    }
    assert steps["policies"].status == steps["trust"].status == "skipped"  # the role path's
    # nothing of the footholds goes out before the last containment change has answered
    records = run.state.records
    contained = [i for i, r in enumerate(records) if r["event"] == j.APPLIED and r["step"] not in FOOTHOLD_STEPS]
    footholds = [i for i, r in enumerate(records) if r["event"] == j.APPLYING and r["step"] in FOOTHOLD_STEPS]
    assert len(contained) == 2 and len(footholds) == len(FOOTHOLD_STEPS) and max(contained) < min(footholds)
    # the signing key is containment's: changed once, by deactivate-access-key, and never called the team's
    assert [c["parameters"]["AccessKeyId"] for c in steps["footholds"].changes] == [planted]
    (said,) = [n for n in steps["footholds"].notes if signing in n]
    assert "signed the leaked key" in said and "predates" not in said
    assert requests.mutating.count("UpdateAccessKey") == 2  # the signing key once, the planted key once
    after = _state(iam, bedrock)
    assert after["keys"] == {signing: "Inactive", planted: "Inactive"}
    assert after["inline"] == {DEFAULT_POLICY_NAME: DENY_BEARER_TOKENS}  # the backdoor inline policy is gone
    assert policies.managed_arn not in after["attached"] and BACKDOOR_INLINE[0] not in after["inline"]
    assert after["console"] is False and after["logging"] == TEAM_LOGGING
    assert after["credentials"] == {seeded.window_credential_id: "Inactive"}

    back = rollback_run(run.run_id, reactivate_keys=True, settings=settings)
    assert back.status == "rolled-back", back.message
    assert _state(iam, bedrock) == before  # exactly as the window left it (the console password recreated, unknown)


def test_the_teams_older_key_is_touched_only_with_close_older(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    signed = seed_user_signed_key(ACCOUNT)
    signing, token = signed.signing_key_id, signed.key
    team = iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    date_back(ACCOUNT, team, 40)

    run = start_run(BOOK, {}, token, dry_run=False, confirm=None, settings=settings)
    assert run.status == "completed", run.message
    assert _keys(iam) == {signing: "Inactive", team: "Active"}  # the team's key: listed, with the command
    (listed,) = [n for n in run.state.steps["footholds"].notes if team in n]
    assert "predates the exposure window" in listed and "close_older=true" in listed
    assert rollback_run(run.run_id, reactivate_keys=True, settings=settings).status == "rolled-back"
    assert _keys(iam) == {signing: "Active", team: "Active"}

    # Asked: the older key is closed; the signing key, left Active by the operator's choice, is still not this step's.
    asked = {"close_older": "true", "deactivate_access_key": "false"}
    closed = start_run(BOOK, asked, token, dry_run=False, confirm=None, settings=settings)
    assert closed.status == "completed", closed.message
    assert [c["parameters"]["AccessKeyId"] for c in closed.state.steps["footholds"].changes] == [team]
    assert _keys(iam) == {signing: "Active", team: "Inactive"}
    assert rollback_run(closed.run_id, reactivate_keys=True, settings=settings).status == "rolled-back"
    assert _keys(iam) == {signing: "Active", team: "Active"}

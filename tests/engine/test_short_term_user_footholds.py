"""A short-term key signed by an IAM user's access key: after containment (the signing key deactivated, the user
denied bearer tokens) the footholds of the key's life are undone as for a long-term key (an access key, policies and
a console password made on the user, the region's invocation logging deleted), and rollback puts back exactly what
the run found. The signing key is containment's alone, and a key the team made before the key is never touched
unless the operator asks (close_older)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import boto3

from responder.actions.iam_policies import DEFAULT_POLICY_NAME, DENY_BEARER_TOKENS
from responder.engine.commands.operations import start_run
from responder.engine.commands.recovery import rollback_run
from responder.engine.journal import events as j
from responder.engine.running.context import Settings
from responder.sandbox.llmjacking import BACKDOOR_INLINE, TEAM_LOGGING, seed_logging_deleted, seed_policy_footholds
from responder.sandbox.seed import Seeded
from tests.factories import ACCOUNT, Requests, make_token

BOOK = "leaked-short-term-key"
USER, REGION = "ci-bot", "us-west-2"
FOOTHOLD_STEPS = ("footholds", "grants", "credentials", "logging")


def _made_days_ago(key_id: str, days: int) -> None:
    """Date an access key back: IAM's CreateDate is what tells the team's keys from the window's."""
    from moto.iam.models import iam_backends

    key = iam_backends[ACCOUNT]["aws"].access_keys[key_id]
    key.create_date = (datetime.now(timezone.utc) - timedelta(days=days)).replace(tzinfo=None)  # moto's naive UTC


def _signed_key(iam: Any, days_old: int = 10) -> tuple[str, str, datetime]:
    """The user, its access key (made `days_old` days ago), and a short-term key it signed 30 minutes ago."""
    iam.create_user(UserName=USER)
    signing = iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    _made_days_ago(signing, days_old)
    issued = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=30)
    return signing, make_token(signing, REGION, 3600, issued=issued), issued


def _keys(iam: Any) -> dict[str, str]:
    return {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]}


def _state(iam: Any) -> dict[str, Any]:
    """Everything the run may change, read from the emulated account afresh."""
    inline = iam.list_user_policies(UserName=USER)["PolicyNames"]
    try:
        iam.get_login_profile(UserName=USER)
        console = True
    except iam.exceptions.NoSuchEntityException:
        console = False
    logging = boto3.client("bedrock", region_name=REGION).get_model_invocation_logging_configuration()
    return {
        "keys": _keys(iam),
        "inline": {n: iam.get_user_policy(UserName=USER, PolicyName=n)["PolicyDocument"] for n in inline},
        "attached": [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=USER)["AttachedPolicies"]],
        "console": console,
        "logging": logging.get("loggingConfig") or None,
    }


def test_every_foothold_of_the_keys_life_is_undone_and_rolled_back_exactly(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    signing, token, issued = _signed_key(iam)
    planted = iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]  # during the key's life
    iam.create_login_profile(UserName=USER, Password="Attacker-chosen-1!")
    policies = seed_policy_footholds(ACCOUNT, "user", USER, issued)
    seed_logging_deleted(ACCOUNT, REGION, issued)
    before = _state(iam)

    dry = start_run(BOOK, {}, token, dry_run=True, confirm=None, settings=settings)
    assert dry.status == "planned" and requests.mutating == []  # shown, nothing sent
    planned = {s: [c["call"] for c in dry.state.steps[s].changes] for s in FOOTHOLD_STEPS}
    assert planned == {
        "footholds": ["iam:UpdateAccessKey"],
        "grants": ["iam:DetachUserPolicy", "iam:DeleteUserPolicy"],
        "credentials": ["iam:DeleteLoginProfile"],
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
    after = _state(iam)
    assert after["keys"] == {signing: "Inactive", planted: "Inactive"}
    assert after["inline"] == {DEFAULT_POLICY_NAME: DENY_BEARER_TOKENS}  # the backdoor inline policy is gone
    assert policies.managed_arn not in after["attached"] and BACKDOOR_INLINE[0] not in after["inline"]
    assert after["console"] is False and after["logging"] == TEAM_LOGGING

    back = rollback_run(run.run_id, reactivate_keys=True, settings=settings)
    assert back.status == "rolled-back", back.message
    assert _state(iam) == before  # exactly as the window left it (the console password recreated, unknown)


def test_the_teams_older_key_is_touched_only_with_close_older(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    signing, token, _ = _signed_key(iam)
    team = iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    _made_days_ago(team, 40)

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

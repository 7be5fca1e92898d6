"""Footholds become steps: an access key created on the user during the key's life is set Inactive after
containment, shown by --dry-run, journaled, verified and restored exactly by rollback; an older key is only listed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from responder.actions.base import ActionContext
from responder.actions.footholds import DeactivateWindowAccessKeys, WindowKeysParams
from responder.aws.clients import AwsOptions, Clients
from responder.engine.commands.operations import start_run
from responder.engine.commands.recovery import rollback_run
from responder.engine.journal import events as j
from responder.engine.running.context import Settings
from responder.sandbox.seed import Seeded
from tests.factories import ACCOUNT, Requests

BOOK = "leaked-long-term-key"


def _status(iam: Any, user: str, key_id: str) -> str:
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    return next(str(k["Status"]) for k in keys if k["AccessKeyId"] == key_id)


def test_a_key_made_during_the_window_is_deactivated_after_containment_and_rolled_back(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    planted = iam.create_access_key(UserName=account.user_name)["AccessKey"]["AccessKeyId"]  # after the key's birth
    dry = start_run(BOOK, {}, account.key, dry_run=True, confirm=None, settings=settings)
    assert dry.status == "planned" and requests.mutating == []  # the dry run shows it and sends nothing
    assert [c["call"] for c in dry.state.steps["footholds"].changes] == ["iam:UpdateAccessKey"]
    assert _status(iam, account.user_name, planted) == "Active"

    outcome = start_run(BOOK, {}, account.key, dry_run=False, confirm=None, settings=settings)
    assert outcome.status == "completed", outcome.message
    assert outcome.state.steps["footholds"].status == "verified"
    assert _status(iam, account.user_name, planted) == "Inactive"
    # after every containment change: the foothold's write-ahead record follows the last containment answer
    records = outcome.state.records
    foothold_at = next(i for i, r in enumerate(records) if r["event"] == j.APPLYING and r["step"] == "footholds")
    contained = [i for i, r in enumerate(records) if r["event"] == j.APPLIED and r["step"] != "footholds"]
    assert contained and max(contained) < foothold_at
    assert records[foothold_at]["targets"] == [
        {"kind": "principal", "principal": f"user/{account.user_name}", "part": "access-keys"}
    ]
    assert requests.mutating[-1] == "UpdateAccessKey"

    back = rollback_run(outcome.run_id, reactivate_keys=False, settings=settings)
    assert back.state.steps["footholds"].undo_status == "undone"
    assert _status(iam, account.user_name, planted) == "Active"  # exactly as before the run


def test_a_key_older_than_the_window_is_listed_never_changed(account: Seeded, iam: Any) -> None:
    older = iam.create_access_key(UserName=account.user_name)["AccessKey"]["AccessKeyId"]
    ctx = ActionContext(Clients(AwsOptions(region="us-east-1")), ACCOUNT)
    params = WindowKeysParams(user_name=account.user_name, since=datetime.now(timezone.utc) + timedelta(minutes=1))
    action = DeactivateWindowAccessKeys()
    plan = action.plan(ctx, params, action.snapshot(ctx, params))
    assert plan.changes == []
    (note,) = plan.notes
    assert older in note and "predates the exposure window" in note and "never used" in note
    assert f"update-access-key --user-name {account.user_name} --access-key-id {older}" in note


def test_the_operators_own_user_is_never_touched(account: Seeded, iam: Any) -> None:
    iam.create_access_key(UserName=account.user_name)
    operator = f"arn:aws:iam::{ACCOUNT}:user/team/{account.user_name}"
    ctx = ActionContext(Clients(AwsOptions(region="us-east-1")), ACCOUNT)
    ctx._identity = type(ctx.identity)(ACCOUNT, operator)
    params = WindowKeysParams(user_name=account.user_name, since=datetime.now(timezone.utc) - timedelta(days=1))
    action = DeactivateWindowAccessKeys()
    plan = action.plan(ctx, params, action.snapshot(ctx, params))
    assert plan.changes == [] and "your own credentials" in plan.notes[0]

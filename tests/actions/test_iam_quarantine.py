"""Console-made users: sweep flags one that holds more than its key (or none), and leaked-long-term-key
-p quarantine_user=true quarantines the key's user reversibly: deny-all, access keys Inactive, password removed.
Dry-run sends nothing; the journal has each change before and after; rollback restores all but the password."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from responder.actions.console_users import flag_console_users
from responder.actions.iam_quarantine import DENY_ALL, QUARANTINE_POLICY_NAME
from responder.actions.key_inventory import SweepFilter, sweep
from responder.engine.commands.operations import start_run
from responder.engine.commands.recovery import rollback_run
from responder.engine.journal import events as j
from responder.engine.running.context import Settings
from responder.keys import FAMILIES
from responder.sandbox import login_profiles
from responder.sandbox.seed import Seeded
from responder.sandbox.service_credentials import create_credential
from tests.factories import ACCOUNT, Requests, inline_policies

BOOK = "leaked-long-term-key"
S3_ALL = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'


def _state(iam: Any, user: str) -> dict[str, Any]:
    """What a quarantine changes, read independently of the action's own reads."""
    keys = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}
    try:
        iam.get_login_profile(UserName=user)
        password = True
    except iam.exceptions.NoSuchEntityException:
        password = False
    return {"policies": inline_policies(iam, user), "keys": keys, "password": password}


def _pivoted(iam: Any, user: str) -> str:
    """Give the console-made user a way in beyond its key: an access key and a console password made before the key
    (so no foothold step touches them: only the quarantine does)."""
    old = datetime.now(timezone.utc) - timedelta(days=400)
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    from moto.iam.models import iam_backends

    iam_backends[ACCOUNT]["aws"].users[user].access_keys[-1].create_date = old
    iam.create_login_profile(UserName=user, Password="An0ld-Passw0rd!")
    setattr(iam_backends[ACCOUNT]["aws"].users[user], login_profiles.CREATED_ATTR, old)
    return str(key)


def test_quarantine_is_dry_run_safe_journaled_and_rolled_back(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    user = account.user_name
    key_id = _pivoted(iam, user)
    before = _state(iam, user)
    params = {"quarantine_user": "true"}

    dry = start_run(BOOK, params, account.key, dry_run=True, confirm=None, settings=settings)
    assert dry.status == "planned" and requests.mutating == []
    planned = [c["call"] for c in dry.state.steps["quarantine"].changes]
    assert planned == ["iam:PutUserPolicy", "iam:UpdateAccessKey", "iam:DeleteLoginProfile"]
    assert _state(iam, user) == before

    run = start_run(BOOK, params, account.key, dry_run=False, confirm=None, settings=settings)
    assert run.status == "completed", run.message
    assert run.state.steps["quarantine"].status == "verified"
    after = _state(iam, user)
    assert after["policies"][QUARANTINE_POLICY_NAME] == DENY_ALL
    assert after["keys"] == {key_id: "Inactive"} and after["password"] is False
    # Journaled before it was sent (write-ahead, with the state before) and after (AWS's answer).
    records = [r for r in run.state.records if r.get("step") == "quarantine"]
    events = [r["event"] for r in records]
    assert events.index(j.APPLYING) < events.index(j.APPLIED)
    snapshot = next(r for r in records if r["event"] == j.APPLYING)
    assert any(k["access_key_id"] == key_id for k in snapshot["snapshot"]["access_keys"])
    assert snapshot["snapshot"]["login_profile"]["password_reset_required"] is False

    undone = rollback_run(run.run_id, reactivate_keys=True, settings=settings)
    assert undone.status == "rolled-back", undone.message
    restored = _state(iam, user)
    # Exact but for the password, which AWS cannot return: the undo says so, with the command to set a new one.
    assert restored["policies"] == before["policies"] and restored["keys"] == before["keys"]
    assert restored["password"] is False
    assert "create-login-profile" in (undone.state.steps["quarantine"].undo_message or "")


def test_the_step_is_off_unless_asked(account: Seeded, settings: Settings, iam: Any) -> None:
    _pivoted(iam, account.user_name)
    run = start_run(BOOK, {}, account.key, dry_run=False, confirm=None, settings=settings)
    assert run.status == "completed", run.message
    assert QUARANTINE_POLICY_NAME not in inline_policies(iam, account.user_name)
    assert _state(iam, account.user_name)["password"] is True


def test_sweep_flags_console_users_that_hold_more_than_their_key_or_none(account: Seeded, iam: Any) -> None:
    _pivoted(iam, account.user_name)  # BedrockAPIKey-demo: its key, plus an access key and a password
    iam.create_user(UserName="BedrockAPIKey-gone")  # its key was deleted: left over
    iam.create_user(UserName="AeaApiKey-ok12")  # Claude Platform's: its key and its policy only
    create_credential(ACCOUNT, "AeaApiKey-ok12", FAMILIES["claude-platform"].service_name)
    iam.create_user(UserName="BedrockAPIKey-wide")  # holds a key, and a policy beyond Bedrock's
    create_credential(ACCOUNT, "BedrockAPIKey-wide")
    iam.create_policy(PolicyName="S3All", PolicyDocument=S3_ALL)
    iam.attach_user_policy(UserName="BedrockAPIKey-wide", PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/S3All")

    keep = SweepFilter()
    findings = sweep(iam, keep, None, ACCOUNT, flag_owners=False)
    findings += flag_console_users(iam, keep, findings, ACCOUNT)
    flags = {f.user_name: f.flags for f in findings}
    # its inline team-bedrock-access policy allows beyond the family's managed policy too
    assert {"access-keys", "console-password", "beyond-family-policy"} <= set(flags[account.user_name])
    gone = next(f for f in findings if f.user_name == "BedrockAPIKey-gone")
    assert gone.credential_id == "" and gone.status == "no-key" and "no-key" in gone.flags
    assert "beyond-family-policy" in flags["BedrockAPIKey-wide"]
    assert flags["AeaApiKey-ok12"] == ["never-expires", "console-made"]
    assert not {"no-key", "access-keys"} & set(flags["ml-pipeline"])  # not console-made: never flagged so
    # The family filter keeps to one family's console users.
    only = flag_console_users(iam, SweepFilter(family="claude-platform"), [], ACCOUNT)
    assert [f.user_name for f in only] == ["AeaApiKey-ok12"]

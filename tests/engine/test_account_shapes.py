"""Containment in accounts shaped the way AWS allows and the plain sandbox did not: a renamed user, a user
whose every policy slot is taken. Through the CLI, as an operator runs it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from responder.actions.iam_policies import DEFAULT_POLICY_NAME, DENY_BEARER_TOKENS
from responder.cli.main import app
from responder.sandbox.seed import Seeded
from tests.factories import credential_status, fill_inline_budget, inline_policies

runner = CliRunner()


def contain(key: str, tmp_path: Path) -> Any:
    (tmp_path / "key.txt").write_text(key)
    args = ["run", "leaked-long-term-key", "--key-file", str(tmp_path / "key.txt"), "--yes"]
    return runner.invoke(app, [*args, "--runs-dir", str(tmp_path / "runs")])


def test_a_renamed_users_old_key_contains_the_user_under_its_new_name(
    account: Seeded, iam: Any, tmp_path: Path
) -> None:
    """The key still says the old name (AWS keeps the alias it issued); the credential knows the new one."""
    renamed = account.user_name + "-renamed"
    iam.update_user(UserName=account.user_name, NewUserName=renamed)
    result = contain(account.key, tmp_path)
    assert result.exit_code == 0, result.output
    assert credential_status(iam, renamed, account.credential_id) == "Inactive"
    assert inline_policies(iam, renamed)[DEFAULT_POLICY_NAME] == DENY_BEARER_TOKENS


def test_ten_managed_policies_and_a_full_inline_budget_stop_the_run_saying_why(
    account: Seeded, iam: Any, tmp_path: Path
) -> None:
    """Neither the inline deny (budget full) nor its managed fallback (10 policies attached) fits: the run stops
    with exit 1, the key stays deactivated, and the one line names AWS's refusal."""
    fill_inline_budget(iam, user=account.user_name)
    document = json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}})
    for n in range(10):
        arn = iam.create_policy(PolicyName=f"team-{n:02d}", PolicyDocument=document)["Policy"]["Arn"]
        iam.attach_user_policy(UserName=account.user_name, PolicyArn=arn)
    result = contain(account.key, tmp_path)
    assert result.exit_code == 1, result.output
    assert "LimitExceeded" in result.stderr, result.output
    assert "Detach a managed policy or shorten an inline one" in result.stderr  # and what to do about it
    assert credential_status(iam, account.user_name, account.credential_id) == "Inactive"  # partial beats none
    attached = iam.list_attached_user_policies(UserName=account.user_name)["AttachedPolicies"]
    assert len(attached) == 10 and not any("Responder" in a["PolicyName"] for a in attached)
    assert [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]] == [
        f"team-{n:02d}" for n in range(10)
    ]

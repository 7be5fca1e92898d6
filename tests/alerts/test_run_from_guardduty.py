"""`responder run PLAYBOOK --from guardduty FINDING`: on a laptop, what the exported machine does on GuardDuty's
event: the principal the finding names is contained, only in the finding's own account."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from responder.actions.iam_policies import DEFAULT_POLICY_NAME
from responder.cli.main import app
from responder.sandbox.seed import Seeded, SeededShortTerm
from tests.factories import ACCOUNT, credential_status, inline_policies

runner = CliRunner()
FIXTURE = Path(__file__).parent / "fixtures" / "guardduty.json"


def finding(tmp_path: Path, user_type: str, name: str, account: str = ACCOUNT) -> Path:
    event = copy.deepcopy(json.loads(FIXTURE.read_text()))
    event["detail"]["accountId"] = account
    event["detail"]["resource"]["accessKeyDetails"].update(userType=user_type, userName=name)
    path = tmp_path / "finding.json"
    path.write_text(json.dumps(event))
    return path


def run(tmp_path: Path, *args: str) -> Any:
    return runner.invoke(app, ["run", *args, "--yes", "-o", "json", "--runs-dir", str(tmp_path / "runs")])


def test_a_users_finding_contains_the_users_keys_and_the_report_keeps_the_finding(
    account: Seeded, tmp_path: Path, iam: Any
) -> None:
    path = finding(tmp_path, "IAMUser", account.user_name)
    done = run(tmp_path, "leaked-long-term-key", "--from", "guardduty", str(path))
    assert done.exit_code == 0, done.stdout + done.stderr
    assert credential_status(iam, account.user_name, account.credential_id) == "Inactive"
    assert DEFAULT_POLICY_NAME in inline_policies(iam, account.user_name)
    alert = json.loads(Path(json.loads(done.stdout)["report_json"]).read_text())["alert"]
    assert alert["principal"] == {
        "kind": "user",
        "name": account.user_name,
        "account_id": ACCOUNT,
        "finding_type": "Impact:IAMUser/AnomalousModelInvocation",
    }
    assert alert["exposed_at"] == "2026-11-30T09:10:00+00:00"  # service.eventFirstSeen


def test_a_roles_finding_denies_the_role(short_account: SeededShortTerm, tmp_path: Path, iam: Any) -> None:
    path = finding(tmp_path, "AssumedRole", short_account.role_name)
    done = run(tmp_path, "leaked-short-term-key", "--from", "guardduty", str(path))
    assert done.exit_code == 0, done.stdout + done.stderr
    policies = iam.list_role_policies(RoleName=short_account.role_name)["PolicyNames"]
    assert "AWSRevokeOlderSessions" in policies


def test_a_finding_of_another_account_is_never_contained_here(account: Seeded, tmp_path: Path, iam: Any) -> None:
    path = finding(tmp_path, "IAMUser", account.user_name, account="999988887777")  # the same name, elsewhere
    done = run(tmp_path, "leaked-long-term-key", "--from", "guardduty", str(path))
    assert done.exit_code == 2
    assert "the finding is about account 999988887777, your credentials are for account" in done.stderr
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"
    assert DEFAULT_POLICY_NAME not in inline_policies(iam, account.user_name)

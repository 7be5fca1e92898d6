"""Many alerts, one incident: `run contain-bedrock-keys --from FORMAT FILE` contains every distinct key of one
account in one run (a group per key), keys of several accounts go through the fan-out, and a key of another
account is said per key and never contained in the wrong one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from responder.actions.iam_policies import DEFAULT_POLICY_NAME
from responder.actions.named_keys import parse_named_keys, select_named
from responder.cli.main import app
from responder.errors import UserError
from responder.sandbox.organization import seed_organization
from responder.sandbox.seed import Seeded
from responder.sandbox.service_credentials import create_credential
from tests.factories import ACCOUNT, credential_status, inline_policies, make_key
from tests.test_secrets import everything_written, secret_forms

runner = CliRunner()
ELSEWHERE = "999988887777"


def seed_leaked(iam: Any, users: int) -> list[tuple[str, str, str]]:
    """Users leak-0, leak-1, ... each holding one key: (user, credential id, the key)."""
    made = []
    for n in range(users):
        iam.create_user(UserName=f"leak-{n}")
        cred = create_credential(ACCOUNT, f"leak-{n}")
        made.append((f"leak-{n}", cred["ServiceSpecificCredentialId"], cred["ServiceCredentialSecret"]))
    return made


def keys_file(tmp_path: Path, *keys: str) -> Path:
    path = tmp_path / "keys.txt"
    path.write_text("".join(f"{k}\n" for k in keys))
    return path


def gitleaks_report(tmp_path: Path, keys: list[str]) -> Path:
    """Each key found twice (two commits), as a whole-secret gitleaks finding."""
    report = [
        {"RuleID": "aws-amazon-bedrock-api-key-long-lived", "Secret": k, "File": "app.env", "StartLine": n + 1,
         "Commit": commit, "Date": date}
        for commit, date in (("a1b2c3d", "2026-11-30T10:00:00Z"), ("d3c2b1a", "2026-11-29T08:00:00Z"))
        for n, k in enumerate(keys)
    ]  # fmt: skip
    path = tmp_path / "gitleaks.json"
    path.write_text(json.dumps(report))
    return path


def invoke(tmp_path: Path, *args: str) -> Any:
    return runner.invoke(app, [*args, "--runs-dir", str(tmp_path / "runs")])


def test_one_run_contains_every_key_of_the_alert_once(account: Seeded, tmp_path: Path, iam: Any) -> None:
    leaked = seed_leaked(iam, 3)
    report = gitleaks_report(tmp_path, [k for _, _, k in leaked])
    identified = invoke(tmp_path, "identify", "--from", "gitleaks", str(report), "--offline")
    assert f"All in one run: responder run contain-bedrock-keys --from gitleaks {report} --dry-run" in identified.stdout
    done = invoke(tmp_path, "run", "contain-api-keys", "--from", "gitleaks", str(report), "--yes", "-o", "json")
    assert done.exit_code == 0, done.stdout + done.stderr
    outcome = json.loads(done.stdout)
    steps = json.loads(Path(outcome["report_json"]).read_text())["steps"]
    # One group per distinct key (six findings, three keys), nothing else.
    labels = sorted(f"{user}/{cred}" for user, cred, _ in leaked)
    expected = ["select"] + [f"{s}[{label}]" for label in labels for s in ("deactivate", "deny-bearer-tokens")]
    assert sorted(s["id"] for s in steps) == sorted(expected)
    for user, cred, _ in leaked:
        assert credential_status(iam, user, cred) == "Inactive"
        assert DEFAULT_POLICY_NAME in inline_policies(iam, user)
    # The seeded key the alert does not name is untouched.
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"
    alert = json.loads(Path(outcome["report_json"]).read_text())["alert"]
    assert (len(alert["findings"]), len(alert["keys"]), alert["exposed_at"]) == (6, 3, "2026-11-29T08:00:00+00:00")
    seen = done.stdout + done.stderr + everything_written(tmp_path / "runs")
    for _, _, key in leaked:
        assert all(form not in seen for form in secret_forms(key))


def test_a_one_key_playbook_names_the_one_run_for_many_keys(account: Seeded, tmp_path: Path, iam: Any) -> None:
    leaked = seed_leaked(iam, 2)
    path = keys_file(tmp_path, *(k for _, _, k in leaked))
    result = invoke(tmp_path, "run", "leaked-long-term-key", "--from", "keys", str(path), "--yes")
    assert result.exit_code == 2
    assert f"contain them all in one run: responder run contain-bedrock-keys --from keys {path}" in result.stderr
    assert all(credential_status(iam, user, cred) == "Active" for user, cred, _ in leaked)


def test_keys_of_several_accounts_are_refused_with_the_fan_out_command(
    account: Seeded, tmp_path: Path, iam: Any
) -> None:
    [(user, cred, key)] = seed_leaked(iam, 1)
    path = keys_file(tmp_path, key, make_key(f"eve-at-{ELSEWHERE}"))
    identified = invoke(tmp_path, "identify", "--from", "keys", str(path), "--offline")
    assert f"All in one run: printf '%s\\n' {ACCOUNT} {ELSEWHERE} > alert-accounts.txt" in identified.stdout
    result = invoke(tmp_path, "run", "contain-bedrock-keys", "--from", "keys", str(path), "--yes")
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert (
        f"printf '%s\\n' {ACCOUNT} {ELSEWHERE} > alert-accounts.txt && responder run contain-bedrock-keys --from keys "
        f"{path} --accounts alert-accounts.txt --dry-run (or --org)"
    ) in result.stderr
    assert credential_status(iam, user, cred) == "Active"


def test_a_key_of_another_account_is_said_and_never_contained_here(account: Seeded, tmp_path: Path) -> None:
    foreign = make_key(f"{account.user_name}-at-{ELSEWHERE}")  # the same user name, in another account
    path = keys_file(tmp_path, foreign)
    done = invoke(tmp_path, "run", "contain-bedrock-keys", "--from", "keys", str(path), "--yes", "-o", "json")
    assert done.exit_code == 0, done.stdout + done.stderr
    report = json.loads(Path(json.loads(done.stdout)["report_json"]).read_text())
    assert [s["id"] for s in report["steps"]] == ["select"]
    assert f"of account {ELSEWHERE}, not this one ({ACCOUNT}): not contained here" in json.dumps(report)


def test_keys_of_several_accounts_go_through_the_fan_out(account: Seeded, tmp_path: Path) -> None:
    members = seed_organization(ACCOUNT, accounts=2, keys_per_account=1)
    made = [(m.account_id, create_credential(m.account_id, m.users[0])) for m in members]
    path = keys_file(tmp_path, *(c["ServiceCredentialSecret"] for _, c in made))
    accounts = tmp_path / "accounts.txt"
    accounts.write_text("".join(f"{m.account_id}\n" for m in members))
    fan_out = ["--accounts", str(accounts), "--yes", "-o", "json"]
    done = invoke(tmp_path, "run", "contain-bedrock-keys", "--from", "keys", str(path), *fan_out)
    assert done.exit_code == 0, done.stdout + done.stderr
    from moto.iam.models import iam_backends

    for account_id, cred in made:
        listed = iam_backends[account_id]["aws"]
        state = {c["ServiceSpecificCredentialId"]: c for c in _listing(listed)}
        assert state[cred["ServiceSpecificCredentialId"]]["Status"] == "Inactive"
        # The member's other key, which the alert does not hold, is untouched.
        assert sorted(c["Status"] for c in state.values()) == ["Active", "Inactive"]


def _listing(backend: Any) -> list[dict[str, Any]]:
    from responder.sandbox.service_credentials import _state

    return [c.metadata() for c in _state(backend).creds.values()]


def test_named_keys_select_by_alias_and_family_only() -> None:
    named = parse_named_keys(f"bedrock:ann-at-{ACCOUNT} cloudwatch:ann-at-{ACCOUNT} any:bob+1-at-{ELSEWHERE}")
    listing = [
        {"ServiceCredentialAlias": f"ann-at-{ACCOUNT}", "ServiceName": "bedrock.amazonaws.com", "Id": 1},
        {"ServiceCredentialAlias": f"ann-at-{ACCOUNT}", "ServiceName": "logs.amazonaws.com", "Id": 2},
        {"ServiceCredentialAlias": f"bob+1-at-{ELSEWHERE}", "ServiceName": "bedrock.amazonaws.com", "Id": 3},
    ]
    chosen = select_named(named, listing, ACCOUNT)
    assert [c["Id"] for c in chosen.listing] == [1]  # not the same alias's CloudWatch Logs key, not Eve's account
    assert [n.split(":")[0] for n in chosen.notes] == [
        "key cloudwatch",
        "key any",
    ]
    with pytest.raises(UserError, match="FAMILY:ALIAS"):
        parse_named_keys("bedrock:ann")  # no account
    with pytest.raises(UserError, match="family 'nosuch'"):
        parse_named_keys(f"nosuch:ann-at-{ACCOUNT}")

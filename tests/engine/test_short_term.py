"""Short-term keys: offline decoding, identify, and both containment paths through the CLI."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from responder.actions.iam_policies import DEFAULT_POLICY_NAME, DENY_BEARER_TOKENS
from responder.actions.iam_sessions import REVOKE_POLICY_NAME, revoked_before
from responder.cli.main import app
from responder.keys import parse_key, parse_short_term_key
from responder.sandbox.seed import Seeded, SeededShortTerm
from tests.factories import make_key, make_token

runner = CliRunner()
REGIONS = ["us-east-1", "us-west-2", "eu-west-3", "ap-southeast-2", "us-gov-west-1", "ca-central-1"]


def cli(*args: str, stdin: str | None = None) -> Any:
    return runner.invoke(app, list(args), input=stdin)


@settings(max_examples=40, deadline=None)
@given(
    prefix=st.sampled_from(["ASIA", "AKIA"]),
    body=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=16, max_size=16),
    region=st.sampled_from(REGIONS),
    seconds=st.integers(1, 43200),
    strip_padding=st.booleans(),
)
def test_generated_tokens_decode(prefix: str, body: str, region: str, seconds: int, strip_padding: bool) -> None:
    token = make_token(prefix + body, region, seconds)
    if strip_padding:
        token = token.rstrip("=")
    key = parse_key(token)
    assert key.kind == "short-term"
    assert (key.access_key_id, key.region) == (prefix + body, region)  # type: ignore[union-attr]
    assert key.expires_at - key.issued_at == timedelta(seconds=seconds)  # type: ignore[union-attr]
    assert key.signer == ("role-session" if prefix == "ASIA" else "iam-user")  # type: ignore[union-attr]
    assert abs(key.issued_at - datetime.now(timezone.utc)) < timedelta(minutes=1)  # type: ignore[union-attr]
    assert "Signature" not in repr(key) and "EXAMPLEsession" not in repr(key)


def _decoded(token: str) -> str:
    body = token[len("bedrock-api-key-") :]
    return base64.b64decode(body + "=" * (-len(body) % 4)).decode()


def _encode(url: str) -> str:
    return "bedrock-api-key-" + base64.b64encode(url.encode()).decode()


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda t: t[: len(t) // 2], "not"),  # truncated
        (lambda t: "bedrock-api-key-***not-base64***", "not valid base64"),
        (lambda t: "bedrock-api-key-" + base64.b64encode(b"\x00\xff\xfe" * 9).decode(), "not text"),
        (lambda t: _encode(_decoded(t).replace("bedrock.amazonaws.com", "s3.amazonaws.com")), "CallWithBearerToken"),
        (lambda t: _encode(_decoded(t).replace("X-Amz-Expires=43200", "X-Amz-Expires=90000")), "outside 1..43200"),
        (lambda t: _encode(_decoded(t).replace("%2Fbedrock%2F", "%2Fs3%2F")), "X-Amz-Credential"),
        (lambda t: _encode(_decoded(t).replace("X-Amz-Date=", "X-Amz-Date=yesterday")), "malformed"),
        (lambda t: "bedrock-api-keyZ" + t[16:], "not an AWS API key of a family responder knows"),
    ],
)
def test_malformed_tokens_exit_2_with_one_line(tmp_path: Path, mangle: Any, message: str) -> None:
    bad = mangle(make_token("ASIAEXAMPLEEXAMPLE12"))
    path = tmp_path / "bad.txt"
    path.write_text(bad)
    for args in (
        ["identify", str(path), "--offline"],
        ["run", "leaked-short-term-key", "--key-file", str(path), "--dry-run"],
    ):
        result = cli(*args)
        assert result.exit_code == 2, result.output
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.output


def test_identify_offline_is_complete_and_keeps_secrets(tmp_path: Path) -> None:
    token = make_token("ASIAEXAMPLEEXAMPLE12", "eu-west-3", 3600)
    result = cli("identify", "-", "--offline", "-o", "json", stdin=token)
    out = json.loads(result.stdout)
    assert out["key"]["access_key_id"] == "ASIAEXAMPLEEXAMPLE12" and out["key"]["region"] == "eu-west-3"
    assert out["key"]["expired"] is False and 3500 < out["key"]["seconds_left"] <= 3600
    assert out["next"]["playbook"] == "leaked-short-term-key" and "owner" not in out
    signature = _decoded(token).split("X-Amz-Signature=")[1].split("&")[0]
    assert signature not in result.stdout and "EXAMPLEsession" not in result.stdout


def test_identify_names_the_owners(short_account: SeededShortTerm, account: Seeded, tmp_path: Path) -> None:
    short = json.loads(cli("identify", "-", "-o", "json", stdin=short_account.key).stdout)
    assert short["owner"] == {
        "found": True,
        "principal": f"role {short_account.role_name}",
        "principal_kind": "role",
        "principal_name": short_account.role_name,
        "operator": short["owner"]["operator"],
    }
    # The Step Functions machine's input (responder export stepfunctions): the principal, never the key.
    assert short["execution_input"] == {"role_name": short_account.role_name}
    long = json.loads(cli("identify", "-", "-o", "json", stdin=account.key).stdout)
    assert long["owner"]["principal"] == f"user {account.user_name}"
    assert [c["credential_id"] for c in long["owner"]["credentials"]] == [account.credential_id]
    assert long["next"]["playbook"] == "leaked-long-term-key"


def role_policies(iam: Any, role: str) -> dict[str, Any]:
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    return {n: iam.get_role_policy(RoleName=role, PolicyName=n)["PolicyDocument"] for n in names}


def test_role_session_contained_and_rolled_back(short_account: SeededShortTerm, iam: Any, tmp_path: Path) -> None:
    key_file = tmp_path / "t.txt"
    key_file.write_text(short_account.key)
    runs = ["--runs-dir", str(tmp_path / "runs")]
    result = cli("run", "leaked-short-term-key", "--key-file", str(key_file), "--yes", "-o", "json", *runs)
    out = json.loads(result.stdout)
    assert out["status"] == "completed", result.output
    policies = role_policies(iam, short_account.role_name)
    assert policies[DEFAULT_POLICY_NAME] == DENY_BEARER_TOKENS
    revoked = revoked_before(policies[REVOKE_POLICY_NAME])
    assert revoked is not None and revoked >= parse_short_term_key(short_account.key).issued_at
    report = json.loads(cli("report", out["run_id"], "--format", "json", *runs).stdout)
    activity = next(s for s in report["steps"] if s["id"] == "investigate")["outputs"]["activity"]
    # Issue 12: the sandbox seeds Bedrock Mantle calls too, and both endpoints are counted (3 + 2).
    assert activity["bearer_token_calls"] == 5 and activity["source_ips"] == ["203.0.113.77"]
    assert dict(activity["by_source"]) == {"bedrock.amazonaws.com": 3, "bedrock-mantle.amazonaws.com": 2}
    kept = cli("rollback", out["run_id"], *runs)
    assert kept.exit_code == 0 and "valid until" in kept.stdout
    assert set(role_policies(iam, short_account.role_name)) == {DEFAULT_POLICY_NAME, REVOKE_POLICY_NAME}
    back = cli("rollback", out["run_id"], "--reactivate-keys", *runs)
    assert back.exit_code == 0 and "work again" in back.stdout
    assert role_policies(iam, short_account.role_name) == {}


def test_iam_user_access_key_contained(account: Seeded, iam: Any, tmp_path: Path) -> None:
    iam.create_user(UserName="ci-bot")
    access_key = iam.create_access_key(UserName="ci-bot")["AccessKey"]["AccessKeyId"]
    key_file = tmp_path / "t.txt"
    key_file.write_text(make_token(access_key, "us-east-1"))
    runs = ["--runs-dir", str(tmp_path / "runs")]
    out = json.loads(
        cli("run", "leaked-short-term-key", "--key-file", str(key_file), "--yes", "-o", "json", *runs).stdout
    )
    statuses = {s["id"]: s["status"] for s in out["steps"]}
    assert statuses["deny-user-bearer-tokens"] == "verified" and statuses["deactivate-access-key"] == "verified"
    assert statuses["deny-role-bearer-tokens"] == "skipped"

    def key_status() -> str:
        return str(iam.list_access_keys(UserName="ci-bot")["AccessKeyMetadata"][0]["Status"])

    assert key_status() == "Inactive"
    assert (
        iam.get_user_policy(UserName="ci-bot", PolicyName=DEFAULT_POLICY_NAME)["PolicyDocument"] == DENY_BEARER_TOKENS
    )
    kept = cli("rollback", out["run_id"], *runs).stdout
    assert "stays Inactive" in kept and "the deny stays" in kept
    assert key_status() == "Inactive"
    cli("rollback", out["run_id"], "--reactivate-keys", *runs)
    assert key_status() == "Active"


def test_an_expired_key_is_planned_unless_yes(account: Seeded, iam: Any, tmp_path: Path) -> None:
    iam.create_user(UserName="old-bot")
    access_key = iam.create_access_key(UserName="old-bot")["AccessKey"]["AccessKeyId"]
    key_file = tmp_path / "t.txt"
    key_file.write_text(
        make_token(access_key, "us-east-1", 3600, issued=datetime.now(timezone.utc) - timedelta(hours=3))
    )
    runs = ["--runs-dir", str(tmp_path / "runs")]
    planned = json.loads(cli("run", "leaked-short-term-key", "--key-file", str(key_file), "-o", "json", *runs).stdout)
    assert planned["status"] == "planned" and "expired" in planned["message"] and "--yes" in planned["message"]
    assert iam.list_access_keys(UserName="old-bot")["AccessKeyMetadata"][0]["Status"] == "Active"
    done = json.loads(
        cli("run", "leaked-short-term-key", "--key-file", str(key_file), "--yes", "-o", "json", *runs).stdout
    )
    assert done["status"] == "completed"
    assert iam.list_access_keys(UserName="old-bot")["AccessKeyMetadata"][0]["Status"] == "Inactive"


def test_unknown_principal_asks_for_one(account: Seeded, iam: Any, tmp_path: Path) -> None:
    iam.create_role(RoleName="quiet-role", AssumeRolePolicyDocument="{}")
    key_file = tmp_path / "t.txt"
    key_file.write_text(make_token("ASIAQUIETQUIETQUIET1"))  # no CloudTrail event names this session
    runs = ["--runs-dir", str(tmp_path / "runs")]
    result = cli("run", "leaked-short-term-key", "--key-file", str(key_file), "--dry-run", *runs)
    assert result.exit_code == 2 and "-p role_name=" in result.stderr
    named = cli(
        "run", "leaked-short-term-key", "--key-file", str(key_file), "-p", "role_name=quiet-role", "--yes", *runs
    )
    assert named.exit_code == 0, named.output
    assert DEFAULT_POLICY_NAME in iam.list_role_policies(RoleName="quiet-role")["PolicyNames"]


def test_identity_center_roles_are_refused_with_guidance(account: Seeded, iam: Any, tmp_path: Path) -> None:
    iam.create_role(RoleName="AWSReservedSSO_Admin_0123456789abcdef", AssumeRolePolicyDocument="{}")
    key_file = tmp_path / "t.txt"
    key_file.write_text(make_token("ASIAQUIETQUIETQUIET1"))
    result = cli(
        "run",
        "leaked-short-term-key",
        "--key-file",
        str(key_file),
        "-p",
        "role_name=AWSReservedSSO_Admin_0123456789abcdef",
        "--yes",
        "--runs-dir",
        str(tmp_path),
    )
    assert result.exit_code == 2 and "IAM Identity Center" in result.stderr
    assert iam.list_role_policies(RoleName="AWSReservedSSO_Admin_0123456789abcdef")["PolicyNames"] == []


def test_the_wrong_kind_names_the_playbook_that_fits(account: Seeded, tmp_path: Path) -> None:
    short, long = tmp_path / "s.txt", tmp_path / "l.txt"
    short.write_text(make_token("ASIAEXAMPLEEXAMPLE12"))
    long.write_text(make_key("alice-at-123456789012"))
    a = cli("run", "leaked-long-term-key", "--key-file", str(short), "--dry-run")
    b = cli("run", "leaked-short-term-key", "--key-file", str(long), "--dry-run")
    assert a.exit_code == b.exit_code == 2
    assert "responder run leaked-short-term-key" in a.stderr and "responder run leaked-long-term-key" in b.stderr


def test_proportionate_containment_without_revoking_sessions(
    short_account: SeededShortTerm, iam: Any, tmp_path: Path
) -> None:
    key_file = tmp_path / "t.txt"
    key_file.write_text(short_account.key)
    out = json.loads(
        cli(
            "run",
            "leaked-short-term-key",
            "--key-file",
            str(key_file),
            "-p",
            "revoke_sessions=false",
            "--yes",
            "-o",
            "json",
            "--runs-dir",
            str(tmp_path),
        ).stdout
    )
    assert {s["id"]: s["status"] for s in out["steps"]}["revoke-role-sessions"] == "skipped"
    assert set(role_policies(iam, short_account.role_name)) == {DEFAULT_POLICY_NAME}


def test_regions_option_feeds_the_investigation(short_account: SeededShortTerm, tmp_path: Path) -> None:
    key_file = tmp_path / "t.txt"
    key_file.write_text(short_account.key)
    args = ["run", "leaked-short-term-key", "--key-file", str(key_file), "--dry-run", "-o", "json"]
    out = json.loads(cli(*args, "--regions", "eu-west-1", "--runs-dir", str(tmp_path)).stdout)
    report = json.loads(cli("report", out["run_id"], "--format", "json", "--runs-dir", str(tmp_path)).stdout)
    activity = next(s for s in report["steps"] if s["id"] == "investigate")["outputs"]["activity"]
    assert activity["searched"]["regions"] == ["us-west-2", "us-east-1", "eu-west-1"]
    both = cli(*args, "--regions", "eu-west-1", "-p", "regions=eu-west-2", "--runs-dir", str(tmp_path))
    assert both.exit_code == 2 and "not both" in both.stderr

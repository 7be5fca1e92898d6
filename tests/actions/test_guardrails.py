"""The guardrails playbook: the policy it renders, on a principal or as an SCP, and its undo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from responder.actions.guardrails import GUARDRAIL_POLICY_NAME, guardrail_document
from responder.cli.main import app
from responder.keys import FAMILIES
from responder.sandbox.seed import Seeded

runner = CliRunner()


def run(tmp_path: Path, *params: str) -> dict[str, Any]:
    args = ["run", "bedrock-key-guardrails", "--yes", "-o", "json", "--runs-dir", str(tmp_path)]
    for p in params:
        args += ["-p", p]
    result = runner.invoke(app, args)
    assert result.exit_code in (0, 2), result.output
    return dict(json.loads(result.stdout)) if result.exit_code == 0 else {"error": result.stderr}


def test_document_statements() -> None:
    base = guardrail_document(30, "none", [], ["bedrock"])
    assert [s["Sid"] for s in base["Statement"]] == ["DenyLongLivedBedrockKeys", "DenyBedrockKeysThatNeverExpire"]
    age = base["Statement"][0]["Condition"]
    assert age["NumericGreaterThan"] == {"iam:ServiceSpecificCredentialAgeDays": "30"}
    assert age["StringEquals"] == {"iam:ServiceSpecificCredentialServiceName": "bedrock.amazonaws.com"}
    # A key made with no expiry has no age: the Null condition denies it too.
    assert base["Statement"][1]["Condition"]["Null"] == {"iam:ServiceSpecificCredentialAgeDays": "true"}
    short = guardrail_document(30, "short-term", [])["Statement"][-1]
    assert short["Condition"] == {"StringEquals": {"bedrock:bearerTokenType": "SHORT_TERM"}}
    assert short["Action"] == "bedrock:CallWithBearerToken"  # the only family with a token-type condition key
    every = guardrail_document(30, "all", ["arn:aws:bedrock:us-east-1::foundation-model/x"])["Statement"]
    assert every[0]["Condition"]["StringEquals"]["iam:ServiceSpecificCredentialServiceName"] == [
        f.service_name for f in FAMILIES.values()
    ]
    assert every[2]["Action"] == [a for f in FAMILIES.values() for a in f.bearer_actions]
    assert every[3]["NotResource"] == ["arn:aws:bedrock:us-east-1::foundation-model/x"]


def test_on_a_user_then_rolled_back(account: Seeded, iam: Any, tmp_path: Path) -> None:
    out = run(tmp_path, f"principal_name={account.user_name}", "deny_bearer=all", "max_key_age_days=30")
    assert out["status"] == "completed"
    policy = iam.get_user_policy(UserName=account.user_name, PolicyName=GUARDRAIL_POLICY_NAME)["PolicyDocument"]
    assert policy == guardrail_document(30, "all", [])
    again = run(tmp_path, f"principal_name={account.user_name}", "deny_bearer=all", "max_key_age_days=30")
    assert {s["id"]: s["status"] for s in again["steps"]}["put-guardrails"] == "unchanged"
    runner.invoke(app, ["rollback", out["run_id"], "--runs-dir", str(tmp_path)])
    assert GUARDRAIL_POLICY_NAME not in iam.list_user_policies(UserName=account.user_name)["PolicyNames"]


def test_scp_scope_only_renders(account: Seeded, iam: Any, tmp_path: Path) -> None:
    out = run(tmp_path, "scope=scp", "model_arns=arn:aws:bedrock:us-east-1::foundation-model/a,arn:b")
    assert {s["id"]: s["status"] for s in out["steps"]} == {"render": "read", "put-guardrails": "skipped"}
    report = json.loads(runner.invoke(app, ["report", out["run_id"], "-f", "json", "--runs-dir", str(tmp_path)]).stdout)
    document = next(s for s in report["steps"] if s["id"] == "render")["outputs"]["document"]
    assert document["Statement"][-1]["NotResource"] == ["arn:aws:bedrock:us-east-1::foundation-model/a", "arn:b"]


def test_bad_parameters_are_refused(account: Seeded, tmp_path: Path) -> None:
    assert "does not match" in run(tmp_path, "deny_bearer=some", "principal_name=x")["error"]
    assert "principal_name" in run(tmp_path, "max_key_age_days=30")["error"]  # scope=principal needs a name

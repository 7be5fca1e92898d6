"""The guardrails playbook: the policy it renders, on a principal or as an SCP, and its undo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from responder.actions.guardrails import GUARDRAIL_POLICY_NAME, guardrail_document
from responder.cli.main import app
from responder.errors import UserError
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


ALLOW_GUARDRAIL = """\
name: allow-everything
description: a guardrail step that would give a user Allow *
steps:
  - id: put
    action: iam.put-guardrail-policy
    with:
      principal_type: user
      principal_name: {user}
      document:
        Version: "2012-10-17"
        Statement:
          - Effect: Deny
            Action: "iam:CreateServiceSpecificCredential"
            Resource: "*"
          - Sid: Everything
            Effect: {effect}
            Action: "*"
            Resource: "*"
"""


def test_a_guardrail_that_allows_is_refused_by_validate(tmp_path: Path) -> None:
    book = tmp_path / "allow.yaml"
    book.write_text(ALLOW_GUARDRAIL.format(user="alice", effect="Allow"))
    result = runner.invoke(app, ["validate", str(book)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "statement 2 (Everything) has Effect 'Allow', not 'Deny'" in result.stderr
    book.write_text(ALLOW_GUARDRAIL.format(user="alice", effect="Deny"))
    assert runner.invoke(app, ["validate", str(book)]).exit_code == 0


def test_a_guardrail_that_allows_is_refused_when_it_runs(account: Seeded, iam: Any, tmp_path: Path) -> None:
    """A document that reached the step past validate (from a step's output, or a journal) is refused again there:
    the run is rejected before any change, and the user gets nothing."""
    from responder.engine.commands.operations import RunRequest, run_playbook
    from responder.engine.running.context import Settings
    from responder.playbook.checks import load_playbook

    book = tmp_path / "deny.yaml"
    book.write_text(ALLOW_GUARDRAIL.format(user=account.user_name, effect="Deny"))
    playbook = load_playbook(book)
    playbook.steps[0].with_["document"]["Statement"][1]["Effect"] = "Allow"
    with pytest.raises(UserError, match="statement 2 \\(Everything\\) has Effect 'Allow', not 'Deny'"):
        run_playbook(RunRequest(playbook, {}), Settings(runs_dir=tmp_path / "runs"))
    assert GUARDRAIL_POLICY_NAME not in iam.list_user_policies(UserName=account.user_name)["PolicyNames"]

"""Every policy responder emits cannot be turned into administrator rights, and passes parliament.

Over every shipped playbook, alone and together: `responder permissions` (containment, --rollback, --sweep,
--fan-out), the member-role template, and both roles of each exported Step Functions template."""

from __future__ import annotations

import json
from typing import Any

import pytest
from parliament import analyze_policy_string

from responder.engine.commands.permissions import (
    MANAGED_PREFIX,
    PROTECTED_TAG,
    is_write,
    operator_account,
    policy_document,
)
from responder.export.member_role import member_role_template
from responder.export.stepfunctions import build
from responder.playbook.checks import load_playbook
from responder.playbook.model import Playbook
from responder.playbook.shipped import shipped_playbooks

ACCOUNT = "111122223333"
OPERATOR = f"arn:aws:iam::{ACCOUNT}:role/incident-responder"
FIXED = {"contain-bedrock-keys": {"filter": "all"}}
STACK = {
    "${AWS::Partition}": "aws",
    "${AWS::AccountId}": ACCOUNT,
    "${AWS::Region}": "us-east-1",
    "${JournalBucket.Arn}": "arn:aws:s3:::journal",
    "${MemberRoleName}": "ResponderMemberRole",
    "${!aws:": "${aws:",
}


def _books() -> list[Playbook]:
    return [load_playbook(path) for path in shipped_playbooks().values()]


def _resolved(value: Any) -> Any:
    """A template's policy as IAM would hold it once the stack is made (both branches of an Fn::If kept)."""
    if isinstance(value, dict):
        if "Fn::Sub" in value:
            text = value["Fn::Sub"]
            for name, filled in STACK.items():
                text = text.replace(name, filled)
            return text
        if "Ref" in value and value["Ref"] == "ContainmentMachine":
            return f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:responder-containment"
        if "Fn::If" in value:
            return _resolved(value["Fn::If"][1])
        return {key: _resolved(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolved(item) for item in value if item != {"Ref": "AWS::NoValue"}]
    return value


def _role_policies(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            for policy in resource["Properties"]["Policies"]:
                found.append((f"{name}/{policy['PolicyName']}", _resolved(policy["PolicyDocument"])))
    return found


def emitted() -> list[tuple[str, dict[str, Any]]]:
    books = _books()
    policies: list[tuple[str, dict[str, Any]]] = []
    for chosen in [[b] for b in books] + [books]:
        names = "+".join(b.name for b in chosen)
        for sweep in (False, True):
            account = operator_account(OPERATOR)
            policies += [
                (f"{names} sweep={sweep}", policy_document(chosen, sweep, account=account)),
                (f"{names} sweep={sweep} --rollback", policy_document(chosen, sweep, rollback=True, account=account)),
                (
                    f"{names} sweep={sweep} --fan-out",
                    policy_document(chosen, sweep, "ResponderMemberRole", account=operator_account(OPERATOR)),
                ),
            ]
        policies += [(f"{names} member role: {n}", p) for n, p in _role_policies(member_role_template(chosen, True))]
    for book in books:
        if book.name == "bedrock-key-guardrails":
            continue  # no Step Functions form: guardrails are a standing policy, not an alarm's response
        for organization in (False, True):
            if organization and book.name != "contain-bedrock-keys":
                continue
            template = build(book, FIXED.get(book.name, {}), organization).template
            policies += [(f"{book.name} export: {n}", p) for n, p in _role_policies(template)]
    return policies


POLICIES = emitted()


# Bedrock's writes on one resource (service authorization reference: each action's required resource type)
BEDROCK_WRITES = {
    "bedrock:StopModelCustomizationJob": "model-customization-job",
    "bedrock:StopModelInvocationJob": "model-invocation-job",
    "bedrock:StopEvaluationJob": "evaluation-job",
    "bedrock:DeleteProvisionedModelThroughput": "provisioned-model",
}


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@pytest.mark.parametrize(("where", "policy"), POLICIES, ids=[name for name, _ in POLICIES])
def test_no_statement_can_escalate(where: str, policy: dict[str, Any]) -> None:
    statements = policy["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    denies = [s for s in statements if s["Effect"] == "Deny"]
    own_policies = f"policy/{MANAGED_PREFIX}*"
    for statement in allows:
        actions, resources = _listed(statement["Action"]), _listed(statement["Resource"])
        assert not any("*" in action for action in actions), f"{where}: a wildcard action {actions}"
        for action in actions:
            if action.startswith("iam:Detach") and statement["Sid"] == "ResponderDetachFootholdsNotOwnPolicies":
                # a foothold's removal, in containment only: any policy but responder's own (detaching grants none)
                assert "--rollback" not in where and "rollback" not in statement["Sid"].lower(), where
                condition = statement["Condition"]["ArnNotLike"]["iam:PolicyARN"]
                assert condition.endswith(f":{own_policies}"), f"{where}: {action} of responder's own policies"
            elif action.startswith(("iam:Attach", "iam:Detach")):
                condition = statement["Condition"]["ArnLike"]["iam:PolicyARN"]
                assert condition.endswith(f":{own_policies}"), f"{where}: {action} of any policy"
            if action in ("iam:CreatePolicy", "iam:DeletePolicy", "iam:CreatePolicyVersion"):
                assert all(r.endswith(f":{own_policies}") for r in resources), f"{where}: {action} on {resources}"
            if is_write(action):
                assert "*" not in resources, f"{where}: {action} on every resource"
                assert all(r.split(":")[-1].startswith(("user/", "role/", "policy/")) for r in resources), where
            if action in BEDROCK_WRITES:  # one job or throughput, of its own resource type, in the holder's account
                kind = BEDROCK_WRITES[action]
                assert all(":bedrock:" in r and r.endswith(f":{kind}/*") for r in resources), f"{where}: {resources}"
            if action == "sts:AssumeRole":
                assert "Condition" in statement, f"{where}: sts:AssumeRole without a condition"
                assert "--fan-out" in where or "export" in where, f"{where}: sts:AssumeRole without a fan-out"
    writes = {
        a
        for s in allows
        for a in _listed(s["Action"])
        if is_write(a) and a not in ("iam:CreatePolicy", "iam:DeletePolicy")
    }
    if not writes:
        return
    itself = next(d for d in denies if d["Sid"] == "ResponderNeverItselfOrReserved")
    tagged = next(d for d in denies if d["Sid"] == "ResponderNeverProtected")
    assert writes <= set(itself["Action"]) and writes <= set(tagged["Action"]), where
    never = _listed(itself["Resource"])
    assert any(r.endswith(":role/aws-reserved/*") for r in never), where
    assert any(r.endswith(":role/ResponderMemberRole") for r in never), where
    if "export" in where:  # each machine's role can change neither machine's role
        book = where.split(" ")[0]
        assert {f"responder-{book}-states", f"responder-{book}-rollback"} <= {r.rsplit("/", 1)[1] for r in never}
    elif "member role" not in where:
        assert OPERATOR in never, where
    assert tagged["Condition"] == {"StringEquals": {f"aws:ResourceTag/{PROTECTED_TAG}": "true"}}


# Reads IAM authorises on the account as a whole: ListServiceSpecificCredentials with AllUsers lists every user's.
# GetAccountAuthorizationDetails (a sweep's owners and console-made users) is authorised on no resource but "*".
ACCEPTED = {
    ("RESOURCE_STAR", "iam:ListServiceSpecificCredentials"),
    ("RESOURCE_STAR", "iam:GetAccountAuthorizationDetails"),
}


@pytest.mark.parametrize(("where", "policy"), POLICIES, ids=[name for name, _ in POLICIES])
def test_every_policy_passes_parliament(where: str, policy: dict[str, Any]) -> None:
    analysed = analyze_policy_string(json.dumps(policy))
    findings = [
        f"{f.issue}: {f.detail}"
        for f in analysed.findings
        if not (isinstance(f.detail, list) and {(f.issue, str(d)) for d in f.detail} <= ACCEPTED)
    ]
    assert not findings, f"{where}: {findings}"


def test_a_policy_that_could_escalate_is_caught() -> None:
    """The check above fails on what `responder permissions` printed before: Attach* and Put* on `*`."""
    old = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["iam:AttachUserPolicy", "iam:PutUserPolicy"], "Resource": "*"},
        ],
    }
    with pytest.raises(KeyError):  # no iam:PolicyARN condition
        test_no_statement_can_escalate("old", old)
    unconditioned = {**old, "Statement": [{**old["Statement"][0], "Action": ["iam:PutUserPolicy"]}]}
    with pytest.raises(AssertionError, match="on every resource"):
        test_no_statement_can_escalate("old", unconditioned)

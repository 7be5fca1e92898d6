"""The exported template starts containment from GuardDuty's findings about Bedrock abuse: an `aws.guardduty` rule
on the default bus (a source only AWS emits) for this account's findings of the Bedrock and AI-protection types,
passing the principal the finding names to the same machine, and nothing else."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from responder.alerts.sources.guardduty import TYPES
from responder.export.stepfunctions import build
from responder.playbook.checks import find_playbook, load_playbook

FIXTURE = Path(__file__).resolve().parents[1] / "alerts" / "fixtures" / "guardduty.json"
ACCOUNT = "123456789012"


def _template(playbook: str, distributed: bool = False) -> dict[str, Any]:
    fixed = {"filter": "all"} if playbook == "contain-bedrock-keys" else {}
    return build(load_playbook(find_playbook(playbook)), fixed, distributed).template


def _guardduty_rules(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Events::Rule" and r["Properties"]["EventPattern"]["source"] == ["aws.guardduty"]
    ]


def _refs(value: Any) -> Any:
    """The template's values as the stack in ACCOUNT resolves them (only AWS::AccountId is used in patterns)."""
    if isinstance(value, dict):
        if value == {"Ref": "AWS::AccountId"}:
            return ACCOUNT
        return {k: _refs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_refs(v) for v in value]
    return value


def _matches(pattern: Any, event: Any) -> bool:
    """EventBridge's matching for the pattern forms the template writes: nested objects, value lists, exists."""
    for name, wanted in pattern.items():
        if isinstance(wanted, dict):
            if not isinstance(event, dict) or not _matches(wanted, event.get(name)):
                return False
        elif isinstance(wanted[0], dict):
            if (isinstance(event, dict) and name in event) != wanted[0]["exists"]:
                return False
        elif not isinstance(event, dict) or event.get(name) not in wanted:
            return False
    return True


def _given(target: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    transformer = target["InputTransformer"]
    text = transformer["InputTemplate"]["Fn::Sub"].replace("${JournalBucket}", "journal")
    for name, path in transformer["InputPathsMap"].items():
        value: Any = event
        for part in path.removeprefix("$.").split("."):
            value = value[part]
        text = text.replace(f"<{name}>", json.dumps(value))
    assert not re.search(r"<\w+>", text)
    return dict(json.loads(text))


def _event(finding_type: str, user_type: str, account: str = ACCOUNT) -> dict[str, Any]:
    """The EventBridge event GuardDuty sends, around the finding fixture (GuardDuty's finding format)."""
    finding = copy.deepcopy(json.loads(FIXTURE.read_text())["detail"])
    finding.update(type=finding_type, accountId=account)
    finding["resource"]["accessKeyDetails"].update(userType=user_type, userName="app-role")
    return {"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "account": account, "detail": finding}


def test_each_bedrock_finding_starts_the_machine_with_the_principal_and_nothing_else() -> None:
    rules = [_refs(r) for r in _guardduty_rules(_template("leaked-short-term-key"))]
    assert len(rules) == 2  # one for a role's findings, one for a user's
    for finding_type in sorted(TYPES):
        for user_type, field in (("AssumedRole", "role_name"), ("IAMUser", "user_name")):
            event = _event(finding_type, user_type)
            [rule] = [r for r in rules if _matches(r["EventPattern"], event)]
            assert "EventBusName" not in rule  # GuardDuty sends to the default bus
            [target] = rule["Targets"]
            assert target["Arn"] == {"Ref": "ContainmentMachine"}
            assert _given(target, event) == {field: "app-role", "journal_bucket": "journal"}


@pytest.mark.parametrize(
    "change",
    ["another type", "another account", "a root principal", "forged by PutEvents"],
)
def test_no_rule_matches_what_is_not_this_accounts_bedrock_finding(change: str) -> None:
    rules = [_refs(r) for r in _guardduty_rules(_template("leaked-short-term-key"))]
    event = _event("Impact:IAMUser/CostHarvesting", "IAMUser")
    if change == "another type":
        event["detail"]["type"] = "Recon:IAMUser/MaliciousIPCaller"
    elif change == "another account":
        event["detail"]["accountId"] = "999999999999"  # a member's finding, seen by the administrator account
    elif change == "a root principal":
        event["detail"]["resource"]["accessKeyDetails"]["userType"] = "Root"
    else:
        event["source"] = "responder"  # anything but AWS itself cannot send source aws.guardduty
    assert not [r for r in rules if _matches(r["EventPattern"], event)]


def test_the_events_role_may_only_start_this_machine_and_trusts_only_these_rules() -> None:
    template = _template("leaked-long-term-key")
    resources = template["Resources"]
    assert template["Parameters"]["StartOnGuardDuty"]["Default"] == "false"
    role = resources["GuardDutyEventsRole"]
    [statement] = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Action": "states:StartExecution",
        "Resource": {"Ref": "ContainmentMachine"},
    }
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"].endswith(
        ":rule/responder-leaked-long-term-key-guardduty-*"
    )
    names = [r["Name"] for r in _guardduty_rules(template)]
    assert names == ["responder-leaked-long-term-key-guardduty-user-name"]  # the long-term playbook: users only
    assert all(resources[k]["Condition"] == "StartOnGuardDutyEnabled" for k in ("GuardDutyEventsRole",))


def test_no_guardduty_rule_where_no_principal_can_be_given() -> None:
    assert not _guardduty_rules(_template("contain-bedrock-keys"))  # keys chosen by a filter fixed at export
    assert not _guardduty_rules(_template("contain-bedrock-keys", distributed=True))

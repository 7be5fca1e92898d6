"""The exported trigger cannot be forged: a dedicated bus only the given senders reach, an input transformer that
passes one principal and nothing else, and trust policies bound to this stack's own rule and machines."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from responder.export.stepfunctions import build
from responder.playbook.checks import find_playbook, load_playbook

FORBIDDEN = ("delete_key", "dry_run", "account_id", "accounts_key", "access_role_name", "role_arn", "reactivate_keys")


def _template(playbook: str) -> dict[str, Any]:
    fixed = {"filter": "all"} if playbook == "contain-bedrock-keys" else {}  # a filter is fixed at export
    return build(load_playbook(find_playbook(playbook)), fixed, False).template


def _rules(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Events::Rule"]


def _transform(target: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """What EventBridge hands the machine: each <name> in the template replaced by its path's value (as JSON)."""
    transformer = target["InputTransformer"]
    text = transformer["InputTemplate"]["Fn::Sub"].replace("${JournalBucket}", "journal")
    for name, path in transformer.get("InputPathsMap", {}).items():
        value: Any = event
        for part in path.removeprefix("$.").split("."):
            value = value[part]
        text = text.replace(f"<{name}>", json.dumps(value))
    assert not re.search(r"<\w+>", text)
    return dict(json.loads(text))


def _matches(rule: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge's matching, for the patterns the template writes: lists of values, and exists tests."""
    for field, wanted in rule["EventPattern"]["detail"].items():
        if isinstance(wanted[0], dict):
            if (field in event["detail"]) != wanted[0]["exists"]:
                return False
        elif event["detail"].get(field) not in wanted:
            return False
    return event["source"] in rule["EventPattern"]["source"]


@pytest.mark.parametrize("playbook", ["leaked-long-term-key", "leaked-short-term-key", "contain-bedrock-keys"])
def test_a_forged_event_can_name_one_principal_and_nothing_else(playbook: str) -> None:
    template = _template(playbook)
    forged = {
        "source": "responder",
        "detail-type": "Bedrock API key exposed",
        "detail": {
            "playbook": playbook,
            "user_name": "break-glass",
            "delete_key": True,
            "dry_run": False,
            "account_id": "999999999999",
            "accounts_key": "evil.json",
            "access_role_name": "OrganizationAccountAccessRole",
            "journal_bucket": "attacker-bucket",
            "filter": "all",
        },
    }
    rules = [rule for rule in _rules(template) if _matches(rule, forged)]
    assert len(rules) == 1
    for rule in rules:
        assert rule["EventBusName"] == {"Ref": "TriggerBus"}  # never the default bus
        (target,) = rule["Targets"]
        assert "InputPath" not in target and "Input" not in target
        fields = set(target["InputTransformer"].get("InputPathsMap", {}))
        assert fields <= {"user_name", "role_name"}
        given = _transform(target, forged)
        assert set(given) == fields | {"journal_bucket"} and given["journal_bucket"] == "journal"
        assert not set(given) & set(FORBIDDEN)


def test_an_event_may_name_a_known_family_and_nothing_else() -> None:
    rules = _rules(_template("leaked-long-term-key"))
    for family, passed in (("cloudwatch-logs", {"user_name", "family"}), (None, {"user_name"}), ("evil", None)):
        detail = {"playbook": "leaked-long-term-key", "user_name": "log-shipper"}
        event = {"source": "responder", "detail": detail | ({"family": family} if family else {})}
        matched = [rule for rule in rules if _matches(rule, event)]
        if passed is None:  # a family the registry does not know starts nothing
            assert matched == []
            continue
        (rule,) = matched
        given = _transform(rule["Targets"][0], event)
        assert set(given) == passed | {"journal_bucket"} and given.get("family") == family


def test_only_the_given_senders_reach_the_bus_and_the_roles_trust_only_this_stack() -> None:
    template = _template("leaked-short-term-key")
    resources = template["Resources"]
    statement = resources["TriggerBusPolicy"]["Properties"]["Statement"]
    assert statement["Principal"] == {"AWS": {"Ref": "TriggerPrincipals"}} and statement["Action"] == "events:PutEvents"
    assert "TriggerNamesItsSenders" in template["Rules"]
    for role in ("EventsRole", "GuardDutyEventsRole", "ExecutionRole", "RollbackRole"):
        (trust,) = resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}, role
        assert "aws:SourceArn" in trust["Condition"]["ArnLike"], role
    rules = [r for r in _rules(template) if r.get("EventBusName") == {"Ref": "TriggerBus"}]  # not GuardDuty's
    assert {tuple(sorted(r["EventPattern"]["detail"])) for r in rules} == {
        ("playbook", "role_name", "user_name"),
    }
    # an event naming both a role and a user matches no rule: each rule wants the other field absent
    for rule in rules:
        detail = rule["EventPattern"]["detail"]
        assert sorted(v[0]["exists"] for k, v in detail.items() if k != "playbook") == [False, True]


def test_the_organization_template_has_no_trigger() -> None:
    template = build(load_playbook(find_playbook("contain-bedrock-keys")), {"filter": "all"}, True).template
    assert not _rules(template) and "StartOnEvent" not in template["Parameters"]

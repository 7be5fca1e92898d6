"""The exported containment's trigger: a dedicated event bus only the given senders reach, and one rule per
principal field whose input transformer passes that field and the stack's journal bucket, nothing else."""

from __future__ import annotations

from typing import Any

from responder.export.cloudformation import sub
from responder.keys import FAMILIES
from responder.playbook.model import Playbook

EVENT_SOURCE = "responder"
EVENT_DETAIL_TYPE = "Bedrock API key exposed"
# The execution input fields an event may set: one principal, named as the playbook's parameters name it.
EVENT_FIELDS = ("user_name", "role_name")
# And, where the playbook takes it, the key's family: only a name the registry knows passes the rule's pattern.
FAMILY_FIELD = "family"


def event_fields(playbook: Playbook, fixed: dict[str, Any]) -> list[str]:
    return [f for f in (*EVENT_FIELDS, FAMILY_FIELD) if f in playbook.parameters and f not in fixed]


def trigger_parameters(name: str) -> dict[str, Any]:
    return {
        "StartOnEvent": {
            "Type": "String",
            "AllowedValues": ["true", "false"],
            "Default": "false",
            "Description": f"Start the containment on an event sent to this stack's own event bus (source "
            f"{EVENT_SOURCE}, detail-type '{EVENT_DETAIL_TYPE}', detail.playbook {name}).",
        },
        "TriggerPrincipals": {
            "Type": "CommaDelimitedList",
            "Default": "",
            "Description": "With StartOnEvent=true: the ARNs of the roles allowed to send events to the bus "
            "(the scanner's, the SOAR's); no one else can.",
        },
    }


def trigger(playbook: Playbook, fields: list[str]) -> dict[str, Any]:
    """The bus, its policy, the role EventBridge starts executions with, and one rule per principal field: an
    event names exactly one principal (the other fields absent), and only that field reaches the machine."""
    name = playbook.name
    bus = f"responder-{name}"
    resources: dict[str, Any] = {
        "TriggerBus": {
            "Type": "AWS::Events::EventBus",
            "Condition": "StartOnEventEnabled",
            "Properties": {"Name": bus},
        },
        "TriggerBusPolicy": {
            "Type": "AWS::Events::EventBusPolicy",
            "Condition": "StartOnEventEnabled",
            "Properties": {
                "EventBusName": {"Ref": "TriggerBus"},
                "StatementId": "OnlyTheGivenSenders",
                "Statement": {
                    "Effect": "Allow",
                    "Principal": {"AWS": {"Ref": "TriggerPrincipals"}},
                    "Action": "events:PutEvents",
                    "Resource": {"Fn::GetAtt": ["TriggerBus", "Arn"]},
                },
            },
        },
        "EventsRole": starting_role("StartOnEventEnabled", f"{bus}/*"),
    }
    with_family = FAMILY_FIELD in fields
    principals = [f for f in fields if f != FAMILY_FIELD]
    for field, family in [
        (f, named) for f in principals or [""] for named in ((False, True) if with_family else (False,))
    ]:
        detail: dict[str, Any] = {"playbook": [name]}
        passed = [field] if field else []
        if field:
            detail[field] = [{"exists": True}]
            detail |= {other: [{"exists": False}] for other in principals if other != field}
        if with_family:  # an event without a family is about a Bedrock key, as before families existed
            detail[FAMILY_FIELD] = list(FAMILIES) if family else [{"exists": False}]
            passed += [FAMILY_FIELD] if family else []
        template = "".join(f'"{one}": <{one}>, ' for one in passed)
        transformer: dict[str, Any] = {"InputTemplate": sub("{" + template + '"journal_bucket": "${JournalBucket}"}')}
        if passed:
            transformer["InputPathsMap"] = {one: f"$.detail.{one}" for one in passed}
        suffix = "".join(part.title() for part in field.split("_")) or "Any"
        suffix += "Family" if family else ""
        rule_name = f"responder-{name}-{field or 'start'}{'-family' if family else ''}".replace("_", "-")
        resources[f"StartOnEvent{suffix}"] = {
            "Type": "AWS::Events::Rule",
            "Condition": "StartOnEventEnabled",
            "Properties": {
                "Name": rule_name,
                "EventBusName": {"Ref": "TriggerBus"},
                "Description": f"Start responder's {name} containment when a scanner reports an exposed key",
                "EventPattern": {"source": [EVENT_SOURCE], "detail-type": [EVENT_DETAIL_TYPE], "detail": detail},
                "Targets": [
                    {
                        "Id": "containment",
                        "Arn": {"Ref": "ContainmentMachine"},
                        "RoleArn": {"Fn::GetAtt": ["EventsRole", "Arn"]},
                        "InputTransformer": transformer,
                    }
                ],
            },
        }
    return resources


def starting_role(condition: str, rules: str) -> dict[str, Any]:
    """The role EventBridge starts the containment machine with, under `condition`: trusted only for this
    account's rules named `rules` (a pattern under `rule/`), allowed only `states:StartExecution` on the machine."""
    return {
        "Type": "AWS::IAM::Role",
        "Condition": condition,
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                            "ArnLike": {
                                "aws:SourceArn": sub(
                                    f"arn:${{AWS::Partition}}:events:${{AWS::Region}}:${{AWS::AccountId}}:rule/{rules}"
                                )
                            },
                        },
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": "start-containment",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "states:StartExecution",
                                "Resource": {"Ref": "ContainmentMachine"},
                            }
                        ],
                    },
                }
            ],
        },
    }

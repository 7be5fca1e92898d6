"""Start the exported containment from GuardDuty's own findings about Bedrock abuse: a rule on the account's default
event bus matching source `aws.guardduty` (EventBridge refuses that source from anyone's PutEvents: only GuardDuty
emits it), detail-type `GuardDuty Finding`, the Bedrock and AI-protection finding types, and findings of this
stack's own account; an input transformer passes the principal the finding names (`resource.accessKeyDetails`)
to the same machine, as the playbook's user_name or role_name, and nothing else.

Field names from the EventBridge reference ("Amazon GuardDuty events": source aws.guardduty, detail-type
GuardDuty Finding), the GuardDuty API reference (AccessKeyDetails: accessKeyId, principalId, userName, userType;
userType IAMUser, AssumedRole, Root, ...) and its finding types (FACTS.md; the same list the `--from guardduty`
reader takes). For an AssumedRole, GuardDuty's userName is the role's name, as the laptop reader reads it too.
"""

from __future__ import annotations

from typing import Any

from responder.alerts.sources.guardduty import TYPES
from responder.export.cloudformation import sub
from responder.export.stepfunctions.trigger import starting_role
from responder.playbook.model import Playbook

GUARDDUTY_SOURCE = "aws.guardduty"
GUARDDUTY_DETAIL_TYPE = "GuardDuty Finding"
# The playbook's principal field, and the finding's userType that names one.
PRINCIPALS = {"user_name": "IAMUser", "role_name": "AssumedRole"}
PRINCIPAL_PATH = "$.detail.resource.accessKeyDetails.userName"


def guardduty_fields(playbook: Playbook, fixed: dict[str, Any]) -> list[str]:
    """The principal fields a finding can fill: the playbook's, unless fixed at export."""
    return [f for f in PRINCIPALS if f in playbook.parameters and f not in fixed]


def guardduty_parameters() -> dict[str, Any]:
    return {
        "StartOnGuardDuty": {
            "Type": "String",
            "AllowedValues": ["true", "false"],
            "Default": "false",
            "Description": "Start the containment on GuardDuty's findings about Bedrock abuse in this account "
            f"({', '.join(sorted(TYPES))}), for the IAM user or role the finding names.",
        }
    }


def guardduty_trigger(playbook: Playbook, fields: list[str]) -> dict[str, Any]:
    """The role EventBridge starts executions with (trusted only for this stack's GuardDuty rules) and one rule
    per principal field."""
    prefix = f"responder-{playbook.name}-guardduty"
    resources: dict[str, Any] = {
        "GuardDutyEventsRole": starting_role("StartOnGuardDutyEnabled", f"{prefix}-*"),
    }
    for field in fields:
        detail = {
            "type": sorted(TYPES),
            # A finding about another account (GuardDuty's administrator account sees its members'): never
            # contained with this account's machine.
            "accountId": [{"Ref": "AWS::AccountId"}],
            "resource": {"accessKeyDetails": {"userType": [PRINCIPALS[field]], "userName": [{"exists": True}]}},
        }
        suffix = "".join(part.title() for part in field.split("_"))
        resources[f"StartOnGuardDuty{suffix}"] = {
            "Type": "AWS::Events::Rule",
            "Condition": "StartOnGuardDutyEnabled",
            "Properties": {
                "Name": f"{prefix}-{field}".replace("_", "-"),
                "Description": f"Start responder's {playbook.name} containment on a GuardDuty finding about Bedrock",
                "EventPattern": {
                    "source": [GUARDDUTY_SOURCE],
                    "detail-type": [GUARDDUTY_DETAIL_TYPE],
                    "detail": detail,
                },
                "Targets": [
                    {
                        "Id": "containment",
                        "Arn": {"Ref": "ContainmentMachine"},
                        "RoleArn": {"Fn::GetAtt": ["GuardDutyEventsRole", "Arn"]},
                        "InputTransformer": {
                            "InputPathsMap": {field: PRINCIPAL_PATH},
                            "InputTemplate": sub(f'{{"{field}": <{field}>, "journal_bucket": "${{JournalBucket}}"}}'),
                        },
                    }
                ],
            },
        }
    return resources

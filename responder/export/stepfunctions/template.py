"""The CloudFormation template deploying a playbook's two state machines, what they need, and nothing more.

Each machine has its own role: the containment's carries the policy `responder permissions PLAYBOOK` computes,
the rollback's what `--rollback` computes (so the identity that contains cannot undo), each with the journal
bucket's grants and log delivery; both trust Step Functions only for their own machine (aws:SourceArn,
aws:SourceAccount), and both are tagged protected, so neither machine can change either role. sts:AssumeRole on
the member role is there only where a machine reaches other accounts (the organization-wide template, or
ReachOtherAccounts=true), and only within the organization.

The optional trigger is a rule on a dedicated event bus whose resource policy admits only the principals given as
TriggerPrincipals (the scanner's or SOAR's roles); its input transformer passes on one principal field and the
journal bucket, never delete_key, dry_run, account_id, accounts_key or a role to assume: an event can only start
a reversible containment of one principal in this account.
"""

from __future__ import annotations

from typing import Any

from responder.engine.commands.permissions import MEMBER_ROLE, PROTECTED_TAG, Account, policy_document
from responder.export.cloudformation import IN_THE_STACK, sub, substituted
from responder.export.stepfunctions.guardduty_trigger import guardduty_fields, guardduty_parameters, guardduty_trigger
from responder.export.stepfunctions.names import machine_name, role_names
from responder.export.stepfunctions.trigger import event_fields, trigger, trigger_parameters
from responder.playbook.model import Playbook

_LOG_DELIVERY = [
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
]
_TAGGED_PROTECTED = [{"Key": PROTECTED_TAG, "Value": "true"}]
# What the machines call beyond the playbook's actions: each principal's tags, read before any change.
MACHINE_READS = ("iam:ListUserTags", "iam:ListRoleTags")


def _machine_arn(name: str) -> str:
    return f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:{name}"


def _role(playbook: Playbook, machine: str, rollback: bool, distributed: bool) -> dict[str, Any]:
    containment, back = role_names(playbook)
    name = back if rollback else containment
    containment_machine = machine_name(playbook)
    account = Account(
        IN_THE_STACK.partition,
        IN_THE_STACK.account_id,
        MEMBER_ROLE,
        tuple(IN_THE_STACK.arn(f"role/{n}") for n in (containment, back)),
    )
    statements = [
        *substituted(policy_document([playbook], rollback=rollback, account=account))["Statement"],
        {
            "Sid": "ResponderReadTags",
            "Effect": "Allow",
            "Action": list(MACHINE_READS),
            "Resource": substituted([IN_THE_STACK.arn("user/*"), IN_THE_STACK.arn("role/*")]),
        },
        {
            "Sid": "ResponderJournalWrite",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject"],
            "Resource": sub("${JournalBucket.Arn}/responder/*"),
        },
        {
            "Sid": "ResponderJournalList",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": sub("${JournalBucket.Arn}"),
        },
        {"Sid": "ResponderLogDelivery", "Effect": "Allow", "Action": _LOG_DELIVERY, "Resource": "*"},
        {
            "Fn::If": [
                "ReachOtherAccounts",
                {
                    "Sid": "ResponderReachAccounts",
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Resource": sub("arn:${AWS::Partition}:iam::*:role/${MemberRoleName}"),
                    "Condition": {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}},
                },
                {"Ref": "AWS::NoValue"},
            ]
        },
    ]
    if rollback and not distributed:  # the rollback trusts a record only if the containment's history shows it
        containment_runs = (
            f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:execution:{containment_machine}:*"
        )
        statements.append(
            {
                "Sid": "ResponderContainmentHistory",
                "Effect": "Allow",
                "Action": "states:GetExecutionHistory",
                "Resource": sub(containment_runs),
            }
        )
    if distributed:  # a Distributed Map starts child executions of its own machine, and reads the account list
        executions = f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:execution:{machine}*:*"
        statements += [
            {
                "Sid": "ResponderDistributedMap",
                "Effect": "Allow",
                "Action": "states:StartExecution",
                "Resource": sub(_machine_arn(machine)),
            },
            {
                "Sid": "ResponderDistributedMapRuns",
                "Effect": "Allow",
                "Action": ["states:DescribeExecution", "states:StopExecution"],
                # IAM lists both kinds of execution as these actions' resources: name both, of this machine only
                "Resource": [sub(executions), sub(executions.replace(":execution:", ":express:") + ":*")],
            },
        ]
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": name,
            "Tags": _TAGGED_PROTECTED,
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "states.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                            "ArnLike": {"aws:SourceArn": sub(_machine_arn(machine))},
                        },
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": f"responder-{playbook.name}{'-rollback' if rollback else ''}",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ],
        },
    }


def template(
    playbook: Playbook,
    containment: dict[str, Any],
    rollback: dict[str, Any],
    distributed: bool,
    fixed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    name = playbook.name
    machine = machine_name(playbook)
    back_machine = f"{machine}-rollback"
    machine_common = {
        "StateMachineType": "STANDARD",
        "LoggingConfiguration": {
            "Level": "ALL",
            "IncludeExecutionData": False,  # the history has the data; the logs need not copy it
            "Destinations": [{"CloudWatchLogsLogGroup": {"LogGroupArn": {"Fn::GetAtt": ["LogGroup", "Arn"]}}}],
        },
    }
    resources: dict[str, Any] = {
        "JournalBucket": _journal_bucket(),
        "JournalBucketPolicy": _tls_only(),
        "LogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": sub(f"/aws/vendedlogs/states/responder-{name}-${{AWS::StackName}}"),
                "RetentionInDays": 365,
            },
        },
        "ExecutionRole": _role(playbook, machine, rollback=False, distributed=distributed),
        "RollbackRole": _role(playbook, back_machine, rollback=True, distributed=distributed),
        "ContainmentMachine": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "StateMachineName": machine,
                "Definition": containment,
                "RoleArn": {"Fn::GetAtt": ["ExecutionRole", "Arn"]},
                **machine_common,
            },
        },
        "RollbackMachine": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "StateMachineName": back_machine,
                "Definition": rollback,
                "RoleArn": {"Fn::GetAtt": ["RollbackRole", "Arn"]},
                **machine_common,
            },
        },
    }
    parameters: dict[str, Any] = {
        "MemberRoleName": {
            "Type": "String",
            "Default": MEMBER_ROLE,
            "Description": "The role the machines assume to work in another account of the organization (the "
            "member-role template's; OrganizationAccountAccessRole works too, but is AdministratorAccess).",
        },
        "ReachOtherAccounts": {
            "Type": "String",
            "AllowedValues": ["true", "false"],
            "Default": "true" if distributed else "false",
            "Description": "Grant sts:AssumeRole on MemberRoleName in the organization's accounts.",
        },
        "JournalObjectLockDays": {
            "Type": "Number",
            "Default": 0,
            "MinValue": 0,
            "MaxValue": 36500,
            "Description": "Keep every journal record unchangeable this many days (S3 Object Lock, governance "
            "mode); 0: no Object Lock. Set when the stack is created: a bucket cannot take Object Lock later.",
        },
    }
    conditions: dict[str, Any] = {
        "ReachOtherAccounts": {"Fn::Equals": [{"Ref": "ReachOtherAccounts"}, "true"]},
        "ObjectLock": {"Fn::Not": [{"Fn::Equals": [{"Ref": "JournalObjectLockDays"}, 0]}]},
    }
    rules: dict[str, Any] = {}
    if not distributed:  # an organization-wide start names its accounts: never an event's to choose
        parameters |= trigger_parameters(name)
        conditions["StartOnEventEnabled"] = {"Fn::Equals": [{"Ref": "StartOnEvent"}, "true"]}
        rules["TriggerNamesItsSenders"] = {
            "RuleCondition": {"Fn::Equals": [{"Ref": "StartOnEvent"}, "true"]},
            "Assertions": [
                {
                    "Assert": {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "TriggerPrincipals"}]}, ""]}]},
                    "AssertDescription": "StartOnEvent=true needs TriggerPrincipals: the roles allowed to send events",
                }
            ],
        }
        resources |= trigger(playbook, event_fields(playbook, fixed or {}))
        if on_findings := guardduty_fields(playbook, fixed or {}):
            parameters |= guardduty_parameters()
            conditions["StartOnGuardDutyEnabled"] = {"Fn::Equals": [{"Ref": "StartOnGuardDuty"}, "true"]}
            resources |= guardduty_trigger(playbook, on_findings)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"responder: the {name} playbook on AWS Step Functions, with its rollback machine",
        "Parameters": parameters,
        **({"Rules": rules} if rules else {}),
        "Conditions": conditions,
        "Resources": resources,
        "Outputs": {
            "ContainmentMachineArn": {"Value": {"Ref": "ContainmentMachine"}},
            "RollbackMachineArn": {"Value": {"Ref": "RollbackMachine"}},
            "JournalBucketName": {"Value": {"Ref": "JournalBucket"}},
            **(
                {}
                if distributed
                else {
                    "TriggerBusName": {"Condition": "StartOnEventEnabled", "Value": {"Ref": "TriggerBus"}},
                }
            ),
        },
    }


def _journal_bucket() -> dict[str, Any]:
    return {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "VersioningConfiguration": {"Status": "Enabled"},
            "ObjectLockEnabled": {"Fn::If": ["ObjectLock", True, {"Ref": "AWS::NoValue"}]},
            "ObjectLockConfiguration": {
                "Fn::If": [
                    "ObjectLock",
                    {
                        "ObjectLockEnabled": "Enabled",
                        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": {"Ref": "JournalObjectLockDays"}}},
                    },
                    {"Ref": "AWS::NoValue"},
                ]
            },
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        },
    }


def _tls_only() -> dict[str, Any]:
    """The journal is read and written over TLS only (aws:SecureTransport), whoever asks."""
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": "JournalBucket"},
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [sub("${JournalBucket.Arn}"), sub("${JournalBucket.Arn}/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            },
        },
    }

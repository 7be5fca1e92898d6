"""The CloudFormation template deploying a playbook's two state machines, what they need, and nothing more.

The execution role carries exactly the policy `responder permissions` computes for the playbook, the journal
bucket's three grants, log delivery, and (to reach other accounts) sts:AssumeRole on one role name.
"""

from __future__ import annotations

from typing import Any

from responder.engine.permissions import policy_document
from responder.playbook.model import Playbook

EVENT_SOURCE = "responder"
EVENT_DETAIL_TYPE = "Bedrock API key exposed"
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


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def template(
    playbook: Playbook, containment: dict[str, Any], rollback: dict[str, Any], distributed: bool
) -> dict[str, Any]:
    name = playbook.name
    statements = [
        *policy_document([playbook])["Statement"],
        {
            "Sid": "ResponderJournalWrite",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject"],
            "Resource": _sub("${JournalBucket.Arn}/responder/*"),
        },
        {
            "Sid": "ResponderJournalList",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": _sub("${JournalBucket.Arn}"),
        },
        {"Sid": "ResponderLogDelivery", "Effect": "Allow", "Action": _LOG_DELIVERY, "Resource": "*"},
        {
            "Sid": "ResponderReachAccounts",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": _sub("arn:${AWS::Partition}:iam::*:role/${MemberRoleName}"),
        },
    ]
    if distributed:  # a Distributed Map starts child executions of its own machine, and reads the account list
        statements.append(
            {
                "Sid": "ResponderDistributedMap",
                "Effect": "Allow",
                "Action": ["states:StartExecution", "states:DescribeExecution", "states:StopExecution"],
                "Resource": [
                    _sub(
                        f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:responder-{name}*"
                    ),
                    _sub(
                        f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:execution:responder-{name}*"
                    ),
                ],
            }
        )
    machine_common = {
        "RoleArn": {"Fn::GetAtt": ["ExecutionRole", "Arn"]},
        "StateMachineType": "STANDARD",
        "LoggingConfiguration": {
            "Level": "ALL",
            "IncludeExecutionData": False,  # the history has the data; the logs need not copy it
            "Destinations": [{"CloudWatchLogsLogGroup": {"LogGroupArn": {"Fn::GetAtt": ["LogGroup", "Arn"]}}}],
        },
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"responder: the {name} playbook on AWS Step Functions, with its rollback machine",
        "Parameters": {
            "StartOnEvent": {
                "Type": "String",
                "AllowedValues": ["true", "false"],
                "Default": "false",
                "Description": f"Start the containment on an EventBridge event (source {EVENT_SOURCE}, "
                f"detail-type '{EVENT_DETAIL_TYPE}', detail.playbook {name}).",
            },
            "MemberRoleName": {
                "Type": "String",
                "Default": "OrganizationAccountAccessRole",
                "Description": "The role the machines assume to work in another account.",
            },
        },
        "Conditions": {"StartOnEventEnabled": {"Fn::Equals": [{"Ref": "StartOnEvent"}, "true"]}},
        "Resources": {
            "JournalBucket": {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                        ]
                    },
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                },
            },
            "LogGroup": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {
                    "LogGroupName": _sub(f"/aws/vendedlogs/states/responder-{name}-${{AWS::StackName}}"),
                    "RetentionInDays": 365,
                },
            },
            "ExecutionRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "states.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                                "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                            }
                        ],
                    },
                    "Policies": [
                        {
                            "PolicyName": f"responder-{name}",
                            "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                        }
                    ],
                },
            },
            "ContainmentMachine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "StateMachineName": f"responder-{name}",
                    "Definition": containment,
                    **machine_common,
                },
            },
            "RollbackMachine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "StateMachineName": f"responder-{name}-rollback",
                    "Definition": rollback,
                    **machine_common,
                },
            },
            "EventsRole": {
                "Type": "AWS::IAM::Role",
                "Condition": "StartOnEventEnabled",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Action": "sts:AssumeRole",
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
            },
            "StartOnEventRule": {
                "Type": "AWS::Events::Rule",
                "Condition": "StartOnEventEnabled",
                "Properties": {
                    "Description": f"Start responder's {name} containment when a scanner reports an exposed key",
                    "EventPattern": {
                        "source": [EVENT_SOURCE],
                        "detail-type": [EVENT_DETAIL_TYPE],
                        "detail": {"playbook": [name]},
                    },
                    "Targets": [
                        {
                            "Id": "containment",
                            "Arn": {"Ref": "ContainmentMachine"},
                            "RoleArn": {"Fn::GetAtt": ["EventsRole", "Arn"]},
                            "InputPath": "$.detail",
                        }
                    ],
                },
            },
        },
        "Outputs": {
            "ContainmentMachineArn": {"Value": {"Ref": "ContainmentMachine"}},
            "RollbackMachineArn": {"Value": {"Ref": "RollbackMachine"}},
            "JournalBucketName": {"Value": {"Ref": "JournalBucket"}},
        },
    }

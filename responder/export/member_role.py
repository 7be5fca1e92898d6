"""The member-role template: the role a fan-out assumes in every account, carrying exactly the per-account policy.

Deployed in each member account (a CloudFormation StackSet across the organization does it in one step), it makes
`ResponderMemberRole`, which trusts only the operator's principal (a parameter), with an external id when one is
given, and holds what `responder permissions PLAYBOOK...` (containment) and `--rollback` print for that account:
never AdministratorAccess, as Organizations' own OrganizationAccountAccessRole is.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from responder.engine.commands.permissions import MEMBER_ROLE, policy_document
from responder.export.cloudformation import IN_THE_STACK, substituted
from responder.playbook.model import Playbook


def member_role_template(playbooks: list[Playbook], sweep: bool = False) -> dict[str, Any]:
    names = ", ".join(p.name for p in playbooks)
    own = IN_THE_STACK.arn(f"role/{MEMBER_ROLE}")
    account = dataclasses.replace(IN_THE_STACK, own_arns=(own,))  # the principal running is this role
    trust: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": {"Ref": "OperatorPrincipalArn"}},
        "Action": "sts:AssumeRole",
    }
    with_external_id = {**trust, "Condition": {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"responder: the role a fan-out assumes in this account ({names}), and nothing more",
        "Parameters": {
            "OperatorPrincipalArn": {
                "Type": "String",
                "AllowedPattern": r"arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+",
                "Description": "The role (or user) responder runs as in the security account: the only one trusted.",
            },
            "ExternalId": {
                "Type": "String",
                "Default": "",
                "Description": "Required by the trust when given (--external-id): set it for an operator outside "
                "this organization.",
            },
        },
        "Conditions": {"HasExternalId": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ExternalId"}, ""]}]}},
        "Resources": {
            "MemberRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": MEMBER_ROLE,
                    "Description": "responder: contain leaked API keys in this account (and roll that back)",
                    "Tags": [{"Key": "responder-protected", "Value": "true"}],
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{"Fn::If": ["HasExternalId", with_external_id, trust]}],
                    },
                    "Policies": [
                        {
                            "PolicyName": "responder-containment",
                            "PolicyDocument": substituted(policy_document(playbooks, sweep, account=account)),
                        },
                        {
                            # The fan-out's rollback goes through the role the run assumed (journaled): this one.
                            "PolicyName": "responder-rollback",
                            "PolicyDocument": substituted(
                                policy_document(playbooks, sweep, rollback=True, account=account)
                            ),
                        },
                    ],
                },
            }
        },
        "Outputs": {"MemberRoleArn": {"Value": {"Fn::GetAtt": ["MemberRole", "Arn"]}}},
    }

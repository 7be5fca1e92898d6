"""The least-privilege IAM policy an operator role needs to run some playbooks, from the actions' declarations."""

from __future__ import annotations

from typing import Any

from responder.actions.registry import get_action
from responder.playbook.model import Playbook

# Every run starts by asking who the operator is (recorded in the audit log, checked against the key's account).
ALWAYS = ("sts:GetCallerIdentity",)


# A fan-out's own calls, from the operator's account: the organization's accounts (--org), and a session in each.
ORGANIZATION = ("organizations:ListAccounts",)
ORGANIZATIONAL_UNITS = ("organizations:ListAccountsForParent", "organizations:ListOrganizationalUnitsForParent")  # --ou
ASSUME = "sts:AssumeRole"


def required_permissions(playbooks: list[Playbook], sweep: bool = False) -> list[str]:
    """Every IAM action any step of these playbooks may call: to plan, apply, verify and undo (and a sweep's)."""
    from responder.actions.key_inventory import SWEEP_PERMISSIONS

    needed = set(ALWAYS) | (set(SWEEP_PERMISSIONS) if sweep else set())
    for playbook in playbooks:
        for step in playbook.actions():
            action = get_action(step.action or "")
            if action is not None:
                needed.update(action.permissions)
    return sorted(needed)


def policy_document(playbooks: list[Playbook], sweep: bool = False, fan_out_role: str | None = None) -> dict[str, Any]:
    """A policy IAM accepts as it is (no extra keys: IAM rejects them).

    With fan_out_role, the operator's policy for a fan-out: the same grants for its own account (reached with its
    own credentials), plus listing the organization and assuming that role in every other account, where the
    role needs the policy printed without fan_out_role.
    """
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ResponderPlaybooks",
            "Effect": "Allow",
            "Action": required_permissions(playbooks, sweep),
            # Incident response must reach whichever user or role the leaked key names: no resource scoping.
            "Resource": "*",
        }
    ]
    if fan_out_role is not None:
        statements += [
            {
                "Sid": "ResponderListOrganization",
                "Effect": "Allow",
                "Action": [*ORGANIZATION, *ORGANIZATIONAL_UNITS],
                "Resource": "*",
            },
            {
                "Sid": "ResponderFanOut",
                "Effect": "Allow",
                "Action": ASSUME,
                "Resource": f"arn:*:iam::*:role/{fan_out_role}",  # any partition: aws, aws-us-gov, aws-cn
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements}

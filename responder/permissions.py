"""The least-privilege IAM policy an operator role needs to run some playbooks, from the actions' declarations."""

from __future__ import annotations

from typing import Any

from responder.playbook import Playbook
from responder.registry import get_action

# Every run starts by asking who the operator is (recorded in the audit log, checked against the key's account).
ALWAYS = ("sts:GetCallerIdentity",)


def required_permissions(playbooks: list[Playbook]) -> list[str]:
    """Every IAM action any step of these playbooks may call: to plan, apply, verify and undo."""
    needed = set(ALWAYS)
    for playbook in playbooks:
        for step in playbook.actions():
            action = get_action(step.action or "")
            if action is not None:
                needed.update(action.permissions)
    return sorted(needed)


def policy_document(playbooks: list[Playbook]) -> dict[str, Any]:
    """A policy IAM accepts as it is (no extra keys: IAM rejects them)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ResponderPlaybooks",
                "Effect": "Allow",
                "Action": required_permissions(playbooks),
                # Incident response must reach whichever user or role the leaked key names: no resource scoping.
                "Resource": "*",
            }
        ],
    }

"""Policy documents inside CloudFormation templates: account, partition and role names filled in by the stack."""

from __future__ import annotations

from typing import Any

from responder.engine.commands.permissions import Account

# The stack's own account and partition; IAM's policy variables (${aws:...}) are escaped so Fn::Sub leaves them.
IN_THE_STACK = Account(partition="${AWS::Partition}", account_id="${AWS::AccountId}", own_arns=())


def sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def substituted(value: Any) -> Any:
    """Every string naming a stack value (`${AWS::AccountId}`, `${JournalBucket.Arn}`) becomes an Fn::Sub; IAM
    policy variables in it are written `${!aws:...}`, which Fn::Sub turns back into `${aws:...}`."""
    if isinstance(value, dict):
        return {key: substituted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [substituted(item) for item in value]
    if isinstance(value, str) and "${" in value and "${!" not in value:
        stack_values = value.replace("${aws:", "${!aws:")
        if stack_values != value and "${" not in stack_values.replace("${!", ""):
            return value  # only IAM variables: no Fn::Sub needed, and none wanted (it would change them)
        return {"Fn::Sub": stack_values}
    return value

"""IAM users and roles behind one small interface, so a policy action is written once for both."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from responder.actions.base import ActionSnapshot
from responder.aws.clients import ClientError, error_code, request_id
from responder.keys import IAM_NAME_PATTERN

USER_NAME = ROLE_NAME = IAM_NAME_PATTERN
POLICY_NAME = r"^[A-Za-z0-9_+=,.@-]{1,128}$"
ACCESS_KEY_ID = r"^[A-Z0-9]{16,128}$"  # AKIA... or ASIA..., as IAM and STS write them


def absent_ok(call: Any, **kwargs: Any) -> str | None:
    """Make a delete/detach idempotent: already gone is what undo wants."""
    try:
        return request_id(call(**kwargs))
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise


def as_document(document: Any) -> Any:
    # botocore decodes IAM policy JSON for us; be safe when something hands back the raw string.
    return json.loads(document) if isinstance(document, str) else document


class InlinePolicySnapshot(ActionSnapshot):
    """What an action that writes one inline policy snapshots: that policy's document before, or None."""

    policy: dict[str, Any] | None


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "role"]
    name: str

    @property
    def _key(self) -> dict[str, str]:
        return {"UserName" if self.kind == "user" else "RoleName": self.name}

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"

    def get_inline(self, iam: Any, policy_name: str) -> Any:
        """The inline policy's document, or None when there is none of that name."""
        call = iam.get_user_policy if self.kind == "user" else iam.get_role_policy
        try:
            return as_document(call(**self._key, PolicyName=policy_name)["PolicyDocument"])
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return None
            raise

    def put_inline(self, iam: Any, policy_name: str, document: Any) -> str | None:
        call = iam.put_user_policy if self.kind == "user" else iam.put_role_policy
        return request_id(call(**self._key, PolicyName=policy_name, PolicyDocument=json.dumps(document)))

    def delete_inline(self, iam: Any, policy_name: str) -> str | None:
        call = iam.delete_user_policy if self.kind == "user" else iam.delete_role_policy
        return absent_ok(call, **self._key, PolicyName=policy_name)

    def restore_inline(self, iam: Any, policy_name: str, previous: Any) -> str | None:
        """Put back what was there before: the previous document, or nothing."""
        if previous is None:
            return self.delete_inline(iam, policy_name)
        return self.put_inline(iam, policy_name, previous)

    def attached(self, iam: Any) -> list[str]:
        call = iam.list_attached_user_policies if self.kind == "user" else iam.list_attached_role_policies
        return [p["PolicyArn"] for p in call(**self._key)["AttachedPolicies"]]

    def attach(self, iam: Any, arn: str) -> str | None:
        call = iam.attach_user_policy if self.kind == "user" else iam.attach_role_policy
        return request_id(call(**self._key, PolicyArn=arn))

    def detach(self, iam: Any, arn: str) -> str | None:
        call = iam.detach_user_policy if self.kind == "user" else iam.detach_role_policy
        return absent_ok(call, **self._key, PolicyArn=arn)

    def put_call(self) -> str:
        return "iam:PutUserPolicy" if self.kind == "user" else "iam:PutRolePolicy"

    def attach_call(self) -> str:
        return "iam:AttachUserPolicy" if self.kind == "user" else "iam:AttachRolePolicy"

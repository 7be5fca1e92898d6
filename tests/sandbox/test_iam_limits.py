"""moto's IAM, extended by responder.sandbox.iam_limits, refuses what AWS refuses: budgets, quotas, protected roles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import moto
import pytest
from botocore.exceptions import ClientError
from moto.iam.models import IAMBackend

from responder.sandbox import emulator, iam_limits
from tests.factories import moto_http_server

SSO_ROLE = "AWSReservedSSO_AdministratorAccess_0123456789abcdef"
DENY_ALL = json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}})


@pytest.fixture
def iam() -> Iterator[Any]:
    emulator.install()
    with moto.mock_aws():
        yield boto3.client("iam", region_name="us-east-1")


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def _answer(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    """What AWS answered: HTTP status, error code, message."""
    response = excinfo.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def _managed_policies(iam: Any, count: int, prefix: str = "team") -> list[str]:
    return [
        iam.create_policy(PolicyName=f"{prefix}-{n:02d}", PolicyDocument=DENY_ALL)["Policy"]["Arn"]
        for n in range(count)
    ]


def _policy(size: int, padding: int = 0) -> str:
    """A valid policy document of exactly `size` non-whitespace characters, plus `padding` spaces."""

    def build(bucket: str) -> str:
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Deny",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}",
                },
            },
            separators=(",", ":"),
        )

    document = build("b" * (size - len(build(""))))
    assert len(document) == size
    return document[:1] + " \n\t" * (padding // 3) + document[1:]


@pytest.mark.parametrize(("kind", "limit"), [("user", 2_048), ("role", 10_240)])
def test_inline_policy_budget_counts_all_inline_policies(iam: Any, kind: str, limit: int) -> None:
    if kind == "user":
        iam.create_user(UserName="target")
        put, delete = iam.put_user_policy, iam.delete_user_policy
        name = {"UserName": "target"}
    else:
        iam.create_role(RoleName="target", AssumeRolePolicyDocument=_policy(200))
        put, delete = iam.put_role_policy, iam.delete_role_policy
        name = {"RoleName": "target"}
    half = limit // 2
    put(PolicyName="first", PolicyDocument=_policy(half, padding=limit), **name)  # whitespace is free
    put(PolicyName="second", PolicyDocument=_policy(limit - half), **name)  # exactly the budget
    with pytest.raises(ClientError) as excinfo:
        put(PolicyName="third", PolicyDocument=_policy(120), **name)
    assert _error(excinfo) == "LimitExceeded"
    with pytest.raises(ClientError) as excinfo:  # replacing a policy counts its new size
        put(PolicyName="second", PolicyDocument=_policy(limit - half + 1), **name)
    assert _error(excinfo) == "LimitExceeded"
    put(PolicyName="second", PolicyDocument=_policy(limit - half - 120), **name)
    put(PolicyName="third", PolicyDocument=_policy(120), **name)  # fits after the replacement
    delete(PolicyName="first", **name)
    put(PolicyName="fourth", PolicyDocument=_policy(half), **name)


@pytest.mark.parametrize("kind", ["user", "role"])
def test_at_most_ten_managed_policies_per_user_or_role(iam: Any, kind: str) -> None:
    if kind == "user":
        iam.create_user(UserName="target")
        attach, detach, name = iam.attach_user_policy, iam.detach_user_policy, {"UserName": "target"}
        quota = "PoliciesPerUser"
    else:
        iam.create_role(RoleName="target", AssumeRolePolicyDocument=_policy(200))
        attach, detach, name = iam.attach_role_policy, iam.detach_role_policy, {"RoleName": "target"}
        quota = "PoliciesPerRole"
    *ten, eleventh = _managed_policies(iam, 11)
    for arn in ten:
        attach(PolicyArn=arn, **name)
    with pytest.raises(ClientError) as excinfo:
        attach(PolicyArn=eleventh, **name)
    assert _answer(excinfo) == (409, "LimitExceeded", f"Cannot exceed quota for {quota}: 10")
    attach(PolicyArn=ten[0], **name)  # one already attached: attaching it again changes nothing, and passes
    detach(PolicyArn=ten[0], **name)
    attach(PolicyArn=eleventh, **name)  # room again


def test_the_quota_is_per_principal(iam: Any) -> None:
    iam.create_user(UserName="full")
    iam.create_user(UserName="other")
    for arn in _managed_policies(iam, 10):
        iam.attach_user_policy(UserName="full", PolicyArn=arn)
        iam.attach_user_policy(UserName="other", PolicyArn=arn)  # the same ten again: another user's quota
    assert len(iam.list_attached_user_policies(UserName="other")["AttachedPolicies"]) == 10


def test_identity_center_roles_refuse_every_policy_change(iam: Any) -> None:
    """AWS's answer to PutRolePolicy on an AWSReservedSSO_ role (FACTS.md); the same for the other policy changes."""
    iam.create_role(RoleName=SSO_ROLE, AssumeRolePolicyDocument=_policy(200))
    [arn] = _managed_policies(iam, 1)
    message = f"Cannot perform the operation on the protected role '{SSO_ROLE}' - this role is only modifiable by AWS"
    for change in (
        lambda: iam.put_role_policy(RoleName=SSO_ROLE, PolicyName="deny", PolicyDocument=DENY_ALL),
        lambda: iam.delete_role_policy(RoleName=SSO_ROLE, PolicyName="deny"),
        lambda: iam.attach_role_policy(RoleName=SSO_ROLE, PolicyArn=arn),
        lambda: iam.detach_role_policy(RoleName=SSO_ROLE, PolicyArn=arn),
    ):
        with pytest.raises(ClientError) as excinfo:
            change()
        assert _answer(excinfo) == (400, "UnmodifiableEntity", message)
    assert iam.list_role_policies(RoleName=SSO_ROLE)["PolicyNames"] == []
    assert iam.list_attached_role_policies(RoleName=SSO_ROLE)["AttachedPolicies"] == []
    iam.create_role(RoleName="AWSReservedSSOish", AssumeRolePolicyDocument=_policy(200))  # only the exact prefix
    iam.put_role_policy(RoleName="AWSReservedSSOish", PolicyName="deny", PolicyDocument=DENY_ALL)


def test_install_is_idempotent() -> None:
    iam_limits.install()
    patched = (IAMBackend.put_user_policy, IAMBackend.put_role_policy, IAMBackend.attach_user_policy)
    iam_limits.install()
    assert (IAMBackend.put_user_policy, IAMBackend.put_role_policy, IAMBackend.attach_user_policy) == patched


def test_the_moto_server_refuses_too() -> None:
    with moto_http_server() as endpoint:
        iam = boto3.client(
            "iam",
            region_name="us-east-1",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        iam.create_user(UserName="served")
        with pytest.raises(ClientError) as excinfo:
            iam.put_user_policy(UserName="served", PolicyName="big", PolicyDocument=_policy(2_049))
        assert _answer(excinfo)[:2] == (409, "LimitExceeded")
        for arn in _managed_policies(iam, 10):
            iam.attach_user_policy(UserName="served", PolicyArn=arn)
        [more] = _managed_policies(iam, 1, prefix="one-more")
        with pytest.raises(ClientError) as excinfo:
            iam.attach_user_policy(UserName="served", PolicyArn=more)
        assert _answer(excinfo) == (409, "LimitExceeded", "Cannot exceed quota for PoliciesPerUser: 10")
        iam.create_role(RoleName=SSO_ROLE, AssumeRolePolicyDocument=_policy(200))
        with pytest.raises(ClientError) as excinfo:
            iam.put_role_policy(RoleName=SSO_ROLE, PolicyName="deny", PolicyDocument=DENY_ALL)
        assert _answer(excinfo)[:2] == (400, "UnmodifiableEntity")

"""Users and roles behind one interface: what a policy action reads, writes, restores, attaches and detaches."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from responder.actions.iam_principals import Principal, absent_ok, as_document
from responder.sandbox.seed import EXISTING_POLICY, Seeded

DOCUMENT = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}


@pytest.fixture(params=["user", "role"])
def principal(request: pytest.FixtureRequest, account: Seeded, iam: Any) -> Principal:
    if request.param == "role":
        iam.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
        return Principal("role", "app")
    return Principal("user", account.user_name)


def test_an_inline_policy_round_trips_and_restores_what_was_there(principal: Principal, iam: Any) -> None:
    assert principal.get_inline(iam, "ours") is None
    assert principal.put_inline(iam, "ours", DOCUMENT)
    assert principal.get_inline(iam, "ours") == DOCUMENT
    principal.restore_inline(iam, "ours", None)  # there was nothing: removed
    assert principal.get_inline(iam, "ours") is None
    principal.restore_inline(iam, "ours", DOCUMENT)  # there was this: put back
    assert principal.get_inline(iam, "ours") == DOCUMENT
    assert principal.delete_inline(iam, "ours") and principal.delete_inline(iam, "ours") is None  # idempotent


def test_a_managed_policy_attaches_and_detaches_once(principal: Principal, iam: Any) -> None:
    arn = iam.create_policy(PolicyName="deny-s3", PolicyDocument=json.dumps(DOCUMENT))["Policy"]["Arn"]
    principal.attach(iam, arn)
    assert arn in principal.attached(iam)
    principal.detach(iam, arn)
    assert arn not in principal.attached(iam)
    assert principal.detach(iam, arn) is None  # already detached: what undo wants


def test_names_the_calls_for_its_kind(principal: Principal) -> None:
    kind = principal.kind.capitalize()
    assert (principal.put_call(), principal.attach_call()) == (f"iam:Put{kind}Policy", f"iam:Attach{kind}Policy")
    assert str(principal) == f"{principal.kind} {principal.name}"


def test_a_users_existing_policy_reads_as_a_document(account: Seeded, iam: Any) -> None:
    name, document = EXISTING_POLICY
    assert Principal("user", account.user_name).get_inline(iam, name) == document
    assert as_document(json.dumps(document)) == document


def test_absent_ok_passes_other_errors_on(account: Seeded, iam: Any) -> None:
    assert absent_ok(iam.delete_user_policy, UserName=account.user_name, PolicyName="never-there") is None

    def refused(**_: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DeleteUserPolicy")

    with pytest.raises(ClientError):
        absent_ok(refused)

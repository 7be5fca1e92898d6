"""The emulated organization answers as AWS does: a refused AssumeRole, an account in no organization."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import moto
import pytest
from botocore.exceptions import ClientError

from responder.sandbox import emulator
from responder.sandbox.organization import DEFAULT_ROLE, seed_organization
from tests.factories import moto_http_server

MANAGEMENT = "123456789012"  # moto's default account


@pytest.fixture
def sts() -> Iterator[Any]:
    emulator.install()
    with moto.mock_aws():
        yield boto3.client("sts", region_name="us-east-1")


def _answer(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response = excinfo.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def _refused_assume_role(sts: Any) -> None:
    [member] = seed_organization(MANAGEMENT, accounts=1, keys_per_account=0)
    missing = f"arn:aws:iam::{member.account_id}:role/NoSuchRole"
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=missing, RoleSessionName="responder")
    status, code, message = _answer(excinfo)
    assert (status, code) == (403, "AccessDenied"), (status, code)  # AWS's recorded answer (FACTS.md)
    assert message.endswith(f"is not authorized to perform: sts:AssumeRole on resource: {missing}")
    present = f"arn:aws:iam::{member.account_id}:role/{DEFAULT_ROLE}"
    assert sts.assume_role(RoleArn=present, RoleSessionName="responder")["Credentials"]["AccessKeyId"]


def test_a_refused_assume_role_is_http_403_access_denied(sts: Any) -> None:
    _refused_assume_role(sts)


def test_a_refused_assume_role_is_http_403_over_the_wire_too() -> None:
    with moto_http_server() as endpoint:
        _refused_assume_role(
            boto3.client(
                "sts",
                region_name="us-east-1",
                endpoint_url=endpoint,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        )


def test_list_accounts_outside_an_organization_is_refused(sts: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        boto3.client("organizations", region_name="us-east-1").list_accounts()
    assert _answer(excinfo)[1] == "AWSOrganizationsNotInUseException"

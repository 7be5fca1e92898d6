"""Run exported state machines in the emulator, served over loopback HTTP, and read the account back."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3

from responder.sandbox.organization import DEFAULT_ROLE

ACCOUNT = "123456789012"
BUCKET = "responder-journal"
BEDROCK = "bedrock.amazonaws.com"
TRUST_STATES = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@dataclass
class Sandbox:
    endpoint: str

    def client(self, service: str, credentials: dict[str, str] | None = None) -> Any:
        keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        if credentials is not None:
            keys = {
                "aws_access_key_id": credentials["AccessKeyId"],
                "aws_secret_access_key": credentials["SecretAccessKey"],
                "aws_session_token": credentials["SessionToken"],
            }
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1", **keys)  # type: ignore[call-overload]

    def member_iam(self, account_id: str) -> Any:
        given = self.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/{DEFAULT_ROLE}", RoleSessionName="test-reader"
        )
        return self.client("iam", given["Credentials"])

    def prepare(self) -> str:
        """The machines' execution role and the journal bucket; returns the role's ARN."""
        self.client("s3").create_bucket(Bucket=BUCKET)
        role = self.client("iam").create_role(
            RoleName="responder-states", AssumeRolePolicyDocument=json.dumps(TRUST_STATES)
        )
        return str(role["Role"]["Arn"])

    def execute(self, definition: dict[str, Any], role_arn: str, name: str, given: dict[str, Any]) -> dict[str, Any]:
        sfn = self.client("stepfunctions")
        arn = self._machine(definition, role_arn, name)
        execution = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(given))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            described = sfn.describe_execution(executionArn=execution["executionArn"])
            if described["status"] != "RUNNING":
                return dict(described)
            time.sleep(0.1)
        raise AssertionError(f"execution {name} still running after 60 s")

    def _machine(self, definition: dict[str, Any], role_arn: str, name: str) -> str:
        """A containment machine is named as the template names it (`responder-PLAYBOOK`: the rollback machine
        reads its executions' histories by that name), made once; any other machine is new for each execution."""
        sfn = self.client("stepfunctions")
        comment = str(definition.get("Comment", ""))
        playbook = comment.removeprefix("responder ").split(":")[0].split(",")[0]
        if not comment.startswith("responder ") or comment.startswith("responder rollback"):
            machine = sfn.create_state_machine(name=f"m-{name}", definition=json.dumps(definition), roleArn=role_arn)
            return str(machine["stateMachineArn"])
        wanted = f"responder-{playbook}"
        for found in sfn.list_state_machines()["stateMachines"]:
            if found["name"] == wanted:
                sfn.update_state_machine(stateMachineArn=found["stateMachineArn"], definition=json.dumps(definition))
                return str(found["stateMachineArn"])
        machine = sfn.create_state_machine(name=wanted, definition=json.dumps(definition), roleArn=role_arn)
        return str(machine["stateMachineArn"])

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
        return [event for page in pages for event in page["events"]]

    def records(self) -> list[str]:
        listed = self.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="responder/")
        return sorted(o["Key"] for o in listed.get("Contents", []))


def iam_state(iam: Any) -> dict[str, Any]:
    """Everything containment may change, per user and role: keys' statuses, inline and attached policies."""
    state: dict[str, Any] = {}
    for user in iam.list_users()["Users"]:
        name = user["UserName"]
        keys = iam.list_service_specific_credentials(UserName=name, ServiceName=BEDROCK)["ServiceSpecificCredentials"]
        state[f"user/{name}"] = {
            "keys": {k["ServiceSpecificCredentialId"]: k["Status"] for k in keys},
            "access_keys": {
                k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
            },
            "inline": {
                p: iam.get_user_policy(UserName=name, PolicyName=p)["PolicyDocument"]
                for p in iam.list_user_policies(UserName=name)["PolicyNames"]
            },
            "attached": sorted(
                p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]
            ),
        }
    for role in iam.list_roles()["Roles"]:
        name = role["RoleName"]
        state[f"role/{name}"] = {
            "inline": {
                p: iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]
                for p in iam.list_role_policies(RoleName=name)["PolicyNames"]
            },
            "attached": sorted(
                p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
            ),
        }
    state["policies"] = sorted(p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"])
    return state


def served() -> Iterator[Sandbox]:
    from tests.factories import moto_http_server

    with moto_http_server() as endpoint:
        yield Sandbox(endpoint)

"""Every key family over the wire, as the README's commands run it: `responder sandbox serve --seed` seeds an
incident per family and a user's second key; identify, contain, roll back, in other processes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_sandbox_e2e import Sandbox, serve


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with serve(tmp_path) as running:
        yield running


def statuses(sandbox: Sandbox, user: str, service_name: str) -> list[str]:
    listed = sandbox.client("iam").list_service_specific_credentials(UserName=user, ServiceName=service_name)
    return [c["Status"] for c in listed["ServiceSpecificCredentials"]]


def test_a_cloudwatch_logs_key_is_identified_contained_and_rolled_back(sandbox: Sandbox) -> None:
    seeded, key = sandbox.seeded["cloudwatch-logs-long-term"], str(sandbox.key_files["cloudwatch-logs-long-term"])
    user, bystander = seeded["user_name"], seeded["bystander_user"]
    found = json.loads(sandbox.responder("identify", "--key-file", key, "-o", "json").stdout)
    assert found["key"]["family"] is None and found["owner"]["family"] == "cloudwatch-logs"
    out = json.loads(sandbox.responder("run", "leaked-long-term-key", "--key-file", key, "--yes", "-o", "json").stdout)
    assert out["status"] == "completed"
    assert statuses(sandbox, user, "logs.amazonaws.com") == ["Inactive"]
    assert statuses(sandbox, bystander, "logs.amazonaws.com") == ["Active"]
    iam = sandbox.client("iam")
    policy = iam.get_user_policy(UserName=user, PolicyName="ResponderDenyCloudwatchLogsBearerTokens")
    assert policy["PolicyDocument"]["Statement"]["Action"] == ["logs:CallWithBearerToken"]
    sandbox.responder("rollback", out["run_id"], "--reactivate-keys")
    assert statuses(sandbox, user, "logs.amazonaws.com") == ["Active"]
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == []


def test_a_second_key_beside_a_name_plus_1_bystander_stops_then_contains_the_one_named(sandbox: Sandbox) -> None:
    seeded, key = sandbox.seeded["bedrock-second-key"], str(sandbox.key_files["bedrock-second-key"])
    stopped = sandbox.responder("run", "leaked-long-term-key", "--key-file", key, "--yes", check_exit=2)
    assert "user thomas:" in stopped.stderr and "user thomas+1:" in stopped.stderr
    assert statuses(sandbox, "thomas+1", "bedrock.amazonaws.com") == ["Active"]
    assert statuses(sandbox, "thomas", "bedrock.amazonaws.com") == ["Active", "Active"]
    chosen = ("-p", f"credential_id={seeded['credential_id']}")
    sandbox.responder("run", "leaked-long-term-key", "--key-file", key, *chosen, "--yes")
    assert statuses(sandbox, "thomas", "bedrock.amazonaws.com") == ["Active", "Inactive"]  # the first key: not leaked
    assert statuses(sandbox, "thomas+1", "bedrock.amazonaws.com") == ["Active"]

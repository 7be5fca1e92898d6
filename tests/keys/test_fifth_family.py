"""The README's worked example, run: a fifth family of API keys is one module (here, this file's KeyFamily), its
line in FAMILIES and its service in the sandbox, and it is then identified, swept, contained with exactly its deny,
and exported to Step Functions, with no other module changed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from responder.engine.commands.operations import start_run
from responder.engine.running.context import Settings
from responder.keys import FAMILIES, parse_key
from responder.keys.family import ConsoleUsers, EventSource, KeyFamily, LongTermFormat
from responder.sandbox import service_credentials
from responder.sandbox.family_incidents import seed_family_incidents
from responder.sandbox.seed import Seeded
from tests.factories import ACCOUNT, credential_status, inline_policies

# What responder/keys/families/example.py would hold (the README shows it).
EXAMPLE = KeyFamily(
    name="example",
    title="Amazon Example",
    short_title="Example",
    service_name="example.amazonaws.com",
    long_term=LongTermFormat(prefix=None),  # no documented prefix: found online, by its alias
    bearer_actions=("example:CallWithBearerToken",),
    console_users=ConsoleUsers(name_glob=None, managed_policies=("ExampleAPIKeyAccess",)),
    event_sources=(
        EventSource(source="example.amazonaws.com", bearer_calls="data", data_resource_type="AWS::Example::Thing"),
    ),
    playbooks={"long-term": "leaked-long-term-key"},
    sources=("the service's user guide, API keys",),
)


@pytest.fixture
def fifth(monkeypatch: pytest.MonkeyPatch) -> Iterator[KeyFamily]:
    # The line in FAMILIES (responder/keys/registry.py) and in the sandbox's API_KEY_PREFIXES.
    monkeypatch.setitem(FAMILIES, EXAMPLE.name, EXAMPLE)
    monkeypatch.setitem(service_credentials.API_KEY_PREFIXES, EXAMPLE.service_name, "SBXE")
    yield EXAMPLE


def test_a_fifth_family_is_identified_contained_and_exported(
    fifth: KeyFamily, account: Seeded, settings: Settings
) -> None:
    (incident,) = [i for i in seed_family_incidents(ACCOUNT) if i.family == fifth.name]  # its sandbox incident
    user = incident.public["user_name"]
    assert parse_key(incident.key).user_name == user  # decoded offline; its family found by alias, online

    outcome = start_run("leaked-long-term-key", {}, incident.key, False, None, settings)
    assert outcome.status == "completed", outcome.message
    iam: Any = boto3.client("iam", region_name="us-east-1")
    assert credential_status(iam, user, incident.public["credential_id"]) == "Inactive"
    deny = inline_policies(iam, user)["ResponderDenyExampleBearerTokens"]
    assert deny["Statement"]["Action"] == ["example:CallWithBearerToken"]
    bystander = incident.public["bystander_user"], incident.public["bystander_credential_id"]
    assert credential_status(iam, *bystander) == "Active"
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"  # Bedrock's, untouched

    # The exported machine takes it by name, from the registry.
    from responder.export.stepfunctions import build
    from responder.playbook.checks import find_playbook, load_playbook

    machine = json.dumps(build(load_playbook(find_playbook("leaked-long-term-key")), {}, False).containment)
    assert '"StringEquals": "example"' in machine and '"service_name": "example.amazonaws.com"' in machine

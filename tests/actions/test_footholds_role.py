"""The short-term playbook takes the role's footholds away after containment: policies given to the role during
the key's life, and its trust policy changed then (put back as CloudTrail shows it before); rollback restores both
exactly. When the trust policy before the window cannot be known, it is left and the plan names the command."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3

from responder.engine.commands.operations import start_run
from responder.engine.commands.recovery import rollback_run
from responder.engine.running.context import Settings
from responder.keys import parse_short_term_key
from responder.sandbox.llmjacking import ATTACKER_ACCOUNT, iam_event, seed_policy_footholds, seed_trust_change
from responder.sandbox.seed import ROLE_TRUST, SeededShortTerm
from tests.factories import ACCOUNT, Requests

BOOK = "leaked-short-term-key"


def _trust(iam: Any, role: str) -> Any:
    return iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]


def _role_state(iam: Any, role: str) -> tuple[Any, ...]:
    attached = sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"])
    inline = {
        n: iam.get_role_policy(RoleName=role, PolicyName=n)["PolicyDocument"]
        for n in iam.list_role_policies(RoleName=role)["PolicyNames"]
    }
    return attached, inline, _trust(iam, role)


def test_the_roles_footholds_are_undone_after_containment_and_rolled_back(
    short_account: SeededShortTerm, settings: Settings, requests: Requests
) -> None:
    role = short_account.role_name
    since = parse_short_term_key(short_account.key).issued_at
    seeded = seed_policy_footholds(ACCOUNT, "role", role, since)
    seed_trust_change(ACCOUNT, role, since, ROLE_TRUST)
    iam = boto3.client("iam", region_name="us-east-1")
    before = _role_state(iam, role)
    assert ATTACKER_ACCOUNT in json.dumps(before[2])

    dry = start_run(BOOK, {}, short_account.key, dry_run=True, confirm=None, settings=settings)
    assert dry.status == "planned" and requests.mutating == []
    assert [c["call"] for c in dry.state.steps["trust"].changes] == ["iam:UpdateAssumeRolePolicy"]
    assert len(dry.state.steps["policies"].changes) == 2

    outcome = start_run(BOOK, {}, short_account.key, dry_run=False, confirm=None, settings=settings)
    assert outcome.status == "completed", outcome.message
    assert outcome.state.steps["trust"].status == outcome.state.steps["policies"].status == "verified"
    attached, inline, trust = _role_state(iam, role)
    assert trust == ROLE_TRUST and seeded.managed_arn not in attached and seeded.inline_name not in inline

    back = rollback_run(outcome.run_id, reactivate_keys=True, settings=settings)
    assert back.status == "rolled-back", back.message
    assert _role_state(iam, role) == before


def test_a_trust_policy_whose_earlier_document_is_unknown_is_left_with_the_command(
    short_account: SeededShortTerm, settings: Settings
) -> None:
    role = short_account.role_name
    since = parse_short_term_key(short_account.key).issued_at
    parameters = {"roleName": role, "policyDocument": json.dumps(ROLE_TRUST)}
    iam_event(ACCOUNT, "UpdateAssumeRolePolicy", parameters, since + timedelta(minutes=2))  # no CreateRole event
    dry = start_run(BOOK, {}, short_account.key, dry_run=True, confirm=None, settings=settings)
    step = dry.state.steps["trust"]
    assert step.changes == []
    assert any("cannot be known" in n and f"update-assume-role-policy --role-name {role}" in n for n in step.notes)

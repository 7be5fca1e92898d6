"""Policies given to the key's user during the exposure window are taken away after containment, shown by --dry-run,
journaled with their exact documents, and put back exactly by rollback; responder's own, a refused call and a
policy the team gave before the window are left alone."""

from __future__ import annotations

import json
from typing import Any

from responder.actions.footholds_policies import RESPONDER_POLICY_NAMES, responders_own
from responder.actions.iam_policies import DEFAULT_POLICY_NAME, DENY_BEARER_TOKENS
from responder.engine.commands.operations import start_run
from responder.engine.commands.recovery import rollback_run
from responder.engine.journal import events as j
from responder.engine.running.context import Settings
from responder.sandbox.llmjacking import BACKDOOR_INLINE, iam_event, seed_policy_footholds, window_start
from responder.sandbox.seed import EXISTING_POLICY, Seeded
from tests.factories import ACCOUNT, Requests, inline_policies

BOOK = "leaked-long-term-key"


def _attached(iam: Any, user: str) -> list[str]:
    return sorted(p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"])


def test_policies_given_in_the_window_are_removed_and_rolled_back_exactly(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    user = account.user_name
    seeded = seed_policy_footholds(ACCOUNT, "user", user, window_start(110))
    # the team's policy was put before the key existed: never the window's
    iam_event(ACCOUNT, "PutUserPolicy", {"userName": user, "policyName": EXISTING_POLICY[0]}, window_start(300))
    # a policy named as responder's own, put in the window (by an earlier run, or an attacker): left alone
    iam_event(ACCOUNT, "PutUserPolicy", {"userName": user, "policyName": DEFAULT_POLICY_NAME}, window_start(100))
    before_policies, before_attached = inline_policies(iam, user), _attached(iam, user)

    dry = start_run(BOOK, {}, account.key, dry_run=True, confirm=None, settings=settings)
    assert dry.status == "planned" and requests.mutating == []
    planned = dry.state.steps["policies"].changes
    assert sorted(c["call"] for c in planned) == ["iam:DeleteUserPolicy", "iam:DetachUserPolicy"]
    assert {c["parameters"].get("PolicyArn") or c["parameters"]["PolicyName"] for c in planned} == {
        seeded.managed_arn,
        seeded.inline_name,
    }

    outcome = start_run(BOOK, {}, account.key, dry_run=False, confirm=None, settings=settings)
    assert outcome.status == "completed", outcome.message
    assert outcome.state.steps["policies"].status == "verified"
    assert _attached(iam, user) == []
    now = inline_policies(iam, user)
    assert seeded.inline_name not in now and now[EXISTING_POLICY[0]] == EXISTING_POLICY[1]
    assert now[DEFAULT_POLICY_NAME] == DENY_BEARER_TOKENS  # containment stays
    records = outcome.state.records
    applying = next(r for r in records if r["event"] == j.APPLYING and r["step"] == "policies")
    contained = [i for i, r in enumerate(records) if r["event"] == j.APPLIED and r["step"] == "deny-bearer-tokens"]
    assert contained and contained[-1] < records.index(applying)  # after the last containment change
    kept = {p["policy"]: p for p in applying["snapshot"]["policies"]}
    assert kept[seeded.inline_name]["document"] == BACKDOOR_INLINE[1]  # the exact document, before the call

    back = rollback_run(outcome.run_id, reactivate_keys=True, settings=settings)
    assert back.state.steps["policies"].undo_status == "undone"
    assert _attached(iam, user) == before_attached == [seeded.managed_arn]
    assert inline_policies(iam, user) == before_policies


def test_a_refused_or_gone_policy_is_not_a_change(account: Seeded, settings: Settings, iam: Any) -> None:
    user = account.user_name
    seeded = seed_policy_footholds(ACCOUNT, "user", user, window_start(110))
    iam.detach_user_policy(UserName=user, PolicyArn=seeded.managed_arn)  # someone already took it away
    dry = start_run(BOOK, {}, account.key, dry_run=True, confirm=None, settings=settings)
    step = dry.state.steps["policies"]
    assert [c["call"] for c in step.changes] == ["iam:DeleteUserPolicy"]
    assert any(seeded.managed_arn in n and "no longer on it" in n for n in step.notes)
    assert not any("AdministratorAccess" in json.dumps(c) for c in step.changes)  # the refused attach


def test_responders_own_policies_are_recognised() -> None:
    assert DEFAULT_POLICY_NAME in RESPONDER_POLICY_NAMES and responders_own("AWSRevokeOlderSessions", ACCOUNT)
    assert responders_own(f"arn:aws:iam::{ACCOUNT}:policy/{DEFAULT_POLICY_NAME}-alice", ACCOUNT)
    assert not responders_own(f"arn:aws:iam::999999999999:policy/{DEFAULT_POLICY_NAME}-alice", ACCOUNT)
    assert not responders_own("arn:aws:iam::aws:policy/AdministratorAccess", ACCOUNT)
    assert not responders_own("ops-maintenance", ACCOUNT)

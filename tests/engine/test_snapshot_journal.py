"""Snapshots journaled before they were models (plain dicts, by string keys) still read back, and roll back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from responder.actions.base import ActionContext
from responder.actions.iam_policies import DEFAULT_POLICY_NAME, DENY_BEARER_TOKENS, DenyBearerTokensForUser
from responder.actions.registry import all_actions
from responder.aws.clients import AwsOptions, Clients
from responder.engine.journal import events as j
from responder.engine.journal.run_state import load_run
from responder.engine.journal.saved_plan import state_hashes
from responder.engine.journal.writer import Journal
from responder.engine.running.executor import Executor
from responder.playbook.checks import load_playbook
from responder.playbook.shipped import shipped_playbooks
from responder.sandbox.seed import EXISTING_POLICY, Seeded
from tests.factories import ACCOUNT, inline_policies

CREDENTIAL = {
    "credential_id": "ACCAYB6UKVA9GHA5W8TQV",
    "user_name": "BedrockAPIKey-demo",
    "status": "Active",
    "alias": "BedrockAPIKey-demo-at-123456789012",
    "created": "2026-12-01T22:08:54+00:00",
    "expires": "2026-12-31T22:08:54+00:00",
}
NO_DENY_YET = {
    "inline_policy": None,
    "managed_attached": False,
    "managed_policy_existed": False,
    "managed_policy_was_attached": False,
}
# Snapshots as the version before typed snapshots journaled them (made by its code against the emulator).
JOURNALED_BEFORE: dict[str, dict[str, Any]] = {
    "iam.resolve-long-term-key": {
        "credentials": [CREDENTIAL],
        "matched_by": "user BedrockAPIKey-demo",
        "narrowed": False,
    },
    "iam.deactivate-service-credentials": {"credentials": {CREDENTIAL["credential_id"]: CREDENTIAL, "ACCAGONE1": None}},
    "iam.delete-service-credentials": {"credentials": {CREDENTIAL["credential_id"]: CREDENTIAL}},
    "iam.deny-bearer-tokens-for-user": NO_DENY_YET,
    "iam.deny-bearer-tokens-for-role": {**NO_DENY_YET, "inline_policy": EXISTING_POLICY[1]},
    "iam.revoke-role-sessions": {"policy": None},
    "iam.put-guardrail-policy": {"policy": EXISTING_POLICY[1]},
    "iam.deactivate-access-key": {"status": "Active"},
    "iam.select-bedrock-keys": {
        "keys": [
            {
                "label": "ml-pipeline/ACCAQMR88F1LQ81J1SMBB",
                "user_name": "ml-pipeline",
                "credential_id": "ACCAQMR88F1LQ81J1SMBB",
                "status": "Active",
                "created": "2026-12-01T22:08:54+00:00",
                "expires": None,
            }
        ]
    },
    "guardrails.render-policy": {},
    # Typed from its first version (issue 20): the shape it journals.
    "iam.deactivate-window-access-keys": {
        "keys": [{"access_key_id": "AKIAEXAMPLE000000001", "status": "Active", "created": "2026-12-01T22:08:54+00:00"}],
        "own_user": False,
    },
    # Typed from their first version (issue 20, footholds): the shapes they journal.
    **{
        f"iam.remove-window-{kind}-policies": {
            "policies": [
                {
                    "kind": "inline",
                    "policy": "ops-maintenance",
                    "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*"}]},
                    "event_id": "5eef70b9-8e0b-42f7-83fd-5a4b7d15e695",
                    "event_time": "2026-12-01T22:28:54+00:00",
                }
            ],
            "gone": [],
            "kept_own": ["ResponderDenyBedrockBearerTokens"],
            "own_principal": False,
            "events_cut": False,
        }
        for kind in ("user", "role")
    },
    "iam.disable-window-user-credentials": {
        "credentials": [
            {
                "credential_id": "ACCAQMR88F1LQ81J1SMBC",
                "service_name": "bedrock.amazonaws.com",
                "status": "Active",
                "created": "2026-12-01T22:08:54+00:00",
            }
        ],
        "login_profile": {"created": "2026-12-01T22:18:54+00:00", "password_reset_required": False},
        "own_user": False,
    },
    "iam.restore-window-trust-policy": {
        "current": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]},
        "changed_by": ["5eef70b9-8e0b-42f7-83fd-5a4b7d15e695"],
        "before": None,
        "before_from": None,
        "own_role": False,
    },
    "bedrock.restore-invocation-logging": {
        "regions": [
            {
                "region": "us-east-1",
                "current": None,
                "changed_by": ["5eef70b9-8e0b-42f7-83fd-5a4b7d15e695"],
                "actors": ["arn:aws:iam::123456789012:user/ops-automation"],
                "before_known": True,
                "before": {"s3Config": {"bucketName": "team-logs"}, "textDataDeliveryEnabled": True},
                "before_from": "6eef70b9-8e0b-42f7-83fd-5a4b7d15e695",
            }
        ]
    },
    "bedrock.list-window-jobs": {
        "jobs": [
            {
                "region": "us-east-1",
                "arn": "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/llm-exfil-tune",
                "name": "llm-exfil-tune",
                "status": "InProgress",
                "created": "2026-12-01T22:38:54+00:00",
                "base_model": None,
            }
        ],
        "regions": ["us-east-1"],
    },
    "bedrock.stop-window-jobs": {"jobs": []},
    # Typed from its first version: the shape it journals.
    "bedrock.delete-window-throughput": {"throughputs": [], "creators": {}, "unattributed": [], "unlisted": []},
    # Typed from its first version (issue 22): the shape it journals.
    "iam.quarantine-user": {
        "policy": None,
        "access_keys": [{"access_key_id": "AKIAEXAMPLE000000001", "status": "Active"}],
        "login_profile": {"created": "2026-12-01T22:08:54+00:00", "password_reset_required": False},
        "own_user": False,
    },
    # A read (journaled in the step's record, not for undo), in the shape the resolve step returned before.
    "cloudtrail.resolve-short-term-key": {"kind": "role", "name": "chat-app", "notes": []},
    # Volatile (never journaled whole), but a dict of exactly this shape is what the investigation read before.
    "cloudtrail.investigate-key-activity": {
        "records": [{"eventID": "5eef70b9-8e0b-42f7-83fd-5a4b7d15e695", "eventSource": "bedrock.amazonaws.com"}],
        "window": ["2026-12-01T22:08:54+00:00", "2026-12-02T00:08:54+00:00"],
        "regions": ["us-east-1"],
        "by": "Username=BedrockAPIKey-demo",
        "capped_window": False,
        "cap_hit": False,
    },
}


def test_every_action_with_a_snapshot_model_has_a_journal_of_the_old_shape_here() -> None:
    typed = {name for name, action in all_actions().items() if action.Snapshot is not None}
    assert typed == set(JOURNALED_BEFORE)


@pytest.mark.parametrize("name", sorted(JOURNALED_BEFORE))
def test_an_old_snapshot_reads_back_and_journals_the_same(name: str) -> None:
    action = all_actions()[name]
    snapshot = action.snapshot_from_journal(JOURNALED_BEFORE[name])
    assert isinstance(snapshot, action.Snapshot)  # type: ignore[arg-type]
    assert action.journaled_snapshot(snapshot) == JOURNALED_BEFORE[name]


def test_a_snapshot_of_another_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="managed_attached"):
        DenyBearerTokensForUser.snapshot_from_journal({"inline_policy": None})


def _journal_with(path: Path, snapshot: dict[str, Any], user: str) -> None:
    """A journal whose deny step was applying when the run stopped, its snapshot in the old shape."""
    with Journal(path, "run-old") as journal:
        journal.begin(run_id="run-old", playbook="leaked-long-term-key", steps=[{"id": "deny", "action": DENY}])
        journal.record(j.APPLYING, step="deny", action=DENY, params={"user_name": user}, snapshot=snapshot)


DENY = DenyBearerTokensForUser.name


def _deny_in_place(iam: Any, user: str) -> None:
    iam.put_user_policy(UserName=user, PolicyName=DEFAULT_POLICY_NAME, PolicyDocument=json.dumps(DENY_BEARER_TOKENS))


def _roll_back(path: Path) -> list[str]:
    state = load_run(path)
    ctx = ActionContext(Clients(AwsOptions(region="us-east-1")), ACCOUNT)
    playbook = load_playbook(shipped_playbooks()["leaked-long-term-key"])
    with Journal(path, state.run_id) as journal:
        return Executor(playbook, ctx, journal).undo(state)


def test_a_run_journaled_before_typed_snapshots_rolls_back(account: Seeded, iam: Any, tmp_path: Path) -> None:
    """The old journal said the user had our policy name holding another deny: undo puts that back."""
    previous = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
    old = {**NO_DENY_YET, "inline_policy": previous}
    _deny_in_place(iam, account.user_name)
    _journal_with(tmp_path / "audit.jsonl", old, account.user_name)
    assert _roll_back(tmp_path / "audit.jsonl") == []
    assert inline_policies(iam, account.user_name)[DEFAULT_POLICY_NAME] == previous
    undoing = [r for r in load_run(tmp_path / "audit.jsonl").records if r["event"] == j.UNDOING]
    assert [r["snapshot"] for r in undoing] == [old]


def test_a_snapshot_rollback_cannot_read_is_said_not_guessed(account: Seeded, iam: Any, tmp_path: Path) -> None:
    _journal_with(tmp_path / "audit.jsonl", {"policy": None}, account.user_name)
    _deny_in_place(iam, account.user_name)
    failures = _roll_back(tmp_path / "audit.jsonl")
    assert len(failures) == 1 and failures[0].startswith("step deny: the journal's snapshot does not fit")
    assert DEFAULT_POLICY_NAME in inline_policies(iam, account.user_name)  # nothing undone on a guess


def test_a_saved_plan_hashes_the_state_not_its_spelling(tmp_path: Path) -> None:
    """A moment written "Z" or "+00:00" is one state: a plan saved by either matches."""
    hashes = []
    for created in ("2026-12-01T22:08:54+00:00", "2026-12-01T22:08:54Z"):
        snapshot = {"credentials": {"ACCAYB6UKVA9GHA5W8TQV": {**CREDENTIAL, "created": created}}}
        path = tmp_path / f"{len(hashes)}.jsonl"
        with Journal(path, "run") as journal:
            journal.begin(run_id="run", playbook="leaked-long-term-key", steps=[])
            journal.record(j.PLANNED, step="deactivate", action="iam.deactivate-service-credentials", snapshot=snapshot)
        hashes.append(state_hashes(load_run(path)))
    assert hashes[0] == hashes[1] and hashes[0]


def test_a_journaled_allow_under_the_deny_s_name_is_never_put_back(account: Seeded, iam: Any, tmp_path: Path) -> None:
    """Under responder's name there could only have been a deny: an Allow in the journal is a forgery (or a policy
    no rollback should restore blind). Undo refuses it, says why, and leaves the deny in place."""
    forged = {
        **NO_DENY_YET,
        "inline_policy": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*"}},
    }
    _deny_in_place(iam, account.user_name)
    _journal_with(tmp_path / "audit.jsonl", forged, account.user_name)
    failures = _roll_back(tmp_path / "audit.jsonl")
    assert len(failures) == 1 and "statement 1 has Effect 'Allow', not 'Deny'" in failures[0]
    assert inline_policies(iam, account.user_name)[DEFAULT_POLICY_NAME] == DENY_BEARER_TOKENS

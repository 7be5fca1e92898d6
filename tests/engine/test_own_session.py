"""The operator's own session: a containment step that would revoke or deny the principal the operator's own
credentials belong to stops the run in one line before any change (a dry run too), unless --allow-self, which the
journal records."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import boto3
import pytest

from responder.engine.commands.operations import start_run
from responder.engine.journal import events as j
from responder.engine.journal.run_state import load_run
from responder.engine.running.context import Settings
from responder.engine.running.own_session import caller_principal
from responder.errors import UserError
from responder.sandbox.seed import SeededShortTerm
from tests.factories import ACCOUNT, Requests

BOOK = "leaked-short-term-key"


def test_caller_principal_from_the_callers_arn() -> None:
    assert caller_principal(f"arn:aws:sts::{ACCOUNT}:assumed-role/chat-app/worker-1") == "role/chat-app"
    assert caller_principal(f"arn:aws:iam::{ACCOUNT}:user/ops/alice") == "user/alice"
    assert caller_principal(f"arn:aws:iam::{ACCOUNT}:root") is None
    assert caller_principal(f"arn:aws:sts::{ACCOUNT}:federated-user/bob") is None
    assert caller_principal("not an arn") is None


@pytest.fixture
def as_the_leaked_role(short_account: SeededShortTerm, monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator's credentials are a session of the very role that signed the leaked key."""
    session = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{short_account.role_name}", RoleSessionName="on-call"
    )["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", session["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", session["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", session["SessionToken"])


def role_policies(iam: Any, role: str) -> list[str]:
    return list(iam.list_role_policies(RoleName=role)["PolicyNames"])


@pytest.mark.usefixtures("as_the_leaked_role")
def test_revoking_the_operators_own_role_is_refused_before_any_change(
    short_account: SeededShortTerm, settings: Settings, requests: Requests, iam: Any
) -> None:
    for dry_run in (True, False):  # a dry run says so too
        with pytest.raises(UserError) as refused:
            start_run(BOOK, {}, short_account.key, dry_run=dry_run, confirm=None, settings=settings)
        message = refused.value.message
        assert f"acts on role/{short_account.role_name}, the principal your own credentials belong to" in message
        assert "--allow-self" in message and "\n" not in message and refused.value.exit_code == 2
        assert load_run(settings.runs_dir / str(refused.value.run_id) / "audit.jsonl").status == "rejected"
    assert requests.mutating == [] and role_policies(iam, short_account.role_name) == []


@pytest.mark.usefixtures("as_the_leaked_role")
def test_allow_self_goes_on_and_is_journaled(
    short_account: SeededShortTerm, settings: Settings, iam: Any, tmp_path: Path
) -> None:
    allowed = dataclasses.replace(settings, allow_self=True)
    outcome = start_run(BOOK, {}, short_account.key, dry_run=False, confirm=None, settings=allowed)
    assert outcome.status == "completed", outcome.message
    records = [r for r in load_run(outcome.paths.audit_log).records if r["event"] == j.SELF_CHANGE_ALLOWED]
    assert {r["principal"] for r in records} == {f"role/{short_account.role_name}"}
    assert "on-call" in records[0]["operator"]
    assert role_policies(iam, short_account.role_name)

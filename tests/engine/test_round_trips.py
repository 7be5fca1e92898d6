"""Contained in two round trips: which requests a run has in flight at once.

Each request is held before it is sent until every request of its round has been sent too, so a round passes
only if its requests go out together, none waiting for another's answer; a request that waits for one held in
its round never comes, and the round times out.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from responder.actions.iam_policies import DenyBearerTokensForUser, DenyUserParams
from responder.aws.clients import AwsOptions, Clients
from responder.engine.commands.operations import start_run
from responder.engine.running.context import Settings
from responder.engine.running.read_ahead import ReadAhead
from responder.playbook.model import Step
from responder.sandbox.seed import Seeded, SeededShortTerm
from tests.factories import ACCOUNT, action_context, watched_settings

ROUND_SECONDS = 5.0  # far more than any round needs in process; a request that never comes costs this once


class Rounds:
    """Holds each request of the current round until the whole round has been sent. `strict`: every request
    before the last round must belong to its round; otherwise requests of no round pass at once."""

    def __init__(self, rounds: list[list[str]], strict: bool) -> None:
        self.rounds = [Counter(r) for r in rounds]
        self.strict = strict
        self.index = 0
        self.arrived: Counter[str] = Counter()
        self.problems: list[str] = []
        self.seen: list[tuple[int, str]] = []  # (round, operation) as they were sent
        self._cond = threading.Condition()

    def handler(self, model: Any, **_: Any) -> None:
        name = model.name
        with self._cond:
            if self.index >= len(self.rounds):
                return
            expected = self.rounds[self.index]
            self.seen.append((self.index + 1, name))
            if self.arrived[name] >= expected[name]:
                if self.strict:
                    self.problems.append(f"round {self.index + 1}: {name} was not expected")
                return
            mine = self.index
            self.arrived[name] += 1
            if self.arrived == expected:
                self.index, self.arrived = self.index + 1, Counter()
                self._cond.notify_all()
                return
            if not self._cond.wait_for(lambda: self.index > mine, ROUND_SECONDS):
                missing = expected - self.arrived
                self.problems.append(f"round {mine + 1}: {name} waited for {sorted(missing.elements())}, never sent")
                self.index = len(self.rounds)  # let everything go: the run finishes and the test reports this
                self._cond.notify_all()


def _settings(tmp_path: Path, rounds: Rounds) -> Settings:
    return watched_settings(tmp_path, rounds.handler)


def test_a_long_term_key_is_contained_in_two_round_trips(account: Seeded, tmp_path: Path) -> None:
    """The user's credentials, the user's policies and GetCallerIdentity together; then the deactivation and
    the deny together. Only then the read-backs and CloudTrail."""
    rounds = Rounds(
        [
            ["GetCallerIdentity", "ListServiceSpecificCredentials", "GetUserPolicy", "GetPolicy"],
            ["UpdateServiceSpecificCredential", "PutUserPolicy"],
        ],
        strict=True,
    )
    outcome = start_run("leaked-long-term-key", {}, account.key, False, None, _settings(tmp_path, rounds))
    assert outcome.status == "completed", outcome.message
    assert rounds.problems == [], rounds.seen
    assert rounds.index == 2


def test_a_renamed_users_key_still_denies_the_user_it_finds(account: Seeded, tmp_path: Path, iam: Any) -> None:
    """The deny's policies were read ahead for the user the key names; the key's credential now belongs to a
    renamed user, so the guess is dropped and the deny reads (and changes) the user the credential belongs to."""
    iam.update_user(UserName=account.user_name, NewUserName="renamed-owner")
    rounds = Rounds([], strict=False)
    outcome = start_run("leaked-long-term-key", {}, account.key, False, None, _settings(tmp_path, rounds))
    assert outcome.status == "completed", outcome.message
    names = iam.list_user_policies(UserName="renamed-owner")["PolicyNames"]
    assert "ResponderDenyBedrockBearerTokens" in names


def test_a_short_term_keys_role_deny_and_session_revocation_go_out_together(
    short_account: SeededShortTerm, tmp_path: Path
) -> None:
    rounds = Rounds([["PutRolePolicy", "PutRolePolicy"]], strict=False)
    settings = _settings(tmp_path, rounds)
    outcome = start_run("leaked-short-term-key", {}, short_account.key, False, None, settings)
    assert outcome.status == "completed", outcome.message
    assert rounds.problems == [], rounds.seen
    assert rounds.index == 1


@pytest.mark.parametrize("refused", ["UpdateServiceSpecificCredential", "PutUserPolicy"])
def test_a_refused_change_does_not_hold_back_the_other(account: Seeded, tmp_path: Path, refused: str) -> None:
    """Both are sent together (the rounds hold them until both are out); one is refused, the other is made."""
    from botocore.exceptions import ClientError

    rounds = Rounds([["UpdateServiceSpecificCredential", "PutUserPolicy"]], strict=False)

    def refuse(model: Any, **_: Any) -> None:
        if model.name == refused:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, refused)

    def open_clients(options: AwsOptions, read_only: bool) -> Clients:
        clients = Clients(options, read_only)
        clients.on_request(rounds.handler)
        clients.on_request(refuse)
        return clients

    settings = Settings(
        runs_dir=tmp_path / "runs", aws=AwsOptions(region="us-east-1"), open_clients=open_clients, verify_delays=(0,)
    )
    outcome = start_run("leaked-long-term-key", {}, account.key, False, None, settings)
    assert outcome.status == "failed"
    assert rounds.problems == [], rounds.seen
    statuses = {s.id: s.status for s in outcome.state.steps.values()}
    made = "deny-bearer-tokens" if refused == "UpdateServiceSpecificCredential" else "deactivate"
    failed = "deactivate" if made == "deny-bearer-tokens" else "deny-bearer-tokens"
    assert (statuses[made], statuses[failed]) == ("verified", "failed")
    assert statuses["investigate"] == "pending"  # not due with them: the refusal stopped it


@pytest.mark.parametrize(("key_account", "used"), [(ACCOUNT, True), ("210987654321", False)])
def test_a_snapshot_read_ahead_is_used_only_in_the_account_it_assumed(
    account: Seeded, key_account: str, used: bool
) -> None:
    """Read ahead on the key's account, before the operator's identity answered: in another account it is dropped."""
    ctx = action_context()  # the operator's account is ACCOUNT
    ahead = ReadAhead(ctx, SimpleNamespace(account_id=key_account))
    step = Step.model_validate({"id": "deny", "action": DenyBearerTokensForUser.name})
    params = DenyUserParams(user_name=account.user_name)
    ahead.start(step, DenyBearerTokensForUser(), params)
    assert (ahead.take(step, params) is not None) is used
    ahead.start(step, DenyBearerTokensForUser(), params)
    assert ahead.take(step, DenyUserParams(user_name="someone-else")) is None  # other arguments: read again

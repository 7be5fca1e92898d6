"""A journal is acted on only when intact and where it was made: rollback, resume, investigate and apply refuse an
edited audit log (unless --accept-broken-chain, journaled), another endpoint, and a swapped saved plan."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from responder.actions.iam_policies import DEFAULT_POLICY_NAME, DENY_BEARER_TOKENS
from responder.aws.clients import AwsOptions
from responder.cli.main import app
from responder.engine.commands.investigation import investigate_run
from responder.engine.commands.operations import Outcome, apply_plan, start_run
from responder.engine.commands.recovery import resume_run, rollback_run
from responder.engine.journal import events as j
from responder.engine.journal.audit import GENESIS, record_hash, verify_chain
from responder.engine.journal.run_state import load_run
from responder.engine.running.context import Settings
from responder.errors import UserError
from responder.sandbox.seed import Seeded
from tests.factories import Requests, inline_policies

BOOK = "leaked-long-term-key"
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
runner = CliRunner()


def contain(account: Seeded, settings: Settings) -> Outcome:
    return start_run(BOOK, {}, account.key, dry_run=False, confirm=None, settings=settings)


def rewrite(log: Path, edit: Any, rehash: bool = False) -> None:
    """Edit the journal's records; with rehash, rewrite the whole chain to match (the stronger forger)."""
    records = [json.loads(line) for line in log.read_text().splitlines()]
    for record in records:
        edit(record)
    if rehash:
        prev = GENESIS
        for record in records:
            record["prev"] = prev
            record["hash"] = prev = record_hash(record)
    log.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))


def forge_allow(record: dict[str, Any]) -> None:
    if record.get("event") == j.APPLYING and record.get("step") == "deny-bearer-tokens":
        record["snapshot"]["inline_policy"] = ALLOW_ALL


def test_a_forged_allow_in_an_edited_journal_is_refused_before_anything_changes(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    outcome = contain(account, settings)
    rewrite(outcome.paths.audit_log, forge_allow)
    before = outcome.paths.audit_log.read_text()
    requests.sent.clear()
    with pytest.raises(UserError, match=r"hash chain is broken at record \d+: content does not match its hash"):
        rollback_run(outcome.run_id, True, settings)
    for refused in (lambda: resume_run(outcome.run_id, settings), lambda: investigate_run(outcome.run_id, settings)):
        with pytest.raises(UserError, match="--accept-broken-chain goes on, journaled"):
            refused()
    assert requests.mutating == [] and outcome.paths.audit_log.read_text() == before
    # The operator goes on anyway: the journal says so, and the forged Allow is still never put back.
    back = rollback_run(outcome.run_id, True, dataclasses.replace(settings, accept_broken_chain=True))
    assert back.status == "rollback-incomplete"
    assert inline_policies(iam, account.user_name).get(DEFAULT_POLICY_NAME) == DENY_BEARER_TOKENS
    accepted = [r for r in load_run(outcome.paths.audit_log).records if r["event"] == j.BROKEN_CHAIN_ACCEPTED]
    assert accepted and accepted[0]["command"] == "rollback" and "content does not match" in accepted[0]["problem"]


def test_a_rehashed_forged_allow_is_still_never_put_back(account: Seeded, settings: Settings, iam: Any) -> None:
    outcome = contain(account, settings)
    rewrite(outcome.paths.audit_log, forge_allow, rehash=True)
    assert verify_chain(outcome.paths.audit_log).ok  # the forger rewrote the chain: only the content check is left
    back = rollback_run(outcome.run_id, True, settings)
    assert back.status == "rollback-incomplete"
    step = back.state.steps["deny-bearer-tokens"]
    assert step.undo_status == "failed" and "not 'Deny'" in str(step.undo_message)
    assert inline_policies(iam, account.user_name).get(DEFAULT_POLICY_NAME) == DENY_BEARER_TOKENS


def test_a_journal_naming_another_endpoint_is_refused(account: Seeded, settings: Settings, requests: Requests) -> None:
    outcome = contain(account, settings)

    def elsewhere(record: dict[str, Any]) -> None:
        if record.get("event") == j.RUN_STARTED:
            record["endpoint_url"] = "https://attacker.example"

    rewrite(outcome.paths.audit_log, elsewhere, rehash=True)
    requests.sent.clear()
    with pytest.raises(
        UserError, match=re.escape("made against endpoint https://attacker.example, but your settings reach AWS")
    ):
        rollback_run(outcome.run_id, True, settings)
    given = dataclasses.replace(settings, aws=AwsOptions(region="us-east-1", endpoint_url="http://127.0.0.1:1"))
    with pytest.raises(UserError, match=re.escape("give --endpoint-url https://attacker.example")):
        investigate_run(outcome.run_id, given)
    assert requests.sent == []


def test_a_swapped_saved_plan_is_refused(
    account: Seeded, settings: Settings, requests: Requests, tmp_path: Path
) -> None:
    plan_file = tmp_path / "plan.json"
    start_run(BOOK, {}, account.key, dry_run=True, confirm=None, settings=settings, save_plan=plan_file)
    plan = json.loads(plan_file.read_text())
    swapped = {**plan, "params": {**plan["params"], "delete_key": True}}  # the reviewed plan kept the key
    plan_file.write_text(json.dumps(swapped))
    requests.sent.clear()
    with pytest.raises(UserError, match="not the ones it was made from"):
        apply_plan(plan_file, None, settings)
    from responder.engine.journal.saved_plan import made_from

    plan_file.write_text(json.dumps({**swapped, "made_from": made_from(swapped)}))  # its hash recomputed too
    with pytest.raises(UserError, match=f"differ from what run {plan['planned_by_run']} planned"):
        apply_plan(plan_file, None, settings)
    assert requests.sent == []


def test_a_broken_chain_is_one_line_and_exit_2_on_the_command_line(account: Seeded, settings: Settings) -> None:
    outcome = contain(account, settings)
    rewrite(outcome.paths.audit_log, forge_allow)
    runs = ["--runs-dir", str(settings.runs_dir)]
    for command in (["rollback", outcome.run_id], ["resume", outcome.run_id], ["investigate", outcome.run_id]):
        result = runner.invoke(app, [*command, *runs])
        assert result.exit_code == 2, result.output
        assert result.stderr.count("\n") == 1 and "hash chain is broken at record" in result.stderr

"""The operator's machine and hands fail: Ctrl-C mid-run, a full or read-only disk, a live run at its prompt,
an exported endpoint that is not the run's, a log that grew after its report, a rollback that must wait."""

from __future__ import annotations

import dataclasses
import errno
import json
import re
import threading
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from responder.aws.clients import AwsOptions
from responder.cli.render import Progress
from responder.engine.commands.operations import start_run
from responder.engine.commands.outcome import current_status
from responder.engine.commands.recovery import resume_run, rollback_run
from responder.engine.journal.audit import DurableFile, verify_chain
from responder.engine.journal.locks import LockSet, TargetBusy
from responder.engine.journal.run_state import RunState, load_run
from responder.engine.journal.runs import all_runs
from responder.engine.running.context import Settings, with_run_endpoint
from responder.errors import EXIT_INTERRUPTED, Interrupted, JournalUnwritable, UserError
from responder.sandbox.seed import Seeded, SeededShortTerm
from tests.factories import Requests, credential_status, fill_inline_budget

BOOK = "leaked-long-term-key"


def contain(account: Seeded, settings: Settings) -> Any:
    return start_run(BOOK, {}, account.key, dry_run=False, confirm=None, settings=settings)


def test_ctrl_c_mid_run_ends_it_interrupted_with_a_report_and_the_way_on(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    requests.faults["PutUserPolicy"] = [KeyboardInterrupt()]  # as if Ctrl-C came while the deny was being sent
    with pytest.raises(Interrupted) as raised:
        contain(account, settings)
    exc = raised.value
    assert exc.exit_code == EXIT_INTERRUPTED == 130
    assert f"responder resume {exc.run_id}" in exc.message and f"responder rollback {exc.run_id}" in exc.message
    (paths,) = all_runs(settings.runs_dir)
    assert json.loads(paths.report_json.read_text())["status"] == "interrupted"
    assert credential_status(iam, account.user_name, account.credential_id) == "Inactive"  # what was done stays
    assert resume_run(exc.run_id or "", settings).status == "completed"


def test_a_full_disk_mid_run_stops_before_the_next_request_and_says_how_to_finish(
    account: Seeded, settings: Settings, requests: Requests, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = DurableFile.info
    deactivation_journaled = threading.Event()

    def full(self: DurableFile, message: str) -> None:
        compact = message.replace(" ", "")
        if '"event":"step.applying"' in compact and '"step":"deny-bearer-tokens"' in compact:
            # The deny's write-ahead fails once the deactivation's is on disk: the two go out together, so which
            # one is written first is the threads' choice; this case is the disk filling between them.
            deactivation_journaled.wait(10)
            raise OSError(errno.ENOSPC, "No space left on device")
        real(self, message)
        if '"event":"step.applying"' in compact and '"step":"deactivate"' in compact:
            deactivation_journaled.set()

    monkeypatch.setattr(DurableFile, "info", full)
    with pytest.raises(JournalUnwritable) as raised:
        contain(account, settings)
    message = raised.value.message
    assert "No space left on device" in message and f"responder resume {raised.value.run_id}" in message
    assert "deactivate" in message
    assert requests.mutating == ["UpdateServiceSpecificCredential"]  # the deny was never sent unjournaled
    monkeypatch.setattr(DurableFile, "info", real)
    assert resume_run(raised.value.run_id or "", settings).status == "completed"


def test_a_read_only_runs_directory_is_bad_input_and_sends_no_change(
    account: Seeded, settings: Settings, requests: Requests, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: Any, **__: Any) -> Any:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("responder.engine.journal.audit.open_audit_logger", refuse)
    with pytest.raises(UserError, match=r"Read-only file system.*nothing was changed"):
        contain(account, settings)
    assert requests.mutating == []
    assert all_runs(settings.runs_dir) == []  # no run was begun, so none is left behind


def test_too_little_room_for_a_journal_is_refused_before_any_change(
    account: Seeded, settings: Settings, requests: Requests, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "responder.engine.journal.runs.shutil.disk_usage", lambda _: type("Usage", (), {"free": 4096})()
    )
    with pytest.raises(UserError, match="4,096 bytes free"):
        contain(account, settings)
    assert requests.mutating == []


def test_a_run_waiting_at_its_prompt_is_running_not_interrupted(account: Seeded, settings: Settings) -> None:
    seen: list[str] = []

    def confirm(planned: RunState) -> bool:
        seen.append(
            current_status(load_run(Path(settings.runs_dir / planned.run_id / "audit.jsonl")), settings.runs_dir)
        )
        return False

    outcome = start_run(BOOK, {}, account.key, dry_run=False, confirm=confirm, settings=settings)
    assert seen == ["running"]
    assert outcome.status == "cancelled" and current_status(outcome.state, settings.runs_dir) == "cancelled"


def test_an_exported_endpoint_that_is_not_the_runs_is_refused() -> None:
    recorded = {"endpoint_url": None, "region": "us-east-1"}
    exported = AwsOptions(endpoint_url="http://127.0.0.1:4566", region="us-east-1")
    with pytest.raises(UserError, match=re.escape("environment sets http://127.0.0.1:4566")):
        with_run_endpoint(exported, recorded, frozenset({"endpoint_url"}))
    assert with_run_endpoint(exported, recorded).endpoint_url == "http://127.0.0.1:4566"  # given on the command line
    sandbox = {"endpoint_url": "http://127.0.0.1:4566", "region": "eu-west-1"}
    same = with_run_endpoint(AwsOptions(endpoint_url="http://127.0.0.1:4566"), sandbox, frozenset({"endpoint_url"}))
    assert (same.endpoint_url, same.region) == ("http://127.0.0.1:4566", "eu-west-1")
    with pytest.raises(UserError, match="region"):
        with_run_endpoint(AwsOptions(region="us-west-2"), sandbox, frozenset({"region"}))


def test_a_log_that_grew_after_its_report_is_extended_not_truncated(account: Seeded, settings: Settings) -> None:
    outcome = contain(account, settings)
    head = json.loads(outcome.paths.report_json.read_text())["audit_head"]
    rollback_run(outcome.run_id, reactivate_keys=True, settings=settings)
    check = verify_chain(outcome.paths.audit_log, head)
    assert check.ok and check.extended_by > 0
    lines = outcome.paths.audit_log.read_text().splitlines(keepends=True)
    outcome.paths.audit_log.write_text("".join(lines[:3]))
    truncated = verify_chain(outcome.paths.audit_log, head)
    assert not truncated.ok and "truncated" in truncated.problems[0]


def test_a_rollback_that_withholds_a_live_short_term_keys_containment_says_so_once(
    short_account: SeededShortTerm, settings: Settings
) -> None:
    contained = start_run("leaked-short-term-key", {}, short_account.key, False, None, settings)
    assert contained.status == "completed", contained.message
    kept = rollback_run(contained.run_id, reactivate_keys=False, settings=settings)
    assert kept.message.startswith("nothing undone: containment withheld")
    assert kept.message.count("valid until") == 1


def test_a_guardrail_run_locks_the_principal_it_changes(
    account: Seeded, settings: Settings, requests: Requests
) -> None:
    """Its parameters are principal_name/principal_type, not user_name: the action says what it changes."""
    settings = dataclasses.replace(settings, lock_wait=0.1)
    with LockSet(settings.runs_dir, "20261201T000000Z-other", 0.1) as other:
        other.hold([f"{account.account_id}/user/{account.user_name}"])
        with pytest.raises(TargetBusy, match="20261201T000000Z-other"):
            start_run("bedrock-key-guardrails", {"principal_name": account.user_name}, None, False, None, settings)
    assert requests.mutating == []


def test_a_rollback_cut_short_leaves_a_report_that_says_so(
    account: Seeded, settings: Settings, requests: Requests
) -> None:
    """The report the README tells people to attach never says COMPLETED about a run whose rollback stopped."""
    outcome = contain(account, settings)
    assert json.loads(outcome.paths.report_json.read_text())["status"] == "completed"
    requests.faults["DeleteUserPolicy"] = [KeyboardInterrupt()]  # Ctrl-C while the deny is being lifted
    with pytest.raises(Interrupted, match=f"responder rollback {outcome.run_id}"):
        rollback_run(outcome.run_id, reactivate_keys=True, settings=settings)
    assert json.loads(outcome.paths.report_json.read_text())["status"] == "interrupted"
    assert rollback_run(outcome.run_id, reactivate_keys=True, settings=settings).status == "rolled-back"


def test_the_managed_policy_fallback_is_reported_as_done_and_undone(
    account: Seeded, settings: Settings, iam: Any
) -> None:
    """With the user's inline budget full, the deny is a managed policy: the progress, the journal and the rollback
    say so, and no line claims an inline policy that never existed."""
    fill_inline_budget(iam, user=account.user_name)
    lines: list[str] = []
    shown = dataclasses.replace(settings, listeners=[Progress(err=False)])
    with mock.patch("responder.cli.render.say", lambda text="", err=False: lines.append(text)):
        outcome = contain(account, shown)
    assert outcome.status == "completed", outcome.message
    assert any("applied   iam:AttachUserPolicy" in line for line in lines), lines
    assert any("instead" in line and "LimitExceeded" in line for line in lines), lines
    back = rollback_run(outcome.run_id, reactivate_keys=True, settings=settings)
    undone = back.state.steps["deny-bearer-tokens"].undo_message or ""
    assert "detached" in undone and "removed inline policy" not in undone, undone

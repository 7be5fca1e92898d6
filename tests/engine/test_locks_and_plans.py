"""One responder per target, and saved plans that refuse to run stale."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from responder.engine.commands.operations import apply_plan, start_run
from responder.engine.commands.recovery import resume_run, rollback_run
from responder.engine.journal.locks import TargetBusy, _lock_path, holder, locked
from responder.engine.running.context import Settings
from responder.errors import UserError
from responder.sandbox.seed import Seeded
from tests.factories import ACCOUNT, Requests, credential_status

BOOK = "leaked-long-term-key"


def holder_info(root: Path, target: str, pid: int, run_id: str) -> Path:
    """Write what a holder writes into its lock file, and nothing more: without a kernel lock, no one holds it."""
    path = _lock_path(root, target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "run_id": run_id, "target": target}))
    return path


@contextmanager
def hold(root: Path, target: str, pid: int, run_id: str = "20261123T000000Z-holder") -> Iterator[Path]:
    """Another responder holding the lock: its own open file description, locked, its record written inside,
    exactly what another process's would be (flock locks belong to the description, not the process)."""
    path = holder_info(root, target, pid, run_id)
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield path
    finally:
        os.close(fd)


def test_a_second_responder_refuses_with_the_first_run_id(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    settings = dataclasses.replace(settings, lock_wait=0.3)
    target = f"{ACCOUNT}/user/{account.user_name}"
    with (
        hold(settings.runs_dir, target, os.getpid()),  # a live holder: this very process
        pytest.raises(TargetBusy, match=r"run 20261123T000000Z-holder .* is already responding"),
    ):
        start_run(BOOK, {}, account.key, dry_run=False, confirm=None, settings=settings)
    assert requests.mutating == []
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"


def test_a_dead_holder_lock_is_broken(account: Seeded, settings: Settings, iam: Any) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    target = f"{ACCOUNT}/user/{account.user_name}"
    holder_info(settings.runs_dir, target, int(dead.stdout), "20261123T000000Z-holder")  # its kernel lock died with it
    outcome = start_run(BOOK, {}, account.key, dry_run=False, confirm=None, settings=settings)
    assert outcome.status == "completed" and holder(settings.runs_dir, target) is None  # taken, then released on exit


def test_locks_are_released_and_resume_takes_them(account: Seeded, settings: Settings, requests: Requests) -> None:
    requests.fail("PutUserPolicy", "AccessDenied")
    failed = start_run(BOOK, {}, account.key, dry_run=False, confirm=None, settings=settings)
    assert failed.status == "failed"
    target = f"{ACCOUNT}/user/{account.user_name}"
    assert holder(settings.runs_dir, target) is None  # the file stays (never deleted); the lock does not
    settings = dataclasses.replace(settings, lock_wait=0.3)
    with locked(settings.runs_dir, [target], "20261123T000000Z-other"):
        with pytest.raises(TargetBusy):
            resume_run(failed.run_id, settings)
        with pytest.raises(TargetBusy):
            rollback_run(failed.run_id, False, settings)
    before = failed.paths.audit_log.read_text()
    assert resume_run(failed.run_id, settings).status == "completed"
    assert failed.paths.audit_log.read_text().startswith(before)  # the refusals journaled nothing


def test_a_saved_plan_applies_exactly(account: Seeded, settings: Settings, iam: Any, tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    planned = start_run(BOOK, {}, account.key, dry_run=True, confirm=None, settings=settings, save_plan=plan_file)
    plan = json.loads(plan_file.read_text())
    assert planned.status == "planned" and plan["planned_by_run"] == planned.run_id
    assert account.key not in plan_file.read_text() and account.key[4:30] not in plan_file.read_text()
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"
    applied = apply_plan(plan_file, None, settings)
    assert applied.status == "completed" and applied.state.started.from_plan == planned.run_id
    assert credential_status(iam, account.user_name, account.credential_id) == "Inactive"


def test_a_stale_plan_is_refused_and_changes_nothing(
    account: Seeded, settings: Settings, requests: Requests, iam: Any, tmp_path: Path
) -> None:
    plan_file = tmp_path / "plan.json"
    start_run(BOOK, {}, account.key, dry_run=True, confirm=None, settings=settings, save_plan=plan_file)
    # Someone adds an inline policy of the name the plan would write: the plan no longer says what would happen.
    iam.put_user_policy(
        UserName=account.user_name,
        PolicyName="ResponderDenyBedrockBearerTokens",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
        ),
    )
    requests.sent.clear()
    with pytest.raises(UserError, match=r"changed since the plan was made \(steps deny-bearer-tokens"):
        apply_plan(plan_file, None, settings)
    assert requests.mutating == []
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"


def test_new_cloudtrail_events_do_not_make_a_plan_stale(account: Seeded, settings: Settings, tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from responder.sandbox.cloudtrail_events import record_event

    plan_file = tmp_path / "plan.json"
    start_run(BOOK, {}, account.key, dry_run=True, confirm=None, settings=settings, save_plan=plan_file)
    record_event(
        ACCOUNT,
        "us-east-1",
        {
            "eventSource": "bedrock.amazonaws.com",
            "eventName": "InvokeModel",
            "eventTime": datetime.now(timezone.utc),
            "userIdentity": {"type": "IAMUser", "userName": account.user_name},
            "additionalEventData": {"callWithBearerToken": True},
        },
    )
    assert apply_plan(plan_file, None, settings).status == "completed"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a responder plan"),
        ('{"format": "other"}', "not a responder-plan/1 file"),
        ("[1, 2]", "not a responder-plan/1 file"),
        (None, "no such"),
    ],
)
def test_bad_plan_files(settings: Settings, tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "plan.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UserError, match=message):
        apply_plan(path, None, settings)


def test_save_plan_needs_dry_run(account: Seeded, settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="--save-plan goes with --dry-run"):
        start_run(BOOK, {}, account.key, False, None, settings, save_plan=tmp_path / "p.json")


def test_the_same_run_in_another_live_process_is_not_broken_into(tmp_path: Path) -> None:
    """A resume and a rollback of one run, in two processes, exclude each other: only this process's own lock
    of this run is shared, and a file no one holds a kernel lock on is simply taken."""
    target = f"{ACCOUNT}/user/alice"
    run_id = "20261123T000000Z-abcdef"
    with (
        hold(tmp_path, target, 1, run_id),  # another process working on the same run
        pytest.raises(TargetBusy, match="pid 1"),
        locked(tmp_path, [target], run_id, 0.1),
    ):
        pass
    path = holder_info(tmp_path, target, os.getpid(), run_id)  # what a lock of this run left, no longer held
    with locked(tmp_path, [target], run_id, 0.1):
        assert json.loads(path.read_text())["pid"] == os.getpid()

"""One responder per target, held by the kernel: what no stale file, dead holder or race can get past."""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from responder.engine.commands.operations import start_run
from responder.engine.journal.locks import LockSet, LocksUnavailable, TargetBusy, _lock_path, holder, locked
from responder.engine.journal.run_state import load_run
from responder.engine.journal.runs import find_run
from responder.engine.running.context import Settings
from responder.errors import EXIT_BAD_INPUT, UserError
from responder.sandbox.seed import Seeded
from tests.factories import ACCOUNT, Requests, credential_status

TARGET = f"{ACCOUNT}/user/alice"
RUN = "20261123T000000Z-holder"

# Another responder process: takes the lock, says so, and keeps it until it is killed.
HOLDER = """
import sys, time
from pathlib import Path
from responder.engine.journal.locks import locked
with locked(Path(sys.argv[1]), [sys.argv[2]], sys.argv[3], wait=5):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def other_process(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A live responder in another process holding TARGET's lock for run RUN."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path), TARGET, RUN], stdout=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None and proc.stdout.readline() == "held\n"
            yield proc
        finally:
            proc.kill()


def stale(root: Path, target: str, content: str) -> Path:
    """A lock file as a holder left it, with nobody holding its kernel lock."""
    path = _lock_path(root, target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return path


def record(pid: int, run_id: str = RUN) -> str:
    return json.dumps({"pid": pid, "host": socket.gethostname(), "run_id": run_id, "target": TARGET})


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def test_an_empty_lock_file_does_not_block(tmp_path: Path) -> None:
    """A run that died writing its record (disk full) left 0 bytes: once the disk has room, the next run goes on."""
    path = stale(tmp_path, TARGET, "")
    with locked(tmp_path, [TARGET], "20261123T000001Z-next", wait=0):
        assert json.loads(path.read_text())["run_id"] == "20261123T000001Z-next"


def test_a_live_unrelated_pid_without_the_kernel_lock_does_not_block(tmp_path: Path) -> None:
    """The holder's run finished and its PID now belongs to some other live process."""
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale(tmp_path, TARGET, record(unrelated.pid))
        with locked(tmp_path, [TARGET], "20261123T000001Z-next", wait=0):
            assert holder(tmp_path, TARGET)["run_id"] == "20261123T000001Z-next"  # type: ignore[index]
    finally:
        unrelated.kill()
        unrelated.wait()


def _race(root: Path, target: str, racer: int, barrier: Any, won: Any) -> None:
    # Breaking a lock by deleting its file lets two in when one racer deletes the file the other just re-created.
    # A slow file system (NFS, a loaded disk) makes that certain rather than rare: the second racer's deletions
    # land later. A lock that never deletes its file does not care.
    real_unlink = os.unlink

    def slow_unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        time.sleep(0.1 * racer)
        real_unlink(path, *args, **kwargs)

    os.unlink = slow_unlink
    barrier.wait(timeout=10)
    try:
        with locked(root, [target], f"20261123T000000Z-racer{racer}", wait=0):
            won.put(racer)
            barrier.wait(timeout=10)  # keep it until the other has tried
    except TargetBusy:
        barrier.wait(timeout=10)


def test_two_processes_racing_for_a_dead_holders_lock_one_gets_it(tmp_path: Path) -> None:
    stale(tmp_path, TARGET, record(dead_pid()))
    context = multiprocessing.get_context("fork")  # the child runs _race as it is here, with no import
    barrier, won = context.Barrier(2), context.Queue()
    racers = [context.Process(target=_race, args=(tmp_path, TARGET, i, barrier, won)) for i in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=20)
        assert racer.exitcode == 0
    winners = []
    while not won.empty():
        winners.append(won.get())
    assert len(winners) == 1, winners


def test_a_killed_holder_frees_its_lock_at_once(tmp_path: Path, other_process: subprocess.Popen[str]) -> None:
    with pytest.raises(TargetBusy, match=RUN), locked(tmp_path, [TARGET], RUN, wait=0):  # even the same run
        pass
    assert holder(tmp_path, TARGET) == {
        **json.loads(_lock_path(tmp_path, TARGET).read_text()),
        "lock_file": str(_lock_path(tmp_path, TARGET)),
    }
    assert holder(tmp_path, TARGET)["pid"] == other_process.pid  # type: ignore[index]
    other_process.kill()  # SIGKILL: no cleanup runs
    other_process.wait()
    assert holder(tmp_path, TARGET) is None
    with locked(tmp_path, [TARGET], "20261123T000001Z-next", wait=0):
        pass


def test_the_refusal_names_the_holders_run_its_lock_file_and_what_to_do(
    tmp_path: Path, other_process: subprocess.Popen[str]
) -> None:
    started = time.monotonic()
    with pytest.raises(TargetBusy) as refused, locked(tmp_path, [TARGET], "20261123T000001Z-next", wait=0.3):
        pass
    assert time.monotonic() - started >= 0.3  # it waited before refusing
    message = str(refused.value)
    assert f"run {RUN} (pid {other_process.pid} on {socket.gethostname()} since " in message
    assert f"is already responding to {TARGET} (lock file {_lock_path(tmp_path, TARGET)})" in message
    assert message.endswith("wait for it to finish, or see `responder runs`")
    assert refused.value.exit_code == EXIT_BAD_INPUT and "\n" not in message


def test_a_holder_that_wrote_nothing_is_still_named_by_its_lock_file(tmp_path: Path) -> None:
    path = stale(tmp_path, TARGET, "")
    fd = os.open(path, os.O_RDWR)  # another process between taking the lock and writing its record
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(TargetBusy) as refused, locked(tmp_path, [TARGET], RUN, wait=0):
            pass
        assert holder(tmp_path, TARGET) == {"target": TARGET, "lock_file": str(path)}
    finally:
        os.close(fd)
    assert str(refused.value).startswith(
        f"another responder process holds the lock on {TARGET} (lock file {path}), held by a run that has not "
        "written its id yet: wait for it to finish"
    )


def test_a_full_disk_leaves_the_lock_held_and_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, data: bytes, offset: int) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as disk:
        disk.setattr(os, "pwrite", full)
        with locked(tmp_path, [TARGET], RUN, wait=0):
            assert _lock_path(tmp_path, TARGET).read_text() == ""
            assert holder(tmp_path, TARGET) == {"target": TARGET, "lock_file": str(_lock_path(tmp_path, TARGET))}
    with locked(tmp_path, [TARGET], "20261123T000001Z-next", wait=0):  # space freed: the next run goes on at once
        pass


def test_one_run_takes_a_lock_it_holds_again_and_keeps_it_until_the_outer_hold_ends(tmp_path: Path) -> None:
    with locked(tmp_path, [TARGET], RUN, wait=0):
        with locked(tmp_path, [TARGET], RUN, wait=0), LockSet(tmp_path, RUN, wait=0) as again:
            again.hold([TARGET])
        assert holder(tmp_path, TARGET)["run_id"] == RUN  # type: ignore[index]
        with pytest.raises(TargetBusy, match=f"run {RUN} "), locked(tmp_path, [TARGET], "another-run", wait=0):
            pass  # another run in this same process is refused
    assert holder(tmp_path, TARGET) is None
    assert _lock_path(tmp_path, TARGET).exists()  # never deleted: a waiter on a deleted file would hold a ghost


def test_a_lock_set_from_eight_threads_takes_each_target_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    targets = [f"{ACCOUNT}/user/u{i}" for i in range(3)]
    taken: list[int] = []
    real_flock = fcntl.flock

    def slow_flock(fd: int, operation: int) -> None:
        time.sleep(0.01)  # widen the window two threads would need to both take one
        real_flock(fd, operation)
        if operation == fcntl.LOCK_EX | fcntl.LOCK_NB:
            taken.append(fd)

    monkeypatch.setattr(fcntl, "flock", slow_flock)
    locks, start, failed = LockSet(tmp_path, RUN, wait=0), threading.Barrier(8), []

    def step(i: int) -> None:
        start.wait(timeout=10)
        try:
            locks.hold(targets[i % 3 :] + targets[: i % 3])
        except Exception as exc:
            failed.append(exc)

    threads = [threading.Thread(target=step, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert failed == [] and len(taken) == 3 and locks.held() == targets
    monkeypatch.undo()
    locks.release()
    locks.release()  # idempotent
    assert locks.held() == [] and all(holder(tmp_path, t) is None for t in targets)


def test_a_lock_set_keeps_what_it_took_until_released(tmp_path: Path) -> None:
    with LockSet(tmp_path, RUN, wait=0) as locks:
        locks.hold([TARGET])
        with LockSet(tmp_path, "another-run", wait=0) as other:
            other.hold([f"{ACCOUNT}/user/bob"])
            with pytest.raises(TargetBusy):
                other.hold([TARGET])
            assert other.held() == [f"{ACCOUNT}/user/bob"]  # what it took before the refusal stays held
        locks.hold([TARGET, f"{ACCOUNT}/user/bob"])
        assert locks.held() == [f"{ACCOUNT}/user/alice", f"{ACCOUNT}/user/bob"]
    assert holder(tmp_path, TARGET) is None and holder(tmp_path, f"{ACCOUNT}/user/bob") is None


def read_only(monkeypatch: pytest.MonkeyPatch, directory: Path, call: str) -> None:
    """os.mkdir or os.open fail under directory as on a file system mounted read-only (root ignores modes)."""
    real = getattr(os, call)

    def refuse(path: Any, *args: Any, **kwargs: Any) -> Any:
        if str(path).startswith(str(directory)):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, call, refuse)


@pytest.mark.parametrize("call", ["mkdir", "open"])
def test_a_read_only_runs_dir_is_one_line_naming_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    if call == "open":
        (tmp_path / "locks").mkdir()
    with monkeypatch.context() as disk:
        read_only(disk, tmp_path, call)
        with pytest.raises(LocksUnavailable) as refused, locked(tmp_path, [TARGET], RUN, wait=0):
            pass
    message = str(refused.value)
    assert isinstance(refused.value, UserError) and refused.value.exit_code == EXIT_BAD_INPUT
    assert message.startswith(f"cannot take locks in {tmp_path / 'locks'}: Read-only file system")
    assert "\n" not in message
    with locked(tmp_path, [TARGET], RUN, wait=0):  # writable again: nothing was left behind
        pass


def test_a_run_that_cannot_lock_is_rejected_and_changes_nothing(
    account: Seeded, settings: Settings, requests: Requests, iam: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = dataclasses.replace(settings, lock_root=settings.runs_dir.parent / "read-only")
    read_only(monkeypatch, settings.lock_root, "mkdir")
    with pytest.raises(LocksUnavailable) as refused:
        start_run("leaked-long-term-key", {}, account.key, dry_run=False, confirm=None, settings=settings)
    assert refused.value.run_id is not None
    assert load_run(find_run(settings.runs_dir, refused.value.run_id).audit_log).status == "rejected"
    assert requests.mutating == []
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a directory whatever its mode")
def test_a_locks_dir_without_write_permission_is_one_line_naming_it(tmp_path: Path) -> None:
    (tmp_path / "locks").mkdir(mode=0o500)
    try:
        with pytest.raises(LocksUnavailable) as refused, locked(tmp_path, [TARGET], RUN, wait=0):
            pass
    finally:
        (tmp_path / "locks").chmod(0o700)
    assert str(refused.value).startswith(f"cannot take locks in {tmp_path / 'locks'}: Permission denied")


def test_nobody_holds_a_target_never_locked(tmp_path: Path) -> None:
    assert holder(tmp_path, TARGET) is None and not (tmp_path / "locks").exists()  # asking creates nothing


def _take_in_child(root: Path, outcome: Any) -> None:
    try:
        with locked(root, [TARGET], RUN, wait=0):
            outcome.put("took it")
    except TargetBusy:
        outcome.put("busy")


def test_a_forked_child_holds_none_of_its_parents_locks(tmp_path: Path) -> None:
    """A fork is another process: even for the same run it must wait, and its exit must not free the parent's lock."""
    with locked(tmp_path, [TARGET], RUN, wait=0):
        context = multiprocessing.get_context("fork")
        outcome = context.Queue()
        child = context.Process(target=_take_in_child, args=(tmp_path, outcome))
        child.start()
        child.join(timeout=20)
        assert outcome.get(timeout=5) == "busy"
        assert holder(tmp_path, TARGET)["run_id"] == RUN  # type: ignore[index]

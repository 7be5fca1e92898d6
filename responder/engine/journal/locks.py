"""One responder per target: a kernel lock (`flock`) per principal, on a file in the runs directory.

A run holds a target's lock for as long as it keeps that file's descriptor open, and the kernel drops the lock
when the holder dies however it dies (SIGKILL, out of memory, a full disk mid-write): there is nothing stale to
find, no PID to trust, nothing to break. The holder writes its run id into the file only so that a second run
can say who is in the way. The file is never deleted: deleting a locked file lets a waiter lock the old inode
while a newcomer creates and locks a new one, and both proceed.

`flock` locks belong to an open file description, so two runs in one process exclude each other as two processes
do; a run taking a lock it already holds in this process shares it (`_ProcessLocks`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import resource
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

from responder.errors import UserError

LOCK_WAIT_SECONDS = 5.0
_POLL_SECONDS = 0.2
_INFO_MAX_BYTES = 4096  # a holder's record is about 200 bytes; anything longer is not one


class TargetBusy(UserError):
    """Another responder run is changing the same principal right now."""


class LocksUnavailable(TargetBusy):
    """The locks directory cannot hold a lock (read-only, full, not ours). A TargetBusy, so that every caller that
    turns a refused lock into a rejected run, nothing changed, does so for this one too."""


def _lock_path(root: Path, target: str) -> Path:
    digest = hashlib.sha256(target.encode()).hexdigest()[:20]  # principal names may hold characters paths must not
    return root / "locks" / f"{digest}.lock"


def _unavailable(directory: Path, exc: OSError) -> LocksUnavailable:
    return LocksUnavailable(
        f"cannot take locks in {directory}: {exc.strerror or exc} (point --runs-dir or RESPONDER_RUNS_DIR at a "
        "writable directory)"
    )


def _open(path: Path) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise _unavailable(path.parent, exc) from None


def _read_info(fd: int) -> dict[str, object]:
    """What the holder wrote; empty if it has not written yet, or could not (a full disk)."""
    try:
        info = json.loads(os.pread(fd, _INFO_MAX_BYTES, 0))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _write_info(fd: int, info: dict[str, object]) -> None:
    """Say who holds the lock. Only the message needs it: on a full or read-only disk the lock holds without it."""
    data = json.dumps(info).encode()
    try:
        os.ftruncate(fd, 0)
        if os.pwrite(fd, data, 0) == len(data):  # short only when the disk filled up mid-write
            return
    except OSError:
        pass
    with suppress(OSError):
        os.ftruncate(fd, 0)  # half a record would read as garbage; an empty file reads as "not written yet"


def _busy(target: str, path: Path, info: dict[str, object]) -> TargetBusy:
    if not info.get("run_id"):
        return TargetBusy(
            f"another responder process holds the lock on {target} (lock file {path}), held by a run that has not "
            f"written its id yet: wait for it to finish (`fuser -v {path}` names the process), or see `responder runs`"
        )
    since = f" since {info['since']}" if info.get("since") else ""
    return TargetBusy(
        f"run {info['run_id']} (pid {info.get('pid')} on {info.get('host')}{since}) is already responding to "
        f"{target} (lock file {path}): wait for it to finish, or see `responder runs`"
    )


@dataclass
class _Held:
    """One kernel lock this process holds: its descriptor, who holds it, and how many LockSets share it."""

    run_id: str
    fd: int
    info: dict[str, object]
    count: int = 1


def _lock(fd: int, path: Path, target: str, run_id: str) -> _Held:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise _busy(target, path, _read_info(fd)) from None
    except OSError as exc:  # e.g. ENOLCK: a network file system without a lock manager
        raise _unavailable(path.parent, exc) from None
    info: dict[str, object] = {
        "run_id": run_id,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "target": target,
        "since": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    _write_info(fd, info)
    return _Held(run_id, fd, info)


@dataclass
class _ProcessLocks:
    """The locks this process holds, by lock file, so the same run taking one again shares it."""

    guard: threading.Lock = field(default_factory=threading.Lock)
    held: dict[Path, _Held] = field(default_factory=dict)

    def take(self, path: Path, target: str, run_id: str) -> _Held:
        """Take the lock now or raise TargetBusy; never waits (the guard is held only for a few system calls)."""
        with self.guard:
            held = self.held.get(path)
            if held is not None:
                if held.run_id != run_id:
                    raise _busy(target, path, held.info)
                held.count += 1
                return held
            fd = _open(path)
            try:
                held = _lock(fd, path, target, run_id)
            except BaseException:  # an unrecorded descriptor would hold the lock until the process exits
                os.close(fd)
                raise
            self.held[path] = held
            return held

    def release(self, path: Path, held: _Held) -> None:
        with self.guard:
            if self.held.get(path) is not held:  # forgotten in a forked child: its parent still holds it
                return
            held.count -= 1
            if held.count == 0:
                del self.held[path]
                with suppress(OSError):
                    fcntl.flock(held.fd, fcntl.LOCK_UN)  # also for any copy a fork without our hook still has
                os.close(held.fd)

    def forget(self) -> None:
        """In a forked child: it holds none of its parent's locks, and must not keep them alive once the parent dies.
        Closing (never unlocking) the inherited descriptors leaves the parent's locks as they are."""
        self.guard = threading.Lock()  # another thread may have held it at the fork: it never will release it here
        for held in self.held.values():
            with suppress(OSError):
                os.close(held.fd)
        self.held.clear()


_PROCESS = _ProcessLocks()
os.register_at_fork(after_in_child=_PROCESS.forget)


def _room_for(descriptors: int) -> None:
    """Each held lock is an open descriptor: containing a thousand keys' users must not run out of them (many
    systems allow 1,024 by default). Raise this process's own limit towards the hard one when needed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = descriptors + 256  # sockets, the journal, the interpreter's own
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(target, soft), hard))


class LockSet:
    """The locks one run holds, taken as its steps reach their first change and released together."""

    def __init__(self, root: Path, run_id: str, wait: float = LOCK_WAIT_SECONDS) -> None:
        self.root = root.resolve()  # one lock file, one key, however the runs directory was spelled
        self.run_id = run_id
        self.wait = wait
        self._guard = threading.Lock()
        self._held: dict[str, tuple[Path, _Held]] = {}
        self._taking: dict[str, threading.Lock] = {}  # one per target: threads asking for it take it once

    def hold(self, targets: Iterable[str]) -> None:
        """Take every target not yet held, in sorted order, waiting up to `wait` seconds for each; raise TargetBusy
        for the first that stays busy (those taken before it stay held until release). Thread-safe."""
        wanted = sorted(set(targets))
        _room_for(len(self._held) + len(wanted))
        for target in wanted:
            with self._guard:
                taking = self._taking.setdefault(target, threading.Lock())
            with taking:
                with self._guard:
                    if target in self._held:
                        continue
                path = _lock_path(self.root, target)
                held = self._take(path, target)
                with self._guard:
                    self._held[target] = (path, held)

    def _take(self, path: Path, target: str) -> _Held:
        deadline = time.monotonic() + self.wait
        while True:
            try:
                return _PROCESS.take(path, target, self.run_id)
            except TargetBusy:
                if time.monotonic() >= deadline:
                    raise
            time.sleep(_POLL_SECONDS)

    def held(self) -> list[str]:
        with self._guard:
            return sorted(self._held)

    def release(self) -> None:
        """Release every lock this set holds. Idempotent; call it once no thread is still in hold()."""
        with self._guard:
            held, self._held = self._held, {}
        for path, lock in held.values():
            _PROCESS.release(path, lock)

    def __enter__(self) -> LockSet:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()


@contextmanager
def locked(root: Path, targets: list[str], run_id: str, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold a lock on every target (sorted, so two runs cannot deadlock) for the duration."""
    with LockSet(root, run_id, wait) as locks:
        locks.hold(targets)
        yield


def holder(root: Path, target: str) -> dict[str, object] | None:
    """Who holds the lock on target right now, or None if nobody does (a run that died holds nothing).

    The dict is what the holder wrote (run_id, pid, host, target, since), or only target and lock_file if it has
    not written it. Probing takes the lock for an instant: a run trying that very moment waits one poll longer.
    """
    path = _lock_path(root.resolve(), target)  # the lock_file a refusal names
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)  # flock needs no write access; never create a lock here
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _unavailable(path.parent, exc) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return {"target": target, **_read_info(fd), "lock_file": str(path)}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)

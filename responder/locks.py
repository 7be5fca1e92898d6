"""One responder per target: a lock file per principal in the runs directory.

A second run against the same principal waits briefly, then refuses with the first run's id. A lock whose
holder process is gone (on this host) is broken safely: nobody is changing that principal any more.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from responder.errors import UserError

LOCK_WAIT_SECONDS = 5.0


class TargetBusy(UserError):
    """Another responder run is changing the same principal right now."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, it is someone else's
        return True
    return True


def _lock_path(root: Path, target: str) -> Path:
    digest = hashlib.sha256(target.encode()).hexdigest()[:20]  # principal names may hold characters paths must not
    return root / "locks" / f"{digest}.lock"


def _try_take(path: Path, run_id: str, target: str) -> dict[str, object] | None:
    """Take the lock, or return its holder."""
    mine = {"pid": os.getpid(), "host": socket.gethostname(), "run_id": run_id, "target": target}
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        try:
            holder: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            holder = {}
        same_host = holder.get("host") == mine["host"]
        pid = holder.get("pid")
        # This run's own lock in this process, or a dead holder's on this host: safe to break. The same run id
        # alone is not: a resume and a rollback of one run, in two live processes, must exclude each other.
        ours = holder.get("run_id") == run_id and pid == mine["pid"]
        if same_host and isinstance(pid, int) and (ours or not _alive(pid)):
            path.unlink(missing_ok=True)
            return _try_take(path, run_id, target)
        return holder or {"run_id": "unknown", "target": target}
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(mine, out)
    return None


def _take(root: Path, target: str, run_id: str, wait: float) -> Path:
    path = _lock_path(root, target)
    deadline = time.monotonic() + wait
    while (holder := _try_take(path, run_id, target)) is not None:
        if time.monotonic() >= deadline:
            raise TargetBusy(
                f"run {holder.get('run_id')} (pid {holder.get('pid')} on {holder.get('host')}) is already "
                f"responding to {target}: wait for it to finish, or see `responder runs`"
            )
        time.sleep(0.2)
    return path


@contextmanager
def locked(root: Path, targets: list[str], run_id: str, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold a lock on every target (sorted, so two runs cannot deadlock) for the duration."""
    with LockSet(root, run_id, wait) as locks:
        locks.hold(targets)
        yield


class LockSet:
    """The locks one run holds, taken as its steps reach their first change and released together."""

    def __init__(self, root: Path, run_id: str, wait: float = LOCK_WAIT_SECONDS) -> None:
        self.root, self.run_id, self.wait = root, run_id, wait
        self._held: dict[str, Path] = {}
        self._guard = threading.Lock()

    def hold(self, targets: Iterable[str]) -> None:
        with self._guard:
            wanted = sorted(set(targets) - set(self._held))
            if not wanted:
                return
            (self.root / "locks").mkdir(parents=True, exist_ok=True, mode=0o700)
            for target in wanted:
                self._held[target] = _take(self.root, target, self.run_id, self.wait)

    def held(self) -> list[str]:
        return sorted(self._held)

    def release(self) -> None:
        with self._guard:
            for path in self._held.values():
                path.unlink(missing_ok=True)
            self._held.clear()

    def __enter__(self) -> LockSet:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()

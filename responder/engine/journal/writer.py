"""The run journal's writer: appends each record through structlog (responder.engine.journal.audit), from any thread.

The journal is the only memory a run has: nothing is kept anywhere else. `run_state` reads it back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from responder.engine.journal.events import DURABLE, RUN_STARTED
from responder.errors import JournalUnwritable

Listener = Callable[[str, dict[str, Any]], None]


class JournalNotStarted(RuntimeError):
    """The run never began (who the operator is could not be learned): nothing may be recorded."""


class Journal:
    """Appends records to a run's audit log; listeners see each record (the CLI shows progress).

    Steps record from several threads: one lock keeps the hash chain in order. A journal made `pending` opens its
    file at `begin` (the run.started record, once the operator's identity is known); records made before wait.
    """

    def __init__(self, path: Path, run_id: str, listeners: list[Listener] | None = None, pending: bool = False) -> None:
        self.path = path
        self.run_id = run_id
        self._listeners = listeners or []
        self._lock = threading.RLock()
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._logger: Any = None
        self._out: Any = None
        if not pending:
            self._open()
            self._ready.set()

    def _open(self) -> None:
        from responder.engine.journal.audit import open_audit_logger  # structlog stays out of `responder --help`

        self._logger, self._out = open_audit_logger(self.path, run_id=self.run_id)

    def begin(self, **started: Any) -> None:
        with self._lock:
            try:
                self._open()
            except OSError as exc:
                raise _unwritable(self.path, exc) from None
            self._write(RUN_STARTED, started)
        self._ready.set()

    def abandon(self, cause: BaseException) -> None:
        """The run cannot begin: release whoever waits to record, with the cause."""
        self._failed = cause
        self._ready.set()

    def record(self, event: str, **fields: Any) -> None:
        self._ready.wait()
        if self._failed is not None:
            raise JournalNotStarted(str(self._failed)) from self._failed
        with self._lock:
            self._write(event, fields)

    def _write(self, event: str, fields: dict[str, Any]) -> None:
        self._out.durable = event in DURABLE
        try:
            self._logger.info(event, **fields)
        except OSError as exc:  # a full or read-only disk: the caller sends nothing after a refused record
            if self._out.chain is not None:
                self._out.chain.unwritten()
            raise _unwritable(self.path, exc) from None
        for listener in self._listeners:
            listener(event, fields)

    def close(self) -> None:
        if self._out is not None:
            self._out.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _unwritable(path: Path, exc: OSError) -> JournalUnwritable:
    return JournalUnwritable(f"cannot write the audit log {path}: {exc.strerror or exc}")

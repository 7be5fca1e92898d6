"""Reads a run shares: each answer read once per process until a change may have made it stale, and
independent reads sent together rather than one after another."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

# Reads inside one step (a user's inline policy and the fallback managed policy) go out on their own pool, so a
# step running on the executor's pool never waits for a slot its own siblings hold.
_READS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="responder-read")


def together(*calls: Callable[[], Any]) -> list[Any]:
    """Run independent reads at once; their results in order. The first failure is raised once all are done."""
    if len(calls) == 1:
        return [calls[0]()]
    futures = [_READS.submit(call) for call in calls]
    return [f.result() for f in futures]


def in_background(call: Callable[[], T]) -> Future[T]:
    return _READS.submit(call)


class ReadCache:
    """Answers read in this run, by a key the caller chooses (e.g. ("bedrock-credentials", user)).

    Two steps asking for the same key at once share one request. A step that changes what a key describes
    forgets it, and verification reads afresh and stores what it saw.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[Hashable, Any] = {}
        self._loading: dict[Hashable, threading.Event] = {}

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        while True:
            with self._lock:
                if key in self._values:
                    value: T = self._values[key]
                    return value
                waiting = self._loading.get(key)
                if waiting is None:
                    mine = self._loading[key] = threading.Event()
                    break
            waiting.wait()
        try:
            value = load()
            with self._lock:
                self._values[key] = value
            return value
        finally:
            with self._lock:
                del self._loading[key]
            mine.set()

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._values[key] = value

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._values.pop(key, None)

    def clear(self) -> None:
        """After a pause (the operator reading the plan), anything may have changed."""
        with self._lock:
            self._values.clear()

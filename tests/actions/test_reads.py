"""Reads a run shares: each answer read once, and independent reads sent together."""

from __future__ import annotations

import threading
import time

import pytest

from responder.actions.reads import ReadCache, in_background, together


def test_an_answer_is_read_once_until_forgotten() -> None:
    cache, loads = ReadCache(), []

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert cache.get("k", load) == 1 and cache.get("k", load) == 1
    cache.forget("k")
    assert cache.get("k", load) == 2
    cache.put("k", 7)
    assert cache.get("k", load) == 7
    cache.clear()
    assert cache.get("k", load) == 3


def test_two_askers_at_once_share_one_request() -> None:
    cache, loads, go = ReadCache(), [], threading.Event()

    def slow() -> str:
        loads.append(1)
        go.wait(5)
        return "answer"

    first = in_background(lambda: cache.get("k", slow))
    while not loads:
        time.sleep(0.001)
    second = in_background(lambda: cache.get("k", slow))
    go.set()
    assert first.result(5) == second.result(5) == "answer"
    assert loads == [1]


def test_a_failed_read_is_not_kept() -> None:
    cache = ReadCache()

    def fail() -> str:
        raise RuntimeError("throttled")

    with pytest.raises(RuntimeError):
        cache.get("k", fail)
    assert cache.get("k", lambda: "later") == "later"


def test_together_answers_in_order_and_raises_the_first_failure() -> None:
    started = threading.Barrier(2, timeout=5)  # both must be out at once, or this waits forever

    def read(value: int) -> int:
        started.wait()
        return value

    assert together(lambda: read(1), lambda: read(2)) == [1, 2]
    assert together(lambda: 3) == [3]
    with pytest.raises(ZeroDivisionError):
        together(lambda: 1 // 0, lambda: 2)

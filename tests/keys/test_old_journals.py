"""Runs written by responder 0.1, before key families, still read back: their key is Bedrock's."""

from __future__ import annotations

from pathlib import Path

import pytest

from responder.engine.journal.run_state import load_run
from responder.keys import FAMILIES, LongTermKey, ShortTermKey
from responder.keys.journaled import journaled_family, key_from_facts

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "journals"


@pytest.mark.parametrize("name", ["0.1-leaked-long-term-key.jsonl", "0.1-leaked-short-term-key.jsonl"])
def test_a_0_1_journal_reads_back_with_its_key_and_family(name: str) -> None:
    state = load_run(FIXTURES / name)
    assert state.status == "completed"
    facts = state.started.key
    assert "family" not in facts  # written before families existed
    key = key_from_facts(facts)
    assert isinstance(key, LongTermKey if "long-term" in name else ShortTermKey)
    assert key.family == "bedrock"
    family = journaled_family(facts)
    assert family is not None and family.bearer_actions == FAMILIES["bedrock"].bearer_actions

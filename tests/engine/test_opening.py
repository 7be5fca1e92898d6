"""The opening record (`run.started`) is typed, and journals written before it was still read back: the fixture
is a run of leaked-long-term-key written by main on 2026-12-06, before `Opening` existed."""

from __future__ import annotations

import json
from pathlib import Path

from responder.engine.journal.opening import STAMPED, Opening
from responder.engine.journal.run_state import load_run
from responder.engine.report.build import build_report

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "journals"
BEFORE_OPENING = FIXTURES / "2026-12-leaked-long-term-key.jsonl"


def test_a_journal_written_before_the_typed_opening_reads_back_field_by_field() -> None:
    state = load_run(BEFORE_OPENING)
    record = state.records[0]
    opening = state.started
    assert state.status == "completed" and opening.run_id == state.run_id == record["run_id"]
    assert (opening.playbook, opening.account_id, opening.operator) == (
        "leaked-long-term-key",
        "123456789012",
        "arn:aws:sts::123456789012:user/moto",
    )
    assert opening.approved == "yes" and opening.dry_run is False and opening.ts == record["ts"]
    assert opening.key is not None and opening.key["alias"] == "BedrockAPIKey-demo-at-123456789012"
    assert [s["id"] for s in opening.steps] == [s["id"] for s in record["steps"]] and opening.reversible
    assert not opening.is_fanout and opening.extra == {}
    # What a writer gives the journal comes back unchanged: the record minus what the journal stamps on it.
    given = {k: v for k, v in record.items() if k not in (*STAMPED, "ts", "run_id")}
    assert opening.to_record() == given
    report = build_report(state, None)
    assert report.account == "123456789012" and report.started_at == record["ts"]


def test_a_fanout_parent_is_one_property_and_unknown_fields_are_kept() -> None:
    parent = Opening.from_record(
        {"run_id": "r", "playbook": "p", "fanout": {"accounts": [{"account_id": "1"}], "concurrency": 2}}
    )
    assert parent.is_fanout and parent.to_record()["fanout"]["concurrency"] == 2
    plain = Opening.from_record({"run_id": "r", "playbook": "p", "broken_chain_accepted": "seq 3"})
    assert not plain.is_fanout and "fanout" not in plain.to_record()
    assert plain.extra == {"broken_chain_accepted": "seq 3"} and plain.to_record()["broken_chain_accepted"] == "seq 3"
    assert json.loads(json.dumps(plain.to_record())) == plain.to_record()

"""The files handed to the ticket, recomputed from the journal: report.json, report.md and events.jsonl are all
derived from audit.jsonl, so an edited attacker IP in events.jsonl or a paragraph appended to report.md shows up
as a file that no longer matches what its hash-chained journal says."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from responder import __version__
from responder.engine.journal.audit import check_records, read_records
from responder.engine.journal.opening import Opening
from responder.engine.journal.run_state import state_from_records
from responder.engine.journal.runs import REPORT_JSON, REPORT_MD, RunPaths
from responder.engine.report.build import build_report, render_json, render_markdown
from responder.engine.report.evidence import EVENTS_FILE, collect_events, containment_moment
from responder.redaction import SECRETS


@dataclass
class EvidenceCheck:
    compared: list[str] = field(default_factory=list)  # the files recomputed and found equal or not
    differ: list[str] = field(default_factory=list)  # the files that are not what the journal says
    skipped: str | None = None  # why nothing was recomputed


def check_evidence(audit_log: Path) -> EvidenceCheck:
    """Recompute the run's report and events from its journal; list the files beside it that differ."""
    directory = audit_log.parent
    report_file = directory / REPORT_JSON
    if not report_file.is_file():
        return EvidenceCheck(skipped="no report.json beside the log")
    try:
        saved = json.loads(report_file.read_text(encoding="utf-8"))
        records, warnings = read_records(audit_log)
    except (ValueError, OSError):
        return EvidenceCheck(compared=[REPORT_JSON], differ=[REPORT_JSON])
    if not records:
        return EvidenceCheck(skipped="the log has no records")
    started = Opening.from_record(records[0])
    if started.is_fanout:
        return EvidenceCheck(skipped="a fan-out's parent run: each account's run is checked on its own")
    if started.version != __version__:
        return EvidenceCheck(skipped=f"written by responder {started.version}, not {__version__}")
    if not isinstance(saved, dict) or saved.get("audit_head") != check_records(records).head:
        return EvidenceCheck(
            skipped="report.json was written before the log's last record (rendered again by `responder report RUN_ID`)"
        )
    state = state_from_records(records, warnings)
    if saved.get("status") == "running":  # written as a resume or rollback began, which then stopped
        state.status = "running"
    events = collect_events(state, containment_moment(state))
    paths = RunPaths(directory.parent, directory.name)
    report = build_report(state, paths, events)
    report = dataclasses.replace(
        report, audit_log=saved.get("audit_log")
    )  # where the run was written, not where it is read: not evidence
    expected = {
        REPORT_JSON: render_json(report),
        REPORT_MD: render_markdown(report),
        EVENTS_FILE: "".join(json.dumps(SECRETS.redact_value(e), sort_keys=True) + "\n" for e in events),
    }
    result = EvidenceCheck()
    for name, text in expected.items():
        path = directory / name
        if name == EVENTS_FILE and not path.exists() and not events:
            continue
        result.compared.append(name)
        try:
            same = path.read_text(encoding="utf-8") == text
        except (OSError, UnicodeDecodeError):
            same = False
        if not same:
            result.differ.append(name)
    return result

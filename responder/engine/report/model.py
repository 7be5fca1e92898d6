"""The report's model: what report.json, report.md, the terminal's last lines, `-o json`, the ASFF findings, the
notification and `report --execution` are all made from, one declared type read by attribute.

A plain dataclass: report.json is `as_json()` (the same document, key for key, as before the type existed). What
is under a field (a step, the containment times, the claims, the evidence) is still the JSON it is written as.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Report:
    run_id: str
    playbook: str
    status: str
    outcome: str
    dry_run: bool
    account: str | None
    operator: str | None
    key: dict[str, Any] | None  # the key's public facts
    params: dict[str, Any]
    started_at: str | None
    finished_at: str | None
    steps: list[dict[str, Any]]
    containment: dict[str, Any]
    claims: dict[str, Any] | None  # None in a fan-out's parent: each account's report holds its own
    timeline: list[dict[str, Any]]
    audit_log: str | None
    audit_records: int
    audit_head: str | None
    audit_chain_broken: str | None
    execution: dict[str, Any] | None  # a run read back from AWS Step Functions
    warnings: list[str]
    contained_at: str | None
    alert: dict[str, Any] | None
    principal: dict[str, str] | None
    evidence: dict[str, Any] | None
    # A fan-out's parent only: each account's result (its own report under "report"), and the fan-out's plan.
    accounts: list[dict[str, Any]] | None = field(default=None)
    fanout: dict[str, Any] | None = field(default=None)
    # Whom the run told, at which moment, and who could not be told (notifications.jsonl beside the journal).
    notifications: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The report as report.json and `-o json` write it (a fan-out's fields only in a fan-out's report)."""
        found = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        if self.accounts is None:
            del found["accounts"], found["fanout"]
        else:
            found["accounts"] = [
                {**a, "report": a["report"].as_json()} if isinstance(a.get("report"), Report) else a
                for a in self.accounts
            ]
        return found

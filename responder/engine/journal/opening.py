"""A run's opening record (`run.started`), typed: what every reader of a run relies on.

Built where a run begins (operations.py; the fan-out's parent run; `report --execution` reading a Step Functions
history back) and read by resume, rollback, investigate, the report, `runs list` and the fan-out. A plain frozen
dataclass, not a pydantic model: it is built on the way to the first request, where a model's build costs time.

A journal written by an earlier version reads back: every field but the run id may be missing (a 0.1 journal has
no `approved`, no `alert`, no `fanout`), and a field this version does not know is kept in `extra`, so the record
written is the record read (`to_record`). The journal itself adds `event`, `ts`, `run_id`, `seq`, `prev` and
`hash` to what `to_record` gives it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# What the journal's processors stamp on every record: not part of what a writer gives `Journal.begin`.
STAMPED = ("event", "seq", "prev", "hash")
# Written only when set: where a run came from (an alert, a fan-out, another engine's history).
ORIGIN = ("alert", "fanout", "parent_run", "assumed_role", "engine", "execution_arn")


@dataclass(frozen=True)
class Opening:
    run_id: str = ""
    ts: str = ""  # when the record was written (the journal stamps it)
    playbook: str = "?"
    playbook_document: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    operator: str | None = None  # the operator's ARN
    account_id: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    version: str | None = None  # the responder that wrote it
    key: dict[str, Any] | None = None  # the leaked key's public facts (keys.journaled.public_key)
    from_plan: str | None = None  # the run whose saved plan this run applies
    steps: list[dict[str, Any]] = field(default_factory=list)  # {"id", "action"} per top-level step
    reversible: dict[str, bool] = field(default_factory=dict)
    approved: str | None = None  # "yes" or "saved-plan" when approved before it began
    alert: dict[str, Any] | None = None  # the alert it came from (`run --from`)
    fanout: dict[str, Any] = field(default_factory=dict)  # a fan-out's parent: {"accounts", "role_name", "concurrency"}
    parent_run: str | None = None  # an account's run under a fan-out
    assumed_role: str | None = None  # the role an account's run worked through
    engine: str | None = None  # "stepfunctions": read back from an execution's history
    execution_arn: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # fields this version does not know, kept as written

    @property
    def is_fanout(self) -> bool:
        """A fan-out's parent run: it holds no steps of its own, only the accounts' runs."""
        return bool(self.fanout)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Opening:
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        known = {name: record[name] for name in names if name in record and record[name] is not None}
        known["run_id"] = str(record.get("run_id", ""))
        extra = {k: v for k, v in record.items() if k not in names and k not in STAMPED}
        return cls(**known, extra=extra)

    def to_record(self) -> dict[str, Any]:
        """The fields as a writer gives them to `Journal.begin` (the run id and the time are the journal's)."""
        record = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("extra", "run_id", "ts") and not (f.name in ORIGIN and not getattr(self, f.name))
        }
        return {**record, **self.extra}

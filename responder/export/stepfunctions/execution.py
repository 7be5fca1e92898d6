"""An exported machine's execution, read back as a run: `responder report --execution ARN`.

The execution's history (GetExecutionHistory) says which states ran, which AWS calls they made with which
parameters, and how each ended; the write-ahead records in S3 say what each change found before it. Both are
translated into the records of responder's own journal, so the report is rendered by the same code as a local
run's. State names carry their step (`deactivate: set the key Inactive`), which is how a call finds its step.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from responder.engine.journal import events as j
from responder.engine.journal.opening import Opening
from responder.errors import UserError
from responder.export.stepfunctions.machine import EACH_ACCOUNT, JOURNAL_PREFIX
from responder.export.stepfunctions.states import local_reason
from responder.playbook.model import Playbook

EXECUTION_ARN = re.compile(r"arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):execution:([^:]+):([^:]+)")
COMMENT = re.compile(r"responder (?:rollback of )?([a-z0-9-]+)")
# An SDK call that changes something: the journal's own S3 writes excepted.
CHANGING = re.compile(r"^(update|put|delete|create|attach|detach|remove|reset)[A-Z]")
_REQUEST_ID = re.compile(r"Request ID: ([A-Za-z0-9-]+)")


@dataclass
class Execution:
    """What AWS says of one execution: its description, its machine's definition, its history, its records."""

    arn: str
    described: dict[str, Any]
    definition: dict[str, Any]
    history: list[dict[str, Any]]
    role_arn: str  # the machine's execution role: the operator of its changes
    records: list[dict[str, Any]] = field(default_factory=list)  # the write-ahead records, as JSON

    @property
    def account_id(self) -> str:
        match = EXECUTION_ARN.fullmatch(self.arn)
        return match.group(2) if match else "?"

    @property
    def playbook_name(self) -> str:
        match = COMMENT.match(str(self.definition.get("Comment", "")))
        if match is None:
            raise UserError(f"{self.arn} is not an execution of a machine `responder export` wrote")
        return match.group(1)


def read_execution(clients: Any, arn: str) -> Execution:
    """Describe the execution, read its history and its write-ahead records (as the operator's credentials may)."""
    match = EXECUTION_ARN.fullmatch(arn)
    if match is None:
        raise UserError(f"{arn!r} is not a Step Functions execution ARN (arn:aws:states:REGION:ACCOUNT:execution:...)")
    sfn = clients.client_in("stepfunctions", match.group(1))
    described = sfn.describe_execution(executionArn=arn)
    machine = sfn.describe_state_machine(stateMachineArn=described["stateMachineArn"])
    history: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        history.extend(page["events"])
    execution = Execution(arn, described, json.loads(machine["definition"]), history, str(machine["roleArn"]))
    if EACH_ACCOUNT in execution.definition.get("States", {}):
        raise UserError(
            f"{arn} ran organization-wide: each account ran as a child execution of its Distributed Map, whose "
            "results are under s3://JOURNAL_BUCKET/responder/results/; the write-ahead records of each account are "
            "under responder/ACCOUNT/" + str(described["name"]) + "/"
        )
    execution.records = _write_ahead_records(clients.client_in("s3", match.group(1)), execution)
    return execution


def _write_ahead_records(s3: Any, execution: Execution) -> list[dict[str, Any]]:
    given = json.loads(execution.described.get("input") or "{}")
    bucket = given.get("journal_bucket")
    if not bucket:
        return []
    account = given.get("account_id") or execution.account_id
    prefix = JOURNAL_PREFIX.format(account, execution.described["name"])
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            found.append({**json.loads(body), "key": item["Key"]})
    return found


def _when(moment: Any) -> str:
    return str(moment.isoformat() if hasattr(moment, "isoformat") else moment)


def _details(event: dict[str, Any]) -> dict[str, Any]:
    return next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})


def _back_to(event: dict[str, Any], by_id: dict[int, dict[str, Any]], kind: str) -> dict[str, Any] | None:
    """The details of the nearest event of `kind` (the event itself included), following previousEventId back."""
    seen: dict[str, Any] | None = event
    while seen is not None:
        if seen["type"].endswith(kind):
            return _details(seen)
        seen = by_id.get(seen.get("previousEventId", 0))
    return None


def _state_of(event: dict[str, Any], by_id: dict[int, dict[str, Any]]) -> str | None:
    """The name of the state an event belongs to: the state it entered."""
    entered = _back_to(event, by_id, "StateEntered")
    return str(entered.get("name")) if entered is not None else None


def _target(parameters: dict[str, Any]) -> str:
    for field_name, kind in (("RoleName", "role"), ("UserName", "user"), ("PolicyArn", "policy")):
        if field_name in parameters:
            what = f"{kind} {parameters[field_name]}"
            if "ServiceSpecificCredentialId" in parameters:
                return f"credential {parameters['ServiceSpecificCredentialId']} of {what}"
            if "AccessKeyId" in parameters:
                return f"access key {parameters['AccessKeyId']} of {what}"
            return what
    return "the account"


def _after(action: str, parameters: dict[str, Any]) -> Any:
    if "Status" in parameters:
        return parameters["Status"]
    if "PolicyDocument" in parameters:
        document = parameters["PolicyDocument"]
        return json.loads(document) if isinstance(document, str) else document
    return "deleted" if action.startswith(("delete", "detach", "remove")) else "done"


@dataclass
class _Seen:
    """What the history says of one step."""

    entered_at: str | None = None
    skipped: bool = False
    failure: str | None = None
    request_ids: list[str] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    changed_at: datetime | None = None  # AWS answered the step's last change


def _before(record: dict[str, Any] | None, parameters: dict[str, Any]) -> Any:
    """What a write-ahead record says was there, in the words of the change's own field."""
    if record is None:
        return None
    found = record.get("before")
    if isinstance(found, dict) and "Status" in parameters and "Status" in found:
        return found["Status"]
    if isinstance(found, dict) and "exists" in found:  # an inline policy: its document, or none
        return found.get("document") if found["exists"] else None
    return found


def journal_of(execution: Execution, playbook: Playbook) -> list[dict[str, Any]]:
    """The execution as the records a local run of `playbook` would have journaled."""
    from responder.actions.registry import get_action

    described = execution.described
    started_at = described["startDate"]
    actions = {s.id: get_action(s.action or "") for s in playbook.actions()}
    records: list[dict[str, Any]] = [
        {
            "event": j.RUN_STARTED,
            "ts": _when(started_at),
            "run_id": described["name"],
            **Opening(
                playbook=playbook.name,
                steps=[{"id": s.id, "action": s.action} for s in playbook.actions()],
                reversible={sid: bool(getattr(action, "reversible", True)) for sid, action in actions.items()},
                params=json.loads(described.get("input") or "{}"),
                account_id=execution.account_id,
                operator=execution.role_arn,
                dry_run=False,
                engine="stepfunctions",
                execution_arn=execution.arn,
            ).to_record(),
        }
    ]
    written: dict[str, list[dict[str, Any]]] = {}
    for record in execution.records:
        written.setdefault(str(record.get("step")), []).append(record)
    seen = {sid: _Seen() for sid in actions}
    by_id = {e["id"]: e for e in execution.history}
    for event in execution.history:
        name = _state_of(event, by_id) or ""
        step = seen.get(name.split(": ", 1)[0])
        if step is None:
            continue
        sid, details = name.split(": ", 1)[0], _details(event)
        if event["type"].endswith("StateEntered"):
            step.entered_at = step.entered_at or _when(event["timestamp"])
            step.skipped = step.skipped or name.startswith(f"{sid}: skipped")
        elif event["type"] == "TaskSucceeded" and details.get("resourceType") != "aws-sdk:s3":
            action = str(details.get("resource", ""))
            call = _back_to(event, by_id, "TaskScheduled")
            if call is not None and CHANGING.match(action):
                parameters = json.loads(call.get("parameters") or "{}")
                records_of = written.get(sid, [])
                index = min(len(step.changes), len(records_of) - 1)
                wrote: dict[str, Any] | None = records_of[index] if records_of else None
                step.changes.append(
                    {
                        "call": f"{str(details.get('resourceType', 'aws-sdk:iam')).split(':')[-1]}:"
                        f"{action[:1].upper()}{action[1:]}",
                        "parameters": parameters,
                        "target": _target(parameters),
                        "before": _before(wrote, parameters),
                        "after": _after(action, parameters),
                        "reversible": bool(getattr(actions[sid], "reversible", True)),
                    }
                )
                step.changed_at = event["timestamp"]
        elif event["type"] == "ExecutionFailed":  # a failure a Catch handled is not the step's failure
            cause = str(details.get("cause", ""))
            step.failure = f"{details.get('error', 'failed')}: {cause}".strip(": ")
            step.request_ids = _REQUEST_ID.findall(cause)
    outputs = json.loads(described.get("output") or "{}").get("steps", {})
    for sid, step in seen.items():
        found = _step_records(sid, step, actions[sid], written.get(sid, []), started_at)
        if found and isinstance(outputs.get(sid), dict):
            found[-1]["outputs"] = outputs[sid]
            if "skipped" in outputs[sid]:
                # Not run there (e.g. the CloudTrail read): a skipped step, never "done" beside a note saying it
                # was not, so the report's steps, opening and follow-ups agree that it did not run.
                why = local_reason(str(getattr(actions[sid], "name", "")), outputs[sid]["skipped"])
                reason = f"not run on Step Functions: {why}"
                found[-1] = {"event": j.SKIPPED, "step": sid, "ts": found[-1]["ts"], "reason": reason}
        records += found
    finished = described.get("stopDate")
    records.append(
        {
            "event": j.FINISHED,
            "ts": _when(finished) if finished else records[0]["ts"],
            "status": _STATUS.get(str(described["status"]), str(described["status"]).lower()),
            "error": described.get("error"),
        }
    )
    return records


_STATUS = {"SUCCEEDED": "completed", "FAILED": "failed", "RUNNING": "interrupted", "ABORTED": "interrupted"}


def _step_records(
    sid: str, step: _Seen, action: Any, written: list[dict[str, Any]], started_at: datetime
) -> list[dict[str, Any]]:
    if step.entered_at is None:
        return []  # never reached: the report lists it as not done
    at = {"step": sid, "ts": step.entered_at}
    if step.skipped:
        return [{"event": j.SKIPPED, **at, "reason": "its condition was false in the execution's input"}]
    records: list[dict[str, Any]] = []
    if step.changes or written:
        snapshot = {"write_ahead": [r.get("before") for r in written], "records": [r.get("key") for r in written]}
        records.append({"event": j.APPLYING, **at, "snapshot": snapshot, "changes": step.changes})
    if step.failure is not None:
        return [*records, {"event": j.FAILED, **at, "error": step.failure, "request_ids": step.request_ids}]
    milestone = {"milestone": getattr(action, "milestone", None), "stops": getattr(action, "stops", None)}
    if step.changes and step.changed_at is not None:
        took = (step.changed_at - started_at).total_seconds()
        applied = {"event": j.APPLIED, **at, "ts": _when(step.changed_at), "changes": step.changes, **milestone}
        applied["seconds_after_start"] = round(took, 3)
        return [*records, applied, {"event": j.VERIFIED, **at, "ts": _when(step.changed_at)}]
    if getattr(action, "mutating", False):
        notes = ["already in place: nothing to change"]
        return [*records, {"event": j.UNCHANGED, **at, "notes": notes, **milestone}]
    return [*records, {"event": j.READ, **at, "notes": []}]

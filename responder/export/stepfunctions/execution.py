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
from typing import Any

from responder.engine import events as j
from responder.errors import UserError
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
    execution = Execution(arn, described, json.loads(machine["definition"]), history)
    execution.records = _write_ahead_records(clients.client_in("s3", match.group(1)), execution)
    return execution


def _write_ahead_records(s3: Any, execution: Execution) -> list[dict[str, Any]]:
    given = json.loads(execution.described.get("input") or "{}")
    bucket = given.get("journal_bucket")
    if not bucket:
        return []
    account = given.get("account_id") or execution.account_id
    prefix = f"responder/{account}/{execution.described['name']}/"
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            found.append({**json.loads(body), "key": item["Key"]})
    return found


def _when(event: dict[str, Any]) -> str:
    return str(event["timestamp"].isoformat() if hasattr(event["timestamp"], "isoformat") else event["timestamp"])


def _details(event: dict[str, Any]) -> dict[str, Any]:
    return next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})


def _state_of(event: dict[str, Any], by_id: dict[int, dict[str, Any]]) -> str | None:
    """The name of the state an event belongs to: walk back to the state it entered."""
    seen = event
    while seen is not None:
        if seen["type"].endswith("StateEntered"):
            return str(_details(seen).get("name"))
        seen = by_id.get(seen.get("previousEventId", 0))  # type: ignore[assignment]
    return None


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


def journal_of(execution: Execution, playbook: Playbook) -> list[dict[str, Any]]:
    """The execution as the records a local run of `playbook` would have journaled."""
    described = execution.described
    account = execution.account_id
    steps = [{"id": s.id, "action": s.action} for s in playbook.actions()]
    from responder.actions.registry import get_action

    reversible = {s.id: bool(getattr(get_action(s.action or ""), "reversible", True)) for s in playbook.actions()}
    records: list[dict[str, Any]] = [
        {
            "event": j.RUN_STARTED,
            "ts": _when({"timestamp": described["startDate"]}),
            "run_id": described["name"],
            "playbook": playbook.name,
            "steps": steps,
            "reversible": reversible,
            "params": json.loads(described.get("input") or "{}"),
            "account_id": account,
            "operator": described.get("roleArn") or execution.definition.get("RoleArn") or "the machine's role",
            "dry_run": False,
            "engine": "stepfunctions",
            "execution_arn": execution.arn,
        }
    ]
    ids = {s["id"] for s in steps}
    by_id = {e["id"]: e for e in execution.history}
    before: dict[str, list[dict[str, Any]]] = {}
    for record in execution.records:
        before.setdefault(str(record.get("step")), []).append(record)
    entered: dict[str, str] = {}
    failed: dict[str, str] = {}
    changes: dict[str, list[dict[str, Any]]] = {}
    request_ids: dict[str, list[str]] = {}
    scheduled: dict[int, dict[str, Any]] = {}
    for event in execution.history:
        name = _state_of(event, by_id)
        step = name.split(": ", 1)[0] if name and ": " in name else None
        if step not in ids:
            continue
        assert step is not None  # narrowed by the membership test
        details = _details(event)
        if event["type"].endswith("StateEntered"):
            entered.setdefault(step, _when(event))
            if name == f"{step}: skipped":
                entered[step] = "skipped"
        elif event["type"] == "TaskScheduled":
            scheduled[event["id"]] = details
        elif event["type"] == "TaskSucceeded":
            call = scheduled.get(event.get("previousEventId", 0)) or _scheduled_before(event, by_id)
            action = str(details.get("resource", ""))
            if call is not None and CHANGING.match(action) and details.get("resourceType") != "aws-sdk:s3":
                parameters = json.loads(call.get("parameters") or "{}")
                service = str(details.get("resourceType", "aws-sdk:iam")).split(":")[-1]
                found = before.get(step, [])
                changes.setdefault(step, []).append(
                    {
                        "call": f"{service}:{action[:1].upper()}{action[1:]}",
                        "parameters": parameters,
                        "target": _target(parameters),
                        "before": found[min(len(changes.get(step, [])), len(found) - 1)].get("before")
                        if found
                        else None,
                        "after": _after(action, parameters),
                        "reversible": reversible.get(step, True),
                    }
                )
        elif event["type"] == "ExecutionFailed":  # a failure a Catch handled is not the step's failure
            cause = str(details.get("cause", ""))
            failed[step] = f"{details.get('error', 'failed')}: {cause}".strip(": ")
            request_ids.setdefault(step, []).extend(_REQUEST_ID.findall(cause))
    outputs = json.loads(described.get("output") or "{}").get("steps", {})
    for declared in steps:
        sid = str(declared["id"])
        mutating = bool(getattr(get_action(str(declared["action"])), "mutating", False))
        found = _step_records(
            sid, entered.get(sid), failed.get(sid), changes.get(sid, []), before.get(sid, []), mutating
        )
        if found and sid in outputs:
            found[-1]["outputs"] = outputs[sid]
            if isinstance(outputs[sid], dict) and "skipped" in outputs[sid]:
                found[-1]["notes"] = [f"not run on Step Functions: {outputs[sid]['skipped']}"]
        for record in found:
            if record["event"] == j.FAILED and request_ids.get(sid):
                record["request_ids"] = request_ids[sid]
            record.setdefault("ts", entered.get(sid) if entered.get(sid) != "skipped" else records[0]["ts"])
        records += found
    status = {"SUCCEEDED": "completed", "FAILED": "failed", "RUNNING": "interrupted"}.get(
        str(described["status"]), str(described["status"]).lower()
    )
    finished = described.get("stopDate")
    records.append(
        {
            "event": j.FINISHED,
            "ts": _when({"timestamp": finished}) if finished else records[0]["ts"],
            "status": status,
            "error": described.get("error"),
        }
    )
    return records


def _scheduled_before(event: dict[str, Any], by_id: dict[int, dict[str, Any]]) -> dict[str, Any] | None:
    seen = by_id.get(event.get("previousEventId", 0))
    while seen is not None:
        if seen["type"] == "TaskScheduled":
            return _details(seen)
        seen = by_id.get(seen.get("previousEventId", 0))
    return None


def _step_records(
    step: str,
    entered: str | None,
    failure: str | None,
    changes: list[dict[str, Any]],
    before: list[dict[str, Any]],
    mutating: bool,
) -> list[dict[str, Any]]:
    if entered is None:
        return []  # never reached: the report lists it as not done
    if entered == "skipped":
        return [{"event": j.SKIPPED, "step": step, "reason": "its condition was false in the execution's input"}]
    records: list[dict[str, Any]] = []
    if changes or before:
        snapshot = {"write_ahead": [r.get("before") for r in before], "records": [r.get("key") for r in before]}
        records.append({"event": j.APPLYING, "step": step, "snapshot": snapshot, "changes": changes})
    if failure is not None:
        return [*records, {"event": j.FAILED, "step": step, "error": failure}]
    if changes:
        return [*records, {"event": j.APPLIED, "step": step, "changes": changes}, {"event": j.VERIFIED, "step": step}]
    if mutating:
        return [*records, {"event": j.UNCHANGED, "step": step, "notes": ["already in place: nothing to change"]}]
    return [*records, {"event": j.READ, "step": step, "notes": []}]

"""The rollback machine's work in one place: read the containment's write-ahead records and undo each one the
containment itself wrote."""

from __future__ import annotations

from typing import Any

from responder.export.stepfunctions.names import OWN_ACCOUNT, REGION, Machine, machine_name
from responder.export.stepfunctions.registry import FORMS
from responder.export.stepfunctions.states import (
    Chain,
    Path,
    State,
    StatesStep,
    choose,
    failing,
    nothing,
    parameters,
    passing,
    single,
)
from responder.playbook.model import Playbook


def undo_records(machine: Machine, checked: bool, credentials: State | None, suffix: str) -> Chain:
    """Each write-ahead record of the execution, undone; with `checked`, only a record whose exact text the
    containment execution's own history shows it writing (the bucket is writable by others; the history is not).
    An organization-wide execution's records are written by its Distributed Map's child executions, whose
    histories the parent's does not hold: there only the record's names are checked (iam_states.undo_inline)."""
    reader = StatesStep("Records", "rollback", {}, "", credentials, suffix)
    listing = reader.task(
        "list the execution's write-ahead records",
        "s3:ListObjectsV2",
        {"Bucket.$": "$.input.journal_bucket", "Prefix.$": "$.context.journal_prefix"},
        result_path="$.records",
        own_account=True,
    )
    none = failing(
        f"Records: none{suffix}",
        "Responder.NoRecords",
        "no write-ahead record under the execution's journal prefix: check execution_name and account_id",
    )
    read = reader.task(
        "read one record",
        "s3:GetObject",
        {"Bucket.$": "$.input.journal_bucket", "Key.$": "$.item.Key"},
        result_path="$.record",
        result_selector={"document.$": "States.StringToJson($.Body)", "text.$": "$.Body"},
        own_account=True,
    )
    unwrap = passing(
        f"Records: the record{suffix}",
        "$",
        input=Path("$.input"),
        context=Path("$.context"),
        record=Path("$.record.document"),
        **({"known": Path("States.ArrayContains($.written, $.record.text)")} if checked else {}),
    )
    undoes = [
        (
            {"Variable": "$.record.action", "StringEquals": name},
            form(
                StatesStep(f"Undo {name.partition('.')[2]}", name, _undo_args(machine, name), "", credentials, suffix)
            ),
        )
        for name, form in ((name, FORMS[name].undo) for name in sorted(FORMS))
        if form is not None and _uses(machine.playbook, name)
    ]
    ignored = nothing(f"Records: nothing to undo{suffix}", "irreversible, or a read")
    dispatch = choose(f"Records: which action{suffix}", undoes, ignored)
    if checked:
        known = {"Variable": "$.known", "BooleanEquals": True}
        forged = nothing(f"Records: not in the containment's history{suffix}", "written by someone else: left alone")
        dispatch = choose(f"Records: written by the containment?{suffix}", [(known, dispatch)], forged)
    carry = {"written": Path("$.history.written")} if checked else {}
    each = reader.each("undo each record", "$.records.Contents", read.then(unwrap).then(dispatch), **carry)
    each.states[each.start]["MaxConcurrency"] = 1
    some = {"Variable": "$.records.Contents[0]", "IsPresent": True}
    work = _containment_writes(machine, reader, suffix).then(each) if checked else each
    return listing.then(choose(f"Records: any?{suffix}", [(some, work)], none))


def _containment_writes(machine: Machine, reader: StatesStep, suffix: str) -> Chain:
    """`$.history.written`: the Body of every task the containment execution scheduled (its write-ahead records
    among them), from its history (first 1,000 events: a record past them is left alone, and says so)."""
    arn = (
        "States.Format('arn:{}:states:{}:{}:execution:{}:{}', $.context.partition, "
        f"{REGION}, {OWN_ACCOUNT}, '{machine_name(machine.playbook)}', $.input.execution_name)"
    )
    history = reader.task(
        "read the containment's history",
        "sfn:GetExecutionHistory",
        parameters(ExecutionArn=Path(arn), MaxResults=1000, IncludeExecutionData=True),
        result_path="$.history",
        result_selector={"scheduled.$": "$.Events[*].TaskScheduledEventDetails.Parameters"},
        own_account=True,
    )
    body = {"Variable": "$.task.Body", "IsPresent": True}
    its_body = single(f"Records: a task's body{suffix}", {"Type": "Pass", "InputPath": "$.task.Body"})
    no_body = single(f"Records: a task without body{suffix}", {"Type": "Pass", "Result": ""})
    pick = choose(f"Records: a body?{suffix}", [(body, its_body)], no_body)
    bodies: State = {
        "Type": "Map",
        "ItemsPath": "$.history.scheduled",
        "ItemSelector": {"task.$": "States.StringToJson($$.Map.Item.Value)"},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": pick.start, "States": pick.closed()},
        "MaxConcurrency": 40,
        "ResultPath": "$.history.written",
    }
    return history.then(single(f"Records: what the containment wrote{suffix}", bodies))


def _undo_args(machine: Machine, action: str) -> dict[str, Any]:
    """What an undo form may act on: the policy names the playbook's steps of that action put (literal ones)."""
    names = sorted(
        {
            step.with_["policy_name"]
            for step in machine.playbook.actions()
            if step.action == action
            and isinstance(step.with_.get("policy_name"), str)
            and "${" not in step.with_["policy_name"]
        }
    )
    return {"policy_names": names} if names else {}


def _uses(playbook: Playbook, action: str) -> bool:
    return any(step.action == action for step in playbook.actions())

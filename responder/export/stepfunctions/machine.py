"""A playbook as an AWS Step Functions state machine (Amazon States Language, JSONPath), and its rollback machine.

The machine's state: `$.input` (the execution input merged over the playbook's defaults), `$.context` (the account
it works in, its partition, the journal prefix, and the role it calls through when that is another account) and
`$.steps.ID` (each step's outputs). Each step is its action's Step Functions form (actions/states.py); `when:` is a
Choice, a group a Map. `on_failure: stop` is Step Functions' own default: a failed state ends the execution with
what was changed kept (partial containment beats none), and the write-ahead records say what to roll back.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from responder.actions.registry import get_action
from responder.errors import UserError
from responder.export.stepfunctions.guard import refuse_protected
from responder.export.stepfunctions.names import OWN_ACCOUNT, PARTITION, Machine
from responder.export.stepfunctions.records import undo_records
from responder.export.stepfunctions.registry import FORMS, REFUSED
from responder.export.stepfunctions.states import (
    Chain,
    Path,
    State,
    StatesStep,
    choose,
    nothing,
    parameters,
    passing,
    sequence,
    single,
)
from responder.playbook.model import Playbook, Step
from responder.playbook.refs import Ref, refs_in, whole

ANOTHER_ACCOUNT = " [account]"  # the suffix of the states that work through the input's role
EACH_ACCOUNT = "Each account"  # the organization-wide machine's Distributed Map
JOURNAL_PREFIX = "responder/{}/{}/"  # account, execution name: where an execution's write-ahead records go


def _journal_prefix(account: str, journal_of: str) -> Path:
    return Path(f"States.Format('{JOURNAL_PREFIX}', {account}, {journal_of})")


def _role_arn(machine: Machine, account: str) -> Path:
    """The role to reach `account` through: the input names it, the partition is the machine's own."""
    return Path(
        f"States.Format('arn:{{}}:iam::{{}}:role/{{}}', $.context.partition, {account}, $.input.{machine.role_field})"
    )


def machine_for(playbook: Playbook, fixed: dict[str, Any]) -> Machine:
    refused = [
        f"step {step.id}: {REFUSED[step.action or '']}" for step in playbook.actions() if (step.action or "") in REFUSED
    ]
    if refused:
        raise UserError(f"{playbook.name} cannot run on Step Functions: {refused[0]}")
    for step in playbook.actions():
        _irreversible_behind_input(playbook, step, fixed)
    role_field = "access_role_name" if "role_name" in playbook.parameters else "role_name"
    return Machine(playbook, fixed, role_field)


def _irreversible_behind_input(playbook: Playbook, step: Step, fixed: dict[str, Any]) -> None:
    """An irreversible change runs only when an execution's input asks for it (`delete_key: true`), never
    because of how the machine was written: its `when:` must name a parameter, and that one not fixed."""
    action = get_action(step.action or "")
    if action is None or action.reversible or not action.mutating:
        return
    gates = [ref.name for ref in refs_in(step.when) if ref.kind == "params"]
    if not gates:
        raise UserError(f"step {step.id} of {playbook.name} is irreversible and no parameter switches it on")
    if any(name in fixed for name in gates):
        raise UserError(
            f"-p {gates[0]} switches on the irreversible step {step.id}: it comes only as execution input "
            f'("{gates[0]}": true), never fixed in the machine'
        )


def _argument(machine: Machine, value: Any) -> Any:
    """A step's `with:` value as the machine sees it: a constant, or a Path into its state."""
    ref = whole(value)
    if ref is not None:
        return _path(machine, ref)
    if isinstance(value, list):
        parts = [_argument(machine, v) for v in value]
        if any(isinstance(p, Path) for p in parts):
            inner = ", ".join(p.path if isinstance(p, Path) else json.dumps(p).replace('"', "'") for p in parts)
            return Path(f"States.Array({inner})")
        return parts
    if refs_in(value):
        raise UserError(f"{value!r}: text with references inside cannot run on Step Functions")
    return value


def _path(machine: Machine, ref: Ref) -> Any:
    if ref.kind == "params":
        return machine.fixed[ref.name] if ref.name in machine.fixed else Path(f"$.input.{ref.name}")
    if ref.kind == "steps":
        return Path(f"$.steps.{ref.step}.{ref.name}")
    if ref.kind == "item":
        return Path(f"$.item.{ref.name}")
    if ref.kind == "run" and ref.name == "started_at":
        return Path("$$.Execution.StartTime")
    return None  # the key: never in a machine's input, state or history


def _condition(machine: Machine, when: bool | str | list[str]) -> State | None:
    """`when:` as a Choice rule, or None for a step that always runs."""
    if when is True:
        return None
    rules = []
    for text in when if isinstance(when, list) else [when]:
        value = _argument(machine, text)
        if not isinstance(value, Path):
            if value in (False, "false"):
                rules.append({"Variable": "$.input", "IsPresent": False})  # never true: the step never runs
            continue
        rules.append(
            {"And": [{"Variable": value.path, "IsPresent": True}, {"Variable": value.path, "BooleanEquals": True}]}
        )
    if not rules:
        return None
    return rules[0] if len(rules) == 1 else {"And": rules}


def _step_chain(machine: Machine, step: Step, credentials: State | None, suffix: str) -> Chain:
    if step.is_group:
        assert step.for_each is not None and step.steps is not None  # a group, by the model's own check
        items = _argument(machine, step.for_each)
        body = _selected_only(
            step.id, suffix, sequence(*(_step_chain(machine, sub, credentials, suffix) for sub in step.steps))
        )
        label = StatesStep(step.id, "group", {}, "", credentials, suffix)
        chain = label.each("each item", items.path, body)
    else:
        action = get_action(step.action or "")
        assert action is not None  # the playbook was checked when loaded
        args = {name: _argument(machine, value) for name, value in step.with_.items()}
        args = {name: value for name, value in args.items() if value is not None}
        states_step = StatesStep(step.id, action.name, args, f"$.steps.{step.id}", credentials, suffix)
        chain = FORMS[action.name].apply(states_step)
    rule = _condition(machine, step.when)
    if rule is None:
        return chain
    skip = nothing(f"{step.id}: skipped{suffix}", f"when: {step.when}")
    return choose(f"{step.id}: run?{suffix}", [(rule, chain)], skip)


def _selected_only(group: str, suffix: str, body: Chain) -> Chain:
    """A group's body runs for an item unless the read that listed the items marked it `selected: false`."""
    unmarked = {"Variable": "$.item.selected", "IsPresent": False}
    selected = {"Variable": "$.item.selected", "BooleanEquals": True}
    skip = nothing(f"{group}: not selected{suffix}")
    return choose(f"{group}: selected?{suffix}", [(unmarked, body), (selected, body)], skip)


def _start(machine: Machine, journal_of: str) -> Chain:
    """Input merged over defaults; `$.context` for the machine's own account; `$.steps` empty."""
    given = single("Start", {"Type": "Pass", "Parameters": {"given.$": "$", "defaults": machine.defaults()}})
    merged = passing("Read the input", "$", input=Path("States.JsonMerge($.defaults, $.given, false)"), steps={})
    context = passing(
        "Know the account",
        "$.context",
        account_id=Path(OWN_ACCOUNT),
        partition=Path(PARTITION),
        journal_prefix=_journal_prefix(OWN_ACCOUNT, journal_of),
    )
    return given.then(merged).then(context)


def _other_account(machine: Machine, journal_of: str) -> Chain:
    """`$.context` for the input's account, reached through the input's role."""
    return passing(
        f"Reach the account{ANOTHER_ACCOUNT}",
        "$.context",
        account_id=Path("$.input.account_id"),
        partition=Path("$.context.partition"),
        journal_prefix=_journal_prefix("$.input.account_id", journal_of),
        role_arn=_role_arn(machine, "$.input.account_id"),
    )


def _two_places(machine: Machine, body: Body, journal_of: str) -> Chain:
    """The body twice: in the machine's own account, and (when the input names account_id and a role) in
    another one through that role. Written once, generated twice: Credentials cannot be optional in a Task."""
    here = body(None, "")
    there = _other_account(machine, journal_of).then(body({"RoleArn.$": "$.context.role_arn"}, ANOTHER_ACCOUNT))
    elsewhere = {
        "And": [
            {"Variable": "$.input.account_id", "IsPresent": True},
            {"Variable": f"$.input.{machine.role_field}", "IsPresent": True},
        ]
    }
    return choose("Which account", [(elsewhere, there)], here)


# The machine's work, generated for one place: the Task credentials to use there, and its states' name suffix.
Body = Callable[[State | None, str], Chain]


def _containing(machine: Machine) -> Body:
    """The playbook's steps; with `"dry_run": true` in the input, only the reads before the first change, whose
    outputs end the execution (organization-wide, each account's: a sweep, written by the ResultWriter)."""
    steps = machine.playbook.steps
    reads = 0
    while reads < len(steps) and not steps[reads].is_group and not _mutating(steps[reads]):
        reads += 1

    def body(credentials: State | None, suffix: str) -> Chain:
        chains = [_step_chain(machine, step, credentials, suffix) for step in steps]
        guard = refuse_protected(machine, credentials, suffix)
        if guard is not None:
            chains[0] = guard.then(chains[0])
        if reads == len(steps):
            return sequence(*chains)
        shown = passing(
            f"Dry run: nothing changed{suffix}",
            "$",
            dry_run=True,
            account_id=Path("$.context.account_id"),
            steps=Path("$.steps"),
        )
        stop = shown.then(Chain({f"Dry run: done{suffix}": {"Type": "Succeed"}}, f"Dry run: done{suffix}", []))
        dry = {"Variable": "$.input.dry_run", "BooleanEquals": True}
        changes = choose(f"Dry run?{suffix}", [(dry, stop)], sequence(*chains[reads:]))
        return sequence(*chains[:reads], changes)

    return body


def _mutating(step: Step) -> bool:
    return bool(getattr(get_action(step.action or ""), "mutating", True))


def _undoing(machine: Machine, organization: bool) -> Body:
    return functools.partial(undo_records, machine, not organization)


def _assembled(machine: Machine, undo: bool, organization: bool) -> dict[str, Any]:
    """One of the four machines: containment or its rollback, in one account (or another through a role) or in
    every account of an organization. A rollback finds the records of the execution its input names."""
    journal_of = "$.input.execution_name" if undo else "$$.Execution.Name"
    body = _undoing(machine, organization) if undo else _containing(machine)
    places = _each_account(machine, body, journal_of) if organization else _two_places(machine, body, journal_of)
    if organization:
        output = {"accounts.$": "$.accounts"}
    else:
        output = {"journal_prefix.$": "$.context.journal_prefix", **({} if undo else {"steps.$": "$.steps"})}
    done = single("Rolled back" if undo else "Contained", {"Type": "Pass", "Parameters": output})
    name = machine.playbook.name
    comment = f"responder rollback of {name}" if undo else f"responder {name}"
    if organization:
        comment += ", organization-wide"
    elif not undo:
        comment += f": {machine.playbook.description}"
    return _document(comment, _start(machine, journal_of).then(places).then(done))


def containment(machine: Machine) -> dict[str, Any]:
    return _assembled(machine, undo=False, organization=False)


def rollback(machine: Machine) -> dict[str, Any]:
    """Reads the write-ahead records of the execution named in the input and undoes each, as `responder
    rollback` does: a leaked key stays Inactive unless the input says reactivate_keys."""
    return _assembled(machine, undo=True, organization=False)


def organization_containment(machine: Machine) -> dict[str, Any]:
    return _assembled(machine, undo=False, organization=True)


def organization_rollback(machine: Machine) -> dict[str, Any]:
    return _assembled(machine, undo=True, organization=True)


def _document(comment: str, chain: Chain) -> dict[str, Any]:
    return {"Comment": comment, "StartAt": chain.start, "States": chain.closed()}


def _each_account(machine: Machine, body: Body, journal_of: str) -> Chain:
    """A Distributed Map over the accounts listed in the S3 object the input names (a JSON array of
    {"account_id": ...}), each reached through the input's role; a failing account never stops the others, and
    each account's result is written by ResultWriter beside the journal."""
    account = "$$.Map.Item.Value.account_id"
    inner = body({"RoleArn.$": "$.context.role_arn"}, "")
    state: State = {
        "Type": "Map",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket.$": "$.input.journal_bucket", "Key.$": "$.input.accounts_key"},
        },
        "ItemSelector": {
            "input.$": "$.input",
            "steps": {},
            "context": parameters(
                account_id=Path(account),
                partition=Path("$.context.partition"),
                journal_prefix=_journal_prefix(account, journal_of),
                role_arn=_role_arn(machine, account),
            ),
        },
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": inner.start,
            "States": inner.closed(),
        },
        "MaxConcurrency": 10,
        "ToleratedFailurePercentage": 100,
        "ResultWriter": {
            "Resource": "arn:aws:states:::s3:putObject",
            # From the execution's own input: what a ResultWriter's paths read differs between engines.
            "Parameters": {
                "Bucket.$": "$$.Execution.Input.journal_bucket",
                "Prefix.$": "States.Format('responder/results/{}', $$.Execution.Name)",
            },
        },
        "ResultPath": "$.accounts",
    }
    return single(EACH_ACCOUNT, state)

"""IAM pieces of Step Functions forms shared by several actions: an inline policy put with its snapshot,
write-ahead record, read-back and (for a deny) the managed-policy fallback; and their undo.

What the machines do mirrors the local actions, within what Amazon States Language can express:
- an inline policy of responder's own deny name that exists already is left as it is (an earlier containment put
  it; the machine cannot compare documents), so a second execution changes nothing and its rollback removes
  nothing it did not put;
- on `Iam.LimitExceededException` (the principal's inline budget is full) the same deny goes in a
  customer-managed policy, created unless it exists, then attached.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from responder.actions.states import NO_SUCH_ENTITY, Chain, Path, StatesStep, parameters, passing, single

Kind = Literal["User", "Role"]


def _names(kind: Kind, principal: Any, policy_name: str) -> dict[str, Any]:
    return parameters(**{f"{kind}Name": principal, "PolicyName": policy_name})


def _absent(step: StatesStep, what: str, result_path: str | None, value: Any) -> tuple[list[dict[str, Any]], Chain]:
    """A Catch turning NoSuchEntity into `value` at `result_path` (the Pass it leads to is returned)."""
    absent = single(step.name(what), {"Type": "Pass", "Result": value, "ResultPath": result_path})
    return [{"ErrorEquals": [NO_SUCH_ENTITY], "ResultPath": None, "Next": absent.start}], absent


def _record_key(step: StatesStep, principal: Any, kind: str = "") -> list[str]:
    """`deny-bearer-tokens-alice`: one record per principal, so a group's items never overwrite each other's."""
    if isinstance(principal, Path):
        return [f"'{step.label}{kind}-'", principal.path]
    return [f"'{step.label}{kind}-{principal}'"]


def read_inline(step: StatesStep, kind: Kind, principal: Any, policy_name: str, what: str, result_path: str) -> Chain:
    """get{User,Role}Policy into `result_path` as {"exists": bool, "document": ...}."""
    catch, absent = _absent(step, f"no {what}", result_path, {"exists": False})
    read = step.task(
        f"read {what}",
        f"iam:Get{kind}Policy",
        _names(kind, principal, policy_name),
        result_path=result_path,
        result_selector={"exists": True, "document.$": "$.PolicyDocument"},
        catch=catch,
    )
    return Chain({**read.states, **absent.states}, read.start, [*read.exits, *absent.exits])


def put_inline(
    step: StatesStep,
    kind: Kind,
    principal: Any,
    policy_name: str,
    document: Any,  # a constant JSON text, or a Path to it
    keep_existing: bool,
    managed_name: Any = None,  # a Path: the fallback policy's name; None: no fallback
) -> Chain:
    what = "inline policy"  # state names are at most 80 characters: the policy's name is in the record
    target = {"kind": kind, "name": principal, "policy_name": policy_name}
    snapshot = read_inline(step, kind, principal, policy_name, what, "$.snapshot")
    record = step.write_ahead(
        what, _record_key(step, principal), {"mode": "inline", "target": parameters(**target), "before.$": "$.snapshot"}
    )
    catch = []
    fallback = None
    if managed_name is not None:
        fallback = _managed_fallback(step, kind, principal, managed_name, document)
        catch = [{"ErrorEquals": ["Iam.LimitExceededException"], "ResultPath": None, "Next": fallback.start}]
    put = step.task(
        f"put {what}",
        f"iam:Put{kind}Policy",
        {**_names(kind, principal, policy_name), **parameters(PolicyDocument=document)},
        catch=catch,
    )
    check = step.read_back(
        f"{what} in place",
        read_inline(step, kind, principal, policy_name, f"{what} again", "$.check"),
        {"Variable": "$.check.exists", "BooleanEquals": True},
    )
    body = record.then(put).then(check)
    if not keep_existing:
        change = snapshot.then(body)
    else:
        kept = single(step.name(f"{what} already there"), {"Type": "Pass"})
        decide = step.name(f"{what} there?")
        choice = {
            "Type": "Choice",
            "Choices": [{"Variable": "$.snapshot.exists", "BooleanEquals": True, "Next": kept.start}],
            "Default": body.start,
        }
        head = snapshot.then(Chain({decide: choice}, decide, []))
        change = Chain({**head.states, **body.states, **kept.states}, head.start, [*body.exits, *kept.exits])
    if fallback is not None:
        change = Chain({**change.states, **fallback.states}, change.start, [*change.exits, *fallback.exits])
    return change


def _managed_fallback(step: StatesStep, kind: Kind, principal: Any, managed_name: Any, document: Any) -> Chain:
    what = "managed deny policy"
    arn = "States.Format('arn:{}:iam::{}:policy/{}', $.context.partition, $.context.account_id, $.managed.name)"
    name = passing(step.name(f"name the {what}"), "$.managed", name=managed_name)
    name = name.then(passing(step.name(f"locate the {what}"), "$.managed", name=Path("$.managed.name"), arn=Path(arn)))
    catch, absent = _absent(step, f"no {what} yet", "$.snapshot.existed", {"found": False})
    exists = step.task(
        f"read the {what}",
        "iam:GetPolicy",
        {"PolicyArn.$": "$.managed.arn"},
        result_path="$.snapshot.existed",
        result_selector={"found": True},
        catch=catch,
    )
    exists_either = Chain({**exists.states, **absent.states}, exists.start, [*exists.exits, *absent.exits])
    attached = step.task(
        f"list {kind.lower()}'s managed policies",
        f"iam:ListAttached{kind}Policies",
        parameters(**{f"{kind}Name": principal, "MaxItems": 1000}),
        result_path="$.snapshot.attached",
        result_selector={"arns.$": "$.AttachedPolicies[*].PolicyArn"},
    )
    was_attached = passing(
        step.name(f"was the {what} attached"),
        "$.snapshot.was_attached",
        value=Path("States.ArrayContains($.snapshot.attached.arns, $.managed.arn)"),
    )
    record = step.write_ahead(
        what,
        _record_key(step, principal, "-managed"),
        {
            "mode": "managed",
            "target": parameters(kind=kind, name=principal, policy_arn=Path("$.managed.arn")),
            "before": {"existed.$": "$.snapshot.existed.found", "was_attached.$": "$.snapshot.was_attached.value"},
        },
    )
    create_catch = [{"ErrorEquals": ["Iam.EntityAlreadyExistsException"], "ResultPath": None, "Next": "__attach__"}]
    create = step.task(
        f"create the {what}",
        "iam:CreatePolicy",
        parameters(
            PolicyName=Path("$.managed.name"),
            PolicyDocument=document,
            Description="responder: deny Bedrock bearer tokens (leaked API key containment)",
        ),
        catch=create_catch,
    )
    attach = step.task(
        f"attach the {what}",
        f"iam:Attach{kind}Policy",
        parameters(**{f"{kind}Name": principal}, PolicyArn=Path("$.managed.arn")),
    )
    create.states[create.start]["Catch"][0]["Next"] = attach.start
    listed = step.task(
        "list managed policies again",
        f"iam:ListAttached{kind}Policies",
        parameters(**{f"{kind}Name": principal, "MaxItems": 1000}),
        result_path="$.check",
        result_selector={"arns.$": "$.AttachedPolicies[*].PolicyArn"},
    )
    contains = passing(
        step.name(f"is the {what} attached"),
        "$.check",
        attached=Path("States.ArrayContains($.check.arns, $.managed.arn)"),
    )
    check = step.read_back(
        f"{what} attached", listed.then(contains), {"Variable": "$.check.attached", "BooleanEquals": True}
    )
    return name.then(exists_either).then(attached).then(was_attached).then(record).then(create).then(attach).then(check)


def undo_inline(step: StatesStep, restore_previous: bool) -> Chain:
    """Undo of `put_inline`'s record at `$.record`: remove what the execution put (or, for a policy it moved
    forward, put the previous document back); undo of the managed fallback: detach and delete what it added."""
    kind_choice = step.name("which principal")
    branches: dict[str, Chain] = {}
    for kind in ("User", "Role"):
        branches[kind] = _undo_inline_of(step, kind, restore_previous).then(_undo_managed_of(step, kind))
    done = single(step.name("undone"), {"Type": "Pass"})
    states: dict[str, Any] = {
        kind_choice: {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.record.target.kind", "StringEquals": kind, "Next": chain.start}
                for kind, chain in branches.items()
            ],
            "Default": done.start,
        }
    }
    exits = [*done.exits]
    for chain in branches.values():
        states.update(chain.states)
        exits.extend(chain.exits)
    states.update(done.states)
    return Chain(states, kind_choice, exits)


def _undo_inline_of(step: StatesStep, kind: Kind, restore_previous: bool) -> Chain:
    suffix = f" ({kind.lower()})"
    target = "$.record.target"
    names = parameters(**{f"{kind}Name": Path(f"{target}.name"), "PolicyName": Path(f"{target}.policy_name")})
    catch, gone = _absent(step, f"no inline policy{suffix}", None, {})
    remove = step.task(f"remove inline policy{suffix}", f"iam:Delete{kind}Policy", names, catch=catch)
    removal = Chain({**remove.states, **gone.states}, remove.start, [*remove.exits, *gone.exits])
    skip = single(step.name(f"not an inline record{suffix}"), {"Type": "Pass"})
    decide = step.name(f"inline record{suffix}?")
    choices: list[dict[str, Any]] = [
        {
            "And": [
                {"Variable": "$.record.mode", "StringEquals": "inline"},
                {"Variable": "$.record.before.exists", "BooleanEquals": False},
            ],
            "Next": removal.start,
        }
    ]
    states: dict[str, Any] = {**removal.states, **skip.states}
    exits = [*removal.exits, *skip.exits]
    if restore_previous:
        put_back = step.task(
            f"put previous inline back{suffix}",
            f"iam:Put{kind}Policy",
            {**names, "PolicyDocument.$": "States.JsonToString($.record.before.document)"},
        )
        choices.append(
            {
                "And": [
                    {"Variable": "$.record.mode", "StringEquals": "inline"},
                    {"Variable": "$.record.before.exists", "BooleanEquals": True},
                ],
                "Next": put_back.start,
            }
        )
        states.update(put_back.states)
        exits.extend(put_back.exits)
    states[decide] = {"Type": "Choice", "Choices": choices, "Default": skip.start}
    return Chain(states, decide, exits)


def _undo_managed_of(step: StatesStep, kind: Kind) -> Chain:
    suffix = f" ({kind.lower()})"
    target = "$.record.target"
    detach_catch, detached = _absent(step, f"not attached{suffix}", None, {})
    detach = step.task(
        f"detach the managed deny{suffix}",
        f"iam:Detach{kind}Policy",
        parameters(**{f"{kind}Name": Path(f"{target}.name")}, PolicyArn=Path(f"{target}.policy_arn")),
        catch=detach_catch,
    )
    delete_catch, deleted = _absent(step, f"no managed policy{suffix}", None, {})
    delete = step.task(
        f"delete the managed deny{suffix}",
        "iam:DeletePolicy",
        parameters(PolicyArn=Path(f"{target}.policy_arn")),
        catch=delete_catch,
    )
    done = single(step.name(f"managed undone{suffix}"), {"Type": "Pass"})
    after_detach = step.name(f"delete managed deny{suffix}?")
    decide = step.name(f"managed record{suffix}?")
    states: dict[str, Any] = {
        decide: {
            "Type": "Choice",
            "Choices": [
                {
                    "And": [
                        {"Variable": "$.record.mode", "StringEquals": "managed"},
                        {"Variable": "$.record.before.was_attached", "BooleanEquals": False},
                    ],
                    "Next": detach.start,
                }
            ],
            "Default": after_detach,
        },
        after_detach: {
            "Type": "Choice",
            "Choices": [
                {
                    "And": [
                        {"Variable": "$.record.mode", "StringEquals": "managed"},
                        {"Variable": "$.record.before.existed", "BooleanEquals": False},
                    ],
                    "Next": delete.start,
                }
            ],
            "Default": done.start,
        },
    }
    for chain in (detach, detached):
        states.update(chain.states)
        for name in chain.exits:
            states[name]["Next"] = after_detach
    for chain in (delete, deleted):
        states.update(chain.states)
        for name in chain.exits:
            states[name]["Next"] = done.start
    states.update(done.states)
    return Chain(states, decide, list(done.exits))


def policy_text(document: dict[str, Any]) -> str:
    """A policy document as the PolicyDocument parameter takes it: JSON text."""
    return json.dumps(document, separators=(",", ":"))

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

from responder.export.stepfunctions.states import (
    Chain,
    Path,
    StatesStep,
    choose,
    nothing,
    parameters,
    passing,
    single,
    unless_absent,
)

Kind = Literal["User", "Role"]
KINDS: tuple[Kind, ...] = ("User", "Role")


def _names(kind: Kind, principal: Any, policy_name: Any) -> dict[str, Any]:
    return parameters(**{f"{kind}Name": principal, "PolicyName": policy_name})


def _record_key(step: StatesStep, principal: Any, kind: str = "") -> list[str]:
    """`deny-bearer-tokens-alice`: one record per principal, so a group's items never overwrite each other's."""
    if isinstance(principal, Path):
        return [f"'{step.label}{kind}-'", principal.path]
    return [f"'{step.label}{kind}-{principal}'"]


def read_inline(step: StatesStep, kind: Kind, principal: Any, policy_name: Any, what: str, result_path: str) -> Chain:
    """get{User,Role}Policy into `result_path` as {"exists": bool, "document": ...}."""
    read = step.task(
        f"read {what}",
        f"iam:Get{kind}Policy",
        _names(kind, principal, policy_name),
        result_path=result_path,
        result_selector={"exists": True, "document.$": "$.PolicyDocument"},
    )
    return unless_absent(read, step.name(f"no {what}"), result_path, {"exists": False})


def put_inline(
    step: StatesStep,
    kind: Kind,
    principal: Any,
    policy_name: Any,  # a constant, or a Path to it
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
    put = step.task(
        f"put {what}",
        f"iam:Put{kind}Policy",
        {**_names(kind, principal, policy_name), **parameters(PolicyDocument=document)},
    )
    fallback = None
    if managed_name is not None:
        fallback = _managed_fallback(step, kind, principal, managed_name, document)
        put.states[put.start]["Catch"] = [
            {"ErrorEquals": ["Iam.LimitExceededException"], "ResultPath": None, "Next": fallback.start}
        ]
    check = step.read_back(
        f"{what} in place",
        read_inline(step, kind, principal, policy_name, f"{what} again", "$.check"),
        {"Variable": "$.check.exists", "BooleanEquals": True},
    )
    change = record.then(put).then(check)
    if keep_existing:
        there = {"Variable": "$.snapshot.exists", "BooleanEquals": True}
        change = choose(step.name(f"{what} there?"), [(there, nothing(step.name(f"{what} already there")))], change)
    change = snapshot.then(change)
    if fallback is not None:
        change = Chain({**change.states, **fallback.states}, change.start, [*change.exits, *fallback.exits])
    return change


def _attached(step: StatesStep, kind: Kind, principal: Any, what: str, result_path: str) -> Chain:
    """Whether the managed deny (`$.managed.arn`) is attached to the principal, as {"value": bool}."""
    listed = step.task(
        what,
        f"iam:ListAttached{kind}Policies",
        parameters(**{f"{kind}Name": principal, "MaxItems": 1000}),
        result_path=result_path,
        result_selector={"arns.$": "$.AttachedPolicies[*].PolicyArn"},
    )
    contains = Path(f"States.ArrayContains({result_path}.arns, $.managed.arn)")
    return listed.then(passing(step.name(f"{what}: ours?"), result_path, value=contains))


def _managed_fallback(step: StatesStep, kind: Kind, principal: Any, managed_name: Any, document: Any) -> Chain:
    what = "managed deny policy"
    arn = "States.Format('arn:{}:iam::{}:policy/{}', $.context.partition, $.context.account_id, $.managed.name)"
    name = passing(step.name(f"name the {what}"), "$.managed", name=managed_name)
    name = name.then(passing(step.name(f"locate the {what}"), "$.managed", name=Path("$.managed.name"), arn=Path(arn)))
    exists = step.task(
        f"read the {what}",
        "iam:GetPolicy",
        {"PolicyArn.$": "$.managed.arn"},
        result_path="$.snapshot.existed",
        result_selector={"found": True},
    )
    exists = unless_absent(exists, step.name(f"no {what} yet"), "$.snapshot.existed", {"found": False})
    record = step.write_ahead(
        what,
        _record_key(step, principal, "-managed"),
        {
            "mode": "managed",
            "target": parameters(kind=kind, name=principal, policy_arn=Path("$.managed.arn")),
            "before": {"existed.$": "$.snapshot.existed.found", "was_attached.$": "$.snapshot.attached.value"},
        },
    )
    create = step.task(
        f"create the {what}",
        "iam:CreatePolicy",
        parameters(
            PolicyName=Path("$.managed.name"),
            PolicyDocument=document,
            Description="responder: deny Bedrock bearer tokens (leaked API key containment)",
        ),
    )
    attach = step.task(
        f"attach the {what}",
        f"iam:Attach{kind}Policy",
        parameters(**{f"{kind}Name": principal}, PolicyArn=Path("$.managed.arn")),
    )
    # A policy of that name made by an earlier execution is attached as it is.
    create.states[create.start]["Catch"] = [
        {"ErrorEquals": ["Iam.EntityAlreadyExistsException"], "ResultPath": None, "Next": attach.start}
    ]
    check = step.read_back(
        f"{what} attached",
        _attached(step, kind, principal, f"{kind.lower()}'s policies again", "$.check"),
        {"Variable": "$.check.value", "BooleanEquals": True},
    )
    snapshot = exists.then(_attached(step, kind, principal, f"{kind.lower()}'s policies", "$.snapshot.attached"))
    return name.then(snapshot).then(record).then(create).then(attach).then(check)


def undo_inline(step: StatesStep, previous_kept: bool, policy_names: list[str]) -> Chain:
    """Undo of `put_inline`'s records at `$.record`: remove what the execution put; undo of the managed fallback:
    detach and delete what it added.

    A policy the execution moved forward (previous_kept) is never put back: IAM hands a machine the previous
    document URL-encoded (RFC 3986), Amazon States Language has no function to decode it, and putting the
    encoded text back fails as a malformed policy. The newer document stays, which for a session revocation
    denies more than the old one (sessions issued before a later moment), never less; the record keeps the
    encoded previous document for whoever restores it by hand.

    A record is read from a bucket others may write to: it is acted on only when it names what the containment
    could have put, an inline policy of `policy_names` or a managed policy of responder's own name; any other
    (a forged record naming a team's own policy) is passed over."""
    by_kind = [
        (
            {"Variable": "$.record.target.kind", "StringEquals": kind},
            _undo_inline_of(step, kind, previous_kept, policy_names).then(_undo_managed_of(step, kind)),
        )
        for kind in KINDS
    ]
    return choose(step.name("which principal"), by_kind, nothing(step.name("undone")))


def _record_is(mode: str, field: str, value: bool, ours: dict[str, Any]) -> dict[str, Any]:
    return {
        "And": [
            {"Variable": "$.record.mode", "StringEquals": mode},
            {"Variable": f"$.record.before.{field}", "BooleanEquals": value},
            ours,
        ]
    }


def _inline_is_ours(policy_names: list[str]) -> dict[str, Any]:
    named = [{"Variable": "$.record.target.policy_name", "StringEquals": name} for name in policy_names]
    return named[0] if len(named) == 1 else {"Or": named}


# Responder's own managed policies (engine.commands.permissions.MANAGED_PREFIX), the only ones a rollback detaches.
_MANAGED_IS_OURS = {"Variable": "$.record.target.policy_arn", "StringMatches": "arn:*:iam::*:policy/Responder*"}


# The rollback's answer for a policy it cannot put back, in the execution's history (the state's output).
KEPT_NEWER = "kept: the previous document comes URL-encoded from IAM and cannot be rebuilt in the machine"


def _undo_inline_of(step: StatesStep, kind: Kind, previous_kept: bool, policy_names: list[str]) -> Chain:
    suffix = f" ({kind.lower()})"
    target = "$.record.target"
    names = parameters(**{f"{kind}Name": Path(f"{target}.name"), "PolicyName": Path(f"{target}.policy_name")})
    remove = step.task(f"remove inline policy{suffix}", f"iam:Delete{kind}Policy", names)
    ours = _inline_is_ours(policy_names)
    removed = unless_absent(remove, step.name(f"no inline policy{suffix}"))
    branches = [(_record_is("inline", "exists", False, ours), removed)]
    if previous_kept:
        kept = single(
            step.name(f"newer inline kept{suffix}"),
            {"Type": "Pass", "Parameters": {"undo": KEPT_NEWER, "target.$": "$.record.target"}, "ResultPath": "$.kept"},
        )
        branches.append((_record_is("inline", "exists", True, ours), kept))
    return choose(step.name(f"inline record{suffix}?"), branches, nothing(step.name(f"not an inline record{suffix}")))


def _undo_managed_of(step: StatesStep, kind: Kind) -> Chain:
    suffix = f" ({kind.lower()})"
    target = "$.record.target"
    detach = step.task(
        f"detach the managed deny{suffix}",
        f"iam:Detach{kind}Policy",
        parameters(**{f"{kind}Name": Path(f"{target}.name")}, PolicyArn=Path(f"{target}.policy_arn")),
    )
    delete = step.task(
        f"delete the managed deny{suffix}", "iam:DeletePolicy", parameters(PolicyArn=Path(f"{target}.policy_arn"))
    )
    done = nothing(step.name(f"managed undone{suffix}"))
    # Detach what was not attached before; then delete what did not exist before.
    deleting = choose(
        step.name(f"delete managed deny{suffix}?"),
        [
            (
                _record_is("managed", "existed", False, _MANAGED_IS_OURS),
                unless_absent(delete, step.name(f"no managed policy{suffix}")),
            )
        ],
        done,
    )
    detached = unless_absent(detach, step.name(f"not attached{suffix}")).then(deleting)
    return choose(
        step.name(f"managed record{suffix}?"),
        [(_record_is("managed", "was_attached", False, _MANAGED_IS_OURS), detached)],
        deleting,
    )


def policy_text(document: dict[str, Any]) -> str:
    """A policy document as the PolicyDocument parameter takes it: JSON text."""
    return json.dumps(document, separators=(",", ":"))

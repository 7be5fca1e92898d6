"""The containment machine's first states: a principal responder never changes ends the execution there."""

from __future__ import annotations

from responder.engine.commands.permissions import MEMBER_ROLE, PROTECTED_TAG
from responder.export.stepfunctions.names import Machine, role_names
from responder.export.stepfunctions.states import Chain, State, StatesStep, choose, failing, nothing, unless_absent


def refuse_protected(machine: Machine, credentials: State | None, suffix: str) -> Chain | None:
    """Before anything else: a principal named in the input that is the machines' own role, the member-access
    role, an IAM Identity Center (aws-reserved) role, or tagged responder-protected=true ends the execution."""
    names = [f for f in ("role_name", "user_name") if f in machine.playbook.parameters and f not in machine.fixed]
    if not names:
        return None
    refused = failing(
        f"Protected principal{suffix}",
        "Responder.ProtectedPrincipal",
        f"the input names a principal responder never changes: its own roles, the member role, an "
        f"AWSReservedSSO_ role, or one tagged {PROTECTED_TAG}=true",
    )
    chain: Chain | None = None
    for field in names:
        kind = "Role" if field == "role_name" else "User"
        value = f"$.input.{field}"
        named = [{"Variable": value, "StringEquals": n} for n in (*role_names(machine.playbook), MEMBER_ROLE)]
        if kind == "Role":
            named.append({"Variable": value, "StringMatches": "AWSReservedSSO_*"})
        reader = StatesStep(f"Guard {field}", "guard", {}, "", credentials, suffix)
        tags = unless_absent(
            reader.task(
                "read the tags",
                f"iam:List{kind}Tags",
                {f"{kind}Name.$": value},
                result_path="$.guard",
                # As text: a JSONPath filter on an empty tag list is an error on some engines, not an empty list.
                result_selector={"tags.$": "States.JsonToString($.Tags)"},
            ),
            reader.name("no such principal"),  # the resolve step fails on it, by name
            "$.guard",
            {"tags": "[]"},
        )
        tagged = {"Variable": "$.guard.tags", "StringMatches": f'*"Key":"{PROTECTED_TAG}","Value":"true"*'}
        checked = tags.then(choose(reader.name("tagged?"), [(tagged, refused)], nothing(reader.name("not protected"))))
        given = {"Variable": value, "IsPresent": True}
        by_name = {"And": [given, {"Or": named} if len(named) > 1 else named[0]]}
        guard = choose(reader.name("named?"), [(by_name, refused), (given, checked)], nothing(reader.name("absent")))
        chain = guard if chain is None else chain.then(guard)
    return chain

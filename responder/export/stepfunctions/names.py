"""What an exported machine is made from, what it is called, and where an execution runs: what the machine's
assembly, its guard, its rollback and the template share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from responder.playbook.model import Playbook

# From the execution's own ARN (arn:PARTITION:states:REGION:ACCOUNT:execution:MACHINE:NAME).
OWN_ACCOUNT = "States.ArrayGetItem(States.StringSplit($$.Execution.Id, ':'), 4)"
PARTITION = "States.ArrayGetItem(States.StringSplit($$.Execution.Id, ':'), 1)"
REGION = "States.ArrayGetItem(States.StringSplit($$.Execution.Id, ':'), 3)"


def machine_name(playbook: Playbook) -> str:
    """The containment machine's name (the template's): the rollback reads its executions' histories."""
    return f"responder-{playbook.name}"


def role_names(playbook: Playbook) -> tuple[str, str]:
    """The containment machine's role and the rollback machine's (the template's): fixed, so the machines
    can refuse to change them."""
    return f"responder-{playbook.name}-states"[:64], f"responder-{playbook.name}-rollback"[:64]


@dataclass(frozen=True)
class Machine:
    """What the exporter needs to know of a playbook, once: which parameters are fixed, which come as input."""

    playbook: Playbook
    fixed: dict[str, Any]  # -p NAME=VALUE given at export: constants in the machine
    role_field: str  # the input field naming the role to reach another account through

    def defaults(self) -> dict[str, Any]:
        given = {
            name: p.default
            for name, p in self.playbook.parameters.items()
            if p.default not in (None, "") and name not in self.fixed
        }
        return {**given, "reactivate_keys": False, "dry_run": False}

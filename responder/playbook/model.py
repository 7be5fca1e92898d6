"""Playbooks as data: the models a YAML playbook validates into, and a group expanded per item."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from responder.playbook.refs import bind_item

NAME_PATTERN = r"^[a-z][a-z0-9-]{0,62}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Parameter(_Model):
    type: Literal["string", "boolean", "integer"] = "string"
    description: str
    required: bool = False
    default: str | bool | int | None = None
    pattern: str | None = Field(default=None, description="Regular expression a string value must match whole.")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return pattern


class KeyInput(_Model):
    """The leaked key, given with --key-file (never on the command line, where `ps` would show it)."""

    kind: Literal["long-term", "short-term"]
    required: bool = False
    description: str = ""


class Step(_Model):
    """One action; or, with for_each and steps, a group run once per item of a list (one group per key)."""

    id: str = Field(pattern=NAME_PATTERN)
    action: str | None = None
    description: str = ""
    when: bool | str | list[str] = Field(
        default=True, description="Run the step only if this reference is true (a list: only if all are)."
    )
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    for_each: str | None = Field(
        default=None, description="A group: ${steps.ID.OUTPUT} naming a list; its steps see each item as ${item.X}."
    )
    steps: list[Step] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _action_or_group(self) -> Step:
        if self.for_each is None and self.steps is None:
            if self.action is None:
                raise ValueError("a step needs an action (or for_each and steps, for a group)")
        elif self.action is not None or self.with_ or self.for_each is None or self.steps is None:
            raise ValueError("a group has for_each and steps, and no action or with of its own")
        elif any(sub.steps is not None for sub in self.steps):
            raise ValueError("groups do not nest")
        return self

    @property
    def is_group(self) -> bool:
        return self.steps is not None


class Playbook(_Model):
    name: str = Field(pattern=NAME_PATTERN)
    description: str
    on_failure: Literal["stop", "rollback"] = Field(
        default="stop",
        description="stop: keep what was applied (partial containment beats none); rollback: undo it.",
    )
    key: KeyInput | None = None
    parameters: dict[str, Parameter] = {}
    steps: list[Step] = Field(min_length=1)

    def actions(self) -> Iterator[Step]:
        """Every step that names an action, a group's steps included."""
        for step in self.steps:
            yield from step.steps or [step]


def describe_when(when: bool | str | list[str]) -> str:
    return " and ".join(when) if isinstance(when, list) else str(when)


def playbook_schema() -> dict[str, Any]:
    return Playbook.model_json_schema(by_alias=True)


def expand_group(group: Step, items: list[dict[str, Any]]) -> list[Step]:
    """A group's steps once per item, as plain steps: `deactivate[alice/ACCA...]`, arguments bound to the item.

    ${item.X} becomes the item's value; ${steps.SIBLING.OUT} names that item's copy of the sibling.
    Everything else (${params...}, earlier steps) is left for the executor to resolve as usual.
    """
    siblings = {sub.id for sub in group.steps or []}
    concrete = []
    for item in items:
        label = str(item["label"])
        for sub in group.steps or []:
            update = {
                "id": f"{sub.id}[{label}]",
                "with_": bind_item(sub.with_, item, label, siblings),
                "when": bind_item(sub.when, item, label, siblings),
            }
            concrete.append(sub.model_copy(update=update))
    return concrete

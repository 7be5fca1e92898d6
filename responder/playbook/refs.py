"""The `${...}` grammar, parsed in one place into one type: the checker, the resolver, the group binder,
conditions, the step graph and any exporter read references only through `Ref`.

    ${key}                 the leaked key given with --key-file
    ${params.NAME}         a playbook parameter
    ${run.NAME}            a fact of the run itself (id, started_at)
    ${steps.ID.OUTPUT}     an earlier step's output (a group's copy: ${steps.ID[LABEL].OUTPUT}, labels may hold dots)
    ${item.NAME}           in a group's steps, the item's field
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Literal

REFERENCE = re.compile(r"\$\{([^}]*)\}")
RUN_FACTS = ("id", "started_at")  # ${run.NAME}: facts of the run itself

Kind = Literal["key", "params", "run", "steps", "item", "invalid"]


@dataclass(frozen=True)
class Ref:
    kind: Kind
    name: str = ""  # the parameter, run fact, item field or (for steps) the output
    step: str = ""  # for steps: the step's id
    text: str = ""  # as written between ${ and }

    def __str__(self) -> str:
        return f"${{{self.text}}}"

    @property
    def simple(self) -> bool:
        """One name per part, as a playbook author writes it (a group's copy has a label with dots in its id)."""
        parts = self.text.split(".")
        return {"key": 1, "params": 2, "run": 2, "item": 2, "steps": 3}.get(self.kind, 0) == len(parts)

    def lookup(self, scope: dict[str, Any]) -> Any:
        path = ["steps", self.step, self.name] if self.kind == "steps" else self.text.split(".")
        value: Any = scope
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        return value


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> Ref:
    """The one parser: each distinct reference text is parsed once per process."""
    parts = text.split(".")
    if parts == ["key"]:
        return Ref("key", text=text)
    if parts[0] in ("params", "run") and len(parts) == 2:
        return Ref(parts[0], parts[1], text=text)  # type: ignore[arg-type]  # narrowed by the test above
    if parts[0] == "item":
        return Ref("item", ".".join(parts[1:]), text=text)
    if parts[0] == "steps" and len(parts) >= 3:
        return Ref("steps", parts[-1], ".".join(parts[1:-1]), text)
    return Ref("invalid", text=text)


def refs_in(value: Any) -> list[Ref]:
    """Every reference in a value (strings, lists and mappings of them), in order."""
    return [parse(text) for text in references(value)]


def references(value: Any) -> list[str]:
    """The texts between ${ and } in a value, in order."""
    if isinstance(value, str):
        return REFERENCE.findall(value)
    if isinstance(value, dict):
        return [r for v in value.values() for r in references(v)]
    if isinstance(value, list):
        return [r for v in value for r in references(v)]
    return []


def whole(value: Any) -> Ref | None:
    """The reference a value is exactly (it then keeps the referenced value's type), or None."""
    if not isinstance(value, str):
        return None
    match = REFERENCE.fullmatch(value)
    return parse(match.group(1)) if match else None


def resolve(value: Any, scope: dict[str, Any]) -> Any:
    """Substitute references. A value that is exactly one reference keeps the referenced value's type."""
    if isinstance(value, dict):
        return {k: resolve(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, scope) for v in value]
    if not isinstance(value, str):
        return value
    if (ref := whole(value)) is not None:
        return ref.lookup(scope)
    return REFERENCE.sub(lambda m: str(parse(m.group(1)).lookup(scope)), value)


def bind_item(value: Any, item: dict[str, Any], label: str, siblings: set[str]) -> Any:
    """A group step's argument for one item: ${item.X} becomes the item's value (typed when it is the whole value),
    ${steps.SIBLING.OUT} names that item's copy of the sibling; every other reference is left as it is."""
    if isinstance(value, dict):
        return {k: bind_item(v, item, label, siblings) for k, v in value.items()}
    if isinstance(value, list):
        return [bind_item(v, item, label, siblings) for v in value]
    if not isinstance(value, str):
        return value
    ref = whole(value)
    if ref is not None and ref.kind == "item":
        return item.get(ref.name)

    def bind(match: re.Match[str]) -> str:
        one = parse(match.group(1))
        if one.kind == "item":
            return str(item.get(one.name))
        if one.kind == "steps" and one.simple and one.step in siblings:
            return f"${{steps.{one.step}[{label}].{one.name}}}"
        return str(one)

    return REFERENCE.sub(bind, value)

"""Playbooks as data: the YAML models, references between steps, and validation before any AWS call."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from responder.actions.registry import get_action
from responder.errors import UserError
from responder.playbook.shipped import shipped_playbooks
from responder.playbook.source import YamlDocument, load_yaml, read_text
from responder.redaction import shown

NAME_PATTERN = r"^[a-z][a-z0-9-]{0,62}$"
REFERENCE = re.compile(r"\$\{([^}]*)\}")
RUN_FACTS = ("id", "started_at")  # ${run.NAME}: facts of the run itself
TRUE_WORDS, FALSE_WORDS = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}
_DIGITS = re.compile(r"[+-]?[0-9][0-9_]*")  # what int() reads as a whole number, however long


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


class PlaybookInvalid(UserError):
    def __init__(self, problems: list[str]) -> None:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more)
        self.problems = problems


def describe_when(when: bool | str | list[str]) -> str:
    return " and ".join(when) if isinstance(when, list) else str(when)


def playbook_schema() -> dict[str, Any]:
    return Playbook.model_json_schema(by_alias=True)


def find_playbook(name_or_path: str) -> Path:
    """A shipped playbook by name, or a playbook file by path."""
    shipped = shipped_playbooks()
    if name_or_path in shipped:
        return shipped[name_or_path]
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    known = ", ".join(shipped) or "none"
    raise UserError(f"no playbook named {name_or_path!r} (shipped playbooks: {known})")


def load_playbook(path: Path) -> Playbook:
    doc = load_yaml(read_text(path), str(path))
    try:
        playbook = Playbook.model_validate(doc.data)
    except ValidationError as exc:
        raise PlaybookInvalid([_describe(doc, err) for err in exc.errors()]) from None
    problems = check_playbook(playbook, doc)
    if problems:
        raise PlaybookInvalid(problems)
    return playbook


def _describe(doc: YamlDocument, err: Any) -> str:
    loc = tuple(err["loc"])
    message = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
    # line_of falls back to the deepest part of loc the document has (a union's branch name is not in it).
    return f"{doc.where(loc)}: {'.'.join(map(str, loc)) or 'playbook'}: {message}"


def check_playbook(playbook: Playbook, doc: YamlDocument) -> list[str]:
    """What pydantic cannot see: actions, step ids, references and arguments against each action."""
    problems: list[str] = []
    outputs: dict[str, tuple[str, ...]] = {}
    # Unique across groups too: two groups' `deactivate` would both become `deactivate[LABEL]`.
    every_id = [(("steps", i), step.id) for i, step in enumerate(playbook.steps)] + [
        (("steps", i, "steps", k), sub.id)
        for i, step in enumerate(playbook.steps)
        for k, sub in enumerate(step.steps or [])
    ]
    seen: set[str] = set()
    for at_id, step_id in every_id:
        if step_id in seen:
            problems.append(f"{doc.where((*at_id, 'id'))}: duplicate step id {step_id!r}")
        seen.add(step_id)
    check = _Checking(playbook, doc, problems)
    for index, step in enumerate(playbook.steps):
        at = ("steps", index)
        check.when(step, at, outputs, in_group=False)
        if not step.is_group:
            outputs[step.id] = check.action_step(step, at, outputs, in_group=False)
            continue
        source = references(step.for_each)
        if len(source) != 1 or not source[0].startswith("steps.") or REFERENCE.fullmatch(step.for_each or "") is None:
            problems.append(f"{doc.where((*at, 'for_each'))}: for_each takes one ${{steps.ID.OUTPUT}} naming a list")
        elif problem := _check_reference(source[0], playbook, outputs):
            problems.append(f"{doc.where((*at, 'for_each'))}: {problem}")
        # A group's steps see the steps before the group, their earlier siblings, and ${item.X}.
        inner = dict(outputs)
        for sub_index, sub in enumerate(step.steps or []):
            sub_at = (*at, "steps", sub_index)
            check.when(sub, sub_at, inner, in_group=True)
            inner[sub.id] = check.action_step(sub, sub_at, inner, in_group=True)
        outputs[step.id] = ()  # per-item outputs are not visible after the group
    for name, param in playbook.parameters.items():
        if param.default is not None:
            try:
                coerce_parameter(name, param, param.default)
            except UserError as exc:
                problems.append(f"{doc.where(('parameters', name, 'default'))}: {exc.message}")
    return problems


@dataclass
class _Checking:
    """One playbook's check in progress: what every step's check reads, and where problems go."""

    playbook: Playbook
    doc: YamlDocument
    problems: list[str]

    def action_step(
        self, step: Step, at: tuple[str | int, ...], outputs: dict[str, tuple[str, ...]], in_group: bool
    ) -> tuple[str, ...]:
        """Check one action step's arguments; return its outputs (none if its action is unknown)."""
        action = get_action(step.action or "")
        if action is None:
            self.problems.append(
                f"{self.doc.where((*at, 'action'))}: unknown action {step.action!r} (see `responder actions`)"
            )
            return ()
        fields = action.Params.model_fields
        for arg, value in step.with_.items():
            where = self.doc.where((*at, "with", arg))
            if arg not in fields:
                self.problems.append(f"{where}: action {step.action} has no argument {arg!r}")
                continue
            refs = references(value)
            for ref in refs:
                problem = _check_reference(ref, self.playbook, outputs, in_group)
                if problem:
                    self.problems.append(f"{where}: {problem}")
            if not refs:
                try:
                    TypeAdapter(fields[arg].annotation or object).validate_python(value)
                except ValidationError as exc:
                    self.problems.append(f"{where}: {arg}: {exc.errors()[0]['msg']}")
        for name, spec in fields.items():
            if spec.is_required() and name not in step.with_:
                self.problems.append(f"{self.doc.where(at)}: step {step.id!r} is missing argument {name!r}")
        return action.outputs

    def when(self, step: Step, at: tuple[str | int, ...], outputs: dict[str, tuple[str, ...]], in_group: bool) -> None:
        if isinstance(step.when, bool):
            return
        for ref in references(step.when) or ["(none)"]:
            problem = (
                _check_reference(ref, self.playbook, outputs, in_group) if ref != "(none)" else "when: needs a ${...}"
            )
            if problem:
                self.problems.append(f"{self.doc.where((*at, 'when'))}: {problem}")


def references(value: Any) -> list[str]:
    if isinstance(value, str):
        return REFERENCE.findall(value)
    if isinstance(value, dict):
        return [r for v in value.values() for r in references(v)]
    if isinstance(value, list):
        return [r for v in value for r in references(v)]
    return []


def _check_reference(
    ref: str, playbook: Playbook, outputs: dict[str, tuple[str, ...]], in_group: bool = False
) -> str | None:
    parts = ref.split(".")
    if parts[0] == "item":
        return None if in_group and len(parts) == 2 else "${item.NAME} is only for the steps of a for_each group"
    if parts == ["key"]:
        return None if playbook.key else "${key} used, but the playbook declares no key input"
    if parts[0] == "run" and len(parts) == 2:
        return None if parts[1] in RUN_FACTS else f"unknown run fact {parts[1]!r} (there are: {', '.join(RUN_FACTS)})"
    if parts[0] == "params" and len(parts) == 2:
        return None if parts[1] in playbook.parameters else f"unknown parameter {parts[1]!r} in ${{{ref}}}"
    if parts[0] == "steps" and len(parts) == 3:
        if parts[1] not in outputs:
            return f"${{{ref}}} refers to step {parts[1]!r}, which does not come before this one"
        if parts[2] not in outputs[parts[1]]:
            return f"step {parts[1]!r} has no output {parts[2]!r} (it has: {', '.join(outputs[parts[1]]) or 'none'})"
        return None
    return (
        f"bad reference ${{{ref}}}: use ${{key}}, ${{params.NAME}}, ${{steps.ID.OUTPUT}}, ${{item.NAME}} "
        "or ${run.started_at}"
    )


def resolve(value: Any, scope: dict[str, Any]) -> Any:
    """Substitute references. A value that is exactly one reference keeps the referenced value's type."""
    if isinstance(value, dict):
        return {k: resolve(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, scope) for v in value]
    if not isinstance(value, str):
        return value
    whole = REFERENCE.fullmatch(value)
    if whole:
        return _lookup(whole.group(1), scope)
    return REFERENCE.sub(lambda m: str(_lookup(m.group(1), scope)), value)


def expand_group(group: Step, items: list[dict[str, Any]]) -> list[Step]:
    """A group's steps once per item, as plain steps: `deactivate[alice/ACCA...]`, arguments bound to the item.

    ${item.X} becomes the item's value; ${steps.SIBLING.OUT} names that item's copy of the sibling.
    Everything else (${params...}, earlier steps) is left for the executor to resolve as usual.
    """
    siblings = {sub.id for sub in group.steps or []}
    concrete = []
    for item in items:
        label = str(item["label"])

        def bind(value: Any, item: dict[str, Any] = item, label: str = label) -> Any:
            if isinstance(value, dict):
                return {k: bind(v) for k, v in value.items()}
            if isinstance(value, list):
                return [bind(v) for v in value]
            if not isinstance(value, str):
                return value
            whole = REFERENCE.fullmatch(value)
            if whole and whole.group(1).startswith("item."):
                return item.get(whole.group(1)[5:])
            return REFERENCE.sub(lambda m: _bind_reference(m.group(1), item, label, siblings), value)

        for sub in group.steps or []:
            concrete.append(
                sub.model_copy(update={"id": f"{sub.id}[{label}]", "with_": bind(sub.with_), "when": bind(sub.when)})
            )
    return concrete


def _bind_reference(ref: str, item: dict[str, Any], label: str, siblings: set[str]) -> str:
    parts = ref.split(".")
    if parts[0] == "item":
        return str(item.get(parts[1]))
    if parts[0] == "steps" and len(parts) == 3 and parts[1] in siblings:
        return f"${{steps.{parts[1]}[{label}].{parts[2]}}}"
    return f"${{{ref}}}"


def _lookup(ref: str, scope: dict[str, Any]) -> Any:
    parts = ref.split(".")
    if parts[0] == "steps" and len(parts) > 3:  # a group's step id holds its item's label, which may hold dots
        parts = ["steps", ".".join(parts[1:-1]), parts[-1]]
    value: Any = scope
    for part in parts:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def coerce_parameter(name: str, param: Parameter, raw: str | bool | int) -> str | bool | int:
    if param.type == "boolean":
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in TRUE_WORDS | FALSE_WORDS:
            return word in TRUE_WORDS
        raise UserError(f"parameter {name}: expected true or false, got {shown(raw)}")
    if param.type == "integer":
        try:
            return int(str(raw), 10)
        except ValueError:
            # Python refuses to read more than 4,300 digits (int_max_str_digits): that is a number, only too large.
            if _DIGITS.fullmatch(str(raw).strip()):
                raise UserError(f"parameter {name}: {shown(raw)} is too large a number") from None
            raise UserError(f"parameter {name}: expected a whole number, got {shown(raw)}") from None
    text = str(raw)
    if param.pattern and not re.fullmatch(param.pattern, text):
        raise UserError(f"parameter {name}: {shown(text)} does not match {param.pattern}")
    return text


def bind_parameters(playbook: Playbook, given: dict[str, str]) -> dict[str, Any]:
    """Check -p NAME=VALUE pairs against the playbook and fill in defaults."""
    values: dict[str, Any] = {}
    for name in given:
        if name not in playbook.parameters:
            known = ", ".join(playbook.parameters) or "none"
            if name in ("key", "api_key", "secret"):
                raise UserError("pass the leaked key with --key-file FILE (or - for stdin), never as -p")
            raise UserError(f"unknown parameter {shown(name)} for playbook {playbook.name} (it takes: {known})")
    for name, param in playbook.parameters.items():
        if name in given:
            values[name] = coerce_parameter(name, param, given[name])
        elif param.default is not None:
            values[name] = param.default
        elif param.required:
            raise UserError(f"playbook {playbook.name} needs -p {name}=... ({param.description})")
        else:
            values[name] = None
    return values


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UserError(f"-p expects NAME=VALUE, got {shown(pair)}")
        if name.strip() in result:
            raise UserError(f"parameter {shown(name.strip())} given twice")
        result[name.strip()] = value
    return result

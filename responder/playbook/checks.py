"""A playbook checked before any AWS call: found by name or path, validated with line numbers, every action,
argument and reference checked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from responder.actions.registry import get_action
from responder.errors import UserError
from responder.playbook.model import Playbook, Step
from responder.playbook.params import coerce_parameter
from responder.playbook.refs import RUN_FACTS, Ref, refs_in, whole
from responder.playbook.shipped import ALIASES, shipped_playbooks
from responder.playbook.source import YamlDocument, load_yaml, read_text


class PlaybookInvalid(UserError):
    def __init__(self, problems: list[str]) -> None:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more)
        self.problems = problems


def find_playbook(name_or_path: str) -> Path:
    """A shipped playbook by name, or a playbook file by path."""
    shipped = shipped_playbooks()
    name_or_path = ALIASES.get(name_or_path, name_or_path)
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
        source = refs_in(step.for_each)
        if len(source) != 1 or not source[0].text.startswith("steps.") or whole(step.for_each) is None:
            problems.append(f"{doc.where((*at, 'for_each'))}: for_each takes one ${{steps.ID.OUTPUT}} naming a list")
        elif problem := check_reference(source[0], playbook, outputs):
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
            refs = refs_in(value)
            for ref in refs:
                problem = check_reference(ref, self.playbook, outputs, in_group)
                if problem:
                    self.problems.append(f"{where}: {problem}")
            if not refs:
                try:
                    TypeAdapter(_checked_type(fields[arg])).validate_python(value)
                except ValidationError as exc:
                    self.problems.append(f"{where}: {arg}: {exc.errors()[0]['msg']}")
        for name, spec in fields.items():
            if spec.is_required() and name not in step.with_:
                self.problems.append(f"{self.doc.where(at)}: step {step.id!r} is missing argument {name!r}")
        return action.outputs

    def when(self, step: Step, at: tuple[str | int, ...], outputs: dict[str, tuple[str, ...]], in_group: bool) -> None:
        if isinstance(step.when, bool):
            return
        refs: list[Ref | None] = [*refs_in(step.when)] or [None]
        for ref in refs:
            problem = check_reference(ref, self.playbook, outputs, in_group) if ref else "when: needs a ${...}"
            if problem:
                self.problems.append(f"{self.doc.where((*at, 'when'))}: {problem}")


def check_reference(
    ref: Ref, playbook: Playbook, outputs: dict[str, tuple[str, ...]], in_group: bool = False
) -> str | None:
    if ref.kind == "item":
        return None if in_group and ref.simple else "${item.NAME} is only for the steps of a for_each group"
    if ref.kind == "key":
        return None if playbook.key else "${key} used, but the playbook declares no key input"
    if ref.kind == "run":
        return None if ref.name in RUN_FACTS else f"unknown run fact {ref.name!r} (there are: {', '.join(RUN_FACTS)})"
    if ref.kind == "params":
        return None if ref.name in playbook.parameters else f"unknown parameter {ref.name!r} in {ref}"
    if ref.kind == "steps" and ref.simple:
        if ref.step not in outputs:
            return f"{ref} refers to step {ref.step!r}, which does not come before this one"
        if ref.name not in outputs[ref.step]:
            return f"step {ref.step!r} has no output {ref.name!r} (it has: {', '.join(outputs[ref.step]) or 'none'})"
        return None
    return (
        f"bad reference {ref}: use ${{key}}, ${{params.NAME}}, ${{steps.ID.OUTPUT}}, ${{item.NAME}} "
        "or ${run.started_at}"
    )


def _checked_type(field: FieldInfo) -> Any:
    """A field's type with its constraints and validators (a name's pattern, a deny-only document): FieldInfo keeps
    them apart from the annotation, and a literal argument must meet them at `validate` as it will at run time."""
    annotation = field.annotation or object
    if not field.metadata:
        return annotation
    arguments = (annotation, *field.metadata)
    return Annotated[arguments]  # built at run time from the field's parts

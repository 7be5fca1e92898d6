"""Every parameter checked against the actions it feeds, before the first AWS request.

bind_parameters checks a value against its playbook declaration (type, pattern); the action that receives it may
ask more (`max_events` at least 1, `regions` real region names). Without this, those refusals come only when the
step is planned, after the resolve step has called AWS: `-p max_events=0` is refused here instead, in one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from responder.actions.registry import get_action
from responder.errors import UserError
from responder.playbook.model import Playbook, Step
from responder.playbook.params import coerce_parameter
from responder.playbook.refs import references, whole
from responder.redaction import ECHO_LIMIT, SECRETS, shown

PHRASE_LIMIT = 160  # characters of an action's own reason: its validators may echo the whole value


def check_parameters(playbook: Playbook, params: Mapping[str, Any]) -> None:
    """Raise UserError naming the first parameter (or literal argument) an action would refuse.

    Checked: each argument that is exactly `${params.NAME}`, with the bound value, and each literal argument, each
    against its action's Params field with every constraint the field declares. Not checked: arguments built from
    other steps' outputs, the key, a group's items (unknown before AWS answers), parameters not given and without
    a default, and the steps a false `${params.NAME}` in their `when:` switches off."""
    for step in playbook.actions():
        if _switched_off(step, params):
            continue
        action = get_action(step.action or "")
        if action is None:  # load_playbook has refused it already
            continue
        fields = action.Params.model_fields
        checked: dict[str, tuple[Any, str | None]] = {}  # argument -> (value, the parameter it came from)
        for argument, value in step.with_.items():
            if argument not in fields:
                continue
            name = _parameter_of(value)
            if name is not None and params.get(name) is not None:
                checked[argument] = (params[name], name)
            elif not references(value):
                checked[argument] = (value, None)
        if not checked:
            continue
        # A partial model: the arguments checked here, each validated as the action itself will validate it. The
        # fields left out are reported missing; those reports are not about these values.
        try:
            action.Params.model_validate({argument: value for argument, (value, _) in checked.items()})
        except ValidationError as exc:
            for error in exc.errors():
                if error["type"] != "missing" and error["loc"] and error["loc"][0] in checked:
                    value, name = checked[str(error["loc"][0])]
                    raise UserError(_describe(playbook, step, str(error["loc"][0]), value, name, error)) from None


def _parameter_of(value: Any) -> str | None:
    """NAME when the argument is exactly `${params.NAME}` (it then carries the value with its type)."""
    ref = whole(value)
    return ref.name if ref is not None and ref.kind == "params" else None


def _switched_off(step: Step, params: Mapping[str, Any]) -> bool:
    """A step runs only if every condition of its `when:` holds: one false parameter is enough to know it won't."""
    conditions = step.when if isinstance(step.when, list) else [step.when]
    for condition in conditions:
        if condition is False:
            return True
        name = _parameter_of(condition)
        if name is not None and not params.get(name):
            return True
    return False


def _describe(playbook: Playbook, step: Step, argument: str, value: Any, name: str | None, error: ErrorDetails) -> str:
    reason = _phrase(error)
    if name is None:
        return f"playbook {playbook.name}, step {step.id}: {argument}={_rendered(value)}: {reason}"
    declared = playbook.parameters[name]
    if declared.default is not None and coerce_parameter(name, declared, declared.default) == value:
        return f"parameter {name}: its default {_rendered(value)} in playbook {playbook.name}: {reason}"
    return f"-p {name}={_rendered(value)}: {reason}"


def _rendered(value: Any) -> str:
    """A number or a truth value as typed; text quoted and bounded, as every echo of operator input."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        digits = str(value)
        return digits if len(digits) <= ECHO_LIMIT else f"{digits[:ECHO_LIMIT]}... ({len(digits):,} digits)"
    return shown(value)


_PHRASES = {
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "greater_than": "must be more than {gt}",
    "less_than": "must be less than {lt}",
    "string_pattern_mismatch": "does not match {pattern}",
    "string_too_short": "must be at least {min_length} characters",
    "string_too_long": "must be at most {max_length} characters",
    "too_short": "must have at least {min_length} item(s)",
    "too_long": "must have at most {max_length} item(s)",
    "literal_error": "must be one of {expected}",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_parsing": "must be true or false",
}


def _phrase(error: ErrorDetails) -> str:
    """pydantic's reason in an operator's words: 'must be at least 1', not 'Input should be greater than...'."""
    context = error.get("ctx") or {}
    template = _PHRASES.get(error["type"])
    if template is not None:
        try:
            return template.format(**context)
        except KeyError:
            pass
    message = error["msg"].removeprefix("Value error, ")
    message = SECRETS.redact(message[:1].lower() + message[1:])
    return message if len(message) <= PHRASE_LIMIT else message[:PHRASE_LIMIT] + "..."

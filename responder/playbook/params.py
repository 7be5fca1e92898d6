"""Parameters given as -p NAME=VALUE: parsed, checked against the playbook's declarations, defaults filled in."""

from __future__ import annotations

import re
from typing import Any

from responder.errors import UserError
from responder.keys.registry import may_hold_key
from responder.playbook.model import Parameter, Playbook
from responder.redaction import SECRETS, shown

TRUE_WORDS, FALSE_WORDS = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}
_DIGITS = re.compile(r"[+-]?[0-9][0-9_]*")  # what int() reads as a whole number, however long


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
    if may_hold_key(text):  # a key (or its base64 body) pasted as a parameter: refused unseen, never journaled
        SECRETS.register(text)
        raise UserError(
            f"parameter {name}: [REDACTED], a value of {len(text):,} characters that looks like (part of) a key, not "
            "shown and not taken: give a key with --key-file"
        )
    if param.pattern and not re.fullmatch(param.pattern, text):
        raise UserError(f"parameter {name}: {shown(text)} does not match {param.pattern}")
    return text


def given_parameters(playbook: Playbook, given: dict[str, str]) -> dict[str, Any]:
    """Only the -p NAME=VALUE pairs given, checked against the playbook's declarations and typed."""
    for name in given:
        if name not in playbook.parameters:
            known = ", ".join(playbook.parameters) or "none"
            if name in ("key", "api_key", "secret"):
                raise UserError("pass the leaked key with --key-file FILE (or - for stdin), never as -p")
            raise UserError(f"unknown parameter {shown(name)} for playbook {playbook.name} (it takes: {known})")
    return {name: coerce_parameter(name, playbook.parameters[name], raw) for name, raw in given.items()}


def bind_parameters(playbook: Playbook, given: dict[str, str]) -> dict[str, Any]:
    """Check -p NAME=VALUE pairs against the playbook and fill in defaults."""
    typed = given_parameters(playbook, given)
    values: dict[str, Any] = {}
    for name, param in playbook.parameters.items():
        if name in typed:
            values[name] = typed[name]
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

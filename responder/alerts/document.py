"""Reading an alert's JSON: typed field access whose errors name the field and the finding, never a value
(an alert file is full of secrets), and the timestamps the formats write."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, TypeVar

from responder.errors import UserError

T = TypeVar("T")


def load_json(text: str, title: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"not a {title}: not JSON (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise UserError(f"not a {title}: nested too deep") from None


def need(obj: Any, name: str, kind: type[T], where: str, title: str) -> T:
    """obj[name], which must be a `kind`."""
    if not isinstance(obj, dict):
        raise UserError(f"not a {title}: {where} is not an object")
    value = obj.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise UserError(f"not a {title}: {where} has no {kind.__name__} field {name!r}")
    return value


def optional(obj: Any, name: str, kind: type[T]) -> T | None:
    value = obj.get(name) if isinstance(obj, dict) else None
    if kind is int and isinstance(value, bool):
        return None
    return value if isinstance(value, kind) else None


_FORMATS = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S %z")


def timestamp(value: str | None) -> datetime | None:
    """An ISO-8601 time (`Z` or an offset), or git's `2022-06-16 10:17:40 -0700` (trufflehog adds the zone's
    name a second time); None when absent or unreadable: an exposure time is a help, never required."""
    if not value:
        return None
    text = value.strip().replace("Z", "+0000") if value.strip().endswith("Z") else value.strip()
    parts = text.split()
    if len(parts) == 4:  # trufflehog: "2022-06-16 10:17:40 -0700 -0700"
        text = " ".join(parts[:3])
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt).astimezone(timezone.utc)
        except ValueError:
            continue
    return None

"""Read an alert file of a named format, within bounds: one line and exit 2 for anything else, before any
finding is looked at."""

from __future__ import annotations

from pathlib import Path

from responder.alerts.source import AlertSource, Finding
from responder.errors import UserError

MAX_ALERT_BYTES = 32 * 1024 * 1024  # a report of 100,000 findings is ~60 MB of JSON lines; 32 MiB is ~50,000


def read_alert_file(path: str, source: AlertSource) -> list[Finding]:
    p = Path(path)
    try:
        if p.is_dir():
            raise UserError(f"{path}: is a directory, not a {source.title}")
        with p.open("rb") as handle:
            data = handle.read(MAX_ALERT_BYTES + 1)
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except PermissionError:
        raise UserError(f"{path}: permission denied") from None
    if len(data) > MAX_ALERT_BYTES:
        raise UserError(f"{path}: larger than {MAX_ALERT_BYTES // (1024 * 1024)} MiB: split the report")
    if b"\0" in data:
        raise UserError(f"{path}: binary, not a {source.title}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text, not a {source.title}") from None
    if not text.strip():
        raise UserError(f"{path}: empty, not a {source.title}")
    try:
        return source.findings(text)
    except UserError as exc:
        raise UserError(f"{path}: {exc.message}") from None

"""The record of a run's notifications, `notifications.jsonl` beside its journal: each delivery (to whom, at which
moment of the run, delivered or not, after how many attempts, why not), for the command's output and the report.
Never a URL or a token: a channel is named by its host."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from responder.private_files import append_private

NOTIFICATIONS_FILE = "notifications.jsonl"


@dataclass(frozen=True)
class Delivery:
    host: str
    delivered: bool
    attempts: int
    status: int | None  # the last HTTP status, None when no answer came
    error: str | None  # why the last attempt failed, in words that hold no secret


def record_deliveries(directory: Path, moment: str, deliveries: Sequence[Delivery]) -> None:
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    lines = [json.dumps({"at": at, "moment": moment, **asdict(d)}, sort_keys=True) for d in deliveries]
    with append_private(directory / NOTIFICATIONS_FILE) as record:
        record.write("\n".join(lines) + "\n")


def recorded_deliveries(directory: Path) -> list[dict[str, Any]]:
    """What notifications.jsonl holds (for the report): each delivery, in order; [] when none was asked for."""
    try:
        text = (directory / NOTIFICATIONS_FILE).read_text(encoding="utf-8")
    except OSError:
        return []
    found = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict):
            found.append(entry)
    return found

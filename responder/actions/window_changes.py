"""What was done to the key's principal during its exposure window, as CloudTrail recorded it: the footholds the
foothold steps undo (policies given to it, credentials made on it, its trust policy changed).

IAM events land in us-east-1, and LookupEvents has no attribute for a request parameter: IAM's events of the
window are read once a run (the read is shared by every foothold step through the run's ReadCache) and those
naming the principal kept. Only calls AWS carried out count (no errorCode). Every value here is CloudTrail's, so
the attacker's: a step acts on it only after checking it against IAM's own answer, and shows it inert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from responder.actions.attack_stages import names_principal
from responder.actions.base import ActionContext
from responder.actions.cloudtrail import LOOKBACK, iam_events_since
from responder.actions.cloudtrail_records import actor_of
from responder.clock import parse_time

PrincipalKind = Literal["user", "role"]


@dataclass(frozen=True)
class WindowEvent:
    """One successful IAM call naming the principal, as much of it as a foothold step needs."""

    event_id: str
    name: str
    time: datetime
    actor: str | None
    parameters: dict[str, Any]


@dataclass(frozen=True)
class WindowRead:
    events: tuple[WindowEvent, ...]
    cut: bool  # max_events stopped the reading: there may be more


def iam_changes(
    ctx: ActionContext, kind: PrincipalKind, name: str, since: datetime, max_events: int = 1000
) -> WindowRead:
    """The IAM calls naming the user or role since `since` (up to 90 days back), oldest first; IAM's events are
    read once a run, shared with the investigation."""
    start = max(since, datetime.now(timezone.utc) - LOOKBACK)
    found, cut = iam_events_since(ctx, start, max_events)
    return WindowRead(tuple(sorted(_events(found, kind, name), key=lambda e: (e.time, e.event_id))), cut)


def _events(records: list[dict[str, Any]], kind: PrincipalKind, name: str) -> list[WindowEvent]:
    kept = []
    for record in records:
        when = parse_time(record.get("eventTime"))
        parameters = record.get("requestParameters")
        if record.get("errorCode") or when is None or not isinstance(parameters, dict):
            continue
        if not names_principal(record, kind, name):
            continue
        kept.append(
            WindowEvent(str(record.get("eventID")), str(record.get("eventName")), when, actor_of(record), parameters)
        )
    return kept


def named(read: WindowRead, *names: str) -> list[WindowEvent]:
    return [e for e in read.events if e.name in names]


def text(parameters: dict[str, Any], field: str) -> str | None:
    value = parameters.get(field)
    return value if isinstance(value, str) and value else None


def own_principal(ctx: ActionContext, kind: PrincipalKind, name: str) -> bool:
    """The operator's credentials are this user's or a session of this role: changing it could cut off the run."""
    resource = ctx.identity.arn.split(":", 5)[-1]
    if kind == "user":
        return resource.startswith("user/") and resource.rsplit("/", 1)[-1] == name
    return resource.startswith("assumed-role/") and resource.split("/")[1] == name

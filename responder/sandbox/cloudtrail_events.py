"""CloudTrail event history (`LookupEvents`) for moto's CloudTrail emulation.

moto 5.2 has no `LookupEvents`. `install()` adds it to `CloudTrailResponse`, which both `mock_aws()` and the
moto server dispatch to; `record_event()` seeds the management events it answers from. The history lives on each
account's per-region CloudTrail backend: regions and accounts stay apart, and moto's reset clears it.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import hashlib
import json
import threading
import uuid
from datetime import datetime, timezone
from typing import Any

from moto.cloudtrail.models import CloudTrailBackend, cloudtrail_backends
from moto.cloudtrail.responses import CloudTrailResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult

_ATTRIBUTE_KEYS = frozenset(
    {"EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId"}
)
_MAX_RESULTS = 50
_READ_PREFIXES = ("Get", "List", "Describe", "Lookup", "Head", "Search")
_STATE_ATTR = "_responder_cloudtrail_events"  # BaseBackend.reset() empties __dict__: reset clears it
_INSTALLED_ATTR = "_responder_cloudtrail_events_installed"
_lock = threading.Lock()  # the threaded moto server records and looks up concurrently


@dataclasses.dataclass(frozen=True)
class _Stored:
    seq: int  # recording order: breaks ties between events of the same second
    time: datetime
    record: dict[str, Any]
    summary: dict[str, Any]  # the `Event` shape LookupEvents returns

    @property
    def key(self) -> tuple[int, int]:
        return int(self.time.timestamp()), self.seq


def _history(backend: CloudTrailBackend) -> list[_Stored]:
    history: list[_Stored] = backend.__dict__.setdefault(_STATE_ATTR, [])
    return history


def _iso(value: datetime) -> str:
    utc = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")  # CloudTrail writes whole seconds, with Z


def _parse_time(value: Any) -> datetime:
    """An event time (ISO string or datetime) or a request time (epoch seconds, as botocore sends them)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        parsed = datetime.fromtimestamp(value, timezone.utc)
    elif isinstance(value, str):
        parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    else:
        raise ValueError(f"not a time: {value!r}")
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return _iso(value)
    raise TypeError(f"not JSON serializable in a CloudTrail record: {value!r}")


def _username(identity: dict[str, Any]) -> str | None:
    """What CloudTrail shows as the user name: the IAM user, a role session's name, or root."""
    if identity.get("userName"):
        return str(identity["userName"])
    kind, arn = identity.get("type"), str(identity.get("arn", ""))
    if kind in ("IAMUser", "AssumedRole", "FederatedUser") and "/" in arn:
        return arn.rsplit("/", 1)[-1]
    return "root" if kind == "Root" else None


def _resource(resource: dict[str, Any]) -> dict[str, str]:
    named = {"ResourceType": resource.get("type"), "ResourceName": resource.get("ARN")}
    return {k: str(v) for k, v in named.items() if v is not None}


def _summary(record: dict[str, Any], time: datetime) -> dict[str, Any]:
    identity: dict[str, Any] = record.get("userIdentity") or {}
    summary = {
        "EventId": record["eventID"],
        "EventName": record["eventName"],
        "ReadOnly": "true" if record["readOnly"] in (True, "true") else "false",
        "AccessKeyId": identity.get("accessKeyId"),
        "EventTime": time,
        "EventSource": record["eventSource"],
        "Username": _username(identity),
        # CloudTrail lists the resources a record names; the `resources` field carries them as {ARN, type}.
        "Resources": [_resource(r) for r in record.get("resources", [])],
        "CloudTrailEvent": json.dumps(record),
    }
    return {k: v for k, v in summary.items() if v is not None}


def record_event(account_id: str, region: str, event: dict[str, Any]) -> dict[str, Any]:
    """Store a management event in the account's CloudTrail history for `region`; returns the stored record.

    `event` is a CloudTrail record; eventSource and eventName are required, the rest get CloudTrail's defaults."""
    install()
    if not event.get("eventSource") or not event.get("eventName"):
        raise ValueError("a CloudTrail event needs eventSource and eventName")
    if event.get("awsRegion", region) != region:  # the history of a region holds only that region's events
        raise ValueError(f"awsRegion {event['awsRegion']!r} is not the history's region {region!r}")
    time = _parse_time(event.get("eventTime", datetime.now(timezone.utc))).replace(microsecond=0)
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "eventType": "AwsApiCall",
        "eventCategory": "Management",
        "managementEvent": True,
        "readOnly": str(event["eventName"]).startswith(_READ_PREFIXES),
        "eventID": str(uuid.uuid4()),
        "recipientAccountId": account_id,
        **event,
        "awsRegion": region,
        "eventTime": _iso(time),
    }
    # Round-trip through JSON so the record is exactly what CloudTrailEvent carries (nested datetimes as ISO).
    record = json.loads(json.dumps(record, default=_json_default))
    with _lock:
        history = _history(cloudtrail_backends[account_id][region])
        history.append(_Stored(len(history), time, record, _summary(record, time)))
    return copy.deepcopy(record)


def _matches(stored: _Stored, key: str, value: Any) -> bool:
    if key in ("ResourceType", "ResourceName"):
        return any(r.get(key) == value for r in stored.summary["Resources"])
    return bool(stored.summary.get(key) == value)


def _encode_token(key: tuple[int, int], query: str) -> str:
    return base64.urlsafe_b64encode(f"v1:{key[0]}:{key[1]}:{query}".encode()).decode()


def _decode_token(token: str, query: str) -> tuple[int, int]:
    # The token holds the last returned event's position, so events recorded between pages do not shift it;
    # it is bound to the query because AWS requires the same parameters with a NextToken.
    try:
        version, seconds, seq, bound = base64.urlsafe_b64decode(token.encode()).decode().split(":")
        if version == "v1" and bound == query:
            return int(seconds), int(seq)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise JsonRESTError("InvalidNextTokenException", "Invalid NextToken, or not issued for these lookup parameters.")


def lookup_events(self: CloudTrailResponse) -> ActionResult:
    """CloudTrailResponse.lookup_events: call_action maps X-Amz-Target `...LookupEvents` to this name."""
    attributes: list[dict[str, Any]] = self._get_param("LookupAttributes") or []
    raw_start, raw_end = self._get_param("StartTime"), self._get_param("EndTime")
    category: str | None = self._get_param("EventCategory")
    max_results: Any = self._get_param("MaxResults", _MAX_RESULTS)
    token: str | None = self._get_param("NextToken")
    if len(attributes) > 1:
        raise JsonRESTError("InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
    for attribute in attributes:
        if attribute.get("AttributeKey") not in _ATTRIBUTE_KEYS:
            raise JsonRESTError(
                "InvalidLookupAttributesException", f"Invalid attribute key: {attribute.get('AttributeKey')}"
            )
    try:
        start = None if raw_start is None else _parse_time(raw_start)
        end = None if raw_end is None else _parse_time(raw_end)
    except (ValueError, OverflowError, OSError) as exc:
        raise JsonRESTError("InvalidTimeRangeException", f"Invalid time: {exc}") from exc
    if start is not None and end is not None and start > end:
        raise JsonRESTError("InvalidTimeRangeException", "Start time must not be after end time.")
    if isinstance(max_results, bool) or not isinstance(max_results, int) or not 1 <= max_results <= _MAX_RESULTS:
        raise JsonRESTError("InvalidMaxResultsException", f"MaxResults must be between 1 and {_MAX_RESULTS}.")
    if category not in (None, "insight"):
        raise JsonRESTError("InvalidEventCategoryException", f"Invalid EventCategory: {category}")
    canonical = json.dumps([attributes, raw_start, raw_end, category], sort_keys=True, default=str)
    query = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    after = None if token is None else _decode_token(token, query)
    if category == "insight":  # no Insights events are emulated
        return ActionResult({"Events": []})
    with _lock:
        stored = list(_history(self.cloudtrail_backend))
    matching = sorted(
        (
            s
            for s in stored
            if (start is None or s.time >= start)
            and (end is None or s.time <= end)
            and all(_matches(s, a["AttributeKey"], a.get("AttributeValue")) for a in attributes)
            and (after is None or s.key < after)
        ),
        key=lambda s: s.key,
        reverse=True,  # newest first
    )
    page = matching[:max_results]
    result: dict[str, Any] = {"Events": [s.summary for s in page]}
    if len(matching) > max_results:
        result["NextToken"] = _encode_token(page[-1].key, query)
    return ActionResult(result)


def install() -> None:
    """Add LookupEvents to moto's CloudTrail once per process; safe to call any number of times."""
    with _lock:
        if not getattr(CloudTrailResponse, _INSTALLED_ATTR, False):
            setattr(CloudTrailResponse, "lookup_events", lookup_events)  # noqa: B010
            setattr(CloudTrailResponse, _INSTALLED_ATTR, True)

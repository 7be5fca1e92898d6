"""CloudTrail records as the investigation reads them: which were bearer-token calls, on which endpoint, and the
line events.jsonl keeps of each. Pure functions: no AWS call."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from pydantic import Field

from responder.actions.base import ActionSnapshot
from responder.clock import parse_time

BEDROCK_SOURCE = "bedrock.amazonaws.com"
MANTLE_SOURCE = "bedrock-mantle.amazonaws.com"
ENDPOINTS = (BEDROCK_SOURCE, MANTLE_SOURCE)  # a key works on both: each has its own CallWithBearerToken


class ActivitySnapshot(ActionSnapshot):
    """What LookupEvents returned for the key's principal: the records, and how they were searched. Volatile: the
    executor does not journal it (the events kept are the plan's `events` output)."""

    records: list[dict[str, Any]] = Field(default_factory=list)
    window: list[str] = Field(default_factory=list)  # [start, end], ISO-8601
    regions: list[str] = Field(default_factory=list)
    by: str | None = None  # "AccessKeyId=ASIA..." or "Username=NAME"; None: nothing to look up by
    capped_window: bool = False  # the window asked for began before LookupEvents' 90 days
    cap_hit: bool = False  # max_events stopped the reading
    # How many of `records` are IAM changes naming the principal that it did not make itself (done TO it).
    done_to_it: int = Field(default=0, exclude=True)  # excluded: the snapshot's JSON keeps its earlier shape
    # Regions (or sources) that could not be searched, each with why; what the account's trails and invocation
    # logging record (activity_reads); the account's Bedrock metrics and cost over the window and its baseline.
    unsearched: list[dict[str, Any]] = Field(default_factory=list, exclude=True)
    visibility: dict[str, Any] | None = Field(default=None, exclude=True)
    usage: dict[str, Any] | None = Field(default=None, exclude=True)


def bearer_token(record: dict[str, Any]) -> bool:
    """Was the call made with a bearer token? Bedrock says so in additionalEventData, Bedrock Mantle in
    requestParameters (FACTS.md): either field counts."""
    for part in ("additionalEventData", "requestParameters"):
        fields = record.get(part)
        if isinstance(fields, dict) and fields.get("callWithBearerToken") in (True, "true"):
            return True
    return False


def bearer_token_type(record: dict[str, Any]) -> str | None:
    """SHORT_TERM or LONG_TERM when the record names it (Mantle does, in requestParameters), else None."""
    for part in ("requestParameters", "additionalEventData"):
        fields = record.get(part)
        if isinstance(fields, dict) and fields.get("bearerTokenType"):
            return str(fields["bearerTokenType"])
    return None


def actor_of(record: dict[str, Any]) -> str | None:
    """Who made the call: the ARN CloudTrail's userIdentity names (a role session's ARN carries its session name)."""
    identity = record.get("userIdentity")
    if not isinstance(identity, dict):
        return None
    arn = identity.get("arn")
    return str(arn) if arn else None


SSO_ROLE_PREFIX = "AWSReservedSSO_"  # the roles IAM Identity Center makes for its permission sets


def person_behind(record: dict[str, Any]) -> str | None:
    """The IAM Identity Center user (or the source identity) behind a role session, where CloudTrail names one:
    `userIdentity.onBehalfOf.userId` (with its `identityStoreArn`), `sessionContext.sourceIdentity` (set by the
    identity provider), or, for a session of an `AWSReservedSSO_` role, its session name, which Identity Center sets
    to the user's name (CloudTrail user guide, "CloudTrail userIdentity element")."""
    identity = record.get("userIdentity")
    if not isinstance(identity, dict):
        return None
    said = []
    behalf = identity.get("onBehalfOf")
    if isinstance(behalf, dict) and behalf.get("userId"):
        store = f" in {behalf['identityStoreArn']}" if behalf.get("identityStoreArn") else ""
        said.append(f"Identity Center user {behalf['userId']}{store}")
    context = identity.get("sessionContext")
    source = context.get("sourceIdentity") if isinstance(context, dict) else None
    if source:
        said.append(f"source identity {source}")
    issuer = (context.get("sessionIssuer") or {}) if isinstance(context, dict) else {}
    arn = str(identity.get("arn") or "")
    if str(issuer.get("userName") or "").startswith(SSO_ROLE_PREFIX) and "/" in arn:
        said.append(f"Identity Center session {arn.rsplit('/', 1)[1]}")
    return "; ".join(said) or None


def after(record: dict[str, Any], moment: datetime | None) -> bool:
    when = _when(record)
    return moment is not None and when is not None and when >= moment


def event_line(record: dict[str, Any], contained_at: datetime | None) -> dict[str, Any]:
    """One CloudTrail event as events.jsonl keeps it: enough to pivot to the raw record by its id."""
    return {
        "event_id": record.get("eventID"),
        "time": record.get("eventTime"),
        "source": record.get("eventSource"),
        "name": record.get("eventName"),
        "region": record.get("awsRegion"),
        "source_ip": record.get("sourceIPAddress"),
        "user_agent": record.get("userAgent"),
        "actor": actor_of(record),  # who made the call: the principal itself, or whoever changed it
        "on_behalf_of": person_behind(record),  # the Identity Center user behind the session, when named
        "error_code": record.get("errorCode"),
        "bearer_token": bearer_token(record),
        "bearer_token_type": bearer_token_type(record),
        "after_containment": after(record, contained_at),
    }


def summarise(
    read: ActivitySnapshot, contained_at: datetime | None, sources: tuple[str, ...] = ENDPOINTS
) -> dict[str, Any]:
    """`sources`: the key family's event sources, each shown even at 0 (Bedrock's: both endpoints)."""
    bearer = [r for r in read.records if bearer_token(r)]
    times = sorted(str(r.get("eventTime")) for r in bearer)
    return {
        "searched": {"by": read.by, "regions": read.regions, "window": read.window, "unsearched": read.unsearched},
        "events_read": len(read.records),
        "bearer_token_calls": len(bearer),
        # [name, count] pairs, most first: a JSON object would lose the order when the journal sorts keys
        "by_source": _by_source(bearer, sources),
        "by_event": Counter(str(r.get("eventName")) for r in bearer).most_common(),
        "by_region": Counter(str(r.get("awsRegion")) for r in bearer).most_common(),
        "source_ips": sorted({str(r.get("sourceIPAddress")) for r in bearer}),
        "user_agents": sorted({str(r.get("userAgent")) for r in bearer}),
        "errors": Counter(str(r["errorCode"]) for r in bearer if r.get("errorCode")).most_common(),
        "first_seen": times[0] if times else None,
        "last_seen": times[-1] if times else None,
        "after_containment": sum(1 for r in bearer if after(r, contained_at)),
        "cap_hit": read.cap_hit,
        "visibility": read.visibility,
        "usage": read.usage,
    }


def _by_source(bearer: list[dict[str, Any]], sources: tuple[str, ...]) -> list[list[Any]]:
    """Every source of the family, always, so a report shows Mantle's 0 rather than leaving it out."""
    counts = Counter(str(r.get("eventSource")) for r in bearer)
    return [[source, counts.pop(source, 0)] for source in sources] + [list(p) for p in counts.most_common()]


def counts_text(counts: list[list[Any]]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts)


def _when(record: dict[str, Any]) -> datetime | None:
    return parse_time(record.get("eventTime"))

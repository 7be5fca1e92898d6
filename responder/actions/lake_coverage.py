"""CloudTrail Lake event data stores: an account may log Bedrock's and Mantle's data events to a Lake store and not
to a trail. Each store of the regions searched (`ListEventDataStores` lists a region's own stores, by ARN and name:
the API reference marks the listing's other members deprecated), read with `GetEventDataStore` (status, regions,
retention, advanced selectors), its selectors evaluated by trail_coverage's one evaluator; per region, whether a
store logged the data events through the whole window (LookupEvents never searches a Lake store: the report names
the query that does).

A store's ingestion history is not in its description: a store enabled now and created before the window is taken
to have logged the whole window (a stop and restart in between would not show); one stopped now is "unknown", not
"no". A refused read names its permission and never reads as "no store". Read-only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from responder.actions.base import ActionContext
from responder.actions.reads import together
from responder.actions.trail_coverage import DATA_TYPES, data_events_of, problem
from responder.aws.clients import ClientError, error_code

INGESTING = "ENABLED"
NOT_INGESTING = ("CREATED", "STARTING_INGESTION", "PENDING_DELETION")  # nothing logged, or nothing left to query
# CloudTrail Lake not offered where it was asked (botocore lists the error for ListEventDataStores; Lake never
# existed in some partitions): a region without stores, said as such, not a read the operator was refused.
NOT_OFFERED = "UnsupportedOperationException"


@dataclass
class Lake:
    """The event data stores the run read; the regions whose stores were listed; what could not be read."""

    stores: list[dict[str, Any]] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)
    not_offered: list[str] = field(default_factory=list)  # regions answering that Lake is not offered there
    problems: list[dict[str, Any]] = field(default_factory=list)

    def visibility(self, region: str) -> dict[str, Any]:
        """In one region: the stores covering it, and per family (bedrock, mantle) whether a store logged every
        one of its data-event types through the whole window (True), did not (False), or cannot be told (None:
        a read was refused, or a store that logs them stopped ingesting at a time its description does not say)."""
        here = [s for s in self.stores if s["multi_region"] or s["home_region"] == region]
        seen: dict[str, Any] = {"stores": [s["name"] for s in here]}
        for family in DATA_TYPES:
            logging = [s for s in here if s["data_events"] and not s["data_events"][family]["missing"]]
            whole = [s for s in logging if s["window"] == "whole"]
            # A store not described may be multi-region (or log anything); a refused listing hides whole stores.
            unknown = bool(self.problems) or any(s["window"] == "unknown" for s in logging)
            seen[family] = True if whole else (None if unknown else False)
            seen[f"{family}_stores"] = [s["name"] for s in whole]
            seen[f"{family}_partly"] = [s["name"] for s in logging if s["window"] == "part"]
        return seen


def read_stores(ctx: ActionContext, regions: list[str], window: tuple[datetime, datetime]) -> Lake:
    """The event data stores homed in the regions searched, each described in its home region, all at once."""
    found = Lake()
    listings = together(*(functools.partial(_listed, ctx, r, found) for r in regions)) if regions else []
    pairs = [(region, s) for region, stores in zip(regions, listings, strict=True) for s in stores or []]
    found.listed = [r for r, stores in zip(regions, listings, strict=True) if stores is not None]
    reads = [functools.partial(_store, ctx, r, s, window, found.problems) for r, s in pairs]
    found.stores = together(*reads) if reads else []
    return found


def _listed(ctx: ActionContext, region: str, found: Lake) -> list[dict[str, Any]] | None:
    client = ctx.clients.client_in("cloudtrail", region)
    kwargs: dict[str, Any] = {}
    stores: list[dict[str, Any]] = []
    try:
        while True:  # botocore has no paginator for it
            answer = client.list_event_data_stores(**kwargs)
            stores += answer.get("EventDataStores") or []
            if not answer.get("NextToken"):
                return stores
            kwargs["NextToken"] = answer["NextToken"]
    except ClientError as exc:
        if error_code(exc) == NOT_OFFERED:
            found.not_offered.append(region)
            return []
        where = f"the CloudTrail Lake event data stores of {region}"
        found.problems.append(problem(exc, "cloudtrail:ListEventDataStores", where))
        return None


def _store(
    ctx: ActionContext,
    region: str,
    listed: dict[str, Any],
    window: tuple[datetime, datetime],
    problems: list[dict[str, Any]],
) -> dict[str, Any]:
    arn = str(listed.get("EventDataStoreArn") or "")
    seen: dict[str, Any] = {
        "name": listed.get("Name") or arn,
        "arn": arn,
        "id": arn.rsplit("/", 1)[-1],
        "home_region": region,
        "multi_region": False,
        "data_events": None,
        "window": "unknown",
    }
    try:
        store = ctx.clients.client_in("cloudtrail", region).get_event_data_store(EventDataStore=arn)
    except ClientError as exc:
        problems.append(problem(exc, "cloudtrail:GetEventDataStore", f"event data store {seen['name']}"))
        return seen
    seen |= {
        "status": store.get("Status"),
        "multi_region": bool(store.get("MultiRegionEnabled")),
        "organization": bool(store.get("OrganizationEnabled")),
        "retention_days": store.get("RetentionPeriod"),
        "termination_protection": store.get("TerminationProtectionEnabled"),
        "created": _iso(store.get("CreatedTimestamp")),
        "updated": _iso(store.get("UpdatedTimestamp")),
        "data_events": data_events_of({"AdvancedEventSelectors": store.get("AdvancedEventSelectors") or []}),
    }
    seen["window"], seen["window_why"] = _covers(store, window)
    return seen


def _iso(value: Any) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if isinstance(value, datetime) else None


def _covers(store: dict[str, Any], window: tuple[datetime, datetime]) -> tuple[str, str]:
    """Did the store log through the whole window ("whole"), part of it ("part"), none of it ("none"), or cannot
    that be told ("unknown")? With why, in words the report shows."""
    status = str(store.get("Status") or "")
    created, retention = store.get("CreatedTimestamp"), store.get("RetentionPeriod")
    if status in NOT_INGESTING:
        return "none", f"status {status}"
    if status != INGESTING:  # stopping or stopped: when is not in the description
        return "unknown", f"status {status}: when ingestion stopped is not said"
    now = datetime.now(timezone.utc)
    if isinstance(retention, int) and now - timedelta(days=retention) > window[0]:
        return "part", f"keeps {retention} days: the window's start has expired"
    if isinstance(created, datetime) and created > window[0]:
        return "part", f"created {created.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC, after the window began"
    return "whole", "enabled, created before the window"

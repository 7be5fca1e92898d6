"""Could the account see what the key did? Per region searched: the trails covering it and whether they log
Bedrock's and Bedrock Mantle's data events (trail_coverage), the CloudTrail Lake event data stores that do
(lake_coverage), and whether model invocation logging is on now
(`GetModelInvocationLoggingConfiguration`) and was changed during the window (a Delete or Put among the events
read). What could not be read is said with the permission it needed, never as "off". Read-only.
"""

from __future__ import annotations

import functools
from typing import Any

from responder.actions.base import ActionContext
from responder.actions.cloudtrail_records import BEDROCK_SOURCE, actor_of
from responder.actions.lake_coverage import Lake
from responder.actions.reads import together
from responder.actions.trail_coverage import Coverage, problem
from responder.aws.clients import ClientError

LOGGING_CHANGES = ("DeleteModelInvocationLoggingConfiguration", "PutModelInvocationLoggingConfiguration")
# What to enable, named once for the report's opening and its section.
ENABLE_DATA_EVENTS = (
    "a trail's advanced event selectors with eventCategory Data and resources.type AWS::Bedrock::Model, "
    "AWS::Bedrock::AsyncInvoke (Bedrock) and AWS::BedrockMantle::Project, AWS::BedrockMantle::CustomizedModel, "
    "AWS::BedrockMantle::Reservation (Mantle inference)"
)
ENABLE_INVOCATION_LOGGING = "model invocation logging (`aws bedrock put-model-invocation-logging-configuration`)"


def invocation_logging(ctx: ActionContext, region: str) -> dict[str, Any]:
    """Model invocation logging in one region now: on (and where to), off, or unknown (and why)."""
    try:
        config = ctx.clients.client_in("bedrock", region).get_model_invocation_logging_configuration()
    except ClientError as exc:
        return {
            "region": region,
            "on": None,
            "problem": problem(
                exc, "bedrock:GetModelInvocationLoggingConfiguration", f"invocation logging in {region}"
            ),
        }
    logging = config.get("loggingConfig") or {}
    where = []
    if (logging.get("cloudWatchConfig") or {}).get("logGroupName"):
        where.append(f"CloudWatch Logs {logging['cloudWatchConfig']['logGroupName']}")
    if (logging.get("s3Config") or {}).get("bucketName"):
        where.append(f"S3 {logging['s3Config']['bucketName']}")
    return {"region": region, "on": bool(where), "destinations": where}


def logging_changes(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Deletions and replacements of invocation logging among the events read: who turned it off, or pointed it
    elsewhere, during the window."""
    return [
        {
            "event_id": r.get("eventID"),
            "time": r.get("eventTime"),
            "region": r.get("awsRegion"),
            "name": r.get("eventName"),
            "actor": actor_of(r),
            "error_code": r.get("errorCode"),
        }
        for r in records
        if r.get("eventSource") == BEDROCK_SOURCE and r.get("eventName") in LOGGING_CHANGES
    ]


def logging_now(ctx: ActionContext, regions: list[str]) -> list[dict[str, Any]]:
    """Invocation logging in every region searched, read at once."""
    return together(*(functools.partial(invocation_logging, ctx, r) for r in regions)) if regions else []


def either(trail: bool | None, lake: bool | None) -> bool | None:
    """On record if a trail or a Lake store recorded it; unknown if neither did and one could not be read."""
    return True if True in (trail, lake) else None if None in (trail, lake) else False


def visibility(
    coverage: Coverage,
    regions: list[str],
    now: list[dict[str, Any]],
    records: list[dict[str, Any]],
    lake: Lake | None = None,
) -> dict[str, Any]:
    """Per region searched, what the account records of Bedrock inference (in trails and in CloudTrail Lake event
    data stores); the trails and stores read and what was not."""
    lake = lake or Lake()
    changes = logging_changes(records)
    per_region = []
    for region, logging in zip(regions, now, strict=True):
        seen = coverage.visibility(region)
        seen["lake"] = lake.visibility(region)
        for family in ("bedrock", "mantle"):
            seen[f"{family}_recorded"] = either(seen[family], seen["lake"][family])
        changed = [c for c in changes if c["region"] == region and not c["error_code"]]
        # Off during some of the window: off now, or deleted during it (even if put back since).
        seen["invocation_logging"] = logging
        seen["invocation_logging_changed"] = changed
        seen["inference_visible"] = _visible(seen, logging, changed)
        per_region.append(seen)
    return {
        "trails": coverage.trails,
        "trails_read": coverage.read,
        "stores": lake.stores,
        "stores_listed": lake.listed,
        "lake_not_offered": lake.not_offered,
        "regions": per_region,
        "problems": coverage.problems + lake.problems + [r["problem"] for r in now if r.get("problem")],
    }


def _visible(seen: dict[str, Any], logging: dict[str, Any], changed: list[dict[str, Any]]) -> bool | None:
    """Was the key's inference on record in the region through the window? Mantle inference only in the data events
    of a trail or a Lake store; Bedrock's in CloudTrail's management events, its content only in invocation logging.
    False when either record was missing; None when what is missing could not be read."""
    deleted = any(c["name"] == LOGGING_CHANGES[0] for c in changed)
    if seen["mantle_recorded"] is False or logging.get("on") is False or deleted:
        return False
    if seen["mantle_recorded"] is None or logging.get("on") is None:
        return None
    return True

"""Where CloudTrail can show what a key did, and what it cannot: the account's trails (`DescribeTrails`, shadow and
organization trails included), each trail's event selectors (basic and advanced) and whether it is logging; from
them, the regions to search and, per region, whether Bedrock's and Bedrock Mantle's data events were recorded.

Bedrock's InvokeModel and Converse are management events (LookupEvents sees them); its bidirectional streaming and
async invocations are data events on `AWS::Bedrock::Model` and `AWS::Bedrock::AsyncInvoke`; Mantle's inference
(`CreateInference`) is a data event on the `AWS::BedrockMantle::*` types, of which AWS's own example selector names
Project, CustomizedModel and Reservation (Bedrock user guide, "Monitor bedrock-mantle API calls using CloudTrail";
CloudTrail user guide, "Logging data events"). Basic event selectors log data events only for S3, Lambda and
DynamoDB, so a trail with basic selectors records neither. A read the operator may not make is said, with the
permission it needed: it never reads as "not logged". Read-only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from responder.actions.base import ActionContext
from responder.actions.reads import together
from responder.aws.clients import ClientError, error_code, service_regions

BEDROCK_DATA_TYPES = ("AWS::Bedrock::Model", "AWS::Bedrock::AsyncInvoke")
MANTLE_DATA_TYPES = (
    "AWS::BedrockMantle::Project",
    "AWS::BedrockMantle::CustomizedModel",
    "AWS::BedrockMantle::Reservation",
)
DATA_TYPES = {"bedrock": BEDROCK_DATA_TYPES, "mantle": MANTLE_DATA_TYPES}
# Fields of an advanced selector that pick which events of the types are logged, not which types: a selector
# narrowed by one logs only some of the calls (the report says so).
_WHICH_TYPES = ("eventCategory", "resources.type")
DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")
ALL_REGIONS = "*"
ENABLED = ("ENABLED", "ENABLED_BY_DEFAULT")  # account:ListRegions' statuses of a region the account can use


def problem(exc: ClientError, permission: str, where: str) -> dict[str, Any]:
    """What could not be read and why: a denied read names the permission it needed."""
    code = error_code(exc) or "Unknown"
    why = f"{code}: needs {permission}" if code in DENIED else code
    return {"what": where, "permission": permission, "error": code, "why": why}


def selector_admits(selector: dict[str, Any], resource_type: str) -> bool:
    """Does an advanced event selector log data events of `resource_type`? Its field selectors are ANDed, the
    values of one operator ORed (AdvancedFieldSelector, botocore's cloudtrail model)."""
    fields = {f.get("Field"): f for f in selector.get("FieldSelectors") or []}
    if "Data" not in (fields.get("eventCategory") or {}).get("Equals", []):
        return False
    kinds = fields.get("resources.type")
    if kinds is None:
        return False
    checks = (
        ("Equals", lambda v: resource_type == v, True),
        ("StartsWith", resource_type.startswith, True),
        ("EndsWith", resource_type.endswith, True),
        ("NotEquals", lambda v: resource_type == v, False),
        ("NotStartsWith", resource_type.startswith, False),
        ("NotEndsWith", resource_type.endswith, False),
    )
    for operator, matches, wanted in checks:
        values = kinds.get(operator)
        if values and any(map(matches, values)) != wanted:
            return False
    return True


def _narrowed(selector: dict[str, Any]) -> bool:
    return any(f.get("Field") not in _WHICH_TYPES for f in selector.get("FieldSelectors") or [])


def data_events_of(selectors: dict[str, Any]) -> dict[str, Any]:
    """Per family of types (bedrock, mantle): which of its types the trail's selectors log, and whether a selector
    logging them is narrowed (by event name, ARN, read-only...)."""
    advanced = selectors.get("AdvancedEventSelectors") or []
    found: dict[str, Any] = {}
    for family, types in DATA_TYPES.items():
        logged = [t for t in types if any(selector_admits(s, t) for s in advanced)]
        narrowed = any(_narrowed(s) for s in advanced for t in logged if selector_admits(s, t))
        found[family] = {"logged": logged, "missing": [t for t in types if t not in logged], "narrowed": narrowed}
    return found


@dataclass
class Coverage:
    """The account's trails as the run read them; the regions they cover; what could not be read."""

    trails: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    read: bool = False  # DescribeTrails answered

    def covered_regions(self) -> set[str]:
        return {r for t in self.trails for r in t["regions"]}

    def visibility(self, region: str) -> dict[str, Any]:
        """In one region: the logging trails that cover it, and whether Bedrock's and Mantle's data events are
        logged there (True, False, or None when a trail's selectors could not be read)."""
        here = [t for t in self.trails if ALL_REGIONS in t["regions"] or region in t["regions"]]
        logging = [t for t in here if t.get("logging") is not False]
        seen: dict[str, Any] = {"region": region, "trails": [t["name"] for t in logging]}
        for family, types in DATA_TYPES.items():
            logged = {x for t in logging if t.get("data_events") for x in t["data_events"][family]["logged"]}
            unread = any(t.get("data_events") is None for t in logging)
            complete = all(t in logged for t in types)
            seen[family] = True if complete else (None if unread or not self.read else False)
            seen[f"{family}_missing"] = [t for t in types if t not in logged]
            seen[f"{family}_narrowed"] = any(
                t["data_events"][family]["narrowed"] for t in logging if t.get("data_events")
            )
        return seen


def read_trails(ctx: ActionContext) -> Coverage:
    """Every trail the account's region sees (its own, other regions' multi-region trails, the organization's), each
    one's selectors and status read in its home region, at once."""
    found = Coverage()
    try:
        answer = ctx.clients.client("cloudtrail").describe_trails(includeShadowTrails=True)
    except ClientError as exc:
        found.problems.append(problem(exc, "cloudtrail:DescribeTrails", "the account's trails"))
        return found
    found.read = True
    trails = answer.get("trailList") or []
    found.trails = together(*(functools.partial(_trail, ctx, t, found.problems) for t in trails)) if trails else []
    return found


def _trail(ctx: ActionContext, trail: dict[str, Any], problems: list[dict[str, Any]]) -> dict[str, Any]:
    arn, home = str(trail.get("TrailARN") or trail.get("Name")), str(trail.get("HomeRegion") or ctx.clients.region)
    client = ctx.clients.client_in("cloudtrail", home)
    seen: dict[str, Any] = {
        "name": trail.get("Name"),
        "arn": arn,
        "home_region": home,
        "multi_region": bool(trail.get("IsMultiRegionTrail")),
        "organization": bool(trail.get("IsOrganizationTrail")),
        "regions": [ALL_REGIONS] if trail.get("IsMultiRegionTrail") else [home],
        "logging": None,
        "data_events": None,
    }
    try:
        seen["logging"] = bool(client.get_trail_status(Name=arn).get("IsLogging"))
    except ClientError as exc:
        problems.append(problem(exc, "cloudtrail:GetTrailStatus", f"whether trail {seen['name']} is logging"))
    try:
        seen["data_events"] = data_events_of(client.get_event_selectors(TrailName=arn))
    except ClientError as exc:
        problems.append(problem(exc, "cloudtrail:GetEventSelectors", f"the event selectors of trail {seen['name']}"))
    return seen


def regions_to_search(
    ctx: ActionContext, coverage: Coverage, known: list[str]
) -> tuple[list[str], list[dict[str, Any]]]:
    """The regions the trails cover, beside those already known (the key's, the operator's, us-east-1): a
    multi-region trail covers every region the account has enabled (`account:ListRegions`) where Bedrock is
    offered (botocore's endpoint data); a single-region trail, its home region."""
    regions = list(known)
    problems: list[dict[str, Any]] = []
    covered = coverage.covered_regions()
    if ALL_REGIONS in covered:
        try:
            pages = (
                ctx.clients.client("account")
                .get_paginator("list_regions")
                .paginate(RegionOptStatusContains=list(ENABLED))
            )
            enabled = {str(r["RegionName"]) for page in pages for r in page.get("Regions") or []}
            covered |= enabled & set(service_regions("bedrock", ctx.partition))
        except ClientError as exc:
            problems.append(problem(exc, "account:ListRegions", "the regions a multi-region trail covers"))
    regions += sorted(r for r in covered if r != ALL_REGIONS and r not in regions)
    return regions, problems

"""The investigation's reads after containment, sent so that CloudTrail's rate limit is the only wait: the key's
events in the regions already known start at once, while the trails are read; the regions the trails add start as
soon as they are known; the IAM changes to the principal (us-east-1), the visibility reads and the metrics and cost
go out beside them. A region that could not be searched is said with why, never read as "nothing found".
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from responder.actions.base import ActionContext
from responder.actions.bedrock_usage import add_named_models, named_models, read_usage
from responder.actions.bedrock_visibility import logging_now, visibility
from responder.actions.lake_coverage import Lake, read_stores
from responder.actions.reads import in_background
from responder.actions.trail_coverage import problem, read_trails, regions_to_search
from responder.aws.clients import ClientError

# lookup(region) -> (records, cut short); raises ClientError when the region cannot be searched.
Lookup = Callable[[str], tuple[list[dict[str, Any]], bool]]


@dataclass
class Found:
    """What the reads found: each region's events, the regions not searched (and why), and the rest."""

    regions: list[str] = field(default_factory=list)
    per_region: list[tuple[list[dict[str, Any]], bool]] = field(default_factory=list)
    unsearched: list[dict[str, Any]] = field(default_factory=list)
    visibility: dict[str, Any] | None = None
    usage: dict[str, Any] | None = None


def _searched(lookup: Lookup, region: str) -> tuple[list[dict[str, Any]], bool] | dict[str, Any]:
    try:
        return lookup(region)
    except ClientError as exc:
        return {"region": region, **problem(exc, "cloudtrail:LookupEvents", f"CloudTrail in {region}")}


def read_everywhere(
    ctx: ActionContext,
    known: list[str],
    lookup: Lookup,
    window: tuple[datetime, datetime],
    now: datetime,
    sizing: bool = True,
) -> Found:
    """Search every region the key may have been used in: `known` first, then those the account's trails cover;
    with `sizing`, also what the account could see there (trails, Lake event data stores, invocation logging) and
    what the window cost."""
    searches: dict[str, Future[Any]] = {r: in_background(functools.partial(_searched, lookup, r)) for r in known}
    coverage = read_trails(ctx)
    regions, problems = regions_to_search(ctx, coverage, known)
    for region in regions:
        if region not in searches:
            searches[region] = in_background(functools.partial(_searched, lookup, region))
    found = Found(regions=regions)
    if sizing:
        logging = in_background(functools.partial(logging_now, ctx, regions))
        stores = in_background(functools.partial(read_stores, ctx, regions, window))
        usage = in_background(functools.partial(read_usage, ctx, regions, window[0], window[1], now))
    for region in regions:
        result = searches[region].result()
        if isinstance(result, dict):
            found.unsearched.append(result)
        else:
            found.per_region.append(result)
    if not sizing:
        return found
    records = [r for events, _ in found.per_region for r in events]
    unknown = functools.partial(_unknown_logging, regions)
    lake = _answer(stores, "the CloudTrail Lake event data stores", _no_lake)
    found.visibility = visibility(coverage, regions, _answer(logging, "invocation logging", unknown), records, lake)
    found.visibility["problems"] = problems + found.visibility["problems"]
    found.usage = _answer(usage, "the metrics and cost", _no_usage)
    # ListMetrics lists only what reported data in the past two weeks: the models the key's events name are summed
    # too, once the events are read (a key used months ago called models idle since).
    named = named_models(records)
    if named and found.usage.get("regions"):
        extra = in_background(functools.partial(add_named_models, ctx, found.usage, named, window[0], window[1]))
        _answer(extra, "the metrics of the models the key's events name", found.usage["problems"].append)
    return found


def _answer(read: Future[Any], what: str, instead: Callable[[dict[str, Any]], Any]) -> Any:
    """A read beside the investigation's own: whatever goes wrong in it is said, never fails the investigation (the
    run's outcome is what containment earned)."""
    try:
        return read.result()
    except Exception as exc:  # an AWS or emulator fault of any kind: said in the report instead
        return instead({"what": what, "error": type(exc).__name__, "why": f"{type(exc).__name__}: {exc}"})


def _unknown_logging(regions: list[str], failed: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"region": r, "on": None, "problem": failed} for r in regions]


def _no_lake(failed: dict[str, Any]) -> Lake:
    return Lake(problems=[failed])


def _no_usage(failed: dict[str, Any]) -> dict[str, Any]:
    return {"regions": [], "cost": {"problem": failed}, "problems": [failed]}

"""The report on where CloudTrail was searched and what the account could see there: the regions not searched
(and why), each trail's and each CloudTrail Lake event data store's Bedrock and Mantle data events (with the command
that queries a store), and model invocation logging, per region.

Trail names, regions and the reasons AWS gave are AWS's text, partly the account's (or the attacker's): inert code
spans or escaped prose. A read that was refused is said as refused, with the permission it needed.
"""

from __future__ import annotations

from typing import Any

from responder.actions.bedrock_visibility import ENABLE_DATA_EVENTS, ENABLE_INVOCATION_LOGGING, LOGGING_CHANGES
from responder.engine.report.model import Report
from responder.engine.report.words import second
from responder.inert import code, prose


def _regions(names: list[Any]) -> str:
    return ", ".join(code(n) for n in names)


def _yes(value: Any) -> str:
    return {True: "yes", False: "**no**", None: "unknown"}.get(value, "unknown")


def unsearched_sentence(evidence: dict[str, Any]) -> str:
    gaps = evidence.get("unsearched") or []
    if not gaps:
        return ""
    said = "; ".join(f"{prose(g.get('what'))} ({prose(g.get('why'))})" for g in gaps)
    return f"**Not searched:** {said}: what the key did there is unknown, not nothing."


def _recorded(region: dict[str, Any], family: str) -> Any:
    """In a trail or a Lake store (evidence of runs before Lake stores were read: in a trail)."""
    return region.get(f"{family}_recorded", region.get(family))


def _lake(region: dict[str, Any]) -> dict[str, Any]:
    lake: dict[str, Any] = region.get("lake") or {}
    return lake


def _why_blind(region: dict[str, Any]) -> list[str]:
    why = []
    if _recorded(region, "mantle") is False:
        why.append("no logging trail and no CloudTrail Lake event data store records Bedrock Mantle data events")
    logging = region.get("invocation_logging") or {}
    if logging.get("on") is False:
        why.append("model invocation logging is off")
    if any(c.get("name") == LOGGING_CHANGES[0] for c in region.get("invocation_logging_changed") or []):
        why.append("model invocation logging was deleted during the window")
    return why


def visibility_sentence(evidence: dict[str, Any]) -> str:
    """The opening's word on what the account could see: plainly, where the key's inference is invisible."""
    seen = evidence.get("visibility")
    if not seen:
        return ""
    regions = seen.get("regions") or []
    blind = [r for r in regions if r.get("inference_visible") is False]
    unknown = [r for r in regions if r.get("inference_visible") is None]
    parts = []
    if blind:
        reasons = "; ".join(f"{code(r['region'])}: {', '.join(_why_blind(r))}" for r in blind)
        no_data_events = any(_recorded(r, "mantle") is False for r in blind)
        no_content = any(_recorded(r, "mantle") is not False for r in blind) or any(
            (r.get("invocation_logging") or {}).get("on") is False for r in blind
        )
        unseen = [
            *(["its Mantle inference (a data event)"] if no_data_events else []),
            *(["what its Bedrock calls asked and were answered"] if no_content else []),
        ]
        enable = [
            *([ENABLE_DATA_EVENTS] if no_data_events else []),
            *([ENABLE_INVOCATION_LOGGING] if no_content else []),
        ]
        parts.append(
            f"**The key's inference is invisible to CloudTrail** ({reasons}): {' and '.join(unseen)} "
            f"{'is' if len(unseen) == 1 else 'are'} on no record there. Enable {', and '.join(enable)}."
        )
    lake_only = [r for r in regions if _lake(r).get("mantle") is True and r.get("mantle") is False]
    if lake_only:
        said = "; ".join(
            f"{code(r['region'])}: {', '.join(code(n) for n in _lake(r).get('mantle_stores') or [])}" for r in lake_only
        )
        parts.append(
            f"Bedrock Mantle's inference is recorded only in CloudTrail Lake ({said}), which the search above does not "
            'read: query the store with the command under "Where CloudTrail looked".'
        )
    if unknown:
        parts.append(
            f"Whether inference was on record in {_regions([r['region'] for r in unknown])} is unknown: the reads "
            "that would say were refused (listed below)."
        )
    if regions and not blind and not unknown:
        parts.append(
            "Bedrock Mantle data events (in a trail or a CloudTrail Lake event data store) and model invocation "
            "logging were on in every region searched."
        )
    return " ".join(parts)


def visibility_lines(report: Report) -> list[str]:
    evidence = report.evidence or {}
    seen = evidence.get("visibility")
    if not evidence.get("queries") or not seen:
        return ["Not read by this run."]
    lines = [
        "Bedrock's InvokeModel and Converse are CloudTrail management events (searched above). Bedrock Mantle's "
        "inference, and Bedrock's async and bidirectional-stream invocations, are data events: only a trail or a "
        "CloudTrail Lake event data store whose advanced event selectors log them records them. Model invocation "
        "logging records what was asked and answered.",
        "",
    ]
    gap = unsearched_sentence(evidence)
    if gap:
        lines += [gap, ""]
    trails = seen.get("trails") or []
    if not seen.get("trails_read"):
        lines.append("The account's trails could not be read (see below): which regions they cover is unknown.")
    elif not trails:
        lines.append("**The account has no trail**: no data event of any kind is recorded.")
    else:
        lines += [
            "| Trail | Home region | Covers | Logging | Bedrock data events | Mantle data events |",
            "|---|---|---|---|---|---|",
        ]
        for t in trails:
            covers = "every region" if t.get("multi_region") else "its home region"
            covers += " (organization trail)" if t.get("organization") else ""
            lines.append(
                f"| {code(t.get('name'), table=True)} | {code(t.get('home_region'), table=True)} | {covers} | "
                f"{_yes(t.get('logging'))} | {_data(t, 'bedrock')} | {_data(t, 'mantle')} |"
            )
    lines += ["", *_stores(seen, (evidence.get("queries") or {}).get("lake_stores") or [])]
    lines += [
        "",
        "| Region | Logging trails | Bedrock data events (trails) | Mantle data events (trails) | "
        "Lake stores logging them all window | "
        "Invocation logging now | Changed during the window | Inference on record |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in seen.get("regions") or []:
        trails_here = ", ".join(code(n, table=True) for n in r.get("trails") or []) or "none"
        lines.append(
            f"| {code(r['region'], table=True)} | {trails_here} | {_yes(r.get('bedrock'))} | {_yes(r.get('mantle'))} | "
            f"{_lake_cell(_lake(r))} | {_logging(r.get('invocation_logging') or {})} | "
            f"{_changes(r.get('invocation_logging_changed') or [])} | {_yes(r.get('inference_visible'))} |"
        )
    problems = seen.get("problems") or []
    if problems:
        lines += ["", 'Could not be read (never read as "off"):', ""]
        lines += [f"- {prose(p.get('what'))}: {prose(p.get('why'))}" for p in problems]
    return lines


_WINDOW = {"whole": "all of it", "part": "**part of it**", "none": "**none of it**"}
_COMMAND_CHARS = 4096  # a start-query command is longer than an AWS value is shown: cut, it would not run


def _stores(seen: dict[str, Any], commands: list[dict[str, Any]]) -> list[str]:
    """The CloudTrail Lake event data stores of the regions searched, and the command that queries each one logging
    Bedrock's or Mantle's data events."""
    if "stores" not in seen:
        return ["CloudTrail Lake event data stores were not read by this run."]
    stores, listed = seen.get("stores") or [], seen.get("stores_listed") or []
    if not stores:
        if not listed:
            return [
                "CloudTrail Lake event data stores could not be listed (see below): whether one records data events "
                "is unknown."
            ]
        not_offered = seen.get("lake_not_offered") or []
        said = f" (in {_regions(not_offered)} AWS answered that CloudTrail Lake is not offered)" if not_offered else ""
        return [
            f"No CloudTrail Lake event data store is homed in {_regions(listed)}{said} (`ListEventDataStores` lists "
            "a region's own stores: a multi-region store homed in a region not searched is not seen)."
        ]
    lines = [
        "| CloudTrail Lake event data store | Home region | Covers | Status | Keeps | Bedrock data events | "
        "Mantle data events | The window |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for store in stores:
        covers = "every region" if store.get("multi_region") else "its home region"
        covers += " (organization store)" if store.get("organization") else ""
        keeps = f"{store['retention_days']} days" if store.get("retention_days") else "unknown"
        window = _WINDOW.get(str(store.get("window")), "unknown")
        if store.get("window_why"):
            window += f" ({prose(store['window_why'], table=True)})"
        lines.append(
            f"| {code(store.get('name'), table=True)} | {code(store.get('home_region'), table=True)} | {covers} | "
            f"{code(store.get('status') or 'unknown', table=True)} | {keeps} | {_data(store, 'bedrock')} | "
            f"{_data(store, 'mantle')} | {window} |"
        )
    if commands:
        lines += [
            "",
            "`LookupEvents` never reads a Lake store: the key's principal's bearer-token calls of the window (data "
            "events included) in each store logging Bedrock's or Mantle's data events:",
            "",
        ]
        for query in commands:
            command = query.get("command")
            lines.append(
                f"- {code(query.get('name'))}: {code(command, limit=_COMMAND_CHARS)}"
                if command
                else f"- {code(query.get('name'))}: its id or region is not one responder quotes safely; run the "
                "Lake query below on it by hand."
            )
    return lines


def _lake_cell(lake: dict[str, Any]) -> str:
    if not lake:
        return "not read"
    said = [
        f"{label}: {', '.join(code(n, table=True) for n in lake.get(f'{family}_stores') or [])}"
        for family, label in (("bedrock", "Bedrock"), ("mantle", "Mantle"))
        if lake.get(family) is True
    ]
    if said:
        return "; ".join(said)
    return "unknown" if None in (lake.get("bedrock"), lake.get("mantle")) else "none"


def _data(trail: dict[str, Any], family: str) -> str:
    events = trail.get("data_events")
    if events is None:
        return "unknown"
    found = events[family]
    if not found["logged"]:
        return "**none**"
    text = "all" if not found["missing"] else "only " + ", ".join(code(t, table=True) for t in found["logged"])
    return text + (" (narrowed by a filter)" if found["narrowed"] else "")


def _logging(logging: dict[str, Any]) -> str:
    if logging.get("on") is None:
        return "unknown"
    if not logging["on"]:
        return "**off**"
    return "on: " + ", ".join(code(d, table=True) for d in logging.get("destinations") or [])


def _changes(changes: list[dict[str, Any]]) -> str:
    if not changes:
        return "none read"
    return "; ".join(
        f"{code(c.get('name'), table=True)} {second(c.get('time'))} by {code(c.get('actor') or 'unknown', table=True)}"
        for c in changes
    )

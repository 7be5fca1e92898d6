"""The evidence a run keeps: every CloudTrail event it read (events.jsonl, beside the audit log), the moment the
run contained the key, and the queries that reach what LookupEvents cannot (data events, anything past 90 days).

events.jsonl is derived from the journal (the investigation's `events` output and each `responder investigate`
record), so it is covered by the audit log's hash chain and rewritten whole each time the report is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from responder.actions.cloudtrail_records import ENDPOINTS
from responder.actions.registry import get_action
from responder.clock import parse_time
from responder.engine.journal import events as j
from responder.engine.journal.run_state import RunState
from responder.private_files import write_private
from responder.redaction import SECRETS

EVENTS_FILE = "events.jsonl"
ENDPOINT_SOURCES = ENDPOINTS  # the two endpoints a key works on, as CloudTrail names them


def containment_moment(state: RunState) -> datetime | None:
    """The last containment change AWS answered for this run (whichever milestone it was: a key inactive alone
    counts, so a call after it is flagged); this is a moment, not a claim of what holds (claims.py says that).
    None when the run changed nothing (a dry run, a run that failed first, changes in place before it)."""
    moments = [
        when
        for r in state.records
        if r.get("event") == j.APPLIED and r.get("milestone") and (when := parse_time(r.get("ts"))) is not None
    ]
    return max(moments) if moments else None


@dataclass(frozen=True)
class Search:
    """How CloudTrail was searched for the key's principal: what the queries reuse."""

    by: str  # "Username=NAME" or "AccessKeyId=ASIA..."
    regions: list[str]
    since: str
    until: str


def first_search(state: RunState) -> Search | None:
    """The run's own investigation: by what, where and over which window it searched."""
    for step in state.steps.values():
        output = report_output_of(step.action)
        activity = step.outputs.get(output) if output else None
        if isinstance(activity, dict) and activity.get("searched", {}).get("by"):
            searched = activity["searched"]
            window = searched.get("window") or ["", ""]
            return Search(searched["by"], list(searched.get("regions", [])), window[0], window[1])
    return None


def first_activity(state: RunState) -> dict[str, Any] | None:
    """The run's own investigation's summary: what it searched, could not search, could see, and what it cost."""
    for step in state.steps.values():
        output = report_output_of(step.action)
        activity = step.outputs.get(output) if output else None
        if isinstance(activity, dict) and activity.get("searched", {}).get("by"):
            return activity
    return None


def report_output_of(action_name: str) -> str | None:
    action = get_action(action_name)
    return action.report_output if action is not None else None


def collect_events(state: RunState, moment: datetime | None) -> list[dict[str, Any]]:
    """Every event the run and its re-investigations read, once each (by event id), oldest first; with whether it
    came after the containment moment (in place of the run-start the step compared with)."""
    found: dict[str, dict[str, Any]] = {}
    batches: list[tuple[str, list[dict[str, Any]]]] = []
    for step in state.steps.values():
        if report_output_of(step.action) and isinstance(step.outputs.get("events"), list):
            batches.append((step.id, step.outputs["events"]))
    batches += [("investigate-again", r.get("events", [])) for r in state.records if r.get("event") == j.INVESTIGATED]
    for read_by, events in batches:
        for event in events:
            key = str(event.get("event_id") or json.dumps(event, sort_keys=True))
            when = parse_time(event.get("time"))
            line = {
                **event,
                "after_containment": moment is not None and when is not None and when >= moment,
                "read_by": found.get(key, {}).get("read_by", read_by),
            }
            found[key] = line
    return sorted(found.values(), key=lambda e: (str(e.get("time")), str(e.get("event_id"))))


def write_events(path: Path, events: list[dict[str, Any]]) -> None:
    """events.jsonl: one line per event, redacted as every output is."""
    lines = [json.dumps(SECRETS.redact_value(e), sort_keys=True) for e in events]
    write_private(path, "".join(line + "\n" for line in lines))


def _principal_filter(by: str, lake: bool) -> str:
    """The SQL condition naming the principal, for CloudTrail Lake (struct fields) or Athena's CloudTrail table."""
    attribute, _, value = by.partition("=")
    value = value.replace("'", "''")
    if attribute == "AccessKeyId":
        return f"useridentity.accesskeyid = '{value}'"
    if lake:
        return f"(userIdentity.username = '{value}' OR userIdentity.sessioncontext.sessionissuer.username = '{value}')"
    return f"(useridentity.username = '{value}' OR useridentity.sessioncontext.sessionissuer.username = '{value}')"


def lake_query(search: Search, store: str = "<EVENT_DATA_STORE_ID>") -> str:
    """CloudTrail Lake SQL: bearer-token calls on both endpoints, management and data events (inference included,
    when the event data store records data events), over any retention the store keeps."""
    since, until = _sql_time(search.since), _sql_time(search.until)
    return (
        "SELECT eventTime, eventSource, eventName, awsRegion, sourceIPAddress, userAgent, errorCode, eventID, "
        "eventCategory\n"
        f"FROM {store}\n"
        f"WHERE eventSource IN ('{ENDPOINT_SOURCES[0]}', '{ENDPOINT_SOURCES[1]}')\n"
        f"  AND {_principal_filter(search.by, lake=True)}\n"
        "  AND (element_at(additionalEventData, 'callWithBearerToken') = 'true'\n"
        "       OR element_at(requestParameters, 'callWithBearerToken') = 'true')\n"
        f"  AND eventTime >= '{since}' AND eventTime <= '{until}'\n"
        "ORDER BY eventTime"
    )


def athena_query(search: Search) -> str:
    """Athena over a trail's S3 logs (the table AWS's CloudTrail console creates): what the trail recorded, data
    events included when the trail logs them, for as long as the bucket keeps the logs."""
    return (
        "SELECT eventtime, eventsource, eventname, awsregion, sourceipaddress, useragent, errorcode, eventid\n"
        "FROM <CLOUDTRAIL_TABLE>\n"
        f"WHERE eventsource IN ('{ENDPOINT_SOURCES[0]}', '{ENDPOINT_SOURCES[1]}')\n"
        f"  AND {_principal_filter(search.by, lake=False)}\n"
        "  AND (json_extract_scalar(additionaleventdata, '$.callWithBearerToken') = 'true'\n"
        "       OR json_extract_scalar(requestparameters, '$.callWithBearerToken') = 'true')\n"
        f"  AND eventtime >= '{_iso_z(search.since)}' AND eventtime <= '{_iso_z(search.until)}'\n"
        "ORDER BY eventtime"
    )


def _sql_time(value: str) -> str:
    when = parse_time(value)
    return when.strftime("%Y-%m-%d %H:%M:%S") if when else value.replace("'", "''")


# A Lake store's id (the end of its ARN, a UUID) and a region, as AWS writes them: anything else is not quoted.
_STORE_ID = re.compile(r"[A-Za-z0-9-]{1,128}")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
# What a double-quoted shell word would still interpret (expansion, history, escapes) and control characters.
_SHELL_ACTIVE = re.compile(r'["$`\\!\x00-\x1f\x7f-\x9f]')


def start_query_command(search: Search, store_id: str, region: str) -> str | None:
    """The `aws cloudtrail start-query` that runs `lake_query` on one event data store, on one line; None when the
    store id, the region or a value of the search could not be quoted so that neither SQL nor the shell reads it
    as anything but data (the values come from AWS and from the key: the principal's name is the attacker's choice
    when it made the user)."""
    if not _STORE_ID.fullmatch(store_id) or not _REGION.fullmatch(region):
        return None
    statement = " ".join(line.strip() for line in lake_query(search, store_id).splitlines())
    if _SHELL_ACTIVE.search(statement):
        return None
    return f'aws cloudtrail start-query --region {region} --query-statement "{statement}"'


def lake_store_queries(search: Search, visibility: dict[str, Any] | None) -> list[dict[str, Any]]:
    """For each event data store that logs Bedrock's or Mantle's data events, the command that queries it."""
    stores = (visibility or {}).get("stores") or []
    return [
        {
            "name": s.get("name"),
            "region": s.get("home_region"),
            "command": start_query_command(search, str(s.get("id") or ""), str(s.get("home_region") or "")),
        }
        for s in stores
        if any(family["logged"] for family in (s.get("data_events") or {}).values())
    ]


def _iso_z(value: str) -> str:
    when = parse_time(value)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else value

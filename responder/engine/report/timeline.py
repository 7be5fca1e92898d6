"""The timeline picture: the key's calls over time, one picture per endpoint (SVG, and PNG for ticket systems
that do not show SVG), with markers for key creation, first and last call seen, run start, key inactive,
principal denied, and the calls after containment in another colour.

matplotlib is an optional extra (`bedrock-key-responder[timeline]`), imported only here and only when drawing, so
`responder --help` and a run's path to containment never load it. Each marker carries an SVG id (`gid`), so a
test (or a reader of the SVG) can find it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from responder.clock import parse_time
from responder.engine.report.evidence import ENDPOINT_SOURCES
from responder.engine.report.model import Report
from responder.engine.report.timeline_files import picture_names
from responder.errors import UserError
from responder.private_files import make_private

CALL_COLOUR = "#1f77b4"
AFTER_COLOUR = "#d62728"  # calls after containment: the colour a reader must not miss
MARKER_STYLE = {
    "key-created": ("#7f7f7f", "key created"),
    "first-call": ("#1f77b4", "first call seen"),
    "last-call": ("#17becf", "last call seen"),
    "run-start": ("#ff7f0e", "run started"),
    "key-inactive": ("#2ca02c", "key inactive"),
    "principal-denied": ("#9467bd", "principal denied"),
}
INSTALL_HINT = "the timeline picture needs matplotlib: pip install 'bedrock-key-responder[timeline]'"


@dataclass(frozen=True)
class Marker:
    gid: str  # one of MARKER_STYLE's keys
    at: datetime


def markers(report: Report, calls: list[dict[str, Any]]) -> list[Marker]:
    """The moments worth a line, from the report's facts and the endpoint's calls."""
    found: dict[str, datetime | None] = {
        "key-created": _key_created(report),
        "run-start": parse_time(report.started_at),
    }
    times = sorted(t for c in calls if (t := parse_time(c.get("time"))) is not None)
    if times:
        found["first-call"], found["last-call"] = times[0], times[-1]
    milestones = [m for m in (report.containment or {}).get("milestones", []) if not m.get("already")]
    key = [t for m in milestones if m.get("stops") == "key" and (t := parse_time(m.get("at"))) is not None]
    found["key-inactive"] = max(key) if key else None
    found["principal-denied"] = parse_time(report.contained_at)  # the last containment change AWS answered
    return [Marker(gid, at) for gid, at in found.items() if at is not None]


def _key_created(report: Report) -> datetime | None:
    key = report.key or {}
    if key.get("issued_at"):
        return parse_time(key["issued_at"])
    for step in report.steps:
        created = (step.get("outputs") or {}).get("created_at")
        if created:
            return parse_time(created[0] if isinstance(created, list) else created)
    return None


def draw_timelines(directory: Path, report: Report, events: list[dict[str, Any]]) -> list[str]:
    """Draw one SVG and one PNG per endpoint into the run's directory; their names, relative to it."""
    try:
        import matplotlib  # noqa: F401  # only to say how to get it when it is missing
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    written: list[str] = []
    bearer = [e for e in events if e.get("bearer_token")]
    for source in ENDPOINT_SOURCES:
        calls = [e for e in bearer if e.get("source") == source]
        figure = _figure(report, source, calls)
        svg, png = picture_names(source)
        figure.savefig(directory / svg, format="svg")
        figure.savefig(directory / png, format="png")
        make_private(directory / svg)
        make_private(directory / png)
        written += [svg, png]
    return written


def _figure(report: Report, source: str, calls: list[dict[str, Any]]) -> Any:
    from matplotlib import dates
    from matplotlib.figure import Figure

    to_num: Any = dates.date2num  # untyped in matplotlib's stubs
    figure = Figure(figsize=(10, 3.6), dpi=100)
    axes = figure.add_subplot()
    names = sorted({str(c.get("name")) for c in calls}) or ["(no call seen)"]
    rows = {name: i for i, name in enumerate(names)}
    for after, colour, label, gid in (
        (False, CALL_COLOUR, "call with a bearer token", "calls"),
        (True, AFTER_COLOUR, "call after containment", "calls-after-containment"),
    ):
        chosen = [c for c in calls if bool(c.get("after_containment")) is after]
        points = [(t, rows[str(c.get("name"))]) for c in chosen if (t := parse_time(c.get("time"))) is not None]
        if points:
            xs, ys = [to_num(x) for x, _ in points], [y for _, y in points]
            axes.scatter(xs, ys, color=colour, label=f"{label} ({len(points)})", zorder=3, s=36, gid=gid)
    for marker in markers(report, calls):
        colour, label = MARKER_STYLE[marker.gid]
        line = axes.axvline(float(to_num(marker.at)), color=colour, linestyle="--", linewidth=1.2, label=label)
        line.set_gid(f"marker-{marker.gid}")
    axes.set_yticks(range(len(names)), names)
    axes.set_ylim(-0.8, len(names) - 0.2)
    formatter: Any = dates.DateFormatter
    axes.xaxis.set_major_formatter(formatter("%H:%M", tz="UTC"))
    axes.xaxis_date()
    axes.set_xlabel("time (UTC)")
    axes.set_title(f"{source}: calls made with the leaked key's bearer token (run {report.run_id})", fontsize=10)
    axes.grid(axis="x", alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    figure.subplots_adjust(left=0.2, right=0.74, bottom=0.16)
    return figure

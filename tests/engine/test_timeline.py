"""The timeline picture: one SVG and one PNG per endpoint, valid, with every marker the issue lists."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from pathlib import Path

from responder.engine.journal.run_state import load_run
from responder.engine.report.evidence import collect_events, parse_time
from responder.engine.report.timeline import draw_timelines, markers
from tests.engine.test_evidence import contained_run

SVG = "{http://www.w3.org/2000/svg}"


def _ids(path: Path) -> set[str]:
    return {e.get("id", "") for e in ET.parse(path).getroot().iter()}  # noqa: S314  # our own file


def test_pictures_are_valid_and_carry_the_markers(tmp_path: Path) -> None:
    report, paths = contained_run(tmp_path, after_containment=True)
    events = collect_events(load_run(paths.audit_log), parse_time(report.contained_at))
    written = draw_timelines(paths.directory, report, events)
    assert written == [
        "timeline-bedrock.svg",
        "timeline-bedrock.png",
        "timeline-bedrock-mantle.svg",
        "timeline-bedrock-mantle.png",
    ]
    for name in written[1::2]:
        data = (paths.directory / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert width > 400 and height > 200
    mantle = _ids(paths.directory / "timeline-bedrock-mantle.svg")
    expected = {"key-created", "first-call", "last-call", "run-start", "key-inactive", "principal-denied"}
    assert {f"marker-{m}" for m in expected} <= mantle
    assert "calls-after-containment" in mantle and "calls" in mantle  # the late call, in its own colour
    assert ET.parse(paths.directory / "timeline-bedrock.svg").getroot().tag == f"{SVG}svg"  # noqa: S314
    assert "calls-after-containment" not in _ids(paths.directory / "timeline-bedrock.svg")


def test_markers_follow_the_journal(tmp_path: Path) -> None:
    report, paths = contained_run(tmp_path, after_containment=False)
    events = collect_events(load_run(paths.audit_log), parse_time(report.contained_at))
    found = {m.gid: m.at for m in markers(report, [e for e in events if e["source"] == "bedrock.amazonaws.com"])}
    assert found["run-start"] <= found["key-inactive"] <= found["principal-denied"]
    assert found["key-created"] < found["first-call"] < found["last-call"] < found["run-start"]


def test_help_does_not_load_the_plotting_library() -> None:
    """matplotlib is imported only to draw: `responder --help` (and a run's path to containment) never pays for it."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from responder.cli.main import app\n"
        "from responder.engine.report import build, findings\n"
        "from responder.engine.commands import investigation\n"
        "print('matplotlib' in sys.modules)\n"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "False"

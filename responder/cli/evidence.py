"""What `responder report` adds for the ticket and the security team: the timeline pictures (--timeline), the run
as Security Hub findings (--format asff), and their import (--to-security-hub)."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

import typer

from responder.cli.render import say
from responder.errors import EXIT_STEP_FAILED, UserError

if TYPE_CHECKING:  # the report's layer loads after containment: only its type is named here
    from responder.aws.clients import AwsOptions
    from responder.engine.journal.run_state import RunState
    from responder.engine.journal.runs import RunPaths
    from responder.engine.report.model import Report


def draw_pictures(paths: RunPaths, report: Report, state: RunState) -> Report:
    """Draw the timeline pictures into the run's directory; the report (of `state`) rewritten to show them."""
    from responder.clock import parse_time
    from responder.engine.report.build import render_markdown, save_reports
    from responder.engine.report.evidence import collect_events
    from responder.engine.report.timeline import draw_timelines
    from responder.engine.report.timeline_files import existing_pictures

    if report.accounts:
        raise UserError("a fan-out's parent run has no timeline of its own: draw each account's run")
    events = collect_events(state, parse_time(report.contained_at))
    for name in draw_timelines(paths.directory, report, events):
        say(f"drew {paths.directory / name}", err=True)
    pictures = existing_pictures(paths.directory)  # all that drawing changes in the report
    report = dataclasses.replace(report, evidence={**(report.evidence or {}), "pictures": pictures})
    save_reports(paths, report, render_markdown(report), events)
    return report


def findings_out(report: Report, state: RunState, aws: AwsOptions, to_security_hub: bool) -> list[Any]:
    """The run's ASFF findings, in the region the run used (unless --region says otherwise); imported when asked."""
    from responder.engine.report.findings import asff_findings, import_findings
    from responder.engine.running.context import with_run_endpoint

    chosen = with_run_endpoint(aws, state.started.to_record())
    region = chosen.region or "us-east-1"  # the run's own region, unless --region says otherwise
    findings = asff_findings(report, region)
    if not to_security_hub:
        return findings
    if not findings:
        raise UserError(f"run {report.run_id} contained no key (a dry run, or nothing applied): nothing to import")
    from responder.aws.clients import Clients

    clients = Clients(dataclasses.replace(chosen, region=region))
    imported, failed = import_findings(clients.client("securityhub"), findings)
    for refused in failed:
        say(f"Security Hub refused finding {refused.get('Id')}: {refused.get('ErrorMessage')}", err=True)
    say(f"imported {imported} finding(s) into Security Hub in {region}", err=True)
    if failed:
        raise typer.Exit(EXIT_STEP_FAILED)
    return findings


def asff_json(findings: list[Any]) -> str:
    return json.dumps({"Findings": findings}, indent=2, sort_keys=True)

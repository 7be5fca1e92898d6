"""`responder runs`, `report` and `audit verify`: what past runs did, from their journals alone."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from responder.cli.errors import fail, reported_errors
from responder.cli.options import EndpointUrl, Profile, Region, RunsDir, check_output, runs_dir_or_default
from responder.cli.render import say
from responder.errors import EXIT_STEP_FAILED, UserError


def runs(runs_dir: RunsDir = None) -> None:
    """List past runs, newest last.

    Example: responder runs
    """
    with reported_errors():
        from responder.engine.outcome import current_status
        from responder.engine.run_state import load_run
        from responder.engine.runs import all_runs

        root = runs_dir_or_default(runs_dir)
        found = all_runs(root)
        if not found:
            say(f"no runs in {root}")
        states = []
        for paths in found:
            try:
                states.append(load_run(paths.audit_log))
            except (ValueError, OSError):
                say(f"{paths.run_id:<26} (unreadable audit log)")
        for state in sorted(states, key=lambda s: str(s.started.get("ts"))):
            mode = "dry-run" if state.started.get("dry_run") else "apply"
            key = (
                (state.started.get("key") or {}).get("alias") or state.started.get("params", {}).get("user_name") or ""
            )
            if state.started.get("fanout"):
                key = f"{len(state.started['fanout']['accounts'])} account(s): responder report {state.run_id}"
            status = current_status(state, root)
            say(f"{state.run_id:<26} {state.playbook:<24} {mode:<8} {status:<20} {key}")


def report(
    run_id: Annotated[str, typer.Argument(metavar="RUN_ID", help="The run (see `responder runs`).")],
    format: Annotated[
        str, typer.Option("--format", "-f", help="markdown, json, or asff (AWS Security Finding Format).")
    ] = "markdown",
    timeline: Annotated[
        bool, typer.Option("--timeline", help="Also draw the timeline pictures (SVG, PNG) into the run's directory.")
    ] = False,
    to_security_hub: Annotated[
        bool, typer.Option("--to-security-hub", help="Import the run's ASFF findings (BatchImportFindings).")
    ] = False,
    runs_dir: RunsDir = None,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
) -> None:
    """Render a run's report again from its audit log.

    Example: responder report 20261123T101500Z-3fa9c1 --format json
    """
    with reported_errors("json" if format in ("json", "asff") else "text"):
        from responder.engine.outcome import current_status
        from responder.engine.report import build_report, render_json, render_markdown
        from responder.engine.run_state import load_run
        from responder.engine.runs import find_run

        check_output(format, ("markdown", "json", "asff"), "--format")
        paths = find_run(runs_dir_or_default(runs_dir), run_id)
        state = load_run(paths.audit_log)
        if state.started.get("fanout"):
            from responder.fanout.report import render_fanout_markdown
            from responder.fanout.runs import build_fanout_report

            merged = build_fanout_report(state, paths)
            if format != "asff" and not to_security_hub and not timeline:
                typer.echo(render_json(merged) if format == "json" else render_fanout_markdown(merged))
                return
            built = merged
        else:
            state.status = current_status(state, paths.root)
            built = build_report(state, paths)
        if timeline or to_security_hub or format == "asff":
            from responder.aws.clients import AwsOptions
            from responder.cli import evidence

            if timeline:
                built = evidence.draw_pictures(paths, built)
            if format == "asff" or to_security_hub:
                aws = AwsOptions(profile=profile, region=region, endpoint_url=endpoint_url)
                findings = evidence.findings_out(built, state, aws, to_security_hub)
                if format == "asff":
                    typer.echo(evidence.asff_json(findings))
                    return
        typer.echo(render_json(built) if format == "json" else render_markdown(built))


audit_app = typer.Typer(help="Check audit logs.", no_args_is_help=True)


@audit_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(metavar="FILE_OR_RUN_ID", help="An audit.jsonl file, or a run id.")],
    head: Annotated[
        str | None,
        typer.Option("--head", help="The chain's head as pasted in the ticket: checked instead of report.json's."),
    ] = None,
    runs_dir: RunsDir = None,
) -> None:
    """Check an audit log's hash chain: any edited, removed or reordered record is reported.

    When the run's report.json is beside it, the chain must also end at the head the report recorded,
    so a truncated tail is caught too. With --head, the chain must hold the head printed when the run ended
    (pasted in the ticket), so a log edited together with its report.json is caught as well.

    Example: responder audit verify ~/.local/state/responder/runs/20261123T101500Z-3fa9c1/audit.jsonl
    """
    with reported_errors():
        import json
        import re

        from responder.engine.audit import verify_chain
        from responder.engine.runs import REPORT_JSON, find_run
        from responder.redaction import shown

        path = file if file.exists() else find_run(runs_dir_or_default(runs_dir), str(file)).audit_log
        if path.is_dir():
            raise UserError(f"{path}: is a directory; give the audit.jsonl file or a run id")
        report_file = path.parent / REPORT_JSON
        given = head is not None
        if head is not None:
            if not re.fullmatch(r"[0-9a-f]{64}", head):
                raise UserError(f"--head must be the 64 hex digits of a SHA-256 hash, not {shown(head)}")
        elif report_file.is_file():
            head = json.loads(report_file.read_text(encoding="utf-8")).get("audit_head")
        result = verify_chain(path, head)
        if not result.ok:
            for problem in result.problems:
                if given and problem.startswith("the chain does not contain the head"):
                    problem = "the chain does not contain the head given (the log was edited or truncated since)"
                fail(f"{path}: {problem}")
            raise typer.Exit(EXIT_STEP_FAILED)
        if head is None:
            tail = "; its tail is unchecked (no report.json beside it records where it ended)"
        elif result.extended_by and given:
            tail = (
                f" and holds the head given; {result.extended_by} record(s) came after it (a later resume, "
                "rollback or `responder investigate`: see the log)"
            )
        elif result.extended_by:
            tail = (
                f"; {result.extended_by} record(s) were added after report.json was written (a resume or rollback "
                "that stopped before rewriting it): `responder report RUN_ID` renders it from the log"
            )
        else:
            tail = " and ends at " + ("the head given" if given else "the head the report recorded")
        say(f"{path}: ok, {result.records} records, chain intact{tail} (head {result.head[:16]})")

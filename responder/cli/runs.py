"""`responder runs`, `report` and `audit verify`: what past runs did, from their journals alone."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from responder.cli.command import ResponderTyper
from responder.cli.errors import fail
from responder.cli.options import EndpointUrl, Output, Profile, Query, Region, RunsDir, runs_dir_or_default
from responder.cli.output import REPORT_OUTPUTS, TEXT_JSON, emit, output_option, reported_output
from responder.cli.render import say
from responder.cli.table import aligned
from responder.errors import EXIT_STEP_FAILED, UserError
from responder.inert import terminal

# `--format` and `-f` stay as they were before `-o`: scripts use them.
ReportOutput = Annotated[str | None, output_option(REPORT_OUTPUTS, aliases=("--format", "-f"))]


def runs(
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status", metavar="STATUS", help="Only runs that ended so (e.g. completed, failed); repeatable."
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, metavar="N", help="Only the N newest runs (after --status).")
    ] = None,
    output: Output = None,
    query: Query = None,
    runs_dir: RunsDir = None,
) -> None:
    """List past runs, newest last; rejected runs (bad input: nothing changed) apart, at the end.

    Example: responder runs --limit 5
    Example: responder runs --status failed -o json --query '[].run_id'
    """
    with reported_output(output, query, TEXT_JSON) as output:
        root = runs_dir_or_default(runs_dir)
        listed = _listed_runs(root)
        if status:
            listed = [run for run in listed if run["status"] in status]
        if limit is not None:
            listed = listed[-limit:]
        emit(listed, output, query, lambda: _runs_text(listed, root, bool(status or limit)))


def _listed_runs(root: Path) -> list[dict[str, Any]]:
    from responder.engine.commands.outcome import current_status
    from responder.engine.journal.run_state import load_run
    from responder.engine.journal.runs import all_runs

    states = []
    listed: list[dict[str, Any]] = []
    for paths in all_runs(root):
        try:
            states.append(load_run(paths.audit_log))
        except (ValueError, OSError):
            listed.append({"run_id": paths.run_id, "status": "unreadable", "started": None})
    for state in sorted(states, key=lambda s: str(s.started.ts)):
        key = (state.started.key or {}).get("alias") or state.started.params.get("user_name")
        fanout = state.started.fanout
        listed.append(
            {
                "run_id": state.run_id,
                "started": state.started.ts,
                "playbook": state.playbook,
                "mode": "dry-run" if state.started.dry_run else "apply",
                "status": current_status(state, root),
                "account_id": state.started.account_id,
                "key": key or None,
                "accounts": len(fanout["accounts"]) if fanout else None,
            }
        )
    return listed


def _runs_text(listed: list[dict[str, Any]], root: Path, filtered: bool) -> None:
    if not listed:
        say("no runs match" if filtered else f"no runs in {root}")
        return
    header = ("RUN", "PLAYBOOK", "MODE", "STATUS", "KEY OR ACCOUNTS")

    def row(run: dict[str, Any]) -> tuple[str, ...]:
        what = run.get("key") or ""
        if run.get("accounts"):
            what = f"{run['accounts']} account(s): responder report {run['run_id']}"
        return (run["run_id"], run.get("playbook") or "", run.get("mode") or "", run["status"], what)

    kept = [row(run) for run in listed if run["status"] != "rejected"]
    rejected = [row(run) for run in listed if run["status"] == "rejected"]
    if kept:
        for line in aligned(header, kept, colour=3):
            say(line)
    if rejected:
        say(f"{chr(10) if kept else ''}rejected (bad input, nothing was changed):")
        for line in aligned(header, rejected, colour=3):
            say(f"  {line}")


def report(
    run_id: Annotated[str | None, typer.Argument(metavar="RUN_ID", help="The run (see `responder runs`).")] = None,
    execution: Annotated[
        str | None,
        typer.Option(
            "--execution",
            metavar="ARN",
            help="Instead of a local run: an execution of a machine `responder export stepfunctions` wrote, read "
            "from its history and its write-ahead records in S3.",
        ),
    ] = None,
    output: ReportOutput = None,
    query: Query = None,
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
    """Render a run's report again from its audit log, or an exported machine's execution's from AWS.

    Example: responder report 20261123T101500Z-3fa9c1 -o json
    Example: responder report --execution arn:aws:states:us-east-1:123456789012:execution:contain:incident-1
    """
    with reported_output(output, query, REPORT_OUTPUTS) as output:
        if (run_id is None) == (execution is None):
            raise UserError("give a RUN_ID or --execution ARN (one of them)")
        if execution is not None:
            if output == "asff" or timeline or to_security_hub:
                raise UserError(
                    "--execution renders markdown or json; asff, --timeline and --to-security-hub take a RUN_ID"
                )
            from responder.aws.clients import AwsOptions
            from responder.export.stepfunctions.report import execution_report

            built = execution_report(AwsOptions(profile=profile, region=region, endpoint_url=endpoint_url), execution)
            from responder.engine.report.build import render_markdown

            emit(built.as_json(), output, query, lambda: typer.echo(terminal(render_markdown(built))))
            return
        assert run_id is not None  # one of the two, checked above
        from responder.engine.commands.outcome import current_status
        from responder.engine.journal.run_state import load_run
        from responder.engine.journal.runs import find_run
        from responder.engine.report.build import build_report, render_markdown

        paths = find_run(runs_dir_or_default(runs_dir), run_id)
        state = load_run(paths.audit_log)
        if state.started.is_fanout:
            from responder.fanout.report import render_fanout_markdown
            from responder.fanout.runs import build_fanout_report

            merged = build_fanout_report(state, paths)
            if output != "asff" and not to_security_hub and not timeline:
                emit(merged.as_json(), output, query, lambda: typer.echo(terminal(render_fanout_markdown(merged))))
                return
            built = merged
        else:
            state.status = current_status(state, paths.root)
            built = build_report(state, paths)
        if timeline or to_security_hub or output == "asff":
            from responder.aws.clients import AwsOptions
            from responder.cli import evidence

            if timeline:
                built = evidence.draw_pictures(paths, built, state)
            if output == "asff" or to_security_hub:
                aws = AwsOptions(profile=profile, region=region, endpoint_url=endpoint_url)
                findings = evidence.findings_out(built, state, aws, to_security_hub)
                if output == "asff":
                    typer.echo(evidence.asff_json(findings))
                    return
        emit(built.as_json(), output, query, lambda: typer.echo(terminal(render_markdown(built))))


audit_app = ResponderTyper(help="Check audit logs.", no_args_is_help=True)


@audit_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(metavar="FILE_OR_RUN_ID", help="An audit.jsonl file, or a run id.")],
    head: Annotated[
        str | None,
        typer.Option(
            "--head",
            metavar="SHA256",
            help="The chain's head as pasted in the ticket: checked instead of report.json's.",
        ),
    ] = None,
    output: Output = None,
    query: Query = None,
    runs_dir: RunsDir = None,
    anchor: Annotated[
        str | None,
        typer.Option(
            "--anchor",
            metavar="S3_URL",
            help="Also check every head the run anchored there (`run ... --anchor`): held by the chain.",
        ),
    ] = None,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
) -> None:
    """Check an audit log's hash chain: any edited, removed or reordered record is reported.

    When the run's report.json is beside it, the chain must also end at the head the report recorded,
    so a truncated tail is caught too. With --head, the chain must hold the head printed when the run ended
    (pasted in the ticket), so a log edited together with its report.json is caught as well.

    Example: responder audit verify ~/.local/state/responder/runs/20261123T101500Z-3fa9c1/audit.jsonl
    """
    with reported_output(output, query, TEXT_JSON) as output:
        import dataclasses
        import json
        import re

        from responder.engine.journal.audit import audit_key, verify_chain
        from responder.engine.journal.runs import REPORT_JSON, find_run
        from responder.engine.report.evidence_check import check_evidence
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
        from responder.aws.clients import AwsOptions

        key = audit_key()
        anchored = _anchored_heads(anchor, path, AwsOptions(profile=profile, region=region, endpoint_url=endpoint_url))
        result = verify_chain(path, head, key)
        chain = _heads(path) if anchored else set()
        for held in anchored or []:
            if (held.records, held.head) not in chain:
                result.ok = False
                result.problems.append(
                    f"the chain does not hold the head anchored at {held.address} (rewritten or cut since)"
                )
        evidence = check_evidence(path) if result.ok else None
        verdict = {
            "file": str(path),
            "ok": result.ok,
            "records": result.records,
            "head": result.head,
            "problems": list(result.problems),
            "tail_checked": head is not None,
            "extended_by": result.extended_by,
            "macs_checked": key is not None,
            "anchored_heads": None if anchored is None else len(anchored),
            "evidence": None if evidence is None else dataclasses.asdict(evidence),
        }
        if evidence is not None and evidence.differ:
            emit(verdict, output, query)
            for name in evidence.differ:
                fail(f"{path.parent / name}: not what the journal says (changed after the run wrote it)")
            raise typer.Exit(EXIT_STEP_FAILED)
        if not result.ok:
            emit(verdict, output, query)  # json only: for people, the problems on stderr say it
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
        emit(
            verdict,
            output,
            query,
            lambda: say(
                f"{path}: ok, {result.records} records, chain intact{tail} (head {result.head[:16]})"
                f"{', every MAC matches the audit key' if key is not None else ''}"
                f"{f', holds the {len(anchored)} head(s) anchored in S3' if anchored else ''}; "
                + _evidence_words(evidence)
            ),
        )


def _evidence_words(evidence: Any) -> str:
    """What `audit verify` says of the files beside the log, recomputed from it."""
    if evidence is None or evidence.skipped:
        return f"the files beside it were not recomputed ({evidence.skipped if evidence else 'no run directory'})"
    return f"{', '.join(evidence.compared)} match the journal"


def _anchored_heads(anchor: str | None, path: Path, aws: Any) -> list[Any] | None:
    """The heads anchored for the log's run under --anchor (None without it); none there is a failure to say."""
    if anchor is None:
        return None
    from responder.aws.clients import Clients
    from responder.engine.journal.anchor import Anchor, read_anchors
    from responder.engine.journal.audit import read_records

    where = Anchor.parse(anchor)
    records, _ = read_records(path)
    run_id = str(records[0].get("run_id") if records else path.parent.name)
    found = read_anchors(Clients(aws, read_only=True).client("s3"), where, run_id)
    if not found:
        raise UserError(f"no Object-Locked head of run {run_id} in {where}: nothing to check the log against")
    return found


def _heads(path: Path) -> set[tuple[int, str]]:
    """(record count, head) at every record of the log: where each anchored head must be."""
    from responder.engine.journal.audit import read_records

    records, _ = read_records(path)
    return {(index, str(r.get("hash"))) for index, r in enumerate(records, 1)}

"""`responder investigate RUN_ID`: did the key's calls stop? CloudTrail read again since the run contained it."""

from __future__ import annotations

from typing import Annotated

import typer

from responder.cli.options import (
    AcceptBrokenChain,
    EndpointUrl,
    Output,
    Profile,
    Query,
    Region,
    RunsDir,
    runs_dir_or_default,
)
from responder.cli.output import TEXT_JSON, emit, reported_output
from responder.cli.render import say
from responder.errors import EXIT_STEP_FAILED
from responder.inert import plain


def investigate(
    run_id: Annotated[str, typer.Argument(metavar="RUN_ID", help="The run (see `responder runs`).")],
    runs_dir: RunsDir = None,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
    output: Output = None,
    query: Query = None,
    accept_broken_chain: AcceptBrokenChain = False,
) -> None:
    """Read CloudTrail again from the run's containment moment to now: did the key's calls stop?

    Appends what it found to the run's audit log and events.jsonl and rewrites the report. CloudTrail delivers
    events 5 to 15 minutes late: run it again 15 minutes after containment. Exit 1 when a call came after it.

    Example: responder investigate 20261123T101500Z-3fa9c1
    """
    with reported_output(output, query, TEXT_JSON) as output:
        from responder.aws.clients import AwsOptions
        from responder.engine.commands.investigation import investigate_run
        from responder.engine.running.context import Settings

        settings = Settings(
            runs_dir=runs_dir_or_default(runs_dir),
            aws=AwsOptions(profile=profile, region=region, endpoint_url=endpoint_url),
            accept_broken_chain=accept_broken_chain,
        )
        found = investigate_run(run_id, settings)
        after = found.after_containment
        verdict = {
            "run_id": found.run_id,
            "since": found.since.isoformat(),
            "since_what": found.since_what,
            "until": found.until.isoformat(),
            "events_read": found.events_read,
            "bearer_token_calls": found.bearer_token_calls,
            "after_containment": after,
            "audit_head": found.audit_head,
            "report": str(found.paths.report_md),
        }

        def text() -> None:
            window = f"from {found.since_what} ({found.since:%Y-%m-%d %H:%M:%S} UTC) to now"
            if after:
                say(f"run {found.run_id}: {len(after)} BEARER-TOKEN CALL(S) SINCE CONTAINMENT ({window}):")
                for event in after:
                    fields = [plain(event[name]) for name in ("source", "name", "region", "source_ip", "event_id")]
                    say(f"  {plain(event['time'])}  {'  '.join(fields[:3])}  from {fields[3]}  ({fields[4]})")
                say("the containment does not hold, or the key works elsewhere: see the report")
            else:
                read = f"{found.events_read} events"
                say(f"run {found.run_id}: no bearer-token call since containment ({window}; {read})")
            for note in found.notes[1:]:
                say(f"note: {note}")
            say(f"report:     {found.paths.report_md}")
            say(f"audit head: {found.audit_head}")

        emit(verdict, output, query, text)
        if after:
            raise typer.Exit(EXIT_STEP_FAILED)

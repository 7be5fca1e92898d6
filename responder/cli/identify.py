"""`responder identify`: classify a pasted key and name the playbook to run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from responder.cli.options import (
    EndpointUrl,
    FromFormat,
    Output,
    Profile,
    Query,
    Region,
    Repo,
    RunsDir,
    runs_dir_or_default,
)
from responder.cli.output import TEXT_JSON, emit, reported_output
from responder.cli.render import say


def identify(
    key_file: Annotated[str, typer.Argument(metavar="KEY_FILE", help="File holding the key, or - for stdin.")] = "-",
    key_file_option: Annotated[
        str | None, typer.Option("--key-file", metavar="KEY_FILE", help="Same as the argument.")
    ] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Decode only: no AWS call.")] = False,
    from_format: FromFormat = None,
    repo: Repo = Path("."),
    output: Output = None,
    query: Query = None,
    runs_dir: RunsDir = None,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
) -> None:
    """Tell what a leaked key is (offline, instantly), who owns it (online), and the command to contain it.

    Never prints the secret parts: the long-term secret, the short-term signature and session token.

    With --from FORMAT, KEY_FILE is an alert file (a scanner's report, a GuardDuty finding): every key it holds
    is identified once, and the principals a detector names are listed.

    Example: pbpaste | responder identify -
    Example: responder identify --from gitleaks gitleaks-report.json --offline
    """
    with reported_output(output, query, TEXT_JSON) as output:
        from responder.aws.clients import AwsOptions
        from responder.engine.commands.identify import identify as run_identify
        from responder.engine.commands.identify import render_text
        from responder.engine.running.context import Settings
        from responder.keys import read_key_file

        path = key_file_option or key_file
        settings = Settings(
            runs_dir=runs_dir_or_default(runs_dir),
            aws=AwsOptions(profile=profile, region=region, endpoint_url=endpoint_url),
        )
        if from_format is not None:
            from responder.engine.commands.alerts import AlertFile, identify_alerts, render_alerts_text

            result = identify_alerts(AlertFile(from_format, path, repo), not offline, settings)
            lines = render_alerts_text
        else:
            result = run_identify(read_key_file(path), path, not offline, settings)
            lines = render_text

        def text() -> None:
            for line in lines(result):
                say(line)

        emit(result, output, query, text)

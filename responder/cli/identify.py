"""`responder identify`: classify a pasted key and name the playbook to run."""

from __future__ import annotations

from typing import Annotated

import typer

from responder.cli.options import EndpointUrl, Output, Profile, Query, Region, RunsDir, runs_dir_or_default
from responder.cli.output import TEXT_JSON, emit, reported_output
from responder.cli.render import say


def identify(
    key_file: Annotated[str, typer.Argument(metavar="KEY_FILE", help="File holding the key, or - for stdin.")] = "-",
    key_file_option: Annotated[
        str | None, typer.Option("--key-file", metavar="KEY_FILE", help="Same as the argument.")
    ] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Decode only: no AWS call.")] = False,
    output: Output = None,
    query: Query = None,
    runs_dir: RunsDir = None,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
) -> None:
    """Tell what a leaked key is (offline, instantly), who owns it (online), and the command to contain it.

    Never prints the secret parts: the long-term secret, the short-term signature and session token.

    Example: pbpaste | responder identify -
    """
    with reported_output(output, query, TEXT_JSON) as output:
        from responder.aws.clients import AwsOptions
        from responder.engine.context import Settings
        from responder.engine.identify import identify as run_identify
        from responder.engine.identify import render_text
        from responder.keys import read_key_file

        path = key_file_option or key_file
        settings = Settings(
            runs_dir=runs_dir_or_default(runs_dir),
            aws=AwsOptions(profile=profile, region=region, endpoint_url=endpoint_url),
        )
        result = run_identify(read_key_file(path), path, not offline, settings)

        def text() -> None:
            for line in render_text(result):
                say(line)

        emit(result, output, query, text)

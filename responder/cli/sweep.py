"""`responder sweep`: are there other long-term Bedrock keys, and which deserve a look?"""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated

import typer

from responder.cli.errors import reported_errors
from responder.cli.options import EndpointUrl, Output, Profile, Region, check_output
from responder.cli.render import say


def sweep(
    older_than: Annotated[
        int | None, typer.Option("--older-than", min=0, help="Only keys older than DAYS (and flag them).")
    ] = None,
    no_expiry: Annotated[bool, typer.Option("--no-expiry", help="Only keys that never expire.")] = False,
    user: Annotated[str | None, typer.Option("--user", help="Only owners matching this pattern (fnmatch).")] = None,
    output: Output = "table",
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
) -> None:
    """List every long-term Bedrock API key in the account: owner, status, age, expiry, and flags
    (never-expires, older-than-N, owner-admin-like). Read-only.

    Example: responder sweep --older-than 90 --output csv > bedrock-keys.csv
    """
    with reported_errors():
        from responder.aws import AwsOptions, Clients
        from responder.sweep import SweepFilter, as_rows
        from responder.sweep import sweep as run_sweep

        check_output(output, ("table", "json", "csv"))
        clients = Clients(AwsOptions(profile=profile, region=region, endpoint_url=endpoint_url), read_only=True)
        selected = SweepFilter(user, older_than, no_expiry)
        findings = run_sweep(clients.iam, selected, older_than)
        rows = as_rows(findings)
        if output == "json":
            typer.echo(json.dumps(rows, indent=2))
        elif output == "csv":
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["credential_id"], lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            typer.echo(out.getvalue(), nl=False)
        else:
            say(f"{'USER':<28} {'CREDENTIAL':<22} {'STATUS':<9} {'AGE':>5} {'EXPIRES':<11} FLAGS")
            for f in findings:
                expires, flags = (f.expires or "never")[:10], ",".join(f.flags)
                say(f"{f.user_name:<28} {f.credential_id:<22} {f.status:<9} {f.age_days:>4}d {expires:<11} {flags}")
            say(f"{len(findings)} key(s)")
            if findings:
                say(f"contain them: responder run contain-bedrock-keys -p filter='{selected.as_text()}' --dry-run")

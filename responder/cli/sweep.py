"""`responder sweep`: are there other long-term Bedrock keys, and which deserve a look? In one account or many."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import TYPE_CHECKING, Annotated

import typer

from responder.cli.errors import reported_errors
from responder.cli.options import (
    DEFAULT_ROLE_NAME,
    Accounts,
    Concurrency,
    EndpointUrl,
    Org,
    Output,
    Profile,
    Region,
    RoleName,
    check_output,
    fanout_targets,
)
from responder.cli.render import say
from responder.engine.concurrency import DEFAULT_CONCURRENCY
from responder.errors import EXIT_STEP_FAILED

if TYPE_CHECKING:
    from responder.actions.key_inventory import KeyFinding, SweepFilter


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
    accounts: Accounts = None,
    org: Org = False,
    role_name: RoleName = DEFAULT_ROLE_NAME,
    concurrency: Concurrency = DEFAULT_CONCURRENCY,
) -> None:
    """List every long-term Bedrock API key in the account: owner, status, age, expiry, and flags
    (never-expires, older-than-N, owner-admin-like). Read-only. With --accounts or --org, in each account.

    Example: responder sweep --older-than 90 --output csv > bedrock-keys.csv
    """
    with reported_errors(output):
        from responder.actions.key_inventory import SweepFilter
        from responder.aws.clients import AwsOptions
        from responder.fanout.sweep import sweep_accounts

        check_output(output, ("table", "json", "csv"))
        selected = SweepFilter(user, older_than, no_expiry)
        targets = fanout_targets(accounts, org)
        options = AwsOptions(profile=profile, region=region, endpoint_url=endpoint_url)
        findings, failures = sweep_accounts(options, selected, older_than, targets, role_name, concurrency)
        scope = "" if targets is None else (f" --accounts {accounts}" if accounts is not None else " --org")
        _print(findings, output, selected, scope)
        for account_id, reason in sorted(failures.items()):
            say(f"error: account {account_id}: {reason}", err=True)
        if failures:
            raise typer.Exit(EXIT_STEP_FAILED)


def _print(findings: list[KeyFinding], output: str, selected: SweepFilter, scope: str) -> None:
    from responder.actions.key_inventory import FILTER_PATTERN
    from responder.fanout.sweep import as_rows

    rows = as_rows(findings)
    if output == "json":
        typer.echo(json.dumps(rows, indent=2))
    elif output == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["account_id"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        typer.echo(out.getvalue(), nl=False)
    else:
        say(f"{'ACCOUNT':<13} {'USER':<28} {'CREDENTIAL':<22} {'STATUS':<9} {'AGE':>5} {'EXPIRES':<11} FLAGS")
        for f in findings:
            expires, flags = (f.expires or "never")[:10], ",".join(f.flags)
            say(
                f"{f.account_id:<13} {f.user_name:<28} {f.credential_id:<22} {f.status:<9} {f.age_days:>4}d "
                f"{expires:<11} {flags}"
            )
        accounts = len({f.account_id for f in findings})
        say(f"{len(findings)} key(s) in {accounts} account(s)")
        # The same selection as one playbook parameter (a --user pattern the parameter cannot carry gets no hint).
        if findings and re.fullmatch(FILTER_PATTERN, selected.as_text()):
            say(f"contain them: responder run contain-bedrock-keys -p filter='{selected.as_text()}'{scope} --dry-run")

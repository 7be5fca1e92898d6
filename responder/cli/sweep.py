"""`responder sweep`: are there other long-term Bedrock keys, and which deserve a look? In one account or many."""

from __future__ import annotations

import csv
import io
import re
from shlex import quote
from typing import TYPE_CHECKING, Annotated

import typer

from responder.cli.options import (
    DEFAULT_ROLE_NAME,
    Accounts,
    Concurrency,
    EndpointUrl,
    ExcludeAccounts,
    ExternalId,
    Org,
    Ous,
    Profile,
    Query,
    Region,
    RoleName,
    fanout_targets,
)
from responder.cli.output import SWEEP_OUTPUTS, emit, output_option, reported_output
from responder.cli.render import say
from responder.cli.table import aligned
from responder.cli.terminal import ProgressLine
from responder.engine.running.concurrency import DEFAULT_CONCURRENCY
from responder.errors import EXIT_STEP_FAILED

if TYPE_CHECKING:
    from responder.actions.key_inventory import KeyFinding, SweepFilter

SweepOutput = Annotated[str | None, output_option(SWEEP_OUTPUTS)]


def sweep(
    older_than: Annotated[
        int | None,
        typer.Option("--older-than", min=0, metavar="DAYS", help="Only keys older than DAYS (and flag them)."),
    ] = None,
    no_expiry: Annotated[bool, typer.Option("--no-expiry", help="Only keys that never expire.")] = False,
    user: Annotated[
        str | None, typer.Option("--user", metavar="GLOB", help="Only owners matching this pattern (fnmatch).")
    ] = None,
    family: Annotated[
        str | None,
        typer.Option(
            "--family",
            metavar="NAME",
            help="Only keys of this family: bedrock, claude-platform, cloudwatch, cloudwatch-logs.",
        ),
    ] = None,
    output: SweepOutput = None,
    query: Query = None,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
    accounts: Accounts = None,
    org: Org = False,
    ou: Ous = None,
    exclude_accounts: ExcludeAccounts = None,
    role_name: RoleName = DEFAULT_ROLE_NAME,
    external_id: ExternalId = None,
    concurrency: Concurrency = DEFAULT_CONCURRENCY,
) -> None:
    """List every long-term API key in the account, of every family, with flags (never-expires, older-than-N,
    owner-admin-like): Bedrock, Claude Platform on AWS, CloudWatch, CloudWatch Logs; family, owner, status, age,
    expiry; console-made flags a user named as the family's console names its key users, with no-key, access-keys,
    console-password or beyond-family-policy when it holds more than its key (or none). Read-only: one listing
    per family and page, one per page of users. With --accounts or --org, in each account.

    Example: responder sweep --older-than 90 --output csv > bedrock-keys.csv
    """
    with reported_output(output, query, SWEEP_OUTPUTS) as output:
        from responder.actions.key_inventory import SweepFilter
        from responder.aws.clients import AwsOptions
        from responder.fanout.sweep import sweep_accounts

        selected = SweepFilter(user, older_than, no_expiry, family)
        targets = fanout_targets(accounts, org, ou, exclude_accounts)
        options = AwsOptions(profile=profile, region=region, endpoint_url=endpoint_url, external_id=external_id)
        line = ProgressLine("sweep: accounts")
        try:
            findings, failures = sweep_accounts(
                options, selected, older_than, targets, role_name, concurrency, line.update if targets else None
            )
        finally:
            line.close()
        scope = ""
        if targets is not None:
            scope = f" --accounts {quote(str(accounts))}" if accounts is not None else " --org"
            scope += "".join(f" --ou {quote(one)}" for one in ou or [])
            if exclude_accounts is not None:
                scope += f" --exclude-accounts {quote(str(exclude_accounts))}"
            scope += f" --role-name {quote(role_name)}" if role_name != DEFAULT_ROLE_NAME else ""
            scope += f" --external-id {quote(external_id)}" if external_id is not None else ""
        _print(findings, output, query, selected, scope)
        for account_id, reason in sorted(failures.items()):
            say(f"error: account {account_id}: {reason}", err=True)
        if failures:
            raise typer.Exit(EXIT_STEP_FAILED)


def _print(findings: list[KeyFinding], output: str, query: str | None, selected: SweepFilter, scope: str) -> None:
    from responder.actions.key_inventory import FILTER_PATTERN
    from responder.fanout.sweep import as_rows

    rows = as_rows(findings)
    if output == "json":
        emit(rows, output, query)
    elif output == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["account_id"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        typer.echo(out.getvalue(), nl=False)
    else:
        header = ("ACCOUNT", "FAMILY", "USER", "CREDENTIAL", "STATUS", "AGE", "EXPIRES", "FLAGS")
        table = [
            (
                f.account_id,
                f.family,
                f.user_name,
                f.credential_id,
                f.status,
                f"{f.age_days}d",
                (f.expires or "never")[:10],
                ",".join(f.flags),
            )
            for f in findings
        ]
        for line in aligned(header, table, right=frozenset({5}), colour=4):
            say(line)
        accounts = len({f.account_id for f in findings})
        keys = [f for f in findings if f.credential_id]  # the others are console-made users holding no key
        say(f"{len(keys)} key(s) in {accounts} account(s)")
        # The same selection as one playbook parameter (a --user pattern the parameter cannot carry gets no hint).
        if any(f.credential_id for f in findings) and re.fullmatch(FILTER_PATTERN, selected.as_text()):
            say(f"contain them: responder run contain-bedrock-keys -p filter='{selected.as_text()}'{scope} --dry-run")
        _console_users(findings)


def _console_users(findings: list[KeyFinding]) -> None:
    """What to do about console-made users holding more than their key, or none."""
    from responder.actions.console_users import CONSOLE_FLAGS, NO_KEY

    flagged = {f.user_name: f for f in findings if set(f.flags) & set(CONSOLE_FLAGS)}
    for name, finding in sorted(flagged.items()):
        if NO_KEY in finding.flags:
            say(f"console-made user {name} holds no key: review it, then aws iam delete-user --user-name {name}")
        else:
            say(
                f"console-made user {name} holds more than its key: quarantine it with responder run "
                f"leaked-long-term-key -p user_name={name} -p quarantine_user=true --dry-run"
            )

"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from responder.cli.output import TEXT_JSON, output_option, query_option
from responder.engine.journal.runs import default_runs_dir
from responder.engine.running.concurrency import MAX_CONCURRENCY


def from_environment(ctx: typer.Context, names: tuple[str, ...]) -> frozenset[str]:
    """Which of these options came from the environment (AWS_ENDPOINT_URL, AWS_REGION), not a command line."""
    sources = {name: ctx.get_parameter_source(name) for name in names}
    return frozenset(name for name, source in sources.items() if source is not None and source.name == "ENVIRONMENT")


PROFILE_HELP = "AWS profile to use."
REGION_HELP = "AWS region (IAM is global)."
ENDPOINT_HELP = "Send AWS requests here (e.g. the sandbox)."
RUNS_DIR_HELP = "Where runs (audit logs, reports) are kept. Default: $XDG_STATE_HOME/responder/runs."

Profile = Annotated[
    str | None,
    typer.Option("--profile", envvar="AWS_PROFILE", metavar="NAME", help=PROFILE_HELP),
]
Region = Annotated[
    str | None,
    typer.Option(
        "--region",
        envvar=["AWS_REGION", "AWS_DEFAULT_REGION"],
        metavar="REGION",
        help=REGION_HELP,
    ),
]
EndpointUrl = Annotated[
    str | None,
    typer.Option("--endpoint-url", envvar="AWS_ENDPOINT_URL", metavar="URL", help=ENDPOINT_HELP),
]
RunsDir = Annotated[
    Path | None,
    typer.Option("--runs-dir", envvar="RESPONDER_RUNS_DIR", metavar="DIR", help=RUNS_DIR_HELP),
]
Output = Annotated[str | None, output_option(TEXT_JSON)]
AcceptBrokenChain = Annotated[
    bool,
    typer.Option(
        "--accept-broken-chain",
        help="Act on a run whose audit log's hash chain is broken (edited or cut); the journal records that you did.",
    ),
]
AnchorTo = Annotated[
    str | None,
    typer.Option(
        "--anchor",
        metavar="S3_URL",
        help="Also write the audit chain's head to an Object-Locked S3 object there (`audit verify --anchor` checks).",
    ),
]
AllowSelf = Annotated[
    bool,
    typer.Option(
        "--allow-self",
        help="Deny or revoke the principal your own credentials are (your session stops mid-run); journaled.",
    ),
]
Query = Annotated[str | None, query_option()]


FromFormat = Annotated[
    str | None,
    typer.Option(
        "--from",
        metavar="FORMAT",
        help="Read the keys from an alert file of this format: gitleaks, gitleaks-sarif, trufflehog, "
        "detect-secrets, github, guardduty, keys.",
    ),
]
Repo = Annotated[
    Path,
    typer.Option(
        "--repo",
        metavar="DIR",
        help="With --from: the repository the alert's paths are in (default: here); no file outside it is read.",
    ),
]


def runs_dir_or_default(runs_dir: Path | None) -> Path:
    return runs_dir if runs_dir is not None else default_runs_dir()


Accounts = Annotated[
    Path | None,
    typer.Option(
        "--accounts",
        metavar="FILE",
        help="Fan out: every account in FILE (a line: ACCOUNT_ID or ACCOUNT_ID,ROLE_NAME), through sts:AssumeRole.",
    ),
]
Org = Annotated[
    bool, typer.Option("--org", help="Fan out: every active account of the organization (organizations:ListAccounts).")
]
Ous = Annotated[
    list[str] | None,
    typer.Option(
        "--ou",
        metavar="OU_ID",
        help="With --org: only the accounts in this organizational unit and the OUs below it; repeatable.",
    ),
]
ExcludeAccounts = Annotated[
    Path | None,
    typer.Option(
        "--exclude-accounts",
        metavar="FILE",
        help="With --org: leave out the accounts in FILE (a line: ACCOUNT_ID; # comments).",
    ),
]
ExternalId = Annotated[
    str | None,
    typer.Option(
        "--external-id",
        metavar="ID",
        envvar="RESPONDER_EXTERNAL_ID",
        help="With --accounts/--org: the ExternalId the roles' trust policies require (sts:AssumeRole).",
    ),
]
# The role the member-role template (`responder permissions --member-role-template`) creates in every account,
# carrying only the per-account policy (engine.commands.permissions.MEMBER_ROLE). Organizations' own
# OrganizationAccountAccessRole still works with --role-name, but it is AdministratorAccess.
DEFAULT_ROLE_NAME = "ResponderMemberRole"
RoleName = Annotated[
    str,
    typer.Option("--role-name", metavar="ROLE_NAME", help="With --accounts/--org: the role to assume in each account."),
]
Concurrency = Annotated[
    int,
    typer.Option(
        "--concurrency",
        metavar="N",
        help="How many steps at once (a key's group of contain-bedrock-keys is two); with --accounts/--org: "
        f"how many accounts at once (1 to {MAX_CONCURRENCY}).",
    ),
]


def fanout_targets(accounts: Path | None, org: bool, ous: list[str] | None = None, exclude: Path | None = None) -> Any:
    """Accounts (--accounts FILE), Organization (--org [--ou ...] [--exclude-accounts FILE]), or None when not
    fanning out."""
    from responder.errors import UserError

    if accounts is not None and org:
        raise UserError("give --accounts FILE or --org, not both")
    if not org and (ous or exclude is not None):
        raise UserError("--ou and --exclude-accounts choose among the organization's accounts: add --org")
    if accounts is not None:
        from responder.fanout.accounts import Accounts, read_accounts_file

        return Accounts(tuple(read_accounts_file(accounts)))
    if org:
        from responder.fanout.accounts import organization_scope

        return organization_scope(list(ous or []), exclude)
    return None

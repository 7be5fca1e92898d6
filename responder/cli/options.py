"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from responder.engine.concurrency import MAX_CONCURRENCY
from responder.engine.runs import default_runs_dir

Profile = Annotated[str | None, typer.Option("--profile", envvar="AWS_PROFILE", help="AWS profile to use.")]
Region = Annotated[
    str | None,
    typer.Option("--region", envvar=["AWS_REGION", "AWS_DEFAULT_REGION"], help="AWS region (IAM is global)."),
]
EndpointUrl = Annotated[
    str | None,
    typer.Option("--endpoint-url", envvar="AWS_ENDPOINT_URL", help="Send AWS requests here (e.g. the sandbox)."),
]
RunsDir = Annotated[
    Path | None,
    typer.Option(
        "--runs-dir",
        envvar="RESPONDER_RUNS_DIR",
        help="Where runs (audit logs, reports) are kept. Default: $XDG_STATE_HOME/responder/runs.",
    ),
]
Output = Annotated[str, typer.Option("--output", "-o", help="text, or json: exactly one JSON object on stdout.")]


def runs_dir_or_default(runs_dir: Path | None) -> Path:
    return runs_dir if runs_dir is not None else default_runs_dir()


def check_output(output: str, allowed: tuple[str, ...] = ("text", "json"), option: str = "--output") -> str:
    if output not in allowed:
        from responder.errors import UserError

        raise UserError(f"{option} must be one of: {', '.join(allowed)}")
    return output


Accounts = Annotated[
    Path | None,
    typer.Option(
        "--accounts",
        help="Fan out: every account in FILE (a line: ACCOUNT_ID or ACCOUNT_ID,ROLE_NAME), through sts:AssumeRole.",
    ),
]
Org = Annotated[
    bool, typer.Option("--org", help="Fan out: every active account of the organization (organizations:ListAccounts).")
]
# Organizations creates this role, trusting the management account, in every account it creates.
DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
RoleName = Annotated[
    str,
    typer.Option("--role-name", help="With --accounts/--org: the role to assume in each account."),
]
Concurrency = Annotated[
    int,
    typer.Option(
        "--concurrency",
        help="How many steps at once (a key's group of contain-bedrock-keys is two); with --accounts/--org: "
        f"how many accounts at once (1 to {MAX_CONCURRENCY}).",
    ),
]


def fanout_targets(accounts: Path | None, org: bool) -> Any:
    """Accounts (--accounts FILE), Organization (--org), or None when not fanning out."""
    if accounts is not None and org:
        from responder.errors import UserError

        raise UserError("give --accounts FILE or --org, not both")
    if accounts is not None:
        from responder.fanout.accounts import Accounts, read_accounts_file

        return Accounts(tuple(read_accounts_file(accounts)))
    if org:
        from responder.fanout.accounts import Organization

        return Organization()
    return None

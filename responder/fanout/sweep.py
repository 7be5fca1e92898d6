"""`responder sweep` across accounts: every long-term Bedrock key of each, read concurrently."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from responder.actions.console_users import flag_console_users
from responder.actions.key_inventory import KeyFinding, SweepFilter, sweep, user_details

if TYPE_CHECKING:
    from collections.abc import Callable

    from responder.aws.clients import AwsOptions
    from responder.fanout.accounts import FanoutScope, Target


def sweep_accounts(
    options: AwsOptions,
    keep: SweepFilter,
    older_than_days: int | None,
    scope: FanoutScope | None,
    role_name: str,
    concurrency: int,
    progress: Callable[[int, int, int], None] | None = None,
) -> tuple[list[KeyFinding], dict[str, str]]:
    """The sweep of the operator's own account (scope None), or of every account `scope` names, concurrently; with
    why each account that could not be swept was not. `progress(done, total, failed)` hears of each account."""
    from responder.aws.clients import Clients
    from responder.engine.running.failures import describe_failure
    from responder.fanout.accounts import accounts_of, check_fanout_options, in_pool, operator_of, reach

    if scope is not None:
        check_fanout_options(role_name, concurrency)
    clients = Clients(options, read_only=True)
    operator = operator_of(clients)
    if scope is None:
        return swept(clients.iam, keep, older_than_days, operator.account_id), {}
    targets = accounts_of(scope, clients)

    def one(target: Target) -> list[KeyFinding]:
        reached, _ = reach(target, operator, role_name, "responder-sweep")
        return swept(Clients(reached, read_only=True).iam, keep, older_than_days, target.account_id)

    findings: list[KeyFinding] = []
    failures: dict[str, str] = {}
    reached_accounts: set[str] = set()
    if progress is not None:
        progress(0, len(targets), 0)

    def done(target: Target, result: list[KeyFinding] | Exception) -> None:
        if isinstance(result, Exception):
            failures[target.account_id] = describe_failure(result)
        else:
            findings.extend(result)
        reached_accounts.add(target.account_id)
        if progress is not None:
            progress(len(reached_accounts), len(targets), len(failures))

    in_pool(targets, one, concurrency, done)
    return sorted(findings, key=lambda f: (f.account_id, f.user_name, f.created)), failures


def swept(iam: Any, keep: SweepFilter, older_than_days: int | None, account_id: str) -> list[KeyFinding]:
    """One account's keys, and its console-made users flagged (those holding no key as rows of their own)."""
    details = user_details(iam)  # every user, once per page: the owners' flags and the console-made users'
    findings = sweep(iam, keep, older_than_days, account_id, details=details)
    findings += flag_console_users(iam, keep, findings, account_id, details=details)
    return sorted(findings, key=lambda f: (f.account_id, f.user_name, f.created))


def as_rows(findings: list[KeyFinding]) -> list[dict[str, Any]]:
    return [{**asdict(f), "flags": ",".join(f.flags)} for f in findings]

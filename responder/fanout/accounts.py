"""Which accounts a fan-out reaches, and how: a file of account ids, or the organization; sts:AssumeRole into each;
a bounded pool of worker threads, where one account's failure never stops the others."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from responder.aws.clients import AwsOptions, Clients, assume_role, error_code
from responder.engine.running.concurrency import MAX_CONCURRENCY
from responder.errors import UserError
from responder.keys import IAM_NAME

ACCOUNT_ID = re.compile(r"\d{12}")
ROLE_NAME = IAM_NAME

R = TypeVar("R")


@dataclass(frozen=True)
class Target:
    account_id: str
    role_name: str | None = None  # None: the fan-out's --role-name

    def role_arn(self, partition: str, default_role: str) -> str:
        return f"arn:{partition}:iam::{self.account_id}:role/{self.role_name or default_role}"


@dataclass(frozen=True)
class Accounts:
    """These accounts (an --accounts file), each through its role."""

    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Organization:
    """Every active account of the organization (--org), listed once the operator's credentials are open; or of
    these organizational units and the OUs under them (--ou), less the accounts excluded (--exclude-accounts)."""

    ous: tuple[str, ...] = ()
    exclude: frozenset[str] = frozenset()


FanoutScope = Accounts | Organization  # where a fan-out or a sweep goes: never "None means everything"

OU_ID = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")  # botocore's Organizations model, ParentId
ROOT_ID = re.compile(r"r-[0-9a-z]{4,32}")


def organization_scope(ous: list[str], exclude_file: Path | None) -> Organization:
    """--org [--ou OU_ID ...] [--exclude-accounts FILE], checked before any AWS call."""
    for ou in ous:
        if not (OU_ID.fullmatch(ou) or ROOT_ID.fullmatch(ou)):
            raise UserError(f"--ou {ou!r} is not an organizational unit id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)")
    if len(set(ous)) != len(ous):
        raise UserError("--ou: the same OU is given twice")
    exclude = (
        frozenset(read_account_ids(exclude_file, "--exclude-accounts")) if exclude_file is not None else frozenset()
    )
    return Organization(tuple(ous), exclude)


def accounts_of(scope: FanoutScope, clients: Any) -> list[Target]:
    if isinstance(scope, Accounts):
        return list(scope.targets)
    if scope.ous:
        # Nested OUs (`--ou r-root --ou ou-x`) list the same account twice: once each, or two runs would race
        # in it (and a sweep would count its keys twice).
        found = list({t.account_id: t for ou in scope.ous for t in accounts_under(clients, ou)}.values())
    else:
        found = organization_accounts(clients)
    where = f"--ou {' '.join(scope.ous)}" if scope.ous else "--org"
    if not found:
        raise UserError(f"{where}: the organization lists no active account there")
    kept = [target for target in found if target.account_id not in scope.exclude]
    if not kept:
        raise UserError(f"{where}: every one of its {len(found)} active account(s) is in --exclude-accounts")
    return kept


def _entries(path: Path, option: str) -> Iterator[tuple[int, str]]:
    """A list file's lines that say something, numbered: blank lines and # comments are skipped; a file that
    cannot be read is one line saying why."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{option} {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{option} {path}: cannot read it ({type(exc).__name__})") from None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if line:
            yield number, line


def read_accounts_file(path: Path) -> list[Target]:
    """One account per line: ACCOUNT_ID or ACCOUNT_ID,ROLE_NAME; blank lines and # comments are skipped."""
    targets: list[Target] = []
    seen: dict[str, int] = {}
    for number, line in _entries(path, "--accounts"):
        parts = [part.strip() for part in line.split(",")]
        if (
            len(parts) > 2
            or not ACCOUNT_ID.fullmatch(parts[0])
            or (len(parts) == 2 and not ROLE_NAME.fullmatch(parts[1]))
        ):
            raise UserError(f"{path}:{number}: expected ACCOUNT_ID or ACCOUNT_ID,ROLE_NAME (12 digits), got {line!r}")
        if parts[0] in seen:
            raise UserError(f"{path}:{number}: account {parts[0]} is already on line {seen[parts[0]]}")
        seen[parts[0]] = number
        targets.append(Target(parts[0], parts[1] if len(parts) == 2 else None))
    if not targets:
        raise UserError(f"--accounts {path}: lists no account")
    return targets


def read_account_ids(path: Path, option: str) -> list[str]:
    """One 12-digit account id per line; blank lines and # comments are skipped (an --accounts file's ids too)."""
    ids = []
    for number, line in _entries(path, option):
        account = line.split(",", 1)[0].strip()  # an --accounts file's ACCOUNT_ID,ROLE_NAME lines are accepted
        if not ACCOUNT_ID.fullmatch(account):
            raise UserError(f"{path}:{number}: expected a 12-digit ACCOUNT_ID, got {line!r}")
        ids.append(account)
    return ids


def accounts_under(clients: Clients, parent_id: str) -> list[Target]:
    """The active accounts in an OU (or root) and in every OU below it (ListAccountsForParent, recursively)."""
    organizations = clients.client("organizations")
    found: list[Target] = []
    parents = [parent_id]
    try:
        while parents:
            parent = parents.pop()
            for page in organizations.get_paginator("list_accounts_for_parent").paginate(ParentId=parent):
                found += _active(page["Accounts"])
            paginator = organizations.get_paginator("list_organizational_units_for_parent")
            for page in paginator.paginate(ParentId=parent):
                parents += [ou["Id"] for ou in page["OrganizationalUnits"]]
    except Exception as exc:
        if error_code(exc) in ("ParentNotFoundException", "ChildNotFoundException", "InvalidInputException"):
            raise UserError(f"--ou {parent_id}: the organization has no such organizational unit") from None
        _organization_failure(
            exc,
            f"--ou {parent_id}",
            "organizations:ListAccounts (and ListAccountsForParent, ListOrganizationalUnitsForParent with --ou)",
        )
    return found


def _active(accounts: list[dict[str, Any]]) -> list[Target]:
    # `State` replaces `Status`, which AWS retired on 2026-09-09 (botocore's Organizations model says so).
    return [Target(a["Id"]) for a in accounts if (a.get("State") or a.get("Status")) == "ACTIVE"]


def _organization_failure(exc: Exception, where: str, needs: str) -> NoReturn:
    """What an Organizations refusal means for the operator, in one line; anything else is raised as it is."""
    code = error_code(exc)
    if code == "AWSOrganizationsNotInUseException":
        raise UserError(
            f"{where}: your account is not in an organization; list accounts with --accounts FILE"
        ) from None
    if code in ("AccessDenied", "AccessDeniedException"):
        raise UserError(
            f"{where} needs {needs}, from the management account or a delegated administrator; or list the accounts "
            "with --accounts FILE"
        ) from None
    raise exc


def organization_accounts(clients: Clients) -> list[Target]:
    """The organization's active accounts (organizations:ListAccounts, from the management account or a
    delegated administrator)."""
    targets = []
    try:
        for page in clients.client("organizations").get_paginator("list_accounts").paginate():
            targets += _active(page["Accounts"])
    except Exception as exc:
        _organization_failure(exc, "--org", "organizations:ListAccounts")
    return targets


@dataclass(frozen=True)
class Operator:
    """Who fans out: their options, account, partition and an STS client every worker thread shares."""

    options: AwsOptions
    account_id: str
    partition: str
    sts: Any

    @classmethod
    def of(cls, clients: Clients, account_id: str, partition: str) -> Operator:
        # The region the operator's profile resolved to: assumed-role sessions have no profile to read it from.
        options = dataclasses.replace(clients.options, region=clients.region)
        return cls(options, account_id, partition, clients.sts)


def operator_of(clients: Clients) -> Operator:
    identity = clients.sts.get_caller_identity()
    return Operator.of(clients, identity["Account"], identity["Arn"].split(":")[1])


def reach(target: Target, operator: Operator, role_name: str, session_name: str) -> tuple[AwsOptions, str | None]:
    """Options for working in the target account, and the role assumed (None: the operator's own account, where
    the operator's credentials are used as they are: the management account has no role to assume)."""
    if target.account_id == operator.account_id:
        return operator.options, None
    role_arn = target.role_arn(operator.partition, role_name)
    return assume_role(operator.options, role_arn, session_name, operator.sts), role_arn


def in_pool(
    targets: Sequence[Target],
    work: Callable[[Target], R],
    concurrency: int,
    on_done: Callable[[Target, R | Exception], None],
) -> None:
    """Run work(target) for every target, at most `concurrency` at once. on_done runs in the calling thread, one
    at a time, as each finishes: with the result, or the exception that target raised (others carry on)."""
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="account")
    try:
        futures = {pool.submit(work, target): target for target in targets}
        for future in as_completed(futures):
            try:
                outcome: R | Exception = future.result()
            except Exception as exc:  # one account's failure is that account's result
                outcome = exc
            on_done(futures[future], outcome)
    except BaseException:
        # Interrupted (Ctrl-C): start no other account; those under way finish (a thread cannot be stopped
        # mid-call), and their runs are found by resume and rollback, reported or not.
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def check_fanout_options(role_name: str, concurrency: int) -> None:
    """Before any AWS call: a fan-out's options are bad input, not an account's failure."""
    if not ROLE_NAME.fullmatch(role_name):
        raise UserError(f"--role-name {role_name!r} is not an IAM role name")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise UserError(f"--concurrency must be 1 to {MAX_CONCURRENCY}, got {concurrency}")

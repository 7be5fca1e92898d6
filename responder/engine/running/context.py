"""Where a run stands: the settings this process runs with, and the context an account gives its actions."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from responder.actions.base import ActionContext, Identity
from responder.actions.reads import in_background
from responder.actions.targets import ChangeTarget
from responder.aws.clients import AwsOptions, Clients
from responder.engine.journal.locks import LOCK_WAIT_SECONDS, LockSet
from responder.engine.journal.writer import Listener
from responder.engine.running.concurrency import DEFAULT_CONCURRENCY
from responder.engine.running.executor import VERIFY_DELAYS
from responder.errors import (
    UserError,
)


@dataclass(frozen=True)
class Settings:
    """How this process runs playbooks. Frozen: a callee that needs other settings makes them with
    dataclasses.replace, so what the caller holds never changes under it."""

    runs_dir: Path
    aws: AwsOptions = field(default_factory=AwsOptions)
    listeners: list[Listener] = field(default_factory=list)
    verify_delays: tuple[float, ...] = VERIFY_DELAYS
    lock_wait: float = LOCK_WAIT_SECONDS
    lock_root: Path | None = None  # where locks live, when not runs_dir (a fan-out's account runs share the top's)
    concurrency: int = DEFAULT_CONCURRENCY  # steps in flight at once within one account's run
    aws_from_env: frozenset[str] = frozenset()  # "endpoint_url", "region": given by the environment, not the CLI
    # Listeners every journal of the run calls, a fan-out's account runs included (the crash-safety tests' hook).
    hooks: tuple[Listener, ...] = ()
    accept_broken_chain: bool = False  # --accept-broken-chain: act on a journal whose hash chain is broken (journaled)
    allow_self: bool = False  # --allow-self: deny or revoke the operator's own principal (journaled)

    @property
    def journal_listeners(self) -> list[Listener]:
        return [*self.listeners, *self.hooks]

    @property
    def locks_in(self) -> Path:
        return self.lock_root or self.runs_dir

    open_clients: Callable[[AwsOptions, bool], Clients] = Clients  # tests wrap it to watch requests


def open_context(settings: Settings, read_only: bool, reactivate_keys: bool = False) -> ActionContext:
    """Clients for the operator's account; who the operator is (sts:GetCallerIdentity) is asked at once and
    answered in the background, so the first reads need not wait for it."""
    clients = settings.open_clients(settings.aws, read_only)
    clients.iam  # noqa: B018  # made here, on this thread, while the identity is asked on another
    return ActionContext(clients, in_background(functools.partial(_identity, clients)), reactivate_keys)


def _identity(clients: Clients) -> Identity:
    answer = clients.sts.get_caller_identity()
    return Identity(answer["Account"], answer["Arn"])


def with_run_endpoint(aws: AwsOptions, facts: dict[str, Any], from_env: frozenset[str] = frozenset()) -> AwsOptions:
    """The endpoint and region a run (or plan) used, unless the command line gives others: a sandbox run stays in
    the sandbox, and an exported AWS_ENDPOINT_URL or AWS_REGION that differs is refused rather than followed."""
    chosen: dict[str, Any] = {}
    for name, option in (("endpoint_url", "--endpoint-url"), ("region", "--region")):
        given, recorded = getattr(aws, name), facts.get(name)
        if name in from_env and given != recorded and (recorded is not None or name == "endpoint_url"):
            raise UserError(
                f"the run used {option.lstrip('-')} {recorded or 'of AWS itself'}, but the environment sets {given}: "
                f"unset it, or give {option} on the command line to choose"
            )
        chosen[name] = given if given is not None and name not in from_env else (recorded or given)
    return dataclasses.replace(aws, **chosen)


def lock_names(account_id: str | None, targets: list[ChangeTarget]) -> list[str]:
    """Lock names, one per thing a responder guards: ACCOUNT/user/NAME or ACCOUNT/role/NAME for a principal (and its
    credentials), ACCOUNT/setting/REGION/NAME for an account-region setting, ACCOUNT/resource/ARN for a resource."""
    return list(dict.fromkeys(f"{account_id}/{t.lock}" for t in targets))


def run_lock(run_id: str) -> str:
    """The lock a run's process holds for as long as it lives (and a resume or rollback of it while they act): how
    a command racing the run knows it is live, and waits for it or refuses."""
    return f"run/{run_id}"


def hold_targets(locks: LockSet, ctx: ActionContext, targets: list[ChangeTarget]) -> None:
    locks.hold(lock_names(ctx.account_id, targets))

"""A change's snapshot read before its inputs are final, so that its reads go out with the first ones.

A run that applies sends the deny as soon as the key's user is resolved; the deny's own reads (the user's
policies) would cost a round trip of their own after that. But the resolving step knows the user before it
asks AWS anything (the key names it: `Action.known_before`), and the key names its account. So, while the
resolving step and `GetCallerIdentity` are out, the change's snapshot is read with those guesses. It is used
only if the change's final arguments are the ones guessed and the operator's account is the key's; otherwise it
is dropped and the change reads afresh. Nothing is sent on a guess: the change itself still waits for every
step it references, and it is journaled with its snapshot before it is sent, as every change is.

The read comes before the change's lock, as the key's listing the deactivation reuses does: a second responder
changing the same principal in that same instant could make it stale (the lock is taken before the change).
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from responder.actions.base import Action, ActionContext, ActionParams, Identity
from responder.actions.reads import in_background
from responder.playbook.model import Step
from responder.playbook.refs import Ref, refs_in


@dataclass(frozen=True)
class _Early:
    params: dict[str, Any]
    account_id: str | None  # the account the read assumed, when the identity had not answered
    partition: str
    snapshot: Future[Any]


class ReadAhead:
    """The early snapshots of one run's changes, by step id."""

    def __init__(self, ctx: ActionContext, key: Any) -> None:
        self.ctx = ctx
        self._account: str | None = getattr(key, "account_id", None)  # a long-term key names its account
        self._known: dict[str, dict[str, Any]] = {}  # step id -> outputs it knows before asking AWS
        self._early: dict[str, _Early] = {}

    def bound(self, step: Step, action: Action[Any, Any], params: ActionParams) -> None:
        """A step was bound: remember what it will output whatever AWS answers."""
        known = action.known_before(params)
        if known:
            self._known[step.id] = known

    def guess_scope(self, step: Step, scope: dict[str, Any]) -> dict[str, Any] | None:
        """The scope the step would bind in if the steps it waits for output what they know already; None when
        any reference of the step is to an output not known yet."""
        steps = dict(scope["steps"])
        for ref in _step_refs(step):
            if ref.step in steps:
                continue
            known = self._known.get(ref.step, {})
            if ref.name not in known:
                return None
            steps[ref.step] = known
        return {**scope, "steps": steps}

    def start(self, step: Step, action: Action[Any, Any], params: ActionParams) -> None:
        """Read the change's snapshot now, in the background, assuming the key's account."""
        ctx = self.ctx
        if self._account is not None:
            ctx = ActionContext(self.ctx.clients, Identity(self._account, f"arn:aws:iam::{self._account}:root"))
            ctx.reads = self.ctx.reads
        snapshot = in_background(lambda: action.snapshot(ctx, params))
        self._early[step.id] = _Early(params.model_dump(mode="json"), self._account, ctx.partition, snapshot)

    def take(self, step: Step, params: ActionParams) -> Any | None:
        """The early snapshot, if it was read with exactly these arguments in the operator's account."""
        early = self._early.pop(step.id, None)
        if early is None or early.params != params.model_dump(mode="json"):
            return None
        if early.account_id is not None and (self.ctx.account_id, self.ctx.partition) != (
            early.account_id,
            early.partition,
        ):
            return None
        if early.snapshot.exception() is not None:  # read again, so a failure is reported where it belongs
            return None
        return early.snapshot.result()


def _step_refs(step: Step) -> list[Ref]:
    found = refs_in(step.with_)
    if not isinstance(step.when, bool):
        found += refs_in(step.when)
    return [r for r in found if r.kind == "steps"]

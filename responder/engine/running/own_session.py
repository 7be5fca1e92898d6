"""The operator's own principal: revoking its sessions or denying it stops the run that does it.

A short-term key signed by the role the operator is using today: revoking that role's older sessions revokes the
operator's own mid-run, and the verification, the report's reads and any rollback then fail. Before such a change
(and in a dry run, before it is shown as the plan) the change's principal is compared with the caller's identity,
which the run asked AWS for at its start (sts:GetCallerIdentity): no request is added.
"""

from __future__ import annotations

from typing import Any

from responder.actions.base import Action, ActionContext, ActionParams
from responder.engine.journal import events as j
from responder.engine.journal.writer import Journal
from responder.errors import UserError

ALLOW_SELF = "--allow-self"


def caller_principal(arn: str) -> str | None:
    """`role/NAME` for a role session (arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION), `user/NAME` for an IAM user
    (arn:aws:iam::ACCOUNT:user/PATH/NAME); None for the root user, a federated user, or anything else."""
    resource = arn.split(":", 5)[5] if arn.count(":") >= 5 else ""
    kind, _, rest = resource.partition("/")
    if kind == "assumed-role" and rest:
        return f"role/{rest.split('/')[0]}"
    if kind == "user" and rest:
        return f"user/{rest.rsplit('/', 1)[-1]}"
    return None


def check_not_self(
    action: Action[Any, Any], params: ActionParams, ctx: ActionContext, step_id: str, allow: bool, journal: Journal
) -> None:
    """Refuse (UserError: one line, the run rejected) a step that would deny, revoke or deactivate the operator's own
    principal; with --allow-self, journal that the operator chose to and go on."""
    if not action.mutating or action.stops != "principal":
        return
    identity = ctx.identity
    own = caller_principal(identity.arn)
    if own is None or own not in {target.owner for target in action.targets(params)}:
        return
    if allow:
        journal.record(j.SELF_CHANGE_ALLOWED, step=step_id, action=action.name, principal=own, operator=identity.arn)
        return
    raise UserError(
        f"step {step_id} ({action.name}) acts on {own}, the principal your own credentials belong to "
        f"({identity.arn}): revoking or denying it can cut off this run, its verification and any rollback. Run "
        f"responder as another role or user, or pass {ALLOW_SELF} to go on (journaled); nothing was changed by it"
    )

"""Who started each Bedrock job and bought each provisioned throughput, from CloudTrail's `Create*` events.

A long-term key's window runs from the credential's creation, possibly months: stopping every job of the window would
stop the team's work. `List*` does not say who created a job; CloudTrail's `CreateModelCustomizationJob`,
`CreateModelInvocationJob`, `CreateEvaluationJob` and `CreateProvisionedModelThroughput` events do, with the new
ARN in `responseElements`. Each is read once a run per region and event name (`LookupEvents` by `EventName`, paced
by the clients at CloudTrail's 2 requests a second, shared through the run's ReadCache by the listing, the stop and
the delete steps), and only for the kinds a listing found. A refused lookup is said with its permission: the jobs
it would have attributed are listed with their command, never changed. Every value here is CloudTrail's, so the
attacker's: shown inert, and acted on only when the ARN matches what Bedrock itself listed.
"""

from __future__ import annotations

import functools
from datetime import datetime, timezone
from typing import Any, Literal, NamedTuple

from pydantic import Field

from responder.actions.base import ActionContext, ActionSnapshot
from responder.actions.cloudtrail import LOOKBACK, lookup, principal_of
from responder.actions.cloudtrail_records import actor_of
from responder.actions.reads import together
from responder.aws.clients import ClientError, error_code
from responder.inert import plain

JobKind = Literal["customization", "batch", "evaluation", "throughput"]

# What a listing found -> the CloudTrail event that created it, and the responseElements field naming its ARN
# (botocore's bedrock model: each Create* operation's output member).
CREATED_BY: dict[str, tuple[str, str]] = {
    "customization": ("CreateModelCustomizationJob", "jobArn"),
    "batch": ("CreateModelInvocationJob", "jobArn"),
    "evaluation": ("CreateEvaluationJob", "jobArn"),
    "throughput": ("CreateProvisionedModelThroughput", "provisionedModelArn"),
}
MAX_CREATE_EVENTS = 1000  # per region and event name: a window with more Create* calls is said to be cut


class Creator(ActionSnapshot):
    """Whoever CloudTrail says created one job or throughput; `mine` says whether it is the key's principal."""

    actor: str | None = None  # the ARN CloudTrail's userIdentity names
    principal: str | None = None  # "user/NAME" or "role/NAME" (any session of the role)
    event_id: str | None = None
    mine: bool = False


class Attribution(ActionSnapshot):
    """Each ARN's creator; and why some could not be attributed (a refused lookup: where, what, permission)."""

    creators: dict[str, Creator] = Field(default_factory=dict)
    refused: list[dict[str, Any]] = Field(default_factory=list)


class KeyOwner(NamedTuple):
    """The key's principal as `Creator.principal` names it ("user/NAME" or "role/NAME") and, for a short-term key,
    the access key that signed it. Then only what that access key created is the key's: another session of the same
    role, or another access key of the same user, is a workload of the team's as far as anyone knows (a role such as
    a chat app's may start batch jobs every night)."""

    principal: str
    access_key: str | None = None


def key_owner(user_name: str | None, role_name: str | None, signed_by: str | None = None) -> KeyOwner | None:
    """The key's owner; None: unknown (nothing is changed)."""
    principal = f"role/{role_name}" if role_name else f"user/{user_name}" if user_name else None
    return KeyOwner(principal, signed_by) if principal else None


def _is_owner(owner: KeyOwner | None, named: str | None, record: dict[str, Any]) -> bool:
    if owner is None or named != owner.principal:
        return False
    identity = record.get("userIdentity")
    used = identity.get("accessKeyId") if isinstance(identity, dict) else None
    return owner.access_key is None or used == owner.access_key


def _created(
    ctx: ActionContext, region: str, kind: str, since: datetime, owner: KeyOwner | None
) -> tuple[dict[str, Creator], dict[str, Any] | None]:
    from responder.actions.trail_coverage import DENIED, problem  # off containment's import path

    event, field = CREATED_BY[kind]
    now = datetime.now(timezone.utc)
    start = max(since, now - LOOKBACK)
    key = ("bedrock-created", region, event, start.isoformat())
    try:
        records, cut = ctx.reads.get(
            key, lambda: lookup(ctx, region, "EventName", event, start, now, MAX_CREATE_EVENTS)
        )
    except ClientError as exc:
        if error_code(exc) not in DENIED:
            raise
        return {}, {"region": region, **problem(exc, "cloudtrail:LookupEvents", f"{event} events in {region}")}
    found: dict[str, Creator] = {}
    for record in records:
        response = record.get("responseElements")
        arn = response.get(field) if isinstance(response, dict) and not record.get("errorCode") else None
        if not isinstance(arn, str) or not arn:
            continue
        who = principal_of(record)
        named = f"{who[0]}/{who[1]}" if who else None
        found[arn] = Creator(
            actor=actor_of(record),
            principal=named,
            event_id=str(record.get("eventID")),
            mine=_is_owner(owner, named, record),
        )
    if cut:  # newest first: what the cap left unread is the oldest, never read as "nobody"
        why = f"more than {MAX_CREATE_EVENTS} since the window began, the oldest not read"
        return found, {"region": region, "what": f"{event} events in {region}", "permission": "", "why": why}
    return found, None


def attribute(ctx: ActionContext, found: list[tuple[str, str]], since: datetime, owner: KeyOwner | None) -> Attribution:
    """The creators of what was found, `found` being (kind, region) pairs: one lookup per pair, all at once."""
    wanted = list(dict.fromkeys(found))
    answers = together(*(functools.partial(_created, ctx, region, kind, since, owner) for kind, region in wanted))
    out = Attribution()
    for creators, refused in answers:
        out.creators.update(creators)
        if refused is not None:
            out.refused.append(refused)
    return out


def decided(arn: str, region: str, kind: str, attribution: Attribution, owner: KeyOwner | None) -> tuple[bool, str]:
    """Whether responder may change this one (its creator is the key's owner), and the sentence saying why not."""
    creator = attribution.creators.get(arn)
    by = "created by" if kind == "throughput" else "started by"
    if creator is not None and creator.mine:
        signed = " with the access key that signed the key" if owner is not None and owner.access_key else ""
        return True, f"{by} the key's principal{signed} ({plain(creator.actor or (owner and owner.principal) or '')})"
    if creator is not None and owner is not None and creator.principal == owner.principal:
        actor = plain(creator.actor or creator.principal)
        return False, f"{by} {actor}, the key's principal but not the access key that signed the key, not changed"
    if creator is not None:
        return False, f"{by} {plain(creator.actor or creator.principal or 'another principal')}, not changed"
    if owner is None:
        return False, "the key's principal is unknown: not changed"
    event = CREATED_BY[kind][0]
    refused = next((p for p in attribution.refused if p.get("region") == region and event in p["what"]), None)
    if refused is not None:
        read = "were not all read" if not refused["permission"] else "could not be read"
        return (
            False,
            f"creator unknown: CloudTrail's {event} events in {region} {read} ({plain(refused['why'])}): not changed",
        )
    return False, f"creator unknown: no {event} event in CloudTrail names it (90 days kept): not changed"

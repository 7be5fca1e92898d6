"""CloudTrail actions: who a short-term key belongs to, and what a leaked key did. Read-only."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from pydantic import Field

from responder.actions.attack_stages import IAM, entitlement_follow_ups, names_principal
from responder.actions.base import Action, ActionContext, ActionParams, ActionSnapshot, Regions, StepPlan
from responder.actions.cloudtrail_records import (
    SSO_ROLE_PREFIX,
    ActivitySnapshot,
    counts_text,
    event_line,
    summarise,
)
from responder.actions.iam_principals import ACCESS_KEY_ID, ROLE_NAME, USER_NAME
from responder.actions.reads import in_background, together
from responder.actions.registry import register
from responder.aws.clients import ClientError, error_code
from responder.clock import parse_time
from responder.errors import UserError
from responder.keys import ShortTermKey, family_named

GLOBAL_REGION = "us-east-1"  # IAM and STS events land here
LOOKBACK = timedelta(days=90)  # LookupEvents sees 90 days of management events


def pages(
    ctx: ActionContext,
    region: str,
    key: str,
    value: str,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Pages of events (parsed CloudTrailEvent records) for one attribute in one region, newest first.
    boto3's paginator handles NextToken; the clients pace LookupEvents to CloudTrail's 2 requests a second."""
    client = ctx.clients.client_in("cloudtrail", region)
    kwargs: dict[str, Any] = {"LookupAttributes": [{"AttributeKey": key, "AttributeValue": value}]}
    if start is not None:
        kwargs["StartTime"] = start
    if end is not None:
        kwargs["EndTime"] = end
    for page in client.get_paginator("lookup_events").paginate(**kwargs):
        yield [json.loads(event["CloudTrailEvent"]) for event in page.get("Events", [])]


def lookup(
    ctx: ActionContext,
    region: str,
    key: str,
    value: str,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 1000,
) -> tuple[list[dict[str, Any]], bool]:
    """Up to `limit` events for one attribute in one region, newest first; and whether `limit` cut it short."""
    records: list[dict[str, Any]] = []
    for page in pages(ctx, region, key, value, start, end):
        records += page
        if len(records) >= limit:
            return records[:limit], True  # there may be more: the cap stopped the reading
    return records, False


def first_principal(ctx: ActionContext, regions: list[str], access_key_id: str) -> tuple[str, str] | None:
    """The principal the first CloudTrail event naming the access key shows, searching every region at once and
    stopping at the first answer: resolving the key is on containment's path, reading its history is not."""
    found: list[tuple[str, str]] = []
    stop = threading.Event()

    def search(region: str) -> None:
        for page in pages(ctx, region, "AccessKeyId", access_key_id):
            if stop.is_set():
                return
            named = next((p for p in map(principal_of, page) if p is not None), None)
            if named is not None:
                found.append(named)
                stop.set()
                return

    together(*(functools.partial(search, region) for region in regions))
    return found[0] if found else None


def principal_of(record: dict[str, Any]) -> tuple[str, str] | None:
    """('role', name) or ('user', name) from a CloudTrail userIdentity, as the containment needs it."""
    identity = record.get("userIdentity", {})
    kind = identity.get("type")
    issuer = identity.get("sessionContext", {}).get("sessionIssuer", {})
    if kind == "AssumedRole" and issuer.get("userName"):
        return "role", str(issuer["userName"])
    if kind == "IAMUser" and identity.get("userName"):
        return "user", str(identity["userName"])
    if kind == "FederatedUser" and issuer.get("userName"):  # GetFederationToken: the issuing IAM user
        return "user", str(issuer["userName"])
    return None


class ResolveShortParams(ActionParams):
    key: ShortTermKey | None = None
    role_name: str | None = Field(default=None, pattern=ROLE_NAME)
    user_name: str | None = Field(default=None, pattern=USER_NAME)
    regions: Regions = Field(default_factory=list)


class ShortTermPrincipal(ActionSnapshot):
    """Whose credentials signed the key: a role or an IAM user, as the run found it."""

    kind: Literal["role", "user"]
    name: str
    notes: list[str] = Field(default_factory=list)


@register
class ResolveShortTermKey(Action[ResolveShortParams, ShortTermPrincipal]):
    name = "cloudtrail.resolve-short-term-key"
    summary = "Find the role or IAM user whose credentials signed a short-term key (read-only)"
    Params = ResolveShortParams
    Snapshot = ShortTermPrincipal
    permissions = (
        "sts:GetAccessKeyInfo",
        "iam:GetAccessKeyLastUsed",
        "iam:GetRole",
        "iam:GetUser",
        "cloudtrail:LookupEvents",
    )
    reversible = True
    mutating = False
    outputs = (
        "principal_type",
        "role_name",
        "user_name",
        "access_key_id",
        "signing_access_key_id",
        "is_role",
        "is_user",
        "has_user_access_key",
        "issued_at",
        "expires_at",
        "expired",
        "regions",
        "key_regions",
        "bearer_actions",
        "deny_policy_name",
        "family",
    )

    def snapshot(self, ctx: ActionContext, params: ResolveShortParams) -> ShortTermPrincipal:
        key = params.key
        if params.role_name and params.user_name:
            raise UserError("name one principal: -p role_name=... or -p user_name=..., not both")
        if key is None and not (params.role_name or params.user_name):
            raise UserError(
                "give the leaked key with --key-file FILE, or name its principal: -p role_name=... or -p user_name=..."
            )
        notes: list[str] = []
        if key is not None:
            owner = ctx.clients.sts.get_access_key_info(AccessKeyId=key.access_key_id)["Account"]
            if owner != ctx.account_id:
                raise UserError(
                    f"the key was signed by an access key of account {owner}, but your credentials are "
                    f"for account {ctx.account_id}: use a profile in {owner}"
                )
            if key.expired():
                notes.append(
                    f"the key expired at {key.expires_at.isoformat()}, but the session or access key that "
                    "signed it may still be alive: containing its principal still matters"
                )
        if params.role_name:
            kind, name = "role", self._exists(ctx, "role", params.role_name)
        elif params.user_name:
            kind, name = "user", self._exists(ctx, "user", params.user_name)
        else:
            assert key is not None  # checked above
            kind, name = self._from_key(ctx, key, self._regions(key, params.regions))
        if kind == "role" and name.startswith(SSO_ROLE_PREFIX):
            raise UserError(
                f"role {name} belongs to IAM Identity Center and refuses inline policies (UnmodifiableEntity): "
                "add the bearer-token deny (and an aws:TokenIssueTime revocation) to the permission set's inline "
                "policy in IAM Identity Center and re-provision it; ending portal sessions does not end role "
                "credentials already issued (see runbooks/leaked-short-term-key.md)"
            )
        return ShortTermPrincipal.model_validate({"kind": kind, "name": name, "notes": notes})

    def _exists(self, ctx: ActionContext, kind: str, name: str) -> str:
        try:
            (ctx.clients.iam.get_role(RoleName=name) if kind == "role" else ctx.clients.iam.get_user(UserName=name))
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                raise UserError(f"IAM {kind} {name!r} does not exist in account {ctx.account_id}") from None
            raise
        return name

    @staticmethod
    def _regions(key: ShortTermKey | None, extra: list[str]) -> list[str]:
        """Where to look: the token's region, us-east-1 (IAM and STS events), and any the operator named."""
        return list(dict.fromkeys([*([key.region] if key else []), GLOBAL_REGION, *extra]))

    def _from_key(self, ctx: ActionContext, key: ShortTermKey, searched: list[str]) -> tuple[str, str]:
        if key.signer == "iam-user":
            try:
                user = ctx.clients.iam.get_access_key_last_used(AccessKeyId=key.access_key_id).get("UserName")
            except ClientError as exc:
                if error_code(exc) != "NoSuchEntity":
                    raise
                user = None
            if not user:
                raise UserError(
                    f"access key {key.access_key_id} is not an access key of any user in account "
                    f"{ctx.account_id} (already deleted?)"
                )
            return "user", str(user)
        if key.signer != "role-session":
            raise UserError(
                f"access key id {key.access_key_id} is neither ASIA... nor AKIA...: name the principal "
                "with -p role_name=... or -p user_name=..."
            )
        found = first_principal(ctx, searched, key.access_key_id)
        if found is not None:
            return found
        raise UserError(
            f"no CloudTrail event in {', '.join(searched)} names access key {key.access_key_id} yet (events take "
            "5 to 15 minutes to appear, and only calls the session made are recorded): name the principal with "
            "-p role_name=... (or -p user_name=...), e.g. from whoever ran the workload, or retry later"
        )

    def plan(self, ctx: ActionContext, params: ResolveShortParams, snapshot: ShortTermPrincipal) -> StepPlan:
        key, kind, name = params.key, snapshot.kind, snapshot.name
        user_key = key.access_key_id if key is not None and key.signer == "iam-user" and kind == "user" else None
        notes = [f"the key's principal is {kind} {name}", *snapshot.notes]
        if kind == "user" and key is not None and key.signer == "role-session":
            notes.append("temporary credentials of an IAM user: the deny on the user stops them")
        return StepPlan(
            outputs={
                "principal_type": kind,
                "role_name": name if kind == "role" else None,
                "user_name": name if kind == "user" else None,
                "access_key_id": user_key,
                "signing_access_key_id": key.access_key_id if key else None,
                "is_role": kind == "role",
                "is_user": kind == "user",
                "has_user_access_key": user_key is not None,
                "issued_at": key.issued_at if key else None,
                "expires_at": key.expires_at if key else None,
                "expired": key.expired() if key else None,
                "regions": self._regions(key, params.regions),
                # Where the key works (its own region only) and any the operator named: the account-region
                # settings a foothold step puts back (us-east-1 is searched for IAM's events, not for this).
                "key_regions": list(dict.fromkeys([*([key.region] if key else []), *params.regions])),
                # What the deny steps deny: the key's family's bearer actions (Bedrock's without a key).
                "bearer_actions": list(family_named(key.family if key else None).bearer_actions),
                "deny_policy_name": family_named(key.family if key else None).deny_policy_name,
                "family": family_named(key.family if key else None).name,
            },
            notes=notes,
        )


class InvestigateParams(ActionParams):
    user_name: str | None = Field(default=None, pattern=USER_NAME)
    role_name: str | None = Field(default=None, pattern=ROLE_NAME)  # whose IAM changes to read, for a role
    access_key_id: str | None = Field(default=None, pattern=ACCESS_KEY_ID)
    since: datetime | None = None
    until: datetime | None = None
    contained_at: datetime | None = None
    regions: Regions = Field(default_factory=list)
    max_events: int = Field(default=1000, ge=1, le=100_000)
    family: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]*$")  # the key's family; None: Bedrock
    # Also what the account could see and what it cost (trails' selectors, invocation logging, metrics, Cost
    # Explorer): the run's own investigation; a re-check after it (`responder investigate`) reads only the events.
    sizing: bool = True


def visibility_note(family_name: str | None) -> str:
    """What LookupEvents cannot see of the family's bearer calls: data events are recorded only by a trail."""
    family = family_named(family_name)
    caveats = [s.caveat for s in family.data_event_sources if s.caveat]
    if caveats:  # the family says what exactly LookupEvents misses (Bedrock: only Mantle's inference)
        return "; ".join(caveats)
    hidden = ", ".join(f"{s.source} ({s.data_resource_type or 'data events'})" for s in family.data_event_sources)
    return (
        f"{family.title}'s bearer-token calls are CloudTrail data events ({hidden}): LookupEvents never returns "
        "them, so they are not counted here; search a trail or a CloudTrail Lake event data store that records "
        "these data events"
    )


@register
class InvestigateKeyActivity(Action[InvestigateParams, ActivitySnapshot]):
    name = "cloudtrail.investigate-key-activity"
    summary = (
        "Summarise the Bedrock and Bedrock Mantle calls made with a bearer token by the key's principal, keeping "
        "every event read (read-only)"
    )
    Params = InvestigateParams
    Snapshot = ActivitySnapshot
    # Where to look and what the account could see (trail_coverage, lake_coverage, bedrock_visibility), what it cost
    # (bedrock_usage): reads only, after containment.
    permissions = (
        "cloudtrail:LookupEvents",
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetEventSelectors",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:ListEventDataStores",
        "cloudtrail:GetEventDataStore",
        "account:ListRegions",
        "bedrock:GetModelInvocationLoggingConfiguration",
        "cloudwatch:ListMetrics",
        "cloudwatch:GetMetricData",
        "ce:GetCostAndUsage",
    )
    reversible = True
    mutating = False
    outputs = ("activity", "events")
    volatile = True
    report_output = "activity"

    def snapshot(self, ctx: ActionContext, params: InvestigateParams) -> ActivitySnapshot:
        return read_activity(ctx, params)

    def plan(self, ctx: ActionContext, params: InvestigateParams, snapshot: ActivitySnapshot) -> StepPlan:
        if snapshot.by is None:
            note = "nothing to look up by: give the key (its access key id) or a user name to investigate"
            return StepPlan(outputs={"activity": None, "events": []}, notes=[note, visibility_note(params.family)])
        sources = tuple(s.source for s in family_named(params.family).event_sources)
        activity = summarise(snapshot, params.contained_at, sources)
        notes = [
            f"{activity['bearer_token_calls']} call(s) made with a bearer token "
            f"({counts_text(activity['by_source'])}; {snapshot.by}, {', '.join(snapshot.regions)})",
            visibility_note(params.family),
        ]
        for gap in snapshot.unsearched:
            notes.append(f"could not search {gap['what']} ({gap['why']}): what the key did there is unknown")
        if not params.regions and len(snapshot.regions) == 1:
            notes.append(
                f"searched only {', '.join(snapshot.regions)} (no trail covers another region): the key may have "
                "been used elsewhere too; a run given --regions REGION,REGION searches there as well"
            )
        if snapshot.done_to_it:
            notes.append(f"{snapshot.done_to_it} IAM change(s) to the principal made by any actor, read too")
        if snapshot.cap_hit:
            notes.append(f"stopped at {params.max_events} events (max_events): there may be more")
        if snapshot.capped_window:
            notes.append("LookupEvents keeps 90 days: older activity is not covered")
        notes += entitlement_follow_ups(snapshot.records)
        events = [event_line(r, params.contained_at) for r in snapshot.records]
        return StepPlan(outputs={"activity": activity, "events": events}, notes=notes)


def read_activity(ctx: ActionContext, params: InvestigateParams) -> ActivitySnapshot:
    """The principal's events in the window, every source (Bedrock, Bedrock Mantle, IAM...) in every region."""
    now = datetime.now(timezone.utc)
    if params.access_key_id:
        attribute, value = "AccessKeyId", params.access_key_id
    elif params.user_name:
        attribute, value = "Username", params.user_name
    else:  # a role named by hand, without the key: its sessions' names are unknown
        return ActivitySnapshot()
    start = params.since or now - LOOKBACK
    capped_window = start < now - LOOKBACK
    start = max(start, now - LOOKBACK)
    end = min(params.until or now, now)
    regions = list(dict.fromkeys(params.regions or [ctx.clients.region]))
    # The IAM changes to the principal (us-east-1) go out beside the key's own events, not after them.
    changes = in_background(functools.partial(_changes_to_principal, ctx, params, start, end))
    # Loaded here, after containment: the trails, visibility and cost reads stay off the first request's path.
    from responder.actions.activity_reads import read_everywhere
    from responder.actions.trail_coverage import problem

    search = functools.partial(_lookup_in, ctx, attribute, value, start, end, params.max_events)
    found = read_everywhere(ctx, regions, search, (start, end), now, params.sizing)
    records = [record for events, _ in found.per_region for record in events]
    cap_hit = any(cut for _, cut in found.per_region) or len(records) > params.max_events
    records = records[: params.max_events]
    seen = {str(r.get("eventID")) for r in records}
    unsearched = list(found.unsearched)
    try:
        to_it, cut = changes.result()
    except ClientError as exc:
        to_it, cut = [], False
        unsearched.append({"region": GLOBAL_REGION, **problem(exc, "cloudtrail:LookupEvents", "IAM changes")})
    done_to_it = [r for r in to_it if str(r.get("eventID")) not in seen]
    return ActivitySnapshot(
        records=records + done_to_it,
        window=[start.isoformat(), end.isoformat()],
        regions=found.regions,
        by=f"{attribute}={value}",
        capped_window=capped_window,
        cap_hit=cap_hit or cut,
        done_to_it=len(done_to_it),
        unsearched=unsearched,
        visibility=found.visibility,
        usage=found.usage,
    )


def _lookup_in(
    ctx: ActionContext, key: str, value: str, start: datetime, end: datetime, limit: int, region: str
) -> tuple[list[dict[str, Any]], bool]:
    return lookup(ctx, region, key, value, start, end, limit)


def _changes_to_principal(
    ctx: ActionContext, params: InvestigateParams, start: datetime, end: datetime
) -> tuple[list[dict[str, Any]], bool]:
    """IAM calls in the window that name the principal (a key or a policy given to it), whoever made them: an
    attacker holding other credentials leaves its footholds so. IAM events land in us-east-1; LookupEvents has no
    attribute for a request parameter, so IAM's events are read and those naming the principal kept."""
    kind, name = ("role", params.role_name) if params.role_name else ("user", params.user_name)
    if not name:
        return [], False
    found, cut = iam_events_since(ctx, start, params.max_events)
    return [r for r in found if names_principal(r, kind, name) and not _later(r, end)], cut


def iam_events_since(ctx: ActionContext, start: datetime, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """IAM's events (us-east-1) from `start` until now, read once a run: the investigation and the foothold steps
    share the read (LookupEvents is paced at 2 requests a second)."""
    key = ("iam-events-since", start.isoformat(), limit)
    now = datetime.now(timezone.utc)
    found: tuple[list[dict[str, Any]], bool] = ctx.reads.get(
        key, lambda: lookup(ctx, GLOBAL_REGION, "EventSource", IAM, start, now, limit)
    )
    return found


def _later(record: dict[str, Any], end: datetime) -> bool:
    when = parse_time(record.get("eventTime"))
    return when is not None and when > end

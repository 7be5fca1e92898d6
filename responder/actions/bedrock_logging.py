"""Bedrock's model invocation logging, deleted or redirected during the exposure window, put back after containment.

An attacker hides what it does with a key by deleting the region's invocation logging
(`DeleteModelInvocationLoggingConfiguration`; GuardDuty: `DefenseEvasion:IAMUser/BedrockLoggingDisabled`) or by
pointing it elsewhere (`PutModelInvocationLoggingConfiguration`). It is an account setting per region, owned by no
principal (a `SettingTarget`). A change of the window is found in the region's CloudTrail events by name; the
configuration in force before is the `loggingConfig` of the last successful Put before the window (none, if the
last call before it was a Delete), from CloudTrail's 90 days. When nothing before the window says, the earlier
configuration cannot be known: nothing is changed and the plan says so with the command to set one. The current
configuration is the snapshot, journaled before the call, so rollback puts it back exactly. A change the operator's
own identity made is the team's, never undone. Restoring a CloudWatch Logs destination also needs `iam:PassRole` on
its role, which IAM checks and no request shows: the runbook says so.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import Field

from responder.actions.base import (
    Action,
    ActionContext,
    ActionParams,
    ActionSnapshot,
    Applied,
    Change,
    ChangeTarget,
    Regions,
    StepPlan,
    UndoResult,
)
from responder.actions.cloudtrail import LOOKBACK, lookup
from responder.actions.cloudtrail_records import actor_of
from responder.actions.reads import together
from responder.actions.registry import register
from responder.actions.targets import SettingTarget
from responder.aws.clients import request_id
from responder.inert import plain

SETTING = "bedrock/model-invocation-logging"
PUT, DELETE = "PutModelInvocationLoggingConfiguration", "DeleteModelInvocationLoggingConfiguration"
# A run that names no region changes the run's own region, unknown until its clients are open: such runs share
# one lock (conservative: two of them in different regions wait for each other).
RUN_REGION = "run-region"


class LoggingParams(ActionParams):
    regions: Regions = Field(default_factory=list)  # default: the run's region
    since: datetime | None = None  # the start of the exposure window; None: unknown, nothing is changed
    max_events: int = Field(default=1000, ge=1, le=100_000)


class LoggingInRegion(ActionSnapshot):
    region: str
    current: dict[str, Any] | None = None  # the loggingConfig now (None: no logging): what rollback puts back
    changed_by: list[str] = Field(default_factory=list)  # the window's Put/Delete event ids
    actors: list[str] = Field(default_factory=list)
    before_known: bool = False
    before: dict[str, Any] | None = None  # the loggingConfig in force before the window (None: none)
    before_from: str | None = None


class LoggingSnapshot(ActionSnapshot):
    regions: list[LoggingInRegion] = Field(default_factory=list)


def _current(ctx: ActionContext, region: str) -> dict[str, Any] | None:
    config = ctx.clients.client_in("bedrock", region).get_model_invocation_logging_configuration().get("loggingConfig")
    return dict(config) if config else None  # no configuration (or an emptied one): no logging


def _calls(ctx: ActionContext, region: str, start: datetime, end: datetime, limit: int) -> list[dict[str, Any]]:
    """The successful Put and Delete calls in the region between start and end, newest first."""
    found: list[dict[str, Any]] = []
    for name in (PUT, DELETE):
        records, _ = lookup(ctx, region, "EventName", name, start, end, limit)
        found += [r for r in records if not r.get("errorCode")]
    return sorted(found, key=lambda r: (str(r.get("eventTime")), str(r.get("eventID"))), reverse=True)


def _config_of(record: dict[str, Any]) -> dict[str, Any] | None:
    parameters = record.get("requestParameters")
    config = parameters.get("loggingConfig") if isinstance(parameters, dict) else None
    return dict(config) if isinstance(config, dict) and config else None


def _read_region(ctx: ActionContext, params: LoggingParams, region: str, since: datetime) -> LoggingInRegion:
    now = datetime.now(timezone.utc)
    own = ctx.identity.arn
    window = [r for r in _calls(ctx, region, since, now, params.max_events) if actor_of(r) != own]
    current = _current(ctx, region)
    if not window:
        return LoggingInRegion(region=region, current=current)
    start = now - LOOKBACK
    earlier = _calls(ctx, region, start, since - timedelta(seconds=1), params.max_events) if since > start else []
    last = earlier[0] if earlier else None
    before = None if last is None or last.get("eventName") == DELETE else _config_of(last)
    known = last is not None and (last.get("eventName") == DELETE or before is not None)
    return LoggingInRegion(
        region=region,
        current=current,
        changed_by=[str(r.get("eventID")) for r in window],
        actors=sorted({a for r in window if (a := actor_of(r))}),
        before_known=known,
        before=before if known else None,
        before_from=str(last.get("eventID")) if known and last is not None else None,
    )


def _known_fields(ctx: ActionContext, region: str, config: dict[str, Any]) -> bool:
    """A configuration read from CloudTrail (the attacker's text) uses only the fields botocore's model has."""
    model = ctx.clients.client_in("bedrock", region).meta.service_model.shape_for("LoggingConfig")
    return set(config) <= set(model.members)


@register
class RestoreInvocationLogging(Action[LoggingParams, LoggingSnapshot]):
    name = "bedrock.restore-invocation-logging"
    summary = (
        "After containment: put back Bedrock's model invocation logging, per region, as it was before the exposure "
        "window when it was deleted or redirected during it (CloudTrail); when the earlier one cannot be known, say so"
    )
    Params = LoggingParams
    Snapshot = LoggingSnapshot
    permissions = (
        "cloudtrail:LookupEvents",
        "bedrock:GetModelInvocationLoggingConfiguration",
        "bedrock:PutModelInvocationLoggingConfiguration",
        "bedrock:DeleteModelInvocationLoggingConfiguration",
    )
    reversible = True
    mutating = True
    after_containment = True
    undo_warning = (
        "Rolling back puts invocation logging back as the exposure window left it: deleted, or sent where the "
        "attacker pointed it."
    )

    def targets(self, params: LoggingParams) -> list[ChangeTarget]:
        return [SettingTarget(region, SETTING) for region in params.regions or [RUN_REGION]]

    def snapshot(self, ctx: ActionContext, params: LoggingParams) -> LoggingSnapshot:
        regions = list(dict.fromkeys(params.regions or [ctx.clients.region]))
        since = params.since
        if since is None:
            return LoggingSnapshot(regions=[LoggingInRegion(region=r, current=_current(ctx, r)) for r in regions])
        read = together(*(functools.partial(_read_region, ctx, params, r, since) for r in regions))
        return LoggingSnapshot(regions=read)

    def plan(self, ctx: ActionContext, params: LoggingParams, snapshot: LoggingSnapshot) -> StepPlan:
        if params.since is None:
            return StepPlan(notes=["the exposure window is unknown: invocation logging was left as it is"])
        changes, notes = [], []
        for found in snapshot.regions:
            region = found.region
            if not found.changed_by:
                state = "on" if found.current else "off"
                notes.append(f"invocation logging in {region} was not changed during the exposure window ({state})")
                continue
            events = ", ".join(plain(e) for e in found.changed_by)
            by = ", ".join(plain(a) for a in found.actors) or "an unnamed actor"
            if not found.before_known or (found.before is not None and not _known_fields(ctx, region, found.before)):
                notes.append(
                    f"invocation logging in {region} was changed during the exposure window by {by} (CloudTrail "
                    f"{events}) and the configuration before cannot be known (no earlier change in CloudTrail's 90 "
                    f"days): left as it is; set the right one: aws bedrock put-model-invocation-logging-configuration "
                    f"--region {region} --logging-config file://logging.json"
                )
                continue
            if found.before == found.current:
                notes.append(f"invocation logging in {region} is already as it was before the exposure window")
                continue
            target = f"invocation logging in {region}, changed during the exposure window by {by} (CloudTrail {events})"
            parameters: dict[str, Any] = {"region": region}
            call = f"bedrock:{DELETE}"
            if found.before is not None:
                call, parameters = f"bedrock:{PUT}", {**parameters, "loggingConfig": found.before}
            changes.append(
                Change(call=call, parameters=parameters, target=target, before=found.current, after=found.before)
            )
            notes.append(
                f"the configuration before the window is read from CloudTrail event {plain(found.before_from)}"
            )
        return StepPlan(changes=changes, notes=notes)

    def apply(self, ctx: ActionContext, params: LoggingParams, snapshot: LoggingSnapshot, plan: StepPlan) -> Applied:
        ids, restored = [], {}
        for change in plan.changes:
            region = change.parameters["region"]
            client = ctx.clients.client_in("bedrock", region)
            if change.call.endswith(PUT):
                config = change.parameters["loggingConfig"]
                ids.append(request_id(client.put_model_invocation_logging_configuration(loggingConfig=config)))
            else:
                ids.append(request_id(client.delete_model_invocation_logging_configuration()))
            restored[region] = change.after
        return Applied(request_ids=[i for i in ids if i], details={"restored": restored})

    def verify(self, ctx: ActionContext, params: LoggingParams, applied: Applied | None = None) -> bool:
        if applied is None:  # a resumed run: every region changed in the window is as it was before
            return all(
                r.current == r.before for r in self.snapshot(ctx, params).regions if r.changed_by and r.before_known
            )
        restored = applied.details.get("restored") or {}
        return all(_current(ctx, region) == config for region, config in restored.items())

    def undo(
        self, ctx: ActionContext, params: LoggingParams, snapshot: LoggingSnapshot, applied: dict[str, Any]
    ) -> UndoResult:
        ids, said = [], []
        for found in snapshot.regions:
            if not found.changed_by or not found.before_known or found.before == found.current:
                continue
            if _current(ctx, found.region) == found.current:
                said.append(f"{found.region}: already as before the run")
                continue
            client = ctx.clients.client_in("bedrock", found.region)
            if found.current is None:
                ids.append(request_id(client.delete_model_invocation_logging_configuration()))
            else:
                ids.append(request_id(client.put_model_invocation_logging_configuration(loggingConfig=found.current)))
            said.append(f"{found.region}: put back as it was before the run")
        if not said:
            return UndoResult(status="nothing-to-undo", message="invocation logging was not changed by this step")
        return UndoResult(
            status="undone", message="invocation logging " + "; ".join(said), request_ids=[i for i in ids if i]
        )

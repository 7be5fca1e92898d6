"""Bedrock jobs started during the exposure window that still run, listed as follow-ups with the command to stop
each (read-only).

A customization job the attacker started keeps costing after the key is contained; stopping it is irreversible
(the job cannot be resumed), so responder never stops one by itself: the report lists each with its command.
`ListModelCustomizationJobs` does not say who started a job: every job of the window is listed, to be checked.
The same step lists the batch inference jobs submitted during the window that still run (`ListModelInvocationJobs`)
and the provisioned throughput created during it (`ListProvisionedModelThroughputs`), with its commitment: deleting
provisioned throughput is the operator's choice, never responder's, so only the command is given. A listing AWS
refuses is said, with the permission it needed, never read as "none".
"""

from __future__ import annotations

import functools
from datetime import datetime
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
from responder.actions.reads import together
from responder.actions.registry import register
from responder.actions.targets import SettingTarget
from responder.aws.clients import ClientError, error_code, request_id
from responder.inert import plain


class WindowJobsParams(ActionParams):
    regions: Regions = Field(default_factory=list)  # default: the run's region
    since: datetime | None = None  # the start of the exposure window; None: unknown, nothing is listed


class JobFound(ActionSnapshot):
    region: str
    arn: str
    name: str
    status: str
    created: str
    base_model: str | None = None


class ThroughputFound(ActionSnapshot):
    region: str
    arn: str
    name: str
    status: str
    created: str
    model: str | None = None
    model_units: int | None = None
    commitment: str | None = None  # CommitmentDuration (OneMonth, SixMonths); None: no commitment term
    commitment_ends: str | None = None


class WindowJobsSnapshot(ActionSnapshot):
    jobs: list[JobFound] = Field(default_factory=list)  # customization jobs: what bedrock.stop-window-jobs stops
    batch_jobs: list[JobFound] = Field(default_factory=list)
    throughputs: list[ThroughputFound] = Field(default_factory=list)
    unlisted: list[dict[str, Any]] = Field(default_factory=list)  # listings AWS refused: what, permission, why
    regions: list[str] = Field(default_factory=list)


# ModelInvocationJobStatus values of a batch job that has not ended (botocore's bedrock model); Stopping is on its way
RUNNING_BATCH = frozenset({"Submitted", "Validating", "Scheduled", "InProgress"})


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _batch_jobs(ctx: ActionContext, region: str, since: datetime) -> list[JobFound]:
    client = ctx.clients.client_in("bedrock", region)
    found: list[JobFound] = []
    for page in client.get_paginator("list_model_invocation_jobs").paginate(submitTimeAfter=since):
        for job in page.get("invocationJobSummaries", []):
            if job.get("status") in RUNNING_BATCH:
                found.append(
                    JobFound(
                        region=region,
                        arn=str(job["jobArn"]),
                        name=str(job.get("jobName")),
                        status=str(job.get("status")),
                        created=_text(job.get("submitTime")),
                        base_model=job.get("modelId"),
                    )
                )
    return found


def _throughputs(ctx: ActionContext, region: str, since: datetime) -> list[ThroughputFound]:
    client = ctx.clients.client_in("bedrock", region)
    found: list[ThroughputFound] = []
    for page in client.get_paginator("list_provisioned_model_throughputs").paginate(creationTimeAfter=since):
        for item in page.get("provisionedModelSummaries", []):
            ends = item.get("commitmentExpirationTime")
            found.append(
                ThroughputFound(
                    region=region,
                    arn=str(item["provisionedModelArn"]),
                    name=str(item.get("provisionedModelName")),
                    status=str(item.get("status")),
                    created=_text(item.get("creationTime")),
                    model=item.get("modelArn"),
                    model_units=item.get("modelUnits"),
                    commitment=item.get("commitmentDuration"),
                    commitment_ends=None if ends is None else _text(ends),
                )
            )
    return found


def _or_refused(read: Any, permission: str, what: str) -> Any:
    """Run one region's listing; a refusal comes back as what could not be listed (never as an empty list)."""

    def call() -> tuple[list[Any], dict[str, Any] | None]:
        from responder.actions.trail_coverage import DENIED, problem  # off containment's import path

        try:
            return read(), None
        except ClientError as exc:
            if error_code(exc) not in DENIED:
                raise
            return [], problem(exc, permission, what)

    return call


def _customization_jobs(ctx: ActionContext, region: str, since: datetime) -> list[JobFound]:
    client = ctx.clients.client_in("bedrock", region)
    found: list[JobFound] = []
    paginator = client.get_paginator("list_model_customization_jobs")
    for page in paginator.paginate(creationTimeAfter=since, statusEquals="InProgress"):
        for job in page.get("modelCustomizationJobSummaries", []):
            found.append(
                JobFound(
                    region=region,
                    arn=str(job["jobArn"]),
                    name=str(job.get("jobName")),
                    status=str(job.get("status")),
                    created=_text(job.get("creationTime")),
                    base_model=job.get("baseModelArn"),
                )
            )
    return found


def _throughput_note(item: ThroughputFound) -> str:
    term = (
        f"commitment {plain(item.commitment)} until {item.commitment_ends or 'unknown'}"
        if item.commitment
        else "no commitment term (billed by the hour)"
    )
    return (
        f"provisioned throughput {plain(item.name)} ({item.status}, {item.model_units} model units, {term}, created "
        f"{item.created} in {item.region}, model {plain(item.model or 'unknown')}) was created during the exposure "
        f"window: if it is not your team's, deleting it is your choice (responder never "
        f"deletes it): aws bedrock delete-provisioned-model-throughput --region {item.region} --provisioned-model-id "
        f"{plain(item.arn)}"
    )


@register
class ListWindowJobs(Action[WindowJobsParams, WindowJobsSnapshot]):
    name = "bedrock.list-window-jobs"
    summary = (
        "List the Bedrock customization and batch inference jobs started during the exposure window that still run, "
        "and the provisioned throughput created during it with its commitment, each with the command to stop or "
        "delete it (never done by itself; read-only)"
    )
    Params = WindowJobsParams
    Snapshot = WindowJobsSnapshot
    permissions = (
        "bedrock:ListModelCustomizationJobs",
        "bedrock:ListModelInvocationJobs",
        "bedrock:ListProvisionedModelThroughputs",
    )
    reversible = True
    mutating = False
    outputs = ("jobs", "batch_jobs", "throughputs", "unlisted")

    @classmethod
    def journaled_snapshot(cls, snapshot: ActionSnapshot | dict[str, Any]) -> dict[str, Any]:
        # The batch jobs, throughput and refusals came later: left out when empty, a journal written before them
        # reads back and journals the same.
        journaled = dict(super().journaled_snapshot(snapshot))
        for later in ("batch_jobs", "throughputs", "unlisted"):
            if journaled.get(later) == []:
                del journaled[later]
        return journaled

    def snapshot(self, ctx: ActionContext, params: WindowJobsParams) -> WindowJobsSnapshot:
        regions = list(dict.fromkeys(params.regions or [ctx.clients.region]))
        since = params.since
        if since is None:
            return WindowJobsSnapshot(regions=regions)
        reads: list[Any] = [functools.partial(_customization_jobs, ctx, r, since) for r in regions]
        reads += [
            _or_refused(functools.partial(read, ctx, region, since), permission, f"{what} in {region}")
            for region in regions
            for read, permission, what in (
                (_batch_jobs, "bedrock:ListModelInvocationJobs", "batch inference jobs"),
                (_throughputs, "bedrock:ListProvisionedModelThroughputs", "provisioned throughput"),
            )
        ]
        results = together(*reads)
        listed = WindowJobsSnapshot(jobs=[job for found in results[: len(regions)] for job in found], regions=regions)
        for found, refused in results[len(regions) :]:
            for item in found:
                (listed.throughputs if isinstance(item, ThroughputFound) else listed.batch_jobs).append(item)
            if refused is not None:
                listed.unlisted.append(refused)
        return listed

    def plan(self, ctx: ActionContext, params: WindowJobsParams, snapshot: WindowJobsSnapshot) -> StepPlan:
        if params.since is None:
            return StepPlan(
                outputs={"jobs": [], "batch_jobs": [], "throughputs": [], "unlisted": []},
                notes=["the exposure window is unknown: no job or provisioned throughput was listed"],
            )
        notes = [
            f"customization job {plain(job.name)} ({job.status}, started {job.created} in {job.region}) was started "
            f"during the exposure window and still runs: if it is not your team's, stop it (irreversible): aws "
            f"bedrock stop-model-customization-job --region {job.region} --job-identifier {plain(job.arn)}"
            for job in snapshot.jobs
        ]
        if not snapshot.jobs:
            notes.append(
                f"no customization job started during the exposure window still runs in {', '.join(snapshot.regions)}"
            )
        notes += [
            f"batch inference job {plain(job.name)} ({job.status}, submitted {job.created} in {job.region}, model "
            f"{plain(job.base_model or 'unknown')}) was submitted during the exposure window and still runs: if it "
            f"is not your team's, stop it (irreversible): aws bedrock stop-model-invocation-job --region "
            f"{job.region} --job-identifier {plain(job.arn)}"
            for job in snapshot.batch_jobs
        ]
        notes += [_throughput_note(item) for item in snapshot.throughputs]
        refused = {(p["what"].rsplit(" in ", 1)[0]) for p in snapshot.unlisted}
        if not snapshot.batch_jobs and "batch inference jobs" not in refused:
            notes.append(
                f"no batch inference job submitted during the exposure window still runs in "
                f"{', '.join(snapshot.regions)}"
            )
        if not snapshot.throughputs and "provisioned throughput" not in refused:
            notes.append(
                f"no provisioned throughput was created during the exposure window in {', '.join(snapshot.regions)}"
            )
        notes += [
            f"{p['what']} could not be listed ({plain(p['why'])}): not known whether any was started during the "
            "exposure window"
            for p in snapshot.unlisted
        ]
        outputs = {
            "jobs": [job.model_dump(mode="json") for job in snapshot.jobs],
            "batch_jobs": [job.model_dump(mode="json") for job in snapshot.batch_jobs],
            "throughputs": [item.model_dump(mode="json") for item in snapshot.throughputs],
            "unlisted": snapshot.unlisted,
        }
        return StepPlan(outputs=outputs, notes=notes)


class StopJobsParams(ActionParams):
    regions: Regions = Field(default_factory=list)  # default: the run's region
    since: datetime | None = None  # the start of the exposure window; None: unknown, nothing is stopped


class StopJobsSnapshot(ActionSnapshot):
    jobs: list[JobFound] = Field(default_factory=list)


# A run that names no region stops jobs in the run's own region, unknown until its clients are open.
RUN_REGION = "run-region"


@register
class StopWindowJobs(Action[StopJobsParams, StopJobsSnapshot]):
    name = "bedrock.stop-window-jobs"
    summary = (
        "After containment, only when asked (-p stop_jobs=true): stop the customization jobs started during the "
        "exposure window that still run. Irreversible: a stopped job cannot be resumed"
    )
    Params = StopJobsParams
    Snapshot = StopJobsSnapshot
    permissions = ("bedrock:ListModelCustomizationJobs", "bedrock:StopModelCustomizationJob")
    reversible = False
    mutating = True
    after_containment = True

    def targets(self, params: StopJobsParams) -> list[ChangeTarget]:
        # the jobs are known only once listed: the lock is the region's jobs as a whole
        return [SettingTarget(region, "bedrock/customization-jobs") for region in params.regions or [RUN_REGION]]

    def snapshot(self, ctx: ActionContext, params: StopJobsParams) -> StopJobsSnapshot:
        if params.since is None:
            return StopJobsSnapshot()
        regions = list(dict.fromkeys(params.regions or [ctx.clients.region]))
        per_region = together(*(functools.partial(_customization_jobs, ctx, r, params.since) for r in regions))
        return StopJobsSnapshot(jobs=[job for found in per_region for job in found])

    def plan(self, ctx: ActionContext, params: StopJobsParams, snapshot: StopJobsSnapshot) -> StepPlan:
        if params.since is None:
            return StepPlan(notes=["the exposure window is unknown: no job was stopped"])
        changes = [
            Change(
                call="bedrock:StopModelCustomizationJob",
                parameters={"region": job.region, "jobIdentifier": job.arn},
                target=f"customization job {plain(job.name)} in {job.region}, started during the exposure window",
                before=job.status,
                after="Stopping",
                reversible=False,
            )
            for job in snapshot.jobs
        ]
        return StepPlan(changes=changes, notes=[] if changes else ["no job started during the window still runs"])

    def apply(self, ctx: ActionContext, params: StopJobsParams, snapshot: StopJobsSnapshot, plan: StepPlan) -> Applied:
        ids = []
        for change in plan.changes:
            client = ctx.clients.client_in("bedrock", change.parameters["region"])
            ids.append(
                request_id(client.stop_model_customization_job(jobIdentifier=change.parameters["jobIdentifier"]))
            )
        return Applied(
            request_ids=[i for i in ids if i],
            details={"stopped": [c.parameters["jobIdentifier"] for c in plan.changes]},
        )

    def verify(self, ctx: ActionContext, params: StopJobsParams, applied: Applied | None = None) -> bool:
        stopped = set((applied.details.get("stopped") or []) if applied is not None else [])
        still = {job.arn for job in self.snapshot(ctx, params).jobs}  # InProgress ones only
        return not (still & stopped) if applied is not None else not still

    def undo(
        self, ctx: ActionContext, params: StopJobsParams, snapshot: StopJobsSnapshot, applied: dict[str, Any]
    ) -> UndoResult:
        if not snapshot.jobs:
            return UndoResult(status="nothing-to-undo", message="no job was stopped by this step")
        return UndoResult(status="irreversible", message="a stopped customization job cannot be resumed")

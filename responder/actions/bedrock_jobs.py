"""Bedrock jobs started during the exposure window that still run, listed as follow-ups with the command to stop
each (read-only).

A customization job the attacker started keeps costing after the key is contained; stopping it is irreversible
(the job cannot be resumed), so responder never stops one by itself: the report lists each with its command.
`ListModelCustomizationJobs` does not say who started a job: every job of the window is listed, to be checked.
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
from responder.aws.clients import request_id
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


class WindowJobsSnapshot(ActionSnapshot):
    jobs: list[JobFound] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)


def _customization_jobs(ctx: ActionContext, region: str, since: datetime) -> list[JobFound]:
    client = ctx.clients.client_in("bedrock", region)
    found: list[JobFound] = []
    kwargs: dict[str, Any] = {"creationTimeAfter": since, "statusEquals": "InProgress"}
    while True:
        page = client.list_model_customization_jobs(**kwargs)
        for job in page.get("modelCustomizationJobSummaries", []):
            created = job.get("creationTime")
            found.append(
                JobFound(
                    region=region,
                    arn=str(job["jobArn"]),
                    name=str(job.get("jobName")),
                    status=str(job.get("status")),
                    created=created.isoformat() if isinstance(created, datetime) else str(created),
                    base_model=job.get("baseModelArn"),
                )
            )
        if not page.get("nextToken"):
            return found
        kwargs["nextToken"] = page["nextToken"]


@register
class ListWindowJobs(Action[WindowJobsParams, WindowJobsSnapshot]):
    name = "bedrock.list-window-jobs"
    summary = (
        "List the Bedrock customization jobs started during the exposure window that still run, each with the "
        "command to stop it (stopping is irreversible: never done by itself; read-only)"
    )
    Params = WindowJobsParams
    Snapshot = WindowJobsSnapshot
    permissions = ("bedrock:ListModelCustomizationJobs",)
    reversible = True
    mutating = False
    outputs = ("jobs",)

    def snapshot(self, ctx: ActionContext, params: WindowJobsParams) -> WindowJobsSnapshot:
        regions = list(dict.fromkeys(params.regions or [ctx.clients.region]))
        since = params.since
        if since is None:
            return WindowJobsSnapshot(regions=regions)
        per_region = together(*(functools.partial(_customization_jobs, ctx, r, since) for r in regions))
        return WindowJobsSnapshot(jobs=[job for found in per_region for job in found], regions=regions)

    def plan(self, ctx: ActionContext, params: WindowJobsParams, snapshot: WindowJobsSnapshot) -> StepPlan:
        if params.since is None:
            return StepPlan(outputs={"jobs": []}, notes=["the exposure window is unknown: no job was listed"])
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
        jobs = [job.model_dump(mode="json") for job in snapshot.jobs]
        return StepPlan(outputs={"jobs": jobs}, notes=notes)


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
        listed = ListWindowJobs().snapshot(ctx, WindowJobsParams(regions=params.regions, since=params.since))
        return StopJobsSnapshot(jobs=listed.jobs)

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

"""Stopping the jobs the key's principal started, and deleting the provisioned throughput it bought: after
containment, only when asked, both irreversible (so the run asks to type 'delete', as for `delete_key`).

Only what CloudTrail's `Create*` event attributes to the key's principal (the IAM user; for a short-term key, the
access key that signed it) is changed: a long-term key's window may span months of the team's own jobs, and a
short-term key's role is a workload that may start jobs of its own. What another principal started is listed
as "started by X, not changed"; what no event attributes (none found, or the lookup refused) is listed with its
command, never changed. Provisioned throughput under a commitment term that has not ended is left: AWS refuses to
delete it before the term is over (Bedrock user guide, "Delete a Provisioned Throughput").
"""

from __future__ import annotations

from datetime import datetime, timezone
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
from responder.actions.bedrock_job_creators import Attribution, Creator, decided, key_owner
from responder.actions.bedrock_jobs import (
    JOB_KINDS,
    JobFound,
    ThroughputFound,
    attribute_listed,
    commitment_left,
    delete_command,
    journaled_without_empty,
    list_window,
    stop_command,
)
from responder.actions.iam_principals import ACCESS_KEY_ID, ROLE_NAME, USER_NAME
from responder.actions.registry import register
from responder.actions.targets import SettingTarget
from responder.aws.clients import request_id
from responder.inert import plain


class StopJobsParams(ActionParams):
    regions: Regions = Field(default_factory=list)  # default: the run's region
    since: datetime | None = None  # the start of the exposure window; None: unknown, nothing is stopped
    # The key's principal: only what it started is changed (neither named: nothing is).
    user_name: str | None = Field(default=None, pattern=USER_NAME)
    role_name: str | None = Field(default=None, pattern=ROLE_NAME)
    # A short-term key's signing access key: only what it created is the key's (None: any of the principal's).
    signed_by: str | None = Field(default=None, pattern=ACCESS_KEY_ID)


class StopJobsSnapshot(ActionSnapshot):
    jobs: list[JobFound] = Field(default_factory=list)  # customization jobs running
    batch_jobs: list[JobFound] = Field(default_factory=list)
    evaluation_jobs: list[JobFound] = Field(default_factory=list)
    creators: dict[str, Creator] = Field(default_factory=dict)
    unattributed: list[dict[str, Any]] = Field(default_factory=list)
    unlisted: list[dict[str, Any]] = Field(default_factory=list)


_STOP_LATER = ("batch_jobs", "evaluation_jobs", "creators", "unattributed", "unlisted")

# A run that names no region changes what runs in the run's own region, unknown until its clients are open.
RUN_REGION = "run-region"

# kind -> (the IAM action / operation stopping it, boto3's method)
_STOPS = {
    "customization": ("bedrock:StopModelCustomizationJob", "stop_model_customization_job"),
    "batch": ("bedrock:StopModelInvocationJob", "stop_model_invocation_job"),
    "evaluation": ("bedrock:StopEvaluationJob", "stop_evaluation_job"),
}


def _read(ctx: ActionContext, params: StopJobsParams, throughput: bool) -> tuple[Any, Attribution]:
    """The window's running jobs (or, `throughput`, its provisioned throughput) and their creators."""
    assert params.since is not None
    regions = list(dict.fromkeys(params.regions or [ctx.clients.region]))
    listed = list_window(ctx, regions, params.since, throughput)
    return listed, attribute_listed(
        ctx, listed, params.since, key_owner(params.user_name, params.role_name, params.signed_by)
    )


def _stopping(snapshot: StopJobsSnapshot) -> bool:
    """This snapshot planned a stop (what an undo must call irreversible even when the answer to the stop was lost
    and a resume found the job stopped already)."""
    if not snapshot.creators:  # a journal from before attribution: every customization job listed was stopped
        return bool(snapshot.jobs)
    running = [*snapshot.jobs, *snapshot.batch_jobs, *snapshot.evaluation_jobs]
    return any(snapshot.creators.get(job.arn, Creator()).mine for job in running)


@register
class StopWindowJobs(Action[StopJobsParams, StopJobsSnapshot]):
    name = "bedrock.stop-window-jobs"
    summary = (
        "After containment, only when asked (-p stop_jobs=true): stop the customization, batch inference and "
        "evaluation jobs the key's principal started during the exposure window (CloudTrail) that still run; others' "
        "are listed, not changed. Irreversible: a stopped job cannot be resumed"
    )
    Params = StopJobsParams
    Snapshot = StopJobsSnapshot
    permissions = (
        "bedrock:ListModelCustomizationJobs",
        "bedrock:ListModelInvocationJobs",
        "bedrock:ListEvaluationJobs",
        "cloudtrail:LookupEvents",
        "bedrock:StopModelCustomizationJob",
        "bedrock:StopModelInvocationJob",
        "bedrock:StopEvaluationJob",
    )
    reversible = False
    mutating = True
    after_containment = True

    @classmethod
    def journaled_snapshot(cls, snapshot: ActionSnapshot | dict[str, Any]) -> dict[str, Any]:
        return journaled_without_empty(snapshot, _STOP_LATER)

    def targets(self, params: StopJobsParams) -> list[ChangeTarget]:
        # the jobs are known only once listed: the lock is the region's jobs as a whole
        return [SettingTarget(region, "bedrock/customization-jobs") for region in params.regions or [RUN_REGION]]

    def snapshot(self, ctx: ActionContext, params: StopJobsParams) -> StopJobsSnapshot:
        if params.since is None:
            return StopJobsSnapshot()
        listed, attribution = _read(ctx, params, throughput=False)
        return StopJobsSnapshot(
            jobs=listed.jobs,
            batch_jobs=listed.batch_jobs,
            evaluation_jobs=listed.evaluation_jobs,
            creators=attribution.creators,
            unattributed=attribution.refused,
            unlisted=listed.unlisted,
        )

    def plan(self, ctx: ActionContext, params: StopJobsParams, snapshot: StopJobsSnapshot) -> StepPlan:
        if params.since is None:
            return StepPlan(notes=["the exposure window is unknown: no job was stopped"])
        owner = key_owner(params.user_name, params.role_name, params.signed_by)
        attribution = Attribution(creators=snapshot.creators, refused=snapshot.unattributed)
        changes: list[Change] = []
        notes: list[str] = []
        for kind, jobs in (
            ("customization", snapshot.jobs),
            ("batch", snapshot.batch_jobs),
            ("evaluation", snapshot.evaluation_jobs),
        ):
            title = JOB_KINDS[kind][0]
            for job in jobs:
                mine, why = decided(job.arn, job.region, kind, attribution, owner)
                if mine:
                    changes.append(
                        Change(
                            call=_STOPS[kind][0],
                            parameters={"region": job.region, "jobIdentifier": job.arn},
                            target=f"{title} {plain(job.name)} in {job.region}, {why}",
                            before=job.status,
                            after="Stopping",
                            reversible=False,
                        )
                    )
                else:
                    stop = stop_command(kind, job)
                    notes.append(f"{title} {plain(job.name)} in {job.region}: {why}; to stop it: {stop}")
        notes += [
            f"{p['what']} could not be listed ({plain(p['why'])}): none of them was stopped" for p in snapshot.unlisted
        ]
        if not changes and not notes:
            notes.append("no job started during the window still runs")
        return StepPlan(changes=changes, notes=notes)

    def apply(self, ctx: ActionContext, params: StopJobsParams, snapshot: StopJobsSnapshot, plan: StepPlan) -> Applied:
        ids = []
        method = {call: name for call, name in _STOPS.values()}
        for change in plan.changes:
            client = ctx.clients.client_in("bedrock", change.parameters["region"])
            stop = getattr(client, method[change.call])
            ids.append(request_id(stop(jobIdentifier=change.parameters["jobIdentifier"])))
        return Applied(
            request_ids=[i for i in ids if i],
            details={"stopped": [c.parameters["jobIdentifier"] for c in plan.changes]},
        )

    def verify(self, ctx: ActionContext, params: StopJobsParams, applied: Applied | None = None) -> bool:
        stopped = set((applied.details.get("stopped") or []) if applied is not None else [])
        now = self.snapshot(ctx, params)  # running ones only
        still = {job.arn for job in [*now.jobs, *now.batch_jobs, *now.evaluation_jobs]}
        if applied is not None:
            return not (still & stopped)
        return not any(now.creators.get(arn, Creator()).mine for arn in still)

    def undo(
        self, ctx: ActionContext, params: StopJobsParams, snapshot: StopJobsSnapshot, applied: dict[str, Any]
    ) -> UndoResult:
        if not applied.get("stopped") and not _stopping(snapshot):
            return UndoResult(status="nothing-to-undo", message="no job was stopped by this step")
        return UndoResult(status="irreversible", message="a stopped job cannot be resumed: start a new one if needed")


class ThroughputParams(StopJobsParams):
    pass


class ThroughputSnapshot(ActionSnapshot):
    throughputs: list[ThroughputFound] = Field(default_factory=list)
    creators: dict[str, Creator] = Field(default_factory=dict)
    unattributed: list[dict[str, Any]] = Field(default_factory=list)
    unlisted: list[dict[str, Any]] = Field(default_factory=list)


@register
class DeleteWindowThroughput(Action[ThroughputParams, ThroughputSnapshot]):
    name = "bedrock.delete-window-throughput"
    summary = (
        "After containment, only when asked (-p delete_throughput=true): delete the provisioned throughput the key's "
        "principal created during the exposure window (CloudTrail), unless a commitment term still binds it (AWS "
        "refuses until it ends); others' are listed, not changed. Irreversible"
    )
    Params = ThroughputParams
    Snapshot = ThroughputSnapshot
    permissions = (
        "bedrock:ListProvisionedModelThroughputs",
        "cloudtrail:LookupEvents",
        "bedrock:DeleteProvisionedModelThroughput",
    )
    reversible = False
    mutating = True
    after_containment = True

    def targets(self, params: ThroughputParams) -> list[ChangeTarget]:
        return [SettingTarget(region, "bedrock/provisioned-throughput") for region in params.regions or [RUN_REGION]]

    def snapshot(self, ctx: ActionContext, params: ThroughputParams) -> ThroughputSnapshot:
        if params.since is None:
            return ThroughputSnapshot()
        listed, attribution = _read(ctx, params, throughput=True)
        return ThroughputSnapshot(
            throughputs=listed.throughputs,
            creators=attribution.creators,
            unattributed=attribution.refused,
            unlisted=listed.unlisted,
        )

    def plan(self, ctx: ActionContext, params: ThroughputParams, snapshot: ThroughputSnapshot) -> StepPlan:
        if params.since is None:
            return StepPlan(notes=["the exposure window is unknown: no provisioned throughput was deleted"])
        owner = key_owner(params.user_name, params.role_name, params.signed_by)
        attribution = Attribution(creators=snapshot.creators, refused=snapshot.unattributed)
        now = datetime.now(timezone.utc)
        changes: list[Change] = []
        notes: list[str] = []
        for item in snapshot.throughputs:
            mine, why = decided(item.arn, item.region, "throughput", attribution, owner)
            command = delete_command(item)
            if not mine:
                notes.append(
                    f"provisioned throughput {plain(item.name)} in {item.region}: {why}; to delete it: {command}"
                )
            elif commitment_left(item, now):
                notes.append(
                    f"provisioned throughput {plain(item.name)} in {item.region}, {why}, is left: its commitment "
                    f"{plain(item.commitment or '')} runs until {item.commitment_ends or 'unknown'} and AWS refuses to "
                    f"delete it before the term ends; then: {command}"
                )
            else:
                changes.append(
                    Change(
                        call="bedrock:DeleteProvisionedModelThroughput",
                        parameters={"region": item.region, "provisionedModelId": item.arn},
                        target=f"provisioned throughput {plain(item.name)} in {item.region}, {why}",
                        before=item.status,
                        after="deleted",
                        reversible=False,
                    )
                )
        notes += [f"{p['what']} could not be listed ({plain(p['why'])}): none was deleted" for p in snapshot.unlisted]
        if not changes and not notes:
            notes.append("no provisioned throughput was created during the window")
        return StepPlan(changes=changes, notes=notes)

    def apply(
        self, ctx: ActionContext, params: ThroughputParams, snapshot: ThroughputSnapshot, plan: StepPlan
    ) -> Applied:
        ids = []
        for change in plan.changes:
            client = ctx.clients.client_in("bedrock", change.parameters["region"])
            answer = client.delete_provisioned_model_throughput(
                provisionedModelId=change.parameters["provisionedModelId"]
            )
            ids.append(request_id(answer))
        return Applied(
            request_ids=[i for i in ids if i],
            details={"deleted": [c.parameters["provisionedModelId"] for c in plan.changes]},
        )

    def verify(self, ctx: ActionContext, params: ThroughputParams, applied: Applied | None = None) -> bool:
        deleted = set((applied.details.get("deleted") or []) if applied is not None else [])
        return not (deleted & {t.arn for t in self.snapshot(ctx, params).throughputs})

    def undo(
        self, ctx: ActionContext, params: ThroughputParams, snapshot: ThroughputSnapshot, applied: dict[str, Any]
    ) -> UndoResult:
        now = datetime.now(timezone.utc)
        planned = any(
            snapshot.creators.get(t.arn, Creator()).mine and not commitment_left(t, now) for t in snapshot.throughputs
        )
        if not applied.get("deleted") and not planned:
            return UndoResult(status="nothing-to-undo", message="no provisioned throughput was deleted by this step")
        return UndoResult(
            status="irreversible",
            message="deleted provisioned throughput cannot be restored: buy it again if it was your team's",
        )

"""Bedrock jobs started during the exposure window that still run, listed as follow-ups with the command to stop
each (read-only).

A customization, batch inference or evaluation job the attacker started keeps costing after the key is contained;
stopping it is irreversible (the job cannot be resumed), so this step never stops one: the report lists each with its
command and who started it (CloudTrail's `Create*` event, bedrock_job_creators), and the `stop` step stops, when
asked, only those the key's principal started. The same step lists the provisioned throughput created during the
window (`ListProvisionedModelThroughputs`) with its commitment, which the `throughput` step deletes only when asked.
A listing AWS refuses is said, with the permission it needed, never read as "none".
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pydantic import Field

from responder.actions.base import Action, ActionContext, ActionParams, ActionSnapshot, Regions, StepPlan
from responder.actions.bedrock_job_creators import Attribution, Creator, KeyOwner, attribute, decided, key_owner
from responder.actions.iam_principals import ACCESS_KEY_ID, ROLE_NAME, USER_NAME
from responder.actions.reads import together
from responder.actions.registry import register
from responder.aws.clients import ClientError, error_code
from responder.inert import plain


class WindowJobsParams(ActionParams):
    regions: Regions = Field(default_factory=list)  # default: the run's region
    since: datetime | None = None  # the start of the exposure window; None: unknown, nothing is listed
    # The key's principal: what it started is told apart from the team's (None: creators shown, none is "mine").
    user_name: str | None = Field(default=None, pattern=USER_NAME)
    role_name: str | None = Field(default=None, pattern=ROLE_NAME)
    # A short-term key's signing access key: only what it created is the key's (None: any of the principal's).
    signed_by: str | None = Field(default=None, pattern=ACCESS_KEY_ID)


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
    evaluation_jobs: list[JobFound] = Field(default_factory=list)
    throughputs: list[ThroughputFound] = Field(default_factory=list)
    unlisted: list[dict[str, Any]] = Field(default_factory=list)  # listings AWS refused: what, permission, why
    regions: list[str] = Field(default_factory=list)
    creators: dict[str, Creator] = Field(default_factory=dict)  # by ARN, from CloudTrail's Create* events
    unattributed: list[dict[str, Any]] = Field(default_factory=list)  # Create* lookups CloudTrail refused


# Fields added after the first journals: left out when empty, so a journal written before them reads back and
# journals the same.
LATER_FIELDS = ("batch_jobs", "evaluation_jobs", "throughputs", "unlisted", "creators", "unattributed")


def journaled_without_empty(snapshot: ActionSnapshot | dict[str, Any], later: tuple[str, ...]) -> dict[str, Any]:
    journaled = dict(snapshot.model_dump(mode="json") if isinstance(snapshot, ActionSnapshot) else snapshot)
    for field in later:
        if field in journaled and journaled[field] in ([], {}, None):
            del journaled[field]
    return journaled


# ModelInvocationJobStatus values of a batch job that has not ended (botocore's bedrock model); Stopping is on its way
RUNNING_BATCH = frozenset({"Submitted", "Validating", "Scheduled", "InProgress"})
# EvaluationJobStatus: only InProgress runs (Stopping is on its way to Stopped)
RUNNING_EVALUATION = "InProgress"


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


@dataclass(frozen=True)
class _JobKind:
    """How one kind of Bedrock job is listed (botocore's bedrock model): its paginator and filters, where a page
    holds the summaries, and which of their fields say when it started and on which model."""

    paginator: str
    items: str
    since_filter: str  # the listing's own "created after" filter
    started: str
    model: Callable[[dict[str, Any]], Any]
    status_filter: str | None = None  # statusEquals, when the listing keeps only the running ones itself
    running: frozenset[str] | None = None  # else: the statuses of a job that has not ended


CUSTOMIZATION = _JobKind(
    "list_model_customization_jobs",
    "modelCustomizationJobSummaries",
    "creationTimeAfter",
    "creationTime",
    lambda job: job.get("baseModelArn"),
    status_filter="InProgress",
)
BATCH = _JobKind(
    "list_model_invocation_jobs",
    "invocationJobSummaries",
    "submitTimeAfter",
    "submitTime",
    lambda job: job.get("modelId"),
    running=RUNNING_BATCH,
)
EVALUATION = _JobKind(
    "list_evaluation_jobs",
    "jobSummaries",
    "creationTimeAfter",
    "creationTime",
    lambda job: str(job["modelIdentifiers"][0]) if job.get("modelIdentifiers") else None,
    status_filter=RUNNING_EVALUATION,
)


def _jobs(ctx: ActionContext, region: str, since: datetime, kind: _JobKind) -> list[JobFound]:
    """The region's jobs of one kind started since `since` that still run."""
    client = ctx.clients.client_in("bedrock", region)
    filters: dict[str, Any] = {kind.since_filter: since}
    if kind.status_filter:
        filters["statusEquals"] = kind.status_filter
    return [
        JobFound(
            region=region,
            arn=str(job["jobArn"]),
            name=str(job.get("jobName")),
            status=str(job.get("status")),
            created=_text(job.get(kind.started)),
            base_model=kind.model(job),
        )
        for page in client.get_paginator(kind.paginator).paginate(**filters)
        for job in page.get(kind.items, [])
        if kind.running is None or job.get("status") in kind.running
    ]


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


def commitment_left(item: ThroughputFound, now: datetime) -> bool:
    """Its commitment term is not over: AWS refuses to delete it until then (DeleteProvisionedModelThroughput: "You
    can't delete a Provisioned Throughput before the commitment term is over")."""
    if not item.commitment:
        return False
    try:
        ends = datetime.fromisoformat(item.commitment_ends or "")
    except ValueError:
        return True  # a term without a known end: assume it still binds
    return (ends if ends.tzinfo else ends.replace(tzinfo=timezone.utc)) > now


def throughput_note(item: ThroughputFound, who: tuple[bool, str]) -> str:
    mine, why = who
    term = (
        f"commitment {plain(item.commitment)} until {item.commitment_ends or 'unknown'}"
        if item.commitment
        else "no commitment term (billed by the hour)"
    )
    command = delete_command(item)
    if commitment_left(item, datetime.now(timezone.utc)):
        then = (
            f"AWS refuses to delete it before its commitment term ends ({item.commitment_ends or 'unknown'}), so it "
            f"stays until then; after it: {command}"
        )
    elif mine:
        then = f"-p delete_throughput=true deletes it (irreversible): {command}"
    else:
        then = f"if it is not your team's, delete it (irreversible): {command}"
    return (
        f"provisioned throughput {plain(item.name)} ({item.status}, {item.model_units} model units, {term}, created "
        f"{item.created} in {item.region}, model {plain(item.model or 'unknown')}) was created during the exposure "
        f"window, {why}: {then}"
    )


# kind -> (what it is called, the CLI verb stopping it)
JOB_KINDS = {
    "customization": ("customization job", "stop-model-customization-job"),
    "batch": ("batch inference job", "stop-model-invocation-job"),
    "evaluation": ("evaluation job", "stop-evaluation-job"),
}


def stop_command(kind: str, job: JobFound) -> str:
    """The AWS CLI command that stops one job (the listing's note and the stop step's both print it)."""
    return f"aws bedrock {JOB_KINDS[kind][1]} --region {job.region} --job-identifier {plain(job.arn)}"


def delete_command(item: ThroughputFound) -> str:
    """The AWS CLI command that deletes one provisioned throughput."""
    return (
        f"aws bedrock delete-provisioned-model-throughput --region {item.region} --provisioned-model-id "
        f"{plain(item.arn)}"
    )


def job_note(kind: str, job: JobFound, who: tuple[bool, str]) -> str:
    title = JOB_KINDS[kind][0]
    mine, why = who
    command = stop_command(kind, job)
    then = (
        f"-p stop_jobs=true stops it (irreversible): {command}"
        if mine
        else f"if it is not your team's, stop it (irreversible): {command}"
    )
    model = f", model {plain(job.base_model)}" if kind != "customization" and job.base_model else ""
    return (
        f"{title} {plain(job.name)} ({job.status}, started {job.created} in {job.region}{model}) was started during "
        f"the exposure window and still runs, {why}: {then}"
    )


@register
class ListWindowJobs(Action[WindowJobsParams, WindowJobsSnapshot]):
    name = "bedrock.list-window-jobs"
    summary = (
        "List the Bedrock customization, batch inference and evaluation jobs started during the exposure window that "
        "still run, and the provisioned throughput created during it with its commitment, each with who started it "
        "(CloudTrail) and the command to stop or delete it (read-only)"
    )
    Params = WindowJobsParams
    Snapshot = WindowJobsSnapshot
    permissions = (
        "bedrock:ListModelCustomizationJobs",
        "bedrock:ListModelInvocationJobs",
        "bedrock:ListEvaluationJobs",
        "bedrock:ListProvisionedModelThroughputs",
        "cloudtrail:LookupEvents",
    )
    reversible = True
    mutating = False
    outputs = ("jobs", "batch_jobs", "evaluation_jobs", "throughputs", "unlisted", "creators")

    @classmethod
    def journaled_snapshot(cls, snapshot: ActionSnapshot | dict[str, Any]) -> dict[str, Any]:
        return journaled_without_empty(snapshot, LATER_FIELDS)

    def snapshot(self, ctx: ActionContext, params: WindowJobsParams) -> WindowJobsSnapshot:
        regions = list(dict.fromkeys(params.regions or [ctx.clients.region]))
        since = params.since
        if since is None:
            return WindowJobsSnapshot(regions=regions)
        listed = list_window(ctx, regions, since)
        attribution = attribute_listed(
            ctx, listed, since, key_owner(params.user_name, params.role_name, params.signed_by)
        )
        return listed.model_copy(update={"creators": attribution.creators, "unattributed": attribution.refused})

    def plan(self, ctx: ActionContext, params: WindowJobsParams, snapshot: WindowJobsSnapshot) -> StepPlan:
        if params.since is None:
            return StepPlan(
                outputs={k: [] for k in self.outputs if k != "creators"} | {"creators": {}},
                notes=["the exposure window is unknown: no job or provisioned throughput was listed"],
            )
        owner = key_owner(params.user_name, params.role_name, params.signed_by)
        attribution = Attribution(creators=snapshot.creators, refused=snapshot.unattributed)

        def who(kind: str, arn: str, region: str) -> tuple[bool, str]:
            return decided(arn, region, kind, attribution, owner)

        where = ", ".join(snapshot.regions)
        refused = {(p["what"].rsplit(" in ", 1)[0]) for p in snapshot.unlisted}
        notes: list[str] = []
        for kind, jobs in (
            ("customization", snapshot.jobs),
            ("batch", snapshot.batch_jobs),
            ("evaluation", snapshot.evaluation_jobs),
        ):
            notes += [job_note(kind, job, who(kind, job.arn, job.region)) for job in jobs]
            if not jobs and f"{JOB_KINDS[kind][0]}s" not in refused:
                notes.append(f"no {JOB_KINDS[kind][0]} started during the exposure window still runs in {where}")
        notes += [throughput_note(t, who("throughput", t.arn, t.region)) for t in snapshot.throughputs]
        if not snapshot.throughputs and "provisioned throughput" not in refused:
            notes.append(f"no provisioned throughput was created during the exposure window in {where}")
        notes += [
            f"{p['what']} could not be listed ({plain(p['why'])}): not known whether any was started during the "
            "exposure window"
            for p in snapshot.unlisted
        ]
        outputs = {
            "jobs": [job.model_dump(mode="json") for job in snapshot.jobs],
            "batch_jobs": [job.model_dump(mode="json") for job in snapshot.batch_jobs],
            "evaluation_jobs": [job.model_dump(mode="json") for job in snapshot.evaluation_jobs],
            "throughputs": [item.model_dump(mode="json") for item in snapshot.throughputs],
            "unlisted": snapshot.unlisted,
            "creators": {arn: c.model_dump(mode="json") for arn, c in snapshot.creators.items()},
        }
        return StepPlan(outputs=outputs, notes=notes)


# (listing, permission, what it lists: the sentence's subject)
_LISTINGS: tuple[tuple[Callable[[ActionContext, str, datetime], list[Any]], str, str], ...] = (
    (functools.partial(_jobs, kind=BATCH), "bedrock:ListModelInvocationJobs", "batch inference jobs"),
    (functools.partial(_jobs, kind=EVALUATION), "bedrock:ListEvaluationJobs", "evaluation jobs"),
    (_throughputs, "bedrock:ListProvisionedModelThroughputs", "provisioned throughput"),
)


def list_window(
    ctx: ActionContext, regions: list[str], since: datetime, throughput: bool | None = None
) -> WindowJobsSnapshot:
    """Every region's running jobs and throughput of the window, all listings at once; a refused one is said.
    `throughput` True lists only the throughput, False only the jobs, None both."""
    jobs = throughput is not True
    wanted = (jobs, jobs, throughput is not False)  # per _LISTINGS entry: batch, evaluation, throughput
    listings = [(i, listing) for i, listing in enumerate(_LISTINGS) if wanted[i]]
    reads: list[Any] = [functools.partial(_jobs, ctx, r, since, CUSTOMIZATION) for r in regions] if jobs else []
    first = len(reads)
    reads += [
        _or_refused(functools.partial(read, ctx, region, since), permission, f"{what} in {region}")
        for region in regions
        for _, (read, permission, what) in listings
    ]
    results = together(*reads) if reads else []
    listed = WindowJobsSnapshot(jobs=[job for found in results[:first] for job in found], regions=regions)
    for index, (found, refused) in enumerate(results[first:]):
        into = (listed.batch_jobs, listed.evaluation_jobs, listed.throughputs)[listings[index % len(listings)][0]]
        into.extend(found)
        if refused is not None:
            listed.unlisted.append(refused)
    return listed


def attribute_listed(
    ctx: ActionContext, listed: WindowJobsSnapshot, since: datetime, owner: KeyOwner | None
) -> Attribution:
    """Who created what the listing found: CloudTrail is asked only for the kinds and regions that found something."""
    found = [("customization", j.region) for j in listed.jobs]
    found += [("batch", j.region) for j in listed.batch_jobs]
    found += [("evaluation", j.region) for j in listed.evaluation_jobs]
    found += [("throughput", t.region) for t in listed.throughputs]
    return attribute(ctx, found, since, owner) if found else Attribution()

"""Who started the window's Bedrock jobs, as CloudTrail records it: the `Create*` events naming each new ARN in
`responseElements` (the output member of botocore's Create* operation), made by the key's principal or by the team.

`seed_window_jobs()` gives a rehearsal's or a test's account what the jobs, stop and throughput steps must tell
apart: the principal's running customization, batch and evaluation jobs and its provisioned throughput (one under a
commitment term AWS will not let go of, one billed by the hour), and a job the team started in the same window, which
must stay untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from responder.sandbox.bedrock_jobs import (
    seed_customization_job,
    seed_evaluation_job,
    seed_invocation_job,
    seed_provisioned_throughput,
)
from responder.sandbox.cloudtrail_events import record_event

# kind -> (the Create* event, the responseElements field naming the ARN)
_CREATED_BY = {
    "customization": ("CreateModelCustomizationJob", "jobArn"),
    "batch": ("CreateModelInvocationJob", "jobArn"),
    "evaluation": ("CreateEvaluationJob", "jobArn"),
    "throughput": ("CreateProvisionedModelThroughput", "provisionedModelArn"),
}
TEAM_USER = "ml-platform"  # the team's own principal: its job must stay untouched
CALLER_IP = "203.0.113.78"  # TEST-NET-3: documentation addresses only


def user_identity(account_id: str, user: str, access_key_id: str = "AKIAEXAMPLEJOBS00001") -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "principalId": f"AIDA{user.upper()[:12]}",
        "arn": f"arn:aws:iam::{account_id}:user/{user}",
        "accountId": account_id,
        "userName": user,
        "accessKeyId": access_key_id,
    }


def role_identity(account_id: str, role: str, session: str = "chat-app-session") -> dict[str, Any]:
    issuer = {"type": "Role", "arn": f"arn:aws:iam::{account_id}:role/{role}", "userName": role}
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLE:{session}",
        "arn": f"arn:aws:sts::{account_id}:assumed-role/{role}/{session}",
        "accountId": account_id,
        "accessKeyId": "ASIAEXAMPLEJOBS00001",
        "sessionContext": {"sessionIssuer": issuer},
    }


def record_created(account_id: str, region: str, kind: str, arn: str, identity: dict[str, Any], when: datetime) -> str:
    """The Create* event of `arn`, made by `identity` at `when`, in the region's history; returns its event id."""
    event, field = _CREATED_BY[kind]
    record = record_event(
        account_id,
        region,
        {
            "eventTime": when,
            "eventSource": "bedrock.amazonaws.com",
            "eventName": event,
            "sourceIPAddress": CALLER_IP,
            "userAgent": "aws-cli/2.15",
            "userIdentity": identity,
            "requestParameters": {},
            "responseElements": {field: arn},
        },
    )
    return str(record["eventID"])


@dataclass
class WindowJobs:
    """What was seeded: the principal's by kind, the team's job, the throughput under commitment and the hourly one."""

    principal: dict[str, str]  # kind -> ARN: customization, batch, evaluation
    team_job: str
    committed_throughput: str
    hourly_throughput: str


def seed_window_jobs(
    account_id: str,
    region: str,
    since: datetime,
    identity: dict[str, Any],
    existing: dict[str, str] | None = None,
) -> WindowJobs:
    """During the window: `identity` starts a customization, a batch and an evaluation job (reusing the ARNs in
    `existing`, kind -> ARN, already seeded without a creator) and buys two provisioned throughputs; the team starts
    a batch job of its own."""
    made = dict(existing or {})
    at = since + min(timedelta(minutes=45), (datetime.now(timezone.utc) - since) / 2)  # inside the window, past
    if "customization" not in made:
        made["customization"] = seed_customization_job(account_id, region, "llm-exfil-tune", at)
    if "batch" not in made:
        made["batch"] = seed_invocation_job(account_id, region, "llm-exfil-batch", at)
    if "throughput" not in made:
        made["throughput"] = seed_provisioned_throughput(account_id, region, "llm-exfil-pt", at)
    made["evaluation"] = seed_evaluation_job(account_id, region, "llm-exfil-eval", at)
    hourly = seed_provisioned_throughput(account_id, region, "llm-exfil-hourly", at, commitment=None, units=1)
    for kind, arn in made.items():
        record_created(account_id, region, kind, arn, identity, at)
    record_created(account_id, region, "throughput", hourly, identity, at)
    team = seed_invocation_job(account_id, region, "team-nightly-batch", at + timedelta(minutes=5))
    record_created(account_id, region, "batch", team, user_identity(account_id, TEAM_USER), at + timedelta(minutes=5))
    jobs = {k: v for k, v in made.items() if k != "throughput"}
    return WindowJobs(jobs, team, made["throughput"], hourly)


def _statuses(region: str) -> dict[str, str]:
    """Every job's status and every throughput's, by ARN, read from the emulated account afresh."""
    import boto3

    bedrock = boto3.client("bedrock", region_name=region)
    found = {
        j["jobArn"]: j["status"] for j in bedrock.list_model_customization_jobs()["modelCustomizationJobSummaries"]
    }
    found |= {j["jobArn"]: j["status"] for j in bedrock.list_model_invocation_jobs()["invocationJobSummaries"]}
    found |= {j["jobArn"]: j["status"] for j in bedrock.list_evaluation_jobs()["jobSummaries"]}
    listed = bedrock.list_provisioned_model_throughputs()["provisionedModelSummaries"]
    return found | {t["provisionedModelArn"]: t["status"] for t in listed}


STOPPED = ("Stopping", "Stopped")


def window_jobs_checks(seeded: WindowJobs, region: str, run: Any) -> list[tuple[str, bool]]:
    """After a run given -p stop_jobs=true -p delete_throughput=true: exactly the principal's jobs are stopped, the
    team's still runs, the hourly throughput is gone and the committed one left with its expiry said."""
    now = _statuses(region)
    notes = "\n".join(run.state.steps["throughput"].notes) if "throughput" in run.state.steps else ""
    stopped = sorted(arn for arn, status in now.items() if status in STOPPED)
    return [
        (
            "exactly the jobs the key's user started (customization, batch inference, evaluation) are stopped",
            stopped == sorted(seeded.principal.values()),
        ),
        ("the team's batch job of the same window still runs, untouched", now.get(seeded.team_job) == "InProgress"),
        (
            "the user's hourly provisioned throughput is deleted; the one under a commitment term is left, its "
            "expiry said",
            seeded.hourly_throughput not in now
            and seeded.committed_throughput in now
            and "AWS refuses to delete it before the term ends" in notes,
        ),
    ]


def window_jobs_after_rollback(seeded: WindowJobs, region: str) -> list[tuple[str, bool]]:
    now = _statuses(region)
    return [
        (
            "after rollback: the stopped jobs stay stopped and the deleted throughput stays deleted (irreversible)",
            all(now.get(arn) in STOPPED for arn in seeded.principal.values()) and seeded.hourly_throughput not in now,
        )
    ]

"""An LLMjacking incident's footholds, seeded on top of a leaked key's account: what an attacker holding other
credentials left on the key's principal during the exposure window, and the CloudTrail events that name it.

Each foothold is made in moto (so IAM's answer shows it) and recorded as CloudTrail would (so the run can find
it): a managed policy attached and an inline policy put on the principal, and, for a user, an access key and a
second Bedrock key created on it. A policy the team gave before the window is recorded too: it must stay.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from responder.keys import parse_short_term_key
from responder.sandbox.bedrock_jobs import seed_customization_job, seed_invocation_job, seed_provisioned_throughput
from responder.sandbox.bedrock_usage import seed_metrics
from responder.sandbox.cloudtrail_events import record_event
from responder.sandbox.model_access import seed_model_access
from responder.sandbox.seed import (
    LEAKED_USER,
    ROLE_TRUST,
    SANDBOX_REGION,
    Seeded,
    SeededShortTerm,
    seed_incident,
    seed_short_term_incident,
)
from responder.sandbox.window_jobs import WindowJobs, seed_window_jobs, user_identity

GLOBAL_REGION = "us-east-1"  # IAM's events land here
ATTACKER_IP = "203.0.113.78"  # TEST-NET-3: documentation addresses only
ATTACKER_USER = "ops-automation"  # whose access key the attacker also holds: it makes the footholds
BACKDOOR_MANAGED = "ops-full-access"
BACKDOOR_INLINE = (
    "ops-maintenance",
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]},
)
# CloudTrail text is the attacker's: a user agent carrying a terminal escape and Markdown must stay inert.
HOSTILE_AGENT = "aws-cli/2.15 \x1b[2J[click](https://evil.example)"


@dataclass
class Footholds:
    """What was seeded, for the checks: the managed policy's ARN, the inline policy's name, the keys made."""

    kind: Literal["user", "role"]
    name: str
    managed_arn: str
    inline_name: str
    access_key_id: str | None = None
    event_ids: list[str] = field(default_factory=list)


def _attacker(account_id: str) -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "principalId": "AIDAEXAMPLEATTACKER",
        "arn": f"arn:aws:iam::{account_id}:user/{ATTACKER_USER}",
        "accountId": account_id,
        "userName": ATTACKER_USER,
        "accessKeyId": "AKIAEXAMPLEATTACKER1",
    }


def iam_event(account_id: str, name: str, parameters: dict[str, Any], when: datetime, **extra: Any) -> str:
    """An IAM call the attacker made, as CloudTrail records it in us-east-1; returns its event id."""
    record = record_event(
        account_id,
        GLOBAL_REGION,
        {
            "eventTime": when,
            "eventSource": "iam.amazonaws.com",
            "eventName": name,
            "sourceIPAddress": ATTACKER_IP,
            "userAgent": HOSTILE_AGENT,
            "userIdentity": _attacker(account_id),
            "requestParameters": parameters,
            **extra,
        },
    )
    return str(record["eventID"])


def seed_policy_footholds(account_id: str, kind: Literal["user", "role"], name: str, since: datetime) -> Footholds:
    """A managed policy attached and an inline policy put on the principal after `since`, both in CloudTrail."""
    from moto.iam.models import iam_backends

    iam = iam_backends[account_id]["aws"]
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    policy = iam.create_policy("", "/", json.dumps(document), f"{BACKDOOR_MANAGED}-{kind}", [])
    inline_name, inline_document = BACKDOOR_INLINE
    named = {"userName" if kind == "user" else "roleName": name}
    if kind == "user":
        iam.attach_user_policy(policy.arn, name)
        iam.put_user_policy(name, inline_name, json.dumps(inline_document))
    else:
        iam.attach_role_policy(policy.arn, name)
        iam.put_role_policy(name, inline_name, json.dumps(inline_document))
    suffix = "User" if kind == "user" else "Role"
    when = since + timedelta(minutes=20)
    ids = [
        iam_event(account_id, f"Attach{suffix}Policy", {**named, "policyArn": policy.arn}, when),
        iam_event(
            account_id,
            f"Put{suffix}Policy",
            {**named, "policyName": inline_name, "policyDocument": json.dumps(inline_document)},
            when + timedelta(minutes=1),
        ),
        # refused by IAM: an attempt, never a foothold to undo
        iam_event(
            account_id,
            f"Attach{suffix}Policy",
            {**named, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
            when + timedelta(minutes=2),
            errorCode="AccessDenied",
        ),
    ]
    return Footholds(kind, name, policy.arn, inline_name, event_ids=ids)


def window_start(minutes_ago: int) -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=minutes_ago)


ATTACKER_ACCOUNT = "999988887777"  # the account the attacker lets assume the role


def widened_trust(original: dict[str, Any]) -> dict[str, Any]:
    """`original` with the attacker's account let in: the trust policy the window leaves."""
    attacker = {"AWS": f"arn:aws:iam::{ATTACKER_ACCOUNT}:root"}
    statement = {"Effect": "Allow", "Principal": attacker, "Action": "sts:AssumeRole"}
    return {**original, "Statement": [*original["Statement"], statement]}


def seed_trust_change(account_id: str, role: str, since: datetime, original: dict[str, Any]) -> str:
    """The role made (in CloudTrail) with `original` as its trust policy before the window, then changed during it
    to let the attacker's account in; returns the change's event id."""
    from moto.iam.models import iam_backends

    iam_event(
        account_id,
        "CreateRole",
        {"roleName": role, "assumeRolePolicyDocument": json.dumps(original)},
        since - timedelta(days=3),
    )
    widened = widened_trust(original)
    iam_backends[account_id]["aws"].update_assume_role_policy(role, json.dumps(widened))
    parameters = {"roleName": role, "policyDocument": json.dumps(widened)}
    return iam_event(account_id, "UpdateAssumeRolePolicy", parameters, since + timedelta(minutes=3))


# The team's invocation logging, to S3 (field names from botocore's bedrock LoggingConfig).
TEAM_LOGGING: dict[str, Any] = {
    "s3Config": {"bucketName": "team-bedrock-invocation-logs", "keyPrefix": "bedrock/"},
    "textDataDeliveryEnabled": True,
    "imageDataDeliveryEnabled": True,
    "embeddingDataDeliveryEnabled": True,
}


def bedrock_event(account_id: str, region: str, name: str, parameters: dict[str, Any] | None, when: datetime) -> str:
    record = record_event(
        account_id,
        region,
        {
            "eventTime": when,
            "eventSource": "bedrock.amazonaws.com",
            "eventName": name,
            "sourceIPAddress": ATTACKER_IP,
            "userAgent": HOSTILE_AGENT,
            "userIdentity": _attacker(account_id),
            "requestParameters": parameters,
        },
    )
    return str(record["eventID"])


def seed_logging_deleted(account_id: str, region: str, since: datetime) -> str:
    """The team turned invocation logging on (to S3) days before the window; the attacker deleted it during it.
    Returns the deletion's event id."""
    from moto.bedrock.models import bedrock_backends

    backend = bedrock_backends[account_id][region]
    backend.put_model_invocation_logging_configuration(logging_config=TEAM_LOGGING)
    team = {
        **_attacker(account_id),
        "arn": f"arn:aws:iam::{account_id}:user/platform-admin",
        "userName": "platform-admin",
    }
    record_event(
        account_id,
        region,
        {
            "eventTime": since - timedelta(days=5),
            "eventSource": "bedrock.amazonaws.com",
            "eventName": "PutModelInvocationLoggingConfiguration",
            "userIdentity": team,
            "requestParameters": {"loggingConfig": TEAM_LOGGING},
        },
    )
    backend.delete_model_invocation_logging_configuration()
    return bedrock_event(
        account_id, region, "DeleteModelInvocationLoggingConfiguration", None, since + timedelta(minutes=9)
    )


@dataclass
class LLMjacking:
    """The long-term key's incident with what an LLMjacking attacker left behind during the key's life."""

    incident: Seeded
    policies: Footholds
    access_key_id: str  # created on the user during the window
    team_access_key_id: str  # the team's, created before the window: never touched
    logging_deleted_by: str  # the deletion's event id
    job_arn: str  # a customization job the attacker started, still running
    batch_job_arn: str = ""  # a batch inference job it submitted, still running
    throughput_arn: str = ""  # provisioned throughput it bought, with a commitment term
    model_access_ids: list[str] = field(default_factory=list)  # the model access it put (entitlement events)
    window_jobs: WindowJobs | None = None  # who CloudTrail says started them; an evaluation job; the team's job

    @property
    def key(self) -> str:  # the leaked secret: only ever written to a 0600 key file, never printed
        return self.incident.key


def seed_llmjacking(account_id: str) -> LLMjacking:
    """seed_incident's account, and during the key's life (it was made two hours ago): invocation logging deleted,
    an access key created on the user, a managed policy attached and an inline policy put, a customization job
    started and still running, a batch inference job still running, provisioned throughput with a commitment. The
    team's own access key was made before."""
    from moto.iam.models import iam_backends

    incident = seed_incident(account_id)
    iam = iam_backends[account_id]["aws"]
    team = iam.create_access_key(LEAKED_USER)
    team.create_date = (datetime.now(timezone.utc) - timedelta(days=40)).replace(tzinfo=None)  # moto's naive UTC
    since = window_start(110)  # ten minutes after the key was made
    policies = seed_policy_footholds(account_id, "user", LEAKED_USER, since)
    planted = iam.create_access_key(LEAKED_USER).access_key_id
    iam_event(account_id, "CreateAccessKey", {"userName": LEAKED_USER}, since + timedelta(minutes=4))
    deleted = seed_logging_deleted(account_id, SANDBOX_REGION, since)
    job = seed_customization_job(account_id, SANDBOX_REGION, "llm-exfil-tune", since + timedelta(minutes=30))
    started = {"jobName": "llm-exfil-tune", "baseModelIdentifier": "amazon.titan-text-express-v1"}
    bedrock_event(account_id, SANDBOX_REGION, "CreateModelCustomizationJob", started, since + timedelta(minutes=30))
    batch = seed_invocation_job(account_id, SANDBOX_REGION, "llm-exfil-batch", since + timedelta(minutes=35))
    bought = seed_provisioned_throughput(account_id, SANDBOX_REGION, "llm-exfil-pt", since + timedelta(minutes=40))
    access = seed_model_access(account_id, SANDBOX_REGION, _leaked_user(account_id), since + timedelta(minutes=12))
    made = {"customization": job, "batch": batch, "throughput": bought}
    jobs = seed_window_jobs(account_id, SANDBOX_REGION, since, user_identity(account_id, LEAKED_USER), made)
    return LLMjacking(
        incident, policies, planted, team.access_key_id, deleted, job, batch, bought, access, window_jobs=jobs
    )


def _leaked_user(account_id: str) -> dict[str, Any]:
    """CloudTrail's userIdentity for the leaked key's user (as seed.seed_incident records its calls)."""
    return {
        "type": "IAMUser",
        "principalId": "AIDAEXAMPLEDEMO",
        "arn": f"arn:aws:iam::{account_id}:user/{LEAKED_USER}",
        "accountId": account_id,
        "userName": LEAKED_USER,
    }


@dataclass
class RoleLLMjacking:
    """The short-term key's incident with what an attacker left on the role whose session signed it."""

    incident: SeededShortTerm
    policies: Footholds
    trust_changed_by: str  # the trust policy change's event id
    trust: dict[str, Any]  # the trust policy the window left (the attacker's account let in)
    logging_deleted_by: str = ""  # the deletion of the key's region's invocation logging (event id)
    model_access_ids: list[str] = field(default_factory=list)  # the model access the key's session put
    window_jobs: WindowJobs | None = None  # jobs and throughput the role's session started, and the team's job

    @property
    def key(self) -> str:  # the leaked token: only ever written to a 0600 key file, never printed
        return self.incident.key


def seed_role_llmjacking(account_id: str) -> RoleLLMjacking:
    """seed_short_term_incident's account, and during the key's life: a managed policy attached and an inline policy
    put on the role, its trust policy widened to let another account assume it, and seed_short_term_window's."""
    incident = seed_short_term_incident(account_id)
    since = parse_short_term_key(incident.key).issued_at
    policies = seed_policy_footholds(account_id, "role", incident.role_name, since)
    changed = seed_trust_change(account_id, incident.role_name, since, ROLE_TRUST)
    deleted, access = seed_short_term_window(account_id, incident, since)
    jobs = seed_window_jobs(account_id, incident.region, since, incident.identity)
    return RoleLLMjacking(incident, policies, changed, widened_trust(ROLE_TRUST), deleted, access, window_jobs=jobs)


def seed_short_term_window(account_id: str, incident: SeededShortTerm, since: datetime) -> tuple[str, list[str]]:
    """In the key's region, during its life: invocation logging deleted (by the attacker's other credentials), model
    access put by the key's own session, and Bedrock's metrics for the window (issue to now) and the baseline of
    equal length before it. Returns the deletion's event id and the model-access event ids."""
    deleted = seed_logging_deleted(account_id, incident.region, since)
    access = seed_model_access(account_id, incident.region, incident.identity, since + timedelta(minutes=11))
    seed_metrics(account_id, incident.region, (since, datetime.now(timezone.utc)))
    return deleted, access

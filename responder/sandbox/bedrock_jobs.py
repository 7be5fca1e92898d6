"""Bedrock customization jobs as `ListModelCustomizationJobs` answers them, for moto's Bedrock emulation.

moto 5.2 keeps a job's `creationTime` as local time text ("%Y-%m-%d %H:%M:%S") and filters `creationTimeAfter` by
comparing that text with the request's ISO timestamp, so no job is ever "after" anything; and it finds a job by its
name only, where AWS takes the name or the ARN (`jobIdentifier`). `install()` answers
the operation from the same jobs with times compared as times (UTC), in the botocore model's
`ModelCustomizationJobSummary` shape; `seed_customization_job()` makes a running job as of a given time.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from typing import Any

from moto.bedrock.models import BedrockBackend
from moto.bedrock.responses import BedrockResponse

_INSTALLED_ATTR = "_responder_bedrock_jobs_installed"
_lock = threading.Lock()


def _utc(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, str) and value:
        text = value.replace("Z", "+00:00").replace(" ", "T", 1)
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


def list_model_customization_jobs(self: BedrockResponse) -> str:
    after, before = _utc(self._get_param("creationTimeAfter")), _utc(self._get_param("creationTimeBefore"))
    status = self._get_param("statusEquals")
    jobs = []
    for job in self.bedrock_backend.model_customization_jobs.values():
        created = _utc(job.creation_time)
        if created is None or (after is not None and created <= after) or (before is not None and created >= before):
            continue
        if status is not None and job.status != status:
            continue
        jobs.append((created, job))
    summaries = [
        {
            "jobArn": job.job_arn,
            "baseModelArn": job.base_model_arn,
            "jobName": job.job_name,
            "status": job.status,
            "creationTime": created.isoformat(),
            "customModelName": job.custom_model_name,
            "customizationType": job.customization_type,
        }
        for created, job in sorted(jobs, key=lambda pair: pair[0], reverse=True)
    ]
    return json.dumps({"modelCustomizationJobSummaries": summaries})


def _by_name_or_arn(method: Any) -> Any:
    def wrapped(self: BedrockBackend, job_identifier: str) -> Any:
        for name, job in self.model_customization_jobs.items():
            if job_identifier == job.job_arn:
                job_identifier = name
        return method(self, job_identifier)

    return wrapped


def seed_customization_job(account_id: str, region: str, name: str, created: datetime) -> str:
    """A customization job started at `created`, still InProgress; returns its ARN."""
    from moto.bedrock.models import bedrock_backends

    install()
    backend = bedrock_backends[account_id][region]
    arn = backend.create_model_customization_job(
        job_name=name,
        custom_model_name=f"{name}-model",
        role_arn=f"arn:aws:iam::{account_id}:role/bedrock-customization",
        base_model_identifier="amazon.titan-text-express-v1",
        training_data_config={"s3Uri": "s3://exfil-training-data/train.jsonl"},
        output_data_config={"s3Uri": "s3://exfil-training-data/out/"},
        hyper_parameters={"epochCount": "5"},
        client_request_token=None,
        customization_type="FINE_TUNING",
        custom_model_kms_key_id=None,
        job_tags=None,
        custom_model_tags=None,
        validation_data_config=None,
        vpc_config=None,
    )
    backend.model_customization_jobs[name].creation_time = created.astimezone(timezone.utc).isoformat()
    return str(arn)


def install() -> None:
    """Patch moto's Bedrock once per process; safe to call any number of times."""
    with _lock:
        if not getattr(BedrockResponse, _INSTALLED_ATTR, False):
            setattr(BedrockResponse, "list_model_customization_jobs", list_model_customization_jobs)  # noqa: B010
            for name in ("get_model_customization_job", "stop_model_customization_job"):
                setattr(BedrockBackend, name, _by_name_or_arn(getattr(BedrockBackend, name)))
            setattr(BedrockResponse, _INSTALLED_ATTR, True)

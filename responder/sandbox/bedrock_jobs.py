"""Bedrock customization jobs as `ListModelCustomizationJobs` answers them, for moto's Bedrock emulation.

moto 5.2 keeps a job's `creationTime` as local time text ("%Y-%m-%d %H:%M:%S") and filters `creationTimeAfter` by
comparing that text with the request's ISO timestamp, so no job is ever "after" anything; and it finds a job by its
name only, where AWS takes the name or the ARN (`jobIdentifier`). `install()` answers
the operation from the same jobs with times compared as times (UTC), in the botocore model's
`ModelCustomizationJobSummary` shape; `seed_customization_job()` makes a running job as of a given time.
moto has no batch inference jobs, evaluation jobs or provisioned throughput: `ListModelInvocationJobs`,
`StopModelInvocationJob`, `ListEvaluationJobs`, `StopEvaluationJob`, `ListProvisionedModelThroughputs` and
`DeleteProvisionedModelThroughput` are answered from what `seed_invocation_job()`, `seed_evaluation_job()` and
`seed_provisioned_throughput()` keep (a commitment term not yet over refuses deletion, as the Bedrock user guide says).
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

from moto.bedrock.exceptions import ResourceNotFoundException, ValidationException
from moto.bedrock.models import BedrockBackend
from moto.bedrock.responses import BedrockResponse
from moto.core.exceptions import JsonRESTError

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
            setattr(BedrockResponse, "list_model_invocation_jobs", list_model_invocation_jobs)  # noqa: B010
            setattr(BedrockResponse, "list_provisioned_model_throughputs", list_provisioned_model_throughputs)  # noqa: B010
            for added in _ADDED:
                setattr(BedrockResponse, added.__name__, added)
            for name in ("get_model_customization_job", "stop_model_customization_job"):
                setattr(BedrockBackend, name, _by_name_or_arn(getattr(BedrockBackend, name)))
            setattr(BedrockResponse, _INSTALLED_ATTR, True)


# Batch inference jobs and provisioned throughput: moto 5.2 has neither operation. They are kept on the region's
# backend (a reset forgets them with it), in the botocore model's `ModelInvocationJobSummary` and
# `ProvisionedModelSummary` shapes, and listed with the filters AWS applies (times compared as times).
_INVOCATION_JOBS = "_responder_invocation_jobs"
_THROUGHPUTS = "_responder_provisioned_throughputs"


def _kept(backend: BedrockBackend, attr: str) -> list[dict[str, Any]]:
    if not hasattr(backend, attr):
        setattr(backend, attr, [])
    kept: list[dict[str, Any]] = getattr(backend, attr)
    return kept


def _listed(self: BedrockResponse, attr: str, time_field: str, after_param: str, before_param: str) -> list[Any]:
    after, before = _utc(self._get_param(after_param)), _utc(self._get_param(before_param))
    status = self._get_param("statusEquals")
    found = []
    for item in _kept(self.bedrock_backend, attr):
        at = _utc(item[time_field])
        if at is None or (after is not None and at <= after) or (before is not None and at >= before):
            continue
        if status is not None and item["status"] != status:
            continue
        found.append(item)
    return sorted(found, key=lambda item: _utc(item[time_field]) or datetime.min, reverse=True)


def list_model_invocation_jobs(self: BedrockResponse) -> str:
    jobs = _listed(self, _INVOCATION_JOBS, "submitTime", "submitTimeAfter", "submitTimeBefore")
    return json.dumps({"invocationJobSummaries": jobs})


def list_provisioned_model_throughputs(self: BedrockResponse) -> str:
    found = _listed(self, _THROUGHPUTS, "creationTime", "creationTimeAfter", "creationTimeBefore")
    return json.dumps({"provisionedModelSummaries": found})


def seed_invocation_job(
    account_id: str, region: str, name: str, submitted: datetime, status: str = "InProgress"
) -> str:
    """A batch inference job submitted at `submitted`, in `status`; returns its ARN."""
    from moto.bedrock.models import bedrock_backends

    install()
    arn = f"arn:aws:bedrock:{region}:{account_id}:model-invocation-job/{name}"
    _kept(bedrock_backends[account_id][region], _INVOCATION_JOBS).append(
        {
            "jobArn": arn,
            "jobName": name,
            "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
            "roleArn": f"arn:aws:iam::{account_id}:role/bedrock-batch",
            "status": status,
            "submitTime": submitted.astimezone(timezone.utc).isoformat(),
            "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://exfil-batch/in/"}},
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://exfil-batch/out/"}},
        }
    )
    return arn


def seed_provisioned_throughput(
    account_id: str, region: str, name: str, created: datetime, commitment: str | None = "SixMonths", units: int = 2
) -> str:
    """Provisioned throughput created at `created`, InService, with `commitment` (None: no term); returns its ARN."""
    from moto.bedrock.models import bedrock_backends

    install()
    arn = f"arn:aws:bedrock:{region}:{account_id}:provisioned-model/{name}"
    model = f"arn:aws:bedrock:{region}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
    at = created.astimezone(timezone.utc)
    item: dict[str, Any] = {
        "provisionedModelName": name,
        "provisionedModelArn": arn,
        "modelArn": model,
        "desiredModelArn": model,
        "foundationModelArn": model,
        "modelUnits": units,
        "desiredModelUnits": units,
        "status": "InService",
        "creationTime": at.isoformat(),
        "lastModifiedTime": at.isoformat(),
    }
    if commitment is not None:
        item["commitmentDuration"] = commitment
        item["commitmentExpirationTime"] = (at + timedelta(days=30 if commitment == "OneMonth" else 182)).isoformat()
    _kept(bedrock_backends[account_id][region], _THROUGHPUTS).append(item)
    return arn


_EVALUATION_JOBS = "_responder_evaluation_jobs"


def list_evaluation_jobs(self: BedrockResponse) -> str:
    jobs = _listed(self, _EVALUATION_JOBS, "creationTime", "creationTimeAfter", "creationTimeBefore")
    return json.dumps({"jobSummaries": jobs})


def _identifier(self: BedrockResponse, collection: str) -> str:
    """The `{jobIdentifier}` (or `{provisionedModelId}`) label of the request's path: the name or ARN, which botocore
    sends percent-encoded (an ARN holds a slash)."""
    tail = unquote(self.path.split("?", 1)[0].split(f"/{collection}/", 1)[1])
    return tail[: -len("/stop")] if tail.endswith("/stop") else tail


def _found(backend: BedrockBackend, attr: str, arn_field: str, name_field: str, identifier: str) -> dict[str, Any]:
    for item in _kept(backend, attr):
        if identifier in (item[arn_field], item[name_field]):
            return item
    raise ResourceNotFoundException(f"{identifier} not found")


def _stop(item: dict[str, Any], running: frozenset[str]) -> str:
    if item["status"] not in running:
        raise ValidationException(f"the job is {item['status']}: only a running job can be stopped")
    item["status"] = "Stopping"  # AWS answers the stop at once; the job reaches Stopped later
    return json.dumps({})


def stop_model_invocation_job(self: BedrockResponse) -> str:
    item = _found(
        self.bedrock_backend, _INVOCATION_JOBS, "jobArn", "jobName", _identifier(self, "model-invocation-job")
    )
    return _stop(item, frozenset({"Submitted", "Validating", "Scheduled", "InProgress"}))


def stop_evaluation_job(self: BedrockResponse) -> str:
    item = _found(self.bedrock_backend, _EVALUATION_JOBS, "jobArn", "jobName", _identifier(self, "evaluation-job"))
    return _stop(item, frozenset({"InProgress"}))


def delete_provisioned_model_throughput(self: BedrockResponse) -> str:
    identifier = _identifier(self, "provisioned-model-throughput")
    item = _found(self.bedrock_backend, _THROUGHPUTS, "provisionedModelArn", "provisionedModelName", identifier)
    ends = _utc(item.get("commitmentExpirationTime"))
    if ends is not None and ends > datetime.now(timezone.utc):
        raise JsonRESTError(
            "ConflictException", "You can't delete a Provisioned Throughput before the commitment term is over."
        )
    _kept(self.bedrock_backend, _THROUGHPUTS).remove(item)
    return json.dumps({})


_ADDED = (list_evaluation_jobs, stop_model_invocation_job, stop_evaluation_job, delete_provisioned_model_throughput)


def seed_evaluation_job(account_id: str, region: str, name: str, created: datetime, status: str = "InProgress") -> str:
    """A model evaluation job created at `created`, in `status`; returns its ARN."""
    from moto.bedrock.models import bedrock_backends

    install()
    arn = f"arn:aws:bedrock:{region}:{account_id}:evaluation-job/{name}"
    _kept(bedrock_backends[account_id][region], _EVALUATION_JOBS).append(
        {
            "jobArn": arn,
            "jobName": name,
            "status": status,
            "creationTime": created.astimezone(timezone.utc).isoformat(),
            "jobType": "Automated",
            "evaluationTaskTypes": ["Summarization"],
            "modelIdentifiers": ["anthropic.claude-3-haiku-20240307-v1:0"],
            "applicationType": "ModelEvaluation",
        }
    )
    return arn

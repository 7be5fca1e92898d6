"""Step Functions in the sandbox: moto's state-machine interpreter, switched on and brought closer to AWS.

moto can execute Amazon States Language (its interpreter comes from LocalStack), but in three ways it does not
behave as AWS does where an exported responder machine depends on it:
- an AWS SDK task's error is `<ServiceName>.<ErrorCode>Exception` in PascalCase (`Iam.NoSuchEntityException`,
  Step Functions developer guide, "AWS SDK integrations"); moto names it after the lower-case service and the
  Python exception class (`iam.NoSuchEntityException`, `iam.iamException` for an unmodelled one);
- a task's `Credentials.RoleArn` is parsed and then ignored: every call goes to moto's default account. AWS calls
  as that role, in its account: the emulator assumes it (through the organization's checked AssumeRole);
- SDK results keep Python datetimes, which the interpreter cannot put into the execution's JSON. AWS returns
  timestamps as ISO 8601 text.
It also calls a fixed `localhost:5000` (or $MOTO_PORT) when served: here it calls the server it runs in.
"""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime, timezone
from typing import Any

# How AWS spells a service in an SDK task's error names (the aws-sdk resource names it in lower case).
_ERROR_SERVICE = {"iam": "Iam", "s3": "S3", "sts": "Sts", "cloudtrail": "CloudTrail", "organizations": "Organizations"}
_SDK_CALLERS = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3",
)
_state: dict[str, str | None] = {"endpoint": None}
_lock = threading.Lock()


def install() -> None:
    """Execute state machines, as AWS would. Idempotent."""
    import importlib

    from moto.core.config import default_user_config
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_aws_sdk

    # The interpreter logs each state's failure, a page long; the execution's history already says it.
    logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
    with _lock:
        default_user_config["stepfunctions"] = {"execute_state_machine": True}
        sdk = state_task_service_aws_sdk.StateTaskServiceAwsSdk
        if getattr(sdk, "_responder_installed", False):
            return
        for name in _SDK_CALLERS:
            setattr(importlib.import_module(name), "boto_client_for", client_for)  # noqa: B010
        evaluate = sdk._eval_service_task

        def eval_service_task(self: Any, env: Any, *args: Any, **kwargs: Any) -> None:
            evaluate(self, env, *args, **kwargs)
            env.stack.append(as_json(env.stack.pop()))

        setattr(sdk, "_eval_service_task", eval_service_task)  # noqa: B010
        setattr(sdk, "_normalise_service_error_name", staticmethod(error_service))  # noqa: B010
        setattr(sdk, "_normalise_exception_name", staticmethod(error_name))  # noqa: B010
        setattr(sdk, "_responder_installed", True)  # noqa: B010


def serve_from(endpoint: str) -> None:
    """SDK tasks call the emulator at `endpoint` (the served one's own address); in-process, moto intercepts."""
    _state["endpoint"] = endpoint


def error_service(service: str) -> str:
    return _ERROR_SERVICE.get(service.lower(), service[:1].upper() + service[1:])


def error_name(service: str, exc: Exception) -> str:
    """`Iam.NoSuchEntityException`: the error code AWS answered, with the suffix Step Functions always adds."""
    response = getattr(exc, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    name = code or type(exc).__name__
    return f"{service}.{name}" if name.endswith("Exception") else f"{service}.{name}Exception"


def as_json(value: Any) -> Any:
    """An SDK result as Step Functions hands it on: timestamps as ISO 8601 text, bytes as text."""
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_json(item) for item in value]
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "read"):  # a streamed body (s3:getObject)
        return as_json(value.read())
    return value


def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    """A client for one SDK task: as the task's `Credentials.RoleArn` when it names one (assumed, in that role's
    account), else as the emulator's default account; sent to this emulator."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 0, "total_max_attempts": 1}, parameter_validation=False)
    place: dict[str, Any] = {"region_name": region, "config": config}
    if _state["endpoint"] is not None:
        place["endpoint_url"] = _state["endpoint"]
    keys: dict[str, Any] = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    role_arn = getattr(state_credentials, "role_arn", None)
    if role_arn:
        sts: Any = boto3.client("sts", **keys, **place)
        given = sts.assume_role(RoleArn=role_arn, RoleSessionName="states-task")["Credentials"]
        keys = {
            "aws_access_key_id": given["AccessKeyId"],
            "aws_secret_access_key": given["SecretAccessKey"],
            "aws_session_token": given["SessionToken"],
        }
    client: Any = boto3.client(service, **keys, **place)  # type: ignore[call-overload]  # any service, by name
    return client

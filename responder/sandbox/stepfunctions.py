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
- IAM answers every policy document URL-encoded (RFC 3986; IAM API reference, GetRolePolicy); boto3 decodes it
  into a dict (botocore's `json_decode_policies`), the Java SDK does not (aws-sdk-java #730, aws-sdk-java-v2
  #4229), and AWS's SDK integrations, which "work exactly like an API call using the AWS SDK", hand the machine
  that encoded string: the emulator's IAM clients skip boto3's decoding, so a machine sees what AWS gives it.
- an SDK task's parameters are PascalCase and its result is handed on PascalCase whatever the service's own
  casing (developer guide, "AWS SDK integrations": `StateMachineArn` for `startSyncExecution`); moto hands
  a camelCase service's PascalCase parameters to boto3 unchanged (which refuses them) and its camelCase answer
  to the machine: the emulator maps both, as the LocalStack interpreter moto took this from does.
It also calls a fixed `localhost:5000` (or $MOTO_PORT) when served: here it calls the server it runs in; and its
grammar refuses an integer `ToleratedFailurePercentage` (`100`), which AWS and statelint take (it reads only
`100.0`): the emulator reads it as the number it is. And a Distributed Map's ResultWriter writes only an empty
manifest: the emulator also writes the iterations' outputs to `SUCCEEDED_0.json`, listed in the manifest, as AWS
does (each entry carries `Status` and `Output`; the child executions' other fields are not kept by moto).
"""

from __future__ import annotations

import json
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
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (
        resource_eval_s3 as result_writer_s3,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_aws_sdk
    from moto.stepfunctions.parser.asl.parse import asl_parser

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
        setattr(sdk, "_normalise_parameters", _normalise_parameters)  # noqa: B010
        setattr(sdk, "_normalise_response", _normalise_response)  # noqa: B010
        setattr(sdk, "_normalise_service_error_name", staticmethod(error_service))  # noqa: B010
        setattr(sdk, "_normalise_exception_name", staticmethod(error_name))  # noqa: B010
        setattr(sdk, "_responder_installed", True)  # noqa: B010
        writer = result_writer_s3.ResourceEvalS3
        setattr(writer, "_handle_put_object", staticmethod(_write_results))  # noqa: B010
        parser = asl_parser.AmazonStateLanguageParser
        parse = parser.parse
        setattr(parser, "parse", staticmethod(lambda definition: parse(_numbers_as_moto_reads_them(definition))))  # noqa: B010


# Services whose API members are camelCase: the others' are PascalCase already, as Step Functions writes them.
_CAMEL_CASED = frozenset({"stepfunctions"})


def _operation(task: Any, boto_service_name: str | None) -> Any:
    import botocore.session

    service = task._get_boto_service_name(boto_service_name)
    if service not in _CAMEL_CASED:
        return None
    action = task.resource.api_action
    model = botocore.session.get_session().get_service_model(service)
    return model.operation_model(action[:1].upper() + action[1:])


def _normalise_parameters(
    self: Any, parameters: dict[str, Any], boto_service_name: str | None = None, service_action_name: str | None = None
) -> None:
    operation = _operation(self, boto_service_name)
    if operation is not None and operation.input_shape is not None:
        self._to_boto_request(parameters, operation.input_shape)


def _normalise_response(
    self: Any, response: Any, boto_service_name: str | None = None, service_action_name: str | None = None
) -> None:
    operation = _operation(self, boto_service_name)
    if operation is not None and operation.output_shape is not None:
        self._from_boto_response(response, operation.output_shape)


def _numbers_as_moto_reads_them(definition: str) -> str:
    """The definition with every integer ToleratedFailurePercentage written as a float (100 -> 100.0)."""
    try:
        document = json.loads(definition)
    except ValueError:
        return definition  # the parser reports it as AWS would

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            found = value.get("ToleratedFailurePercentage")
            if isinstance(found, int) and not isinstance(found, bool):
                value["ToleratedFailurePercentage"] = float(found)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        return value

    return json.dumps(walk(document))


def _write_results(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
    """A ResultWriter's s3:putObject: the iterations' outputs in SUCCEEDED_0.json, then the manifest naming it."""
    parameters, results = env.stack.pop(), env.stack.pop()
    s3 = client_for(resource_runtime_part.region, "s3", state_credentials)
    map_run_arn = env.map_run_record_pool_manager.get_all().pop().map_run_arn
    prefix = parameters.get("Prefix") or ""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    folder = f"{prefix}{map_run_arn.split(':')[-1]}/"
    entries = [{"Status": "SUCCEEDED", "Output": json.dumps(as_json(r))} for r in results or []]
    body = json.dumps(entries).encode("utf-8")
    s3.put_object(Bucket=parameters["Bucket"], Key=folder + "SUCCEEDED_0.json", Body=body)
    manifest = {
        "DestinationBucket": parameters["Bucket"],
        "MapRunArn": map_run_arn,
        "ResultFiles": {
            "FAILED": [],
            "PENDING": [],
            "SUCCEEDED": [{"Key": folder + "SUCCEEDED_0.json", "Size": len(body)}],
        },
    }
    s3.put_object(Bucket=parameters["Bucket"], Key=folder + "manifest.json", Body=json.dumps(manifest, indent=2))
    env.stack.append(
        {
            "MapRunArn": map_run_arn,
            "ResultWriterDetails": {"Bucket": parameters["Bucket"], "Key": folder + "manifest.json"},
        }
    )


def serve_from(endpoint: str) -> None:
    """SDK tasks call the emulator at `endpoint` (the served one's own address); in-process, moto intercepts."""
    with _lock:
        _state["endpoint"] = endpoint
        _clients.clear()  # a new server: roles assumed from an earlier one may mean nothing here


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


_clients: dict[tuple[str | None, str, str, str | None], Any] = {}


def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    """A client for one SDK task: as the task's role (`Credentials.RoleArn`, or the machine's own), assumed in
    that role's account, as AWS does; sent to this emulator. Kept per role and service: a machine makes dozens
    of calls, and building a client and assuming a role for each would be most of its time."""
    role_arn = getattr(state_credentials, "role_arn", None) or None
    endpoint = _state["endpoint"]
    key = (endpoint, region, service, role_arn)
    with _lock:
        found = _clients.get(key)
    if found is None:
        found = _new_client(endpoint, region, service, role_arn)
        with _lock:
            _clients[key] = found
    return found


def _new_client(endpoint: str | None, region: str, service: str, role_arn: str | None) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 0, "total_max_attempts": 1}, parameter_validation=False)
    place: dict[str, Any] = {"region_name": region, "config": config}
    if endpoint is not None:
        place["endpoint_url"] = endpoint
    keys: dict[str, Any] = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    if role_arn:
        sts: Any = boto3.client("sts", **keys, **place)
        given = sts.assume_role(RoleArn=role_arn, RoleSessionName="states-task")["Credentials"]
        keys = {
            "aws_access_key_id": given["AccessKeyId"],
            "aws_secret_access_key": given["SecretAccessKey"],
            "aws_session_token": given["SessionToken"],
        }
    client: Any = boto3.client(service, **keys, **place)  # type: ignore[call-overload]  # any service, by name
    if service == "iam":  # policy documents as IAM sends them, URL-encoded text: not boto3's decoded dict
        from botocore.handlers import json_decode_policies

        client.meta.events.unregister("after-call.iam", json_decode_policies)
    return client

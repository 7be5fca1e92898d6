"""Test helpers shared by several modules (fixtures live in conftest.py)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from responder.actions.base import ActionContext
from responder.aws.clients import AwsOptions, Clients, is_read_only
from responder.engine.running.context import Settings
from responder.sandbox.server import DEFAULT_ACCOUNT
from responder.sandbox.service_credentials import create_credential

ACCOUNT = DEFAULT_ACCOUNT


# A secret part as AWS makes it, 44 bytes in standard base64 (60 characters): a shorter one reads as truncated.
SECRET_PART = "s3cr3tPartOfTheKey0123456789+AbCdEfGhIjKlMnOpQrStUvWxYz/012="


def make_key(alias: str, secret: str = SECRET_PART, pad: bool = True) -> str:
    """A long-term key in AWS's format: ABSK + base64(<alias>:<secret>)."""
    encoded = base64.b64encode(f"{alias}:{secret}".encode()).decode()
    return "ABSK" + (encoded if pad else encoded.rstrip("="))


@dataclass
class Requests:
    """Every AWS operation the code under test sent, and errors to inject by operation name."""

    sent: list[str] = field(default_factory=list)
    faults: dict[str, list[Exception]] = field(default_factory=dict)

    def handler(self, model: Any, **_: Any) -> None:
        self.sent.append(model.name)
        queued = self.faults.get(model.name)
        if queued:
            raise queued.pop(0)

    def fail(self, operation: str, code: str, times: int = 1) -> None:
        from botocore.exceptions import ClientError

        error = ClientError({"Error": {"Code": code, "Message": f"injected {code}"}}, operation)
        self.faults.setdefault(operation, []).extend([error] * times)

    @property
    def mutating(self) -> list[str]:
        return [op for op in self.sent if not is_read_only(op)]


def action_context(reactivate: bool = False, requests: Requests | None = None, **options: Any) -> ActionContext:
    """What an action gets in a run, against the emulated account; `requests` sees every call it sends."""
    clients = Clients(AwsOptions(region="us-east-1"))
    if requests is not None:
        clients.on_request(requests.handler)
    return ActionContext(clients, ACCOUNT, reactivate, **options)


def credential_status(iam: Any, user: str, credential_id: str) -> str:
    creds = iam.list_service_specific_credentials(UserName=user)["ServiceSpecificCredentials"]
    return next((str(c["Status"]) for c in creds if c["ServiceSpecificCredentialId"] == credential_id), "missing")


def inline_policies(iam: Any, user: str) -> dict[str, Any]:
    names = iam.list_user_policies(UserName=user)["PolicyNames"]
    return {n: iam.get_user_policy(UserName=user, PolicyName=n)["PolicyDocument"] for n in names}


def second_credential(user: str) -> str:
    return str(create_credential(ACCOUNT, user)["ServiceSpecificCredentialId"])


def make_token(
    access_key_id: str,
    region: str = "us-west-2",
    seconds: int = 43200,
    issued: Any = None,
    session_token: str | None = "FwoGZXIvYXdzEXAMPLEsessionTOKEN+/=",
) -> str:
    """A real short-term key, made by AWS's aws-bedrock-token-generator, optionally issued in the past."""
    from datetime import timedelta
    from unittest import mock

    from aws_bedrock_token_generator import provide_token
    from botocore.credentials import CredentialProvider, Credentials

    token = None if access_key_id.startswith("AKIA") else session_token

    class Fixed(CredentialProvider):  # type: ignore[misc]
        def load(self) -> Credentials:
            return Credentials(access_key_id, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", token)

    if issued is None:
        return str(provide_token(region=region, aws_credentials_provider=Fixed(), expiry=timedelta(seconds=seconds)))
    with mock.patch("botocore.auth.get_current_datetime", return_value=issued.replace(tzinfo=None)):
        return str(provide_token(region=region, aws_credentials_provider=Fixed(), expiry=timedelta(seconds=seconds)))


def size(document: Any) -> int:
    return len("".join(json.dumps(document).split()))  # IAM counts characters, whitespace excluded


def fill_inline_budget(iam: Any, user: str | None = None, role: str | None = None) -> None:
    """Leave less room in a user's (2,048) or role's (10,240) inline budget than the bearer-token deny needs."""
    from responder.actions.iam_policies import DENY_BEARER_TOKENS

    if role is not None:
        names = iam.list_role_policies(RoleName=role)["PolicyNames"]
        used = sum(size(iam.get_role_policy(RoleName=role, PolicyName=n)["PolicyDocument"]) for n in names)
    else:
        used = sum(size(d) for d in inline_policies(iam, str(user)).values())
    budget = 10_240 if role is not None else 2_048
    resources: list[str] = []
    filler = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": resources}],
    }
    while used + size(filler) + size(DENY_BEARER_TOKENS) <= budget:
        resources.append(f"arn:aws:s3:::bucket/{len(resources):04d}")
    if role is not None:
        iam.put_role_policy(RoleName=role, PolicyName="big", PolicyDocument=json.dumps(filler))
    else:
        iam.put_user_policy(UserName=user, PolicyName="big", PolicyDocument=json.dumps(filler))


@contextmanager
def moto_http_server() -> Iterator[str]:
    """The emulator (with responder's additions) served over loopback HTTP in this process; its state is reset
    on the way out, since it shares the process's moto backends."""
    import logging

    from moto.moto_api import _internal
    from moto.server import ThreadedMotoServer

    from responder.sandbox import stepfunctions
    from responder.sandbox.emulator import install

    install()
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.ERROR)  # a line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    stepfunctions.serve_from(f"http://{host}:{port}")  # state machines' tasks call back into this server
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        werkzeug.setLevel(level)
        _internal.moto_api_backend.reset()


def watched_settings(tmp_path: Path, handler: Callable[..., None]) -> Settings:
    """Settings for an in-process run whose every AWS request `handler` sees before it is sent."""

    def open_clients(options: AwsOptions, read_only: bool) -> Clients:
        clients = Clients(options, read_only)
        clients.on_request(handler)
        return clients

    return Settings(
        runs_dir=tmp_path / "runs",
        aws=AwsOptions(region="us-east-1"),
        open_clients=open_clients,
        verify_delays=(0.0, 0.0),
    )

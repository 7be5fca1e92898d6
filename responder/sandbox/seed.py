"""Emulated incidents: an account where a leaked Bedrock key did things, beside principals that must stay untouched."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from unittest import mock

from responder.sandbox.cloudtrail_events import record_event
from responder.sandbox.service_credentials import create_credential

SANDBOX_REGION = "us-east-1"
TOKEN_REGION = "us-west-2"  # noqa: S105 -- a region, not a secret: the key is made outside us-east-1
LEAKED_USER = "BedrockAPIKey-demo"  # the console names the users it creates BedrockAPIKey-xxxx
BYSTANDER = "ml-pipeline"
LEAKED_ROLE = "bedrock-chat-app"
ATTACKER_IP = "203.0.113.77"  # TEST-NET-3: documentation addresses only
# A policy the leaked user already had: rollback must leave it exactly as it was.
EXISTING_POLICY = (
    "team-bedrock-access",
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "*"}]},
)
ROLE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
}


@dataclass
class Seeded:
    account_id: str
    user_name: str
    credential_id: str
    key: str  # the leaked secret: only ever written to a 0600 key file, never printed
    bystander_credential_id: str

    def public(self) -> dict[str, Any]:
        return {
            "user_name": self.user_name,
            "credential_id": self.credential_id,
            "bystander_user": BYSTANDER,
            "bystander_credential_id": self.bystander_credential_id,
        }


@dataclass
class SeededShortTerm:
    account_id: str
    role_name: str
    access_key_id: str
    region: str
    key: str  # the leaked token: written to a 0600 file, never printed
    identity: dict[str, Any] = field(default_factory=dict)  # CloudTrail's userIdentity for the signing session

    def public(self) -> dict[str, Any]:
        return {"role_name": self.role_name, "access_key_id": self.access_key_id, "region": self.region}


BEARER_CALL_NAMES = ("InvokeModel", "Converse", "InvokeModel", "ListFoundationModels")


def bearer_calls(
    account_id: str,
    region: str,
    identity: dict[str, Any],
    count: int,
    start: datetime,
    every: timedelta = timedelta(minutes=7),
    names: tuple[str, ...] = BEARER_CALL_NAMES,
) -> None:
    """Bedrock calls made with a bearer token, as CloudTrail records them (the key itself is never logged)."""
    for i in range(count):
        record_event(
            account_id,
            region,
            {
                "eventTime": start + every * i,
                "eventSource": "bedrock.amazonaws.com",
                "eventName": names[i % len(names)],
                "sourceIPAddress": ATTACKER_IP,
                "userAgent": "python-requests/2.32.3",
                "userIdentity": identity,
                "additionalEventData": {"callWithBearerToken": True},
                "requestParameters": {"modelId": "anthropic.claude-3-haiku-20240307-v1:0"},
            },
        )


MANTLE_CALL_NAMES = ("ListModels", "CreateFineTuningJob")  # management events on the Mantle endpoint


def mantle_calls(
    account_id: str,
    region: str,
    identity: dict[str, Any],
    token_type: str,
    start: datetime,
    names: tuple[str, ...] = MANTLE_CALL_NAMES,
    every: timedelta = timedelta(minutes=9),
) -> None:
    """Bedrock Mantle calls made with a bearer token: Mantle says so in requestParameters, not additionalEventData
    (Bedrock user guide, "Monitor bedrock-mantle API calls using CloudTrail")."""
    for i, name in enumerate(names):
        parameters: dict[str, Any] = {"callWithBearerToken": True, "bearerTokenType": token_type}
        if name == "CreateFineTuningJob":
            parameters |= {"model": "openai.gpt-oss-20b-1:0", "trainingFile": "file-demo-exfil"}
        record_event(
            account_id,
            region,
            {
                "eventTime": start + every * i,
                "eventSource": "bedrock-mantle.amazonaws.com",
                "eventName": name,
                "sourceIPAddress": ATTACKER_IP,
                "userAgent": "OpenAI/Python 1.99.1",
                "userIdentity": identity,
                "requestParameters": parameters,
            },
        )


def seed_incident(account_id: str) -> Seeded:
    """A long-term key of user BedrockAPIKey-demo, used from an unknown address; user ml-pipeline has its own key."""
    from moto.iam.models import iam_backends
    from moto.securityhub.models import securityhub_backends

    securityhub_backends[account_id][SANDBOX_REGION].enable_security_hub()  # where the run's findings go
    iam = iam_backends[account_id]["aws"]
    for name in (LEAKED_USER, BYSTANDER):
        iam.create_user(SANDBOX_REGION, name)
    name, document = EXISTING_POLICY
    iam.put_user_policy(LEAKED_USER, name, json.dumps(document))
    # The key was made two hours ago and used since: create it as of then (the emulator reads its own clock).
    made = datetime.now(timezone.utc) - timedelta(hours=2)
    with mock.patch("responder.sandbox.service_credentials._now", return_value=made):
        leaked = create_credential(account_id, LEAKED_USER, age_days=30)
        bystander = create_credential(account_id, BYSTANDER)
    identity = {
        "type": "IAMUser",
        "principalId": "AIDAEXAMPLEDEMO",
        "arn": f"arn:aws:iam::{account_id}:user/{LEAKED_USER}",
        "accountId": account_id,
        "userName": LEAKED_USER,
    }
    bearer_calls(account_id, SANDBOX_REGION, identity, 4, datetime.now(timezone.utc) - timedelta(hours=1))
    mantle_calls(account_id, SANDBOX_REGION, identity, "LONG_TERM", datetime.now(timezone.utc) - timedelta(minutes=50))
    return Seeded(
        account_id=account_id,
        user_name=LEAKED_USER,
        credential_id=leaked["ServiceSpecificCredentialId"],
        key=leaked["ServiceCredentialSecret"],
        bystander_credential_id=bystander["ServiceSpecificCredentialId"],
    )


@dataclass(frozen=True)
class SigningSession:
    """A role session whose credentials signed a short-term key: what CloudTrail then says of the key's calls."""

    token: str
    access_key_id: str
    issued: datetime
    identity: dict[str, Any]  # CloudTrail's userIdentity for the session


def role_session_signing(
    account_id: str, role_name: str, session_name: str, minutes_ago: int, sign: Callable[[Any], str]
) -> SigningSession:
    """Make `role_name`, assume it as `session_name`, and have `sign(credentials)` make a short-term key
    with the session's credentials `minutes_ago` (SigV4 reads the clock in botocore.auth: it is set to then)."""
    from botocore.credentials import Credentials
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    role = iam_backends[account_id]["aws"].create_role(role_name, json.dumps(ROLE_TRUST), "/", None, "app", [], None)
    session = sts_backends[account_id]["aws"].assume_role(
        region_name=TOKEN_REGION,
        role_session_name=session_name,
        role_arn=role.arn,
        policy="",
        duration=3600,
        external_id="",
    )
    credentials = Credentials(session.access_key_id, session.secret_access_key, session.session_token)
    issued = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=minutes_ago)
    with mock.patch("botocore.auth.get_current_datetime", return_value=issued.replace(tzinfo=None)):
        token = sign(credentials)
    identity = {
        "type": "AssumedRole",
        "principalId": f"{role.id}:{session_name}",
        "arn": f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}",
        "accountId": account_id,
        "accessKeyId": session.access_key_id,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role.id,
                "arn": role.arn,
                "accountId": account_id,
                "userName": role_name,
            },
            "attributes": {"creationDate": issued.isoformat(), "mfaAuthenticated": "false"},
        },
    }
    return SigningSession(token, session.access_key_id, issued, identity)


def seed_short_term_incident(account_id: str) -> SeededShortTerm:
    """A role session's credentials signed a short-term key (made with aws-bedrock-token-generator) that was then
    used from an unknown address: CloudTrail in the token's region names the session's access key."""
    from aws_bedrock_token_generator.token_generator import TOKEN_DURATION, _generate_token

    # Made 40 minutes ago and used since. provide_token reads the default credential chain; the session's
    # credentials are what we have.
    signed = role_session_signing(
        account_id, LEAKED_ROLE, "chat-app-worker", 40, lambda c: _generate_token(c, TOKEN_REGION, TOKEN_DURATION)
    )
    token, issued, identity = signed.token, signed.issued, signed.identity
    bearer_calls(account_id, TOKEN_REGION, identity, 3, issued + timedelta(minutes=5))
    mantle_calls(account_id, TOKEN_REGION, identity, "SHORT_TERM", issued + timedelta(minutes=8))
    return SeededShortTerm(account_id, LEAKED_ROLE, signed.access_key_id, TOKEN_REGION, token, identity)

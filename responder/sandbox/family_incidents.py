"""Emulated incidents of every key family beside Bedrock's (seed.py), and of a user's second key.

For each family: a user holding a long-term key of the family's service, beside a bystander credential of the
same service that must stay untouched. Claude Platform on AWS also gets a short-term key, made by AWS's own
generator (token-generator-for-aws-external-anthropic) from a role session CloudTrail has seen. And the second-key
incident: user `thomas` holds two Bedrock keys, the second's alias `thomas+1-at-...`, while a user literally
named `thomas+1` holds one with the same alias: resolving that key must stop and name both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from responder.keys import FAMILIES
from responder.keys.registry import DEFAULT_FAMILY
from responder.sandbox.cloudtrail_events import record_event
from responder.sandbox.seed import ATTACKER_IP, BYSTANDER, TOKEN_REGION, role_session_signing
from responder.sandbox.service_credentials import create_credential

CLAUDE_ROLE = "claude-platform-app"
SECOND_KEY_USER = "thomas"


@dataclass
class FamilyIncident:
    family: str
    kind: str
    key: str  # the leaked secret: only ever written to a 0600 key file, never printed
    public: dict[str, Any]


def seed_family_incidents(account_id: str) -> list[FamilyIncident]:
    """Every family's long-term incident but Bedrock's (seed_incident makes that one), Claude Platform's
    short-term one, and the second-key incident. The users must not exist yet."""
    from moto.iam.models import iam_backends

    iam = iam_backends[account_id]["aws"]
    incidents = []
    for family in FAMILIES.values():
        if family is DEFAULT_FAMILY:  # seed_incident makes the default family's (Bedrock's) incident
            continue
        # A console-made user's name where one is documented (even by a third party), a plain one otherwise.
        user = (family.console_users.name_glob or f"{family.name}-shipper-*").replace("*", "demo")
        iam.create_user("us-east-1", user)
        created = create_credential(account_id, user, family.service_name)
        bystander = create_credential(account_id, BYSTANDER, family.service_name)
        incidents.append(
            FamilyIncident(
                family.name,
                "long-term",
                created["ServiceCredentialSecret"],
                {
                    "user_name": user,
                    "credential_id": created["ServiceSpecificCredentialId"],
                    "service_name": family.service_name,
                    "bystander_user": BYSTANDER,
                    "bystander_credential_id": bystander["ServiceSpecificCredentialId"],
                },
            )
        )
    incidents.append(_claude_short_term(account_id))
    incidents.append(_second_key(account_id))
    return incidents


def _second_key(account_id: str) -> FamilyIncident:
    from moto.iam.models import iam_backends

    iam = iam_backends[account_id]["aws"]
    bystander_name = f"{SECOND_KEY_USER}+1"
    for name in (SECOND_KEY_USER, bystander_name):
        iam.create_user("us-east-1", name)
    first = create_credential(account_id, SECOND_KEY_USER)
    second = create_credential(account_id, SECOND_KEY_USER)  # alias thomas+1-at-<account>
    bystander = create_credential(account_id, bystander_name)  # the same alias, another user
    return FamilyIncident(
        "bedrock",
        "second-key",
        second["ServiceCredentialSecret"],
        {
            "user_name": SECOND_KEY_USER,
            "credential_id": second["ServiceSpecificCredentialId"],
            "first_credential_id": first["ServiceSpecificCredentialId"],
            "bystander_user": bystander_name,
            "bystander_credential_id": bystander["ServiceSpecificCredentialId"],
        },
    )


def _claude_short_term(account_id: str) -> FamilyIncident:
    from token_generator_for_aws_external_anthropic.token_generator import _build_token

    signed = role_session_signing(
        account_id, CLAUDE_ROLE, "claude-worker", 30, lambda c: str(_build_token(c, TOKEN_REGION, 43200))
    )
    token, issued, identity = signed.token, signed.issued, signed.identity
    # Inference is a data event LookupEvents never returns; a workspace listing is a management event it does.
    record_event(
        account_id,
        TOKEN_REGION,
        {
            "eventTime": issued + timedelta(minutes=4),
            "eventSource": "aws-external-anthropic.amazonaws.com",
            "eventName": "ListWorkspaces",
            "sourceIPAddress": ATTACKER_IP,
            "userAgent": "python-requests/2.32.3",
            "userIdentity": identity,
            "requestParameters": {"callWithBearerToken": True},
        },
    )
    return FamilyIncident(
        "claude-platform",
        "short-term",
        token,
        {"role_name": CLAUDE_ROLE, "access_key_id": signed.access_key_id, "region": TOKEN_REGION},
    )

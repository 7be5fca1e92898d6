"""An emulated incident: an account whose IAM user holds a leaked Bedrock key, beside one that must not be touched."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from responder.sandbox.service_credentials import create_credential

SANDBOX_REGION = "us-east-1"
LEAKED_USER = "BedrockAPIKey-demo"  # the console names the users it creates BedrockAPIKey-xxxx
BYSTANDER = "ml-pipeline"
# A policy the leaked user already had: rollback must leave it exactly as it was.
EXISTING_POLICY = (
    "team-bedrock-access",
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "*"}]},
)


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


def seed_incident(account_id: str) -> Seeded:
    from moto.iam.models import iam_backends

    iam = iam_backends[account_id]["aws"]
    for name in (LEAKED_USER, BYSTANDER):
        iam.create_user(SANDBOX_REGION, name)
    name, document = EXISTING_POLICY
    iam.put_user_policy(LEAKED_USER, name, json.dumps(document))
    leaked = create_credential(account_id, LEAKED_USER, age_days=30)
    bystander = create_credential(account_id, BYSTANDER)
    return Seeded(
        account_id=account_id,
        user_name=LEAKED_USER,
        credential_id=leaked["ServiceSpecificCredentialId"],
        key=leaked["ServiceCredentialSecret"],
        bystander_credential_id=bystander["ServiceSpecificCredentialId"],
    )

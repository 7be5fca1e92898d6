"""A short-term key signed by an IAM user's own access key (`AKIA...`), and what an attacker left on that user during
the key's life: the account the short-term playbook's user path (its containment and its foothold steps) is tested
and fault-injected against.

The key is made as aws-bedrock-token-generator makes it, with the access key's real secret, at a moment in the past
(SigV4 reads the clock in botocore.auth: it is set to then). The signing access key was made days before: IAM's
CreateDate is what tells the team's keys from the window's, so it is dated back on moto's backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from unittest import mock

from responder.sandbox.llmjacking import Footholds, seed_logging_deleted, seed_policy_footholds
from responder.sandbox.login_profiles import CREATED_ATTR
from responder.sandbox.seed import TOKEN_REGION
from responder.sandbox.service_credentials import create_credential

SIGNING_USER = "ci-bot"  # a CI user whose access key signed the leaked key


@dataclass(frozen=True)
class UserSignedKey:
    user_name: str
    signing_key_id: str  # the AKIA... access key that signed it: containment's
    key: str  # the leaked token: written to a 0600 file, never printed
    issued: datetime
    region: str


@dataclass(frozen=True)
class UserSignedLLMjacking:
    """The key, and during its life: an access key, a Bedrock key and a console password made on the user, a managed
    and an inline policy given to it, and the key's region's invocation logging deleted."""

    signed: UserSignedKey
    planted_key_id: str
    window_credential_id: str
    policies: Footholds
    logging_deleted_by: str

    @property
    def key(self) -> str:
        return self.signed.key


def date_back(account_id: str, access_key_id: str, days: int) -> None:
    """Make an access key `days` old, as IAM's CreateDate says it (moto keeps naive UTC)."""
    from moto.iam.models import iam_backends

    made = datetime.now(timezone.utc) - timedelta(days=days)
    iam_backends[account_id]["aws"].access_keys[access_key_id].create_date = made.replace(tzinfo=None)


def seed_user_signed_key(
    account_id: str, user_name: str = SIGNING_USER, minutes_ago: int = 30, key_days_old: int = 10
) -> UserSignedKey:
    """The user, its access key (made `key_days_old` days ago) and a short-term key it signed `minutes_ago`."""
    from aws_bedrock_token_generator.token_generator import TOKEN_DURATION, _generate_token
    from botocore.credentials import Credentials
    from moto.iam.models import iam_backends

    iam = iam_backends[account_id]["aws"]
    iam.create_user(TOKEN_REGION, user_name)
    access_key = iam.create_access_key(user_name)
    date_back(account_id, access_key.access_key_id, key_days_old)
    issued = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=minutes_ago)
    credentials = Credentials(access_key.access_key_id, access_key.secret_access_key)
    with mock.patch("botocore.auth.get_current_datetime", return_value=issued.replace(tzinfo=None)):
        token = _generate_token(credentials, TOKEN_REGION, TOKEN_DURATION)
    return UserSignedKey(user_name, access_key.access_key_id, token, issued, TOKEN_REGION)


def seed_user_signed_llmjacking(account_id: str) -> UserSignedLLMjacking:
    """seed_user_signed_key's account with the footholds of the key's life (every kind the user path undoes)."""
    from moto.iam.models import iam_backends

    signed = seed_user_signed_key(account_id)
    iam = iam_backends[account_id]["aws"]
    planted = iam.create_access_key(signed.user_name).access_key_id  # now: during the key's life
    credential = create_credential(account_id, signed.user_name)["ServiceSpecificCredentialId"]
    user = iam.create_login_profile(signed.user_name, "Attacker-chosen-1!")
    setattr(user, CREATED_ATTR, datetime.now(timezone.utc))  # as the sandbox's CreateLoginProfile keeps it
    policies = seed_policy_footholds(account_id, "user", signed.user_name, signed.issued)
    deleted = seed_logging_deleted(account_id, signed.region, signed.issued)
    return UserSignedLLMjacking(signed, planted, credential, policies, deleted)

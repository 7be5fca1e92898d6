"""Emulated member accounts, for fan-out: an organization whose accounts hold Bedrock keys and a role to assume.

moto lets anyone assume any role ARN, even one that does not exist. AWS refuses (AccessDenied) when the role is
missing or does not trust the caller; the emulator refuses when the role is missing, so a fan-out meets a real
failure when an account lacks the role. moto also lists no accounts, rather than failing, for an account in no
organization; the emulator answers AWSOrganizationsNotInUseException, as AWS does.
"""

from __future__ import annotations

import json
import re
import threading
import warnings
from dataclasses import dataclass
from typing import Any

from responder.sandbox.service_credentials import create_credential

# What the member-role template creates in each account (responder's default --role-name); Organizations' own
# OrganizationAccountAccessRole is there too, as moto makes it with each account.
DEFAULT_ROLE = "ResponderMemberRole"
ROLE_ARN = re.compile(r"arn:[a-z-]+:iam::(\d{12}):role/(?:[\w+=,.@/-]*/)?([\w+=,.@-]{1,64})")
_INSTALLED_ATTR = "_responder_assume_role_checked"
_lock = threading.Lock()


def install() -> None:
    """AssumeRole fails (AccessDenied) when the role does not exist; ListAccounts fails outside an organization.
    Idempotent."""
    from moto.core.responses import ActionResult
    from moto.organizations.exceptions import AWSOrganizationsNotInUseException
    from moto.organizations.models import OrganizationsBackend
    from moto.sts.exceptions import STSClientError
    from moto.sts.models import STSBackend
    from moto.sts.responses import TokenResponse

    with _lock:
        if getattr(STSBackend, _INSTALLED_ATTR, False):
            return
        assume_original, list_original = STSBackend.assume_role, OrganizationsBackend.list_accounts
        serve_original = TokenResponse.assume_role

        def assume_role(self: Any, **kwargs: Any) -> Any:
            _check_role(self.account_id, kwargs["role_arn"])
            return assume_original(self, **kwargs)

        def serve_assume_role(self: Any) -> Any:
            try:
                return serve_original(self)
            except STSClientError as refused:
                if refused.code != "AccessDenied":
                    raise
                # moto takes an error's HTTP status from the service model, and STS's has no AccessDenied shape:
                # it would answer 400. AWS answers a refused AssumeRole with 403 (FACTS.md, "The emulator").
                _, headers, body = self.serialized(ActionResult(refused))
                headers["status"] = 403
                return 403, headers, body

        def list_accounts(self: Any, **kwargs: Any) -> Any:
            if self.org is None:
                raise AWSOrganizationsNotInUseException()
            return list_original(self, **kwargs)

        setattr(STSBackend, "assume_role", assume_role)  # noqa: B010
        setattr(TokenResponse, "assume_role", serve_assume_role)  # noqa: B010
        setattr(OrganizationsBackend, "list_accounts", list_accounts)  # noqa: B010
        setattr(STSBackend, _INSTALLED_ATTR, True)
        # STS's service model has no AccessDenied shape: moto warns on every refusal, though AWS answers just so.
        warnings.filterwarnings("ignore", message=r"Exception\(STSClientError\) with code AccessDenied")


def _check_role(caller_account: str, role_arn: str) -> None:
    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import iam_backends
    from moto.sts.exceptions import STSClientError

    match = ROLE_ARN.fullmatch(role_arn)
    if match is None:
        raise STSClientError("ValidationError", f"{role_arn} is not a role ARN")
    account_id, name = match.groups()
    try:
        iam_backends[account_id]["aws"].get_role(name)
    except NotFoundException:
        raise STSClientError(
            "AccessDenied",
            f"User: arn:aws:iam::{caller_account}:user/moto is not authorized to perform: sts:AssumeRole "
            f"on resource: {role_arn}",
        ) from None


@dataclass
class Member:
    account_id: str
    users: list[str]
    credential_ids: list[str]


def seed_organization(management_account: str, accounts: int, keys_per_account: int) -> list[Member]:
    """An organization in the management account with `accounts` member accounts (Organizations creates
    OrganizationAccountAccessRole in each; the emulator adds responder's member role, as its template would),
    each holding `keys_per_account` long-term keys, one user per key."""
    from moto.iam.models import iam_backends
    from moto.organizations.models import organizations_backends

    install()
    org = organizations_backends[management_account]["aws"]
    if org.org is None:
        org.create_organization(region="us-east-1", FeatureSet="ALL")
    members = []
    for n in range(accounts):
        made = org.create_account(AccountName=f"member-{n:03d}", Email=f"member-{n:03d}@example.com")
        account_id = made["CreateAccountStatus"]["AccountId"]
        iam = iam_backends[account_id]["aws"]
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{management_account}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        iam.create_role(DEFAULT_ROLE, json.dumps(trust), "/", None, "responder member role", [], None)
        users, credentials = [], []
        for k in range(keys_per_account):
            user = f"app-{k:04d}"
            iam.create_user("us-east-1", user)
            users.append(user)
            credentials.append(create_credential(account_id, user)["ServiceSpecificCredentialId"])
        members.append(Member(account_id, users, credentials))
    return members

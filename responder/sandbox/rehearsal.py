"""`responder rehearse`: run a real playbook against an emulated account, check the result, roll it back.

No AWS account is touched: moto intercepts every request in-process.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from responder.actions.iam_policies import DEFAULT_POLICY_NAME, DENY_BEARER_TOKENS
from responder.aws import AwsOptions
from responder.errors import UserError
from responder.journal import Listener
from responder.operations import Outcome, Settings, rollback_run, start_run
from responder.sandbox.seed import BYSTANDER, EXISTING_POLICY, SANDBOX_REGION, Seeded, seed_incident
from responder.sandbox.server import DEFAULT_ACCOUNT
from responder.sandbox.service_credentials import install

REHEARSABLE = ("leaked-long-term-key",)
# The operator's own AWS settings must not leak into the emulated account.
_ISOLATED_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": SANDBOX_REGION,
}
_CLEARED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS")


@dataclass
class Check:
    what: str
    ok: bool


@dataclass
class Rehearsal:
    run: Outcome
    rollback: Outcome
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def rehearse(playbook: str, runs_dir: Path, listeners: list[Listener]) -> Rehearsal:
    if playbook not in REHEARSABLE:
        raise UserError(f"no rehearsal for {playbook!r} yet (rehearsable: {', '.join(REHEARSABLE)})")
    from moto import mock_aws

    env = {k: v for k, v in os.environ.items() if k not in _CLEARED} | _ISOLATED_ENV
    with mock.patch.dict(os.environ, env, clear=True), mock_aws():
        install()
        seeded = seed_incident(DEFAULT_ACCOUNT)
        settings = Settings(runs_dir=runs_dir, aws=AwsOptions(region=SANDBOX_REGION), listeners=listeners)
        iam = settings.open_clients(settings.aws, True).iam
        run = start_run(playbook, {}, seeded.key, dry_run=False, confirm=None, settings=settings)
        checks = _contained(iam, seeded)
        back = rollback_run(run.run_id, reactivate_keys=True, settings=settings)
        checks += _restored(iam, seeded)
    return Rehearsal(
        run,
        back,
        [
            Check("the run completed", run.status == "completed"),
            *checks,
            Check("the rollback completed", back.status == "rolled-back"),
        ],
    )


def _status(iam: Any, user: str, credential_id: str) -> str:
    creds = iam.list_service_specific_credentials(UserName=user)["ServiceSpecificCredentials"]
    return next((str(c["Status"]) for c in creds if c["ServiceSpecificCredentialId"] == credential_id), "missing")


def _inline(iam: Any, user: str) -> dict[str, Any]:
    names = iam.list_user_policies(UserName=user)["PolicyNames"]
    return {n: iam.get_user_policy(UserName=user, PolicyName=n)["PolicyDocument"] for n in names}


def _contained(iam: Any, seeded: Seeded) -> list[Check]:
    denied = _inline(iam, seeded.user_name).get(DEFAULT_POLICY_NAME) == DENY_BEARER_TOKENS
    return [
        Check("the leaked credential is Inactive", _status(iam, seeded.user_name, seeded.credential_id) == "Inactive"),
        Check("the user is denied bedrock and bedrock-mantle CallWithBearerToken", denied),
        Check(
            "the other user's key was not touched", _status(iam, BYSTANDER, seeded.bystander_credential_id) == "Active"
        ),
    ]


def _restored(iam: Any, seeded: Seeded) -> list[Check]:
    name, document = EXISTING_POLICY
    return [
        Check(
            "after rollback: the credential is Active again",
            _status(iam, seeded.user_name, seeded.credential_id) == "Active",
        ),
        Check(
            "after rollback: the user's inline policies are exactly as before",
            _inline(iam, seeded.user_name) == {name: document},
        ),
    ]


Printer = Callable[[str], None]

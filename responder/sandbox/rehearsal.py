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
from responder.actions.iam_sessions import REVOKE_POLICY_NAME, revoked_before
from responder.aws.clients import AwsOptions
from responder.clock import start_timing_now
from responder.engine.commands.operations import start_run
from responder.engine.commands.outcome import Outcome
from responder.engine.commands.recovery import rollback_run
from responder.engine.journal.writer import Listener
from responder.engine.running.context import Settings
from responder.errors import UserError
from responder.keys import parse_short_term_key
from responder.sandbox.bedrock_usage import seed_usage, usage_checks, usage_window
from responder.sandbox.check import Check
from responder.sandbox.emulator import install
from responder.sandbox.footholds_checks import (
    footholds_restored,
    footholds_undone,
    role_footholds_restored,
    role_footholds_undone,
    short_term_window_restored,
    short_term_window_undone,
)
from responder.sandbox.llmjacking import (
    BACKDOOR_INLINE,
    LLMjacking,
    RoleLLMjacking,
    seed_llmjacking,
    seed_role_llmjacking,
)
from responder.sandbox.model_access import model_access_checks
from responder.sandbox.seed import (
    BYSTANDER,
    EXISTING_POLICY,
    SANDBOX_REGION,
    Seeded,
    seed_incident,
)
from responder.sandbox.server import DEFAULT_ACCOUNT
from responder.sandbox.window_jobs import window_jobs_after_rollback, window_jobs_checks

# The operator's own AWS settings must not leak into the emulated account.
_ISOLATED_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": SANDBOX_REGION,
}
_CLEARED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS")


@dataclass
class Rehearsal:
    intro: str
    run: Outcome
    rollback: Outcome
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def rehearse(playbook: str, runs_dir: Path, listeners: list[Listener]) -> Rehearsal:
    if playbook not in REHEARSALS:
        raise UserError(f"no rehearsal for {playbook!r} (rehearsable: {', '.join(REHEARSALS)})")
    intro, seed, contained, restored = REHEARSALS[playbook]
    params = REHEARSAL_PARAMS.get(playbook, {})
    from moto import mock_aws

    env = {k: v for k, v in os.environ.items() if k not in _CLEARED} | _ISOLATED_ENV
    with mock.patch.dict(os.environ, env, clear=True), mock_aws():
        install()
        incident = seed(DEFAULT_ACCOUNT)
        seed_usage(DEFAULT_ACCOUNT, SANDBOX_REGION, usage_window())
        settings = Settings(runs_dir=runs_dir, aws=AwsOptions(region=SANDBOX_REGION), listeners=listeners)
        iam = settings.open_clients(settings.aws, True).iam
        key = getattr(incident, "key", None)
        start_timing_now()  # the report's "time to containment" counts from the run, not the emulator's setup
        run = start_run(playbook, params, key, dry_run=False, confirm=None, settings=settings)
        checks = [Check("the run completed", run.status == "completed"), *contained(iam, incident, run)]
        back = rollback_run(run.run_id, reactivate_keys=True, settings=settings)
        checks += [*restored(iam, incident), Check("the rollback completed", back.status == "rolled-back")]
    return Rehearsal(intro, run, back, checks)


def _status(iam: Any, user: str, credential_id: str) -> str:
    creds = iam.list_service_specific_credentials(UserName=user)["ServiceSpecificCredentials"]
    return next((str(c["Status"]) for c in creds if c["ServiceSpecificCredentialId"] == credential_id), "missing")


def _inline(iam: Any, kind: str, name: str) -> dict[str, Any]:
    if kind == "user":
        names = iam.list_user_policies(UserName=name)["PolicyNames"]
        return {n: iam.get_user_policy(UserName=name, PolicyName=n)["PolicyDocument"] for n in names}
    names = iam.list_role_policies(RoleName=name)["PolicyNames"]
    return {n: iam.get_role_policy(RoleName=name, PolicyName=n)["PolicyDocument"] for n in names}


def _bearer_calls_found(run: Outcome, bedrock: int, mantle: int) -> Check:
    """The investigation counts the key's calls on both endpoints: Bedrock's and Bedrock Mantle's."""
    activity = run.state.steps["investigate"].outputs.get("activity") or {}
    found = dict(activity.get("by_source") or [])
    seen = (found.get("bedrock.amazonaws.com"), found.get("bedrock-mantle.amazonaws.com"))
    return Check(
        f"the investigation found the key's bearer-token calls on both endpoints: {bedrock} on Bedrock and "
        f"{mantle} on Bedrock Mantle (found {seen[0]} and {seen[1]})",
        seen == (bedrock, mantle) and activity.get("bearer_token_calls") == bedrock + mantle,
    )


def _long_contained(iam: Any, llmjacking: LLMjacking, run: Outcome) -> list[Check]:
    seeded = llmjacking.incident
    user = seeded.user_name
    return [
        Check("the leaked credential is Inactive", _status(iam, user, seeded.credential_id) == "Inactive"),
        Check(
            "the user is denied bedrock and bedrock-mantle CallWithBearerToken",
            _inline(iam, "user", user).get(DEFAULT_POLICY_NAME) == DENY_BEARER_TOKENS,
        ),
        Check(
            "the other user's key was not touched",
            _status(iam, BYSTANDER, seeded.bystander_credential_id) == "Active",
        ),
        _bearer_calls_found(run, 4, 2),
        *(Check(what, ok) for what, ok in usage_checks(run.report.evidence or {})),
        *footholds_undone(iam, llmjacking, run),
        *model_access_checks(run, llmjacking.model_access_ids),
    ]


def _long_restored(iam: Any, llmjacking: LLMjacking) -> list[Check]:
    seeded = llmjacking.incident
    name, document = EXISTING_POLICY
    return [
        *footholds_restored(iam, llmjacking),
        Check(
            "after rollback: the credential is Active again",
            _status(iam, seeded.user_name, seeded.credential_id) == "Active",
        ),
        Check(
            "after rollback: the user's inline policies are exactly as before",
            _inline(iam, "user", seeded.user_name) == {name: document, BACKDOOR_INLINE[0]: BACKDOOR_INLINE[1]},
        ),
    ]


def _short_contained(iam: Any, llmjacking: RoleLLMjacking, run: Outcome) -> list[Check]:
    seeded = llmjacking.incident
    policies = _inline(iam, "role", seeded.role_name)
    revoked = revoked_before(policies.get(REVOKE_POLICY_NAME))
    issued = parse_short_term_key(seeded.key).issued_at
    return [
        Check(
            "the role is denied bedrock and bedrock-mantle CallWithBearerToken",
            policies.get(DEFAULT_POLICY_NAME) == DENY_BEARER_TOKENS,
        ),
        Check(
            "the role's sessions issued before the run are revoked (aws:TokenIssueTime)",
            revoked is not None and revoked >= issued,
        ),
        _bearer_calls_found(run, 3, 2),
        *role_footholds_undone(iam, llmjacking),
        *short_term_window_undone(llmjacking, run),
        *model_access_checks(run, llmjacking.model_access_ids),
        *_role_jobs(llmjacking, run),
    ]


def _role_jobs(llmjacking: RoleLLMjacking, run: Outcome | None) -> list[Check]:
    """Exactly the role's sessions' jobs stopped, the team's untouched (after the run); still so after rollback."""
    jobs, region = llmjacking.window_jobs, llmjacking.incident.region
    assert jobs is not None  # seed_role_llmjacking seeds them
    found = window_jobs_checks(jobs, region, run) if run is not None else window_jobs_after_rollback(jobs, region)
    return [Check(what, ok) for what, ok in found]


def _short_restored(iam: Any, llmjacking: RoleLLMjacking) -> list[Check]:
    return [
        *role_footholds_restored(iam, llmjacking),
        *short_term_window_restored(llmjacking),
        *_role_jobs(llmjacking, None),
        Check(
            "after rollback: the role has only the inline policy the window left (responder's are gone)",
            _inline(iam, "role", llmjacking.incident.role_name) == {BACKDOOR_INLINE[0]: BACKDOOR_INLINE[1]},
        ),
    ]


CI_USERS = ("ci-build", "ci-deploy", "ci-release")


@dataclass
class SeededCiKeys:
    """The long-term incident's account, plus three CI users each holding a key: what `user=ci-*` selects."""

    incident: Seeded
    credentials: dict[str, str]  # user -> credential id


def seed_ci_keys(account_id: str) -> SeededCiKeys:
    from moto.iam.models import iam_backends

    from responder.sandbox.service_credentials import create_credential

    incident = seed_incident(account_id)
    iam = iam_backends[account_id]["aws"]
    credentials = {}
    for user in CI_USERS:
        iam.create_user(SANDBOX_REGION, user)
        credentials[user] = create_credential(account_id, user)["ServiceSpecificCredentialId"]
    return SeededCiKeys(incident, credentials)


def _many_contained(iam: Any, seeded: SeededCiKeys, run: Outcome) -> list[Check]:
    groups = [s for s in run.state.steps if s.startswith("deactivate[")]
    incident = seeded.incident
    return [
        Check(f"one step group per selected key ({len(groups)} of {len(CI_USERS)})", len(groups) == len(CI_USERS)),
        Check(
            "every ci-* key is Inactive",
            all(_status(iam, user, cred) == "Inactive" for user, cred in seeded.credentials.items()),
        ),
        Check(
            "every ci-* user is denied bedrock and bedrock-mantle CallWithBearerToken",
            all(_inline(iam, "user", user).get(DEFAULT_POLICY_NAME) == DENY_BEARER_TOKENS for user in CI_USERS),
        ),
        Check(
            "the keys the filter does not select were not touched",
            _status(iam, incident.user_name, incident.credential_id) == "Active"
            and _status(iam, BYSTANDER, incident.bystander_credential_id) == "Active",
        ),
    ]


def _many_restored(iam: Any, seeded: SeededCiKeys) -> list[Check]:
    return [
        Check(
            "after rollback: every ci-* key is Active again",
            all(_status(iam, user, cred) == "Active" for user, cred in seeded.credentials.items()),
        ),
        Check(
            "after rollback: no ci-* user has an inline policy", all(_inline(iam, "user", u) == {} for u in CI_USERS)
        ),
    ]


Seeder = Callable[[str], Any]
REHEARSALS: dict[str, tuple[str, Seeder, Callable[..., list[Check]], Callable[..., list[Check]]]] = {
    "leaked-long-term-key": (
        "An IAM user, BedrockAPIKey-demo, holds a leaked long-term Bedrock API key that was used from an unknown "
        "address; another user's key must stay untouched. During the key's life an attacker deleted the region's "
        "invocation logging, created an access key on the user, gave it a managed and an inline policy, and "
        "started a customization job that still runs, and the key put model access (a use case, an agreement, an "
        "entitlement); the team's own older access key must stay untouched. The user also started batch and "
        "evaluation jobs and bought provisioned throughput (CloudTrail names it); run with -p stop_jobs=true -p "
        "delete_throughput=true, only its jobs stop: the team's job runs on.",
        seed_llmjacking,
        _long_contained,
        _long_restored,
    ),
    "leaked-short-term-key": (
        "A session of role bedrock-chat-app signed a short-term Bedrock API key (us-west-2) that was used from an "
        "unknown address; CloudTrail names the session's access key. During the key's life an attacker gave the "
        "role a managed and an inline policy, widened its trust policy to let another account assume it and deleted "
        "the key's region's invocation logging, and the key's session put model access, started batch and "
        "evaluation jobs and bought provisioned throughput; run with -p stop_jobs=true -p delete_throughput=true, "
        "only the session's jobs stop: the team's job runs on.",
        seed_role_llmjacking,
        _short_contained,
        _short_restored,
    ),
    "contain-bedrock-keys": (
        "Three CI users (ci-build, ci-deploy, ci-release) each hold a long-term key that a sweep flagged; "
        "`-p filter=user=ci-*` selects exactly theirs, and the two other users' keys must stay untouched.",
        seed_ci_keys,
        _many_contained,
        _many_restored,
    ),
}
# The parameters a rehearsal runs its playbook with (the others need none: the seeded key says it all).
# The long-term rehearsal asks for the irreversible job steps: it shows that exactly the user's jobs are stopped.
REHEARSAL_PARAMS: dict[str, dict[str, str]] = {
    "contain-bedrock-keys": {"filter": "user=ci-*"},
    "leaked-long-term-key": {"stop_jobs": "true", "delete_throughput": "true"},
    "leaked-short-term-key": {"stop_jobs": "true", "delete_throughput": "true"},
}

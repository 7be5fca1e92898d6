"""The rehearsal's checks of an LLMjacking incident's footholds, each read from the emulated account afresh: after
the run every seeded foothold is found and undone (and what predates the window untouched), after the rollback
every one is back exactly as seeded."""

from __future__ import annotations

from typing import Any

from responder.engine.commands.outcome import Outcome
from responder.sandbox.bedrock_usage import POINTS
from responder.sandbox.check import Check
from responder.sandbox.llmjacking import BACKDOOR_INLINE, TEAM_LOGGING, LLMjacking, RoleLLMjacking
from responder.sandbox.seed import ROLE_TRUST, SANDBOX_REGION
from responder.sandbox.window_jobs import WindowJobs, window_jobs_after_rollback, window_jobs_checks


def _key_status(iam: Any, user: str, key_id: str) -> str:
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    return next((str(k["Status"]) for k in keys if k["AccessKeyId"] == key_id), "missing")


def _attached(iam: Any, user: str) -> list[str]:
    return [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]]


def _inline_names(iam: Any, user: str) -> list[str]:
    return list(iam.list_user_policies(UserName=user)["PolicyNames"])


def _logging(region: str = SANDBOX_REGION) -> Any:
    import boto3

    config = boto3.client("bedrock", region_name=region).get_model_invocation_logging_configuration()
    return config.get("loggingConfig") or None


def footholds_undone(iam: Any, seeded: LLMjacking, run: Outcome) -> list[Check]:
    user = seeded.incident.user_name
    listed = run.state.steps["jobs"].outputs.get("jobs") or []
    return [
        Check(
            "the access key created on the user during the key's life is Inactive",
            _key_status(iam, user, seeded.access_key_id) == "Inactive",
        ),
        Check(
            "the team's access key, older than the key, is untouched",
            _key_status(iam, user, seeded.team_access_key_id) == "Active",
        ),
        Check(
            "the managed and the inline policy given to the user during the key's life are gone",
            seeded.policies.managed_arn not in _attached(iam, user)
            and BACKDOOR_INLINE[0] not in _inline_names(iam, user),
        ),
        Check("invocation logging is back as the team had it before the key's life", _logging() == TEAM_LOGGING),
        Check(
            "the customization job started during the key's life is listed with its command",
            [job.get("arn") for job in listed] == [seeded.job_arn],
        ),
        *(Check(what, ok) for what, ok in window_jobs_checks(_jobs(seeded), SANDBOX_REGION, run)),
    ]


def _jobs(seeded: LLMjacking) -> WindowJobs:
    assert seeded.window_jobs is not None  # seed_llmjacking seeds them
    return seeded.window_jobs


def footholds_restored(iam: Any, seeded: LLMjacking) -> list[Check]:
    user = seeded.incident.user_name
    return [
        Check(
            "after rollback: the access key made during the key's life is Active again, the team's untouched",
            _key_status(iam, user, seeded.access_key_id) == "Active"
            and _key_status(iam, user, seeded.team_access_key_id) == "Active",
        ),
        Check(
            "after rollback: the managed policy is attached again",
            seeded.policies.managed_arn in _attached(iam, user),
        ),
        Check("after rollback: invocation logging is deleted again, as the window left it", _logging() is None),
        *(Check(what, ok) for what, ok in window_jobs_after_rollback(_jobs(seeded), SANDBOX_REGION)),
    ]


def _role_attached(iam: Any, role: str) -> list[str]:
    return [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]


def _role_inline(iam: Any, role: str) -> dict[str, Any]:
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    return {n: iam.get_role_policy(RoleName=role, PolicyName=n)["PolicyDocument"] for n in names}


def _trust(iam: Any, role: str) -> Any:
    return iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]


def role_footholds_undone(iam: Any, seeded: RoleLLMjacking) -> list[Check]:
    role = seeded.incident.role_name
    return [
        Check(
            "the managed and the inline policy given to the role during the key's life are gone",
            seeded.policies.managed_arn not in _role_attached(iam, role)
            and BACKDOOR_INLINE[0] not in _role_inline(iam, role),
        ),
        Check(
            "the role's trust policy is back as it was before the key's life (the attacker's account is out)",
            _trust(iam, role) == ROLE_TRUST,
        ),
    ]


def role_footholds_restored(iam: Any, seeded: RoleLLMjacking) -> list[Check]:
    role = seeded.incident.role_name
    return [
        Check(
            "after rollback: the managed policy is attached to the role again and its inline policies are exactly "
            "as the window left them",
            _role_attached(iam, role) == [seeded.policies.managed_arn]
            and _role_inline(iam, role) == {BACKDOOR_INLINE[0]: BACKDOOR_INLINE[1]},
        ),
        Check(
            "after rollback: the role's trust policy is exactly the widened one the window left",
            _trust(iam, role) == seeded.trust,
        ),
    ]


def short_term_window_undone(seeded: RoleLLMjacking, run: Outcome) -> list[Check]:
    """The short-term key's region: its invocation logging back, and its Bedrock invocations over the key's life
    beside the baseline before it (the metrics seeded there)."""
    region = seeded.incident.region
    usage = ((run.report.evidence or {}).get("usage") or {}).get("regions") or []
    rows = next((r.get("rows") or [] for r in usage if r.get("region") == region), [])
    invocations: dict[str, Any] = next((r for r in rows if r.get("metric") == "Invocations"), {})
    return [
        Check(
            f"invocation logging in the key's region ({region}) is back as the team had it before the key's life",
            _logging(region) == TEAM_LOGGING,
        ),
        Check(
            f"the account-wide Bedrock invocations in {region} over the key's life beside the baseline (found "
            f"{invocations.get('window')} against {invocations.get('baseline')})",
            (invocations.get("window"), invocations.get("baseline")) == (POINTS[0][4], POINTS[0][5]),
        ),
    ]


def short_term_window_restored(seeded: RoleLLMjacking) -> list[Check]:
    region = seeded.incident.region
    return [
        Check(
            f"after rollback: invocation logging in {region} is deleted again, as the window left it",
            _logging(region) is None,
        )
    ]

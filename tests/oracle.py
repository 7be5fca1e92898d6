"""The oracle: AWS state read independently (the test's own IAM client, never responder's code), compared with
every claim a run's outputs make: report.json's claims and containment figures, the opening and follow-ups of
report.md, and the terminal's `contained:` line. A claim AWS does not bear out fails, whatever the exit code.

Which step reaches which state is written here again from the action names, and each goal is read and judged
here (policy documents parsed afresh): the oracle shares nothing with the definitions it checks but the journal's
list of steps and their parameters (what the run set out to change).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from responder.engine.journal.run_state import StepState, load_run

BEARER = {"bedrock:CallWithBearerToken", "bedrock-mantle:CallWithBearerToken"}
KEY_STEPS = {"iam.deactivate-service-credentials"}
SESSION_STEPS = {"iam.revoke-role-sessions"}
PRINCIPAL_STEPS = {
    "iam.deny-bearer-tokens-for-user",
    "iam.deny-bearer-tokens-for-role",
    "iam.deactivate-access-key",
    *SESSION_STEPS,
}
# What each claim covers: the run's steps of these actions, all of them.
COVERS = {
    "key_inactive": KEY_STEPS,
    "principal_denied": PRINCIPAL_STEPS,
    "sessions_revoked": SESSION_STEPS,
    "contained": KEY_STEPS | PRINCIPAL_STEPS,
}


def _document(value: Any) -> Any:
    return json.loads(unquote(value)) if isinstance(value, str) else value


def _statements(document: Any) -> list[dict[str, Any]]:
    statements = _document(document).get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _listed(value: Any) -> set[str]:
    return {value} if isinstance(value, str) else set(value or [])


def _denies_bearer(document: Any) -> bool:
    for s in _statements(document):
        actions = _listed(s.get("Action"))
        plain = s.get("Effect") == "Deny" and "*" in _listed(s.get("Resource")) and not s.get("Condition")
        if plain and ("*" in actions or actions >= BEARER):
            return True
    return False


def _revokes_sessions(document: Any) -> bool:
    return any(
        s.get("Effect") == "Deny" and "aws:TokenIssueTime" in (s.get("Condition") or {}).get("DateLessThan", {})
        for s in _statements(document)
    )


def _documents(iam: Any, kind: str, name: str) -> list[Any]:
    """Every policy document on a user or role: inline, and the default version of each attached managed one."""
    if kind == "user":
        names = iam.list_user_policies(UserName=name)["PolicyNames"]
        found = [iam.get_user_policy(UserName=name, PolicyName=n)["PolicyDocument"] for n in names]
        attached = iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]
    else:
        names = iam.list_role_policies(RoleName=name)["PolicyNames"]
        found = [iam.get_role_policy(RoleName=name, PolicyName=n)["PolicyDocument"] for n in names]
        attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    for policy in attached:
        version = iam.get_policy(PolicyArn=policy["PolicyArn"])["Policy"]["DefaultVersionId"]
        answer = iam.get_policy_version(PolicyArn=policy["PolicyArn"], VersionId=version)
        found.append(answer["PolicyVersion"]["Document"])
    return found


def goal_holds(iam: Any, step: StepState) -> bool:
    """Does AWS hold what this step sets out to do, read now?"""
    params = step.params or {}
    if step.action == "iam.deactivate-service-credentials":
        listed = iam.list_service_specific_credentials(UserName=params["user_name"])["ServiceSpecificCredentials"]
        status = {c["ServiceSpecificCredentialId"]: c["Status"] for c in listed}
        return all(status.get(c, "Inactive") == "Inactive" for c in params["credential_ids"])
    if step.action == "iam.deactivate-access-key":
        keys = iam.list_access_keys(UserName=params["user_name"])["AccessKeyMetadata"]
        return all(k["Status"] == "Inactive" for k in keys if k["AccessKeyId"] == params["access_key_id"])
    if step.action == "iam.deny-bearer-tokens-for-user":
        return any(_denies_bearer(d) for d in _documents(iam, "user", params["user_name"]))
    if step.action == "iam.deny-bearer-tokens-for-role":
        return any(_denies_bearer(d) for d in _documents(iam, "role", params["role_name"]))
    assert step.action == "iam.revoke-role-sessions", step.action
    return any(_revokes_sessions(d) for d in _documents(iam, "role", params["role_name"]))


def _covered(steps: list[StepState], claim: str) -> list[StepState]:
    """The run's steps reaching the claim; one never planned (no parameters yet) is one AWS cannot bear out."""
    return [s for s in steps if s.action in COVERS[claim] and s.status != "skipped"]


def check_claims(iam: Any, run_dir: Path, terminal: str | None = None) -> None:
    """Compare every claim the run's outputs make with AWS, read now. Raises AssertionError on the first false."""
    run = load_run(run_dir / "audit.jsonl")
    report = json.loads((run_dir / "report.json").read_text())
    claims = report["claims"]
    steps = list(run.steps.values())
    truth = {s.id: goal_holds(iam, s) for s in steps if s.action in COVERS["contained"] and s.params}
    unknown = bool(claims["unknown"])
    for name in COVERS:
        covered = _covered(steps, name)
        holds = bool(covered) and all(truth.get(s.id, False) for s in covered)
        if claims[name]["holds"]:
            assert holds, f"{run.run_id}: claims {name}, AWS says {[(s.id, truth.get(s.id)) for s in covered]}"
        elif covered and not unknown and not any(c["already"] for c in claims["in_force"]):
            assert not holds, f"{run.run_id}: says not {name}, but AWS holds it: an answer was lost"
    for change in claims["in_force"]:
        assert truth.get(change["step"], True), f"{run.run_id}: claims {change['step']} in force; AWS disagrees"
    if claims["nothing_contained"]:
        held = [s for s, t in truth.items() if t]
        assert not held, f"{run.run_id}: says nothing contained, AWS holds {held}"
    times = report["containment"]
    if times["fully_denied_after_s"] is not None:
        assert claims["contained"]["holds"], f"{run.run_id}: report.json times a full denial that does not hold"
    if times["key_inactive_after_s"] is not None:
        assert claims["key_inactive"]["holds"]
    _check_words(report, (run_dir / "report.md").read_text(), terminal)


def _check_words(report: dict[str, Any], markdown: str, terminal: str | None) -> None:
    """What the opening, the follow-ups and the terminal's last lines say, against the claims (checked above)."""
    claims = report["claims"]
    said = markdown.split("## Steps", 1)[0]
    if terminal is not None:
        said += "\n" + "\n".join(line for line in terminal.splitlines() if line.startswith(("contained:", "run ")))
    run_id = report["run_id"]
    # A state claimed: the state's name then its time, "already" or "(found in place" (not, say, "keeps the leaked
    # key inactive", which tells what a rollback would do).
    claimed = r" (\d|already|\(found)"
    if not claims["principal_denied"]["holds"]:
        assert not re.search("principal (fully )?denied" + claimed, said), f"{run_id}: says the principal is denied"
        assert "is denied now" not in said, f"{run_id}: says the principal is denied now"
    if not claims["contained"]["holds"]:
        assert "Contained:" not in said, f"{run_id}: says Contained"
    if not claims["key_inactive"]["holds"]:
        assert not re.search("key inactive" + claimed, said), f"{run_id}: says key inactive"
    if claims["unknown"]:
        assert "Unknown" in said or "unknown" in said, f"{run_id}: an unanswered change is not called unknown"
        for u in claims["unknown"]:  # what may be in AWS is never said not to be
            words = {"key": "the key is not inactive", "principal": "the principal is not denied"}.get(u["stops"])
            assert words is None or words not in said, f"{run_id}: says {words!r} of a change in doubt"

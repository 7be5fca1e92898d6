"""Exported state machines, executed by the sandbox's Step Functions: containment, rollback, fallback, fan-out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from responder.aws.clients import AwsOptions
from responder.errors import UserError
from responder.export.stepfunctions import build
from responder.export.stepfunctions.report import execution_report
from responder.keys import FAMILIES
from responder.playbook.checks import find_playbook, load_playbook
from responder.sandbox.organization import DEFAULT_ROLE, seed_organization
from responder.sandbox.seed import seed_incident, seed_short_term_incident
from responder.sandbox.service_credentials import create_credential
from tests.export.sfn_sandbox import ACCOUNT, BUCKET, Sandbox, iam_state, served
from tests.factories import fill_inline_budget


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    yield from served()


def _machines(playbook: str, fixed: dict[str, Any] | None = None, organization: bool = False) -> Any:
    return build(load_playbook(find_playbook(playbook)), fixed or {}, organization)


def test_long_term_containment_then_rollback_restores_the_account(sandbox: Sandbox) -> None:
    seeded = seed_incident(ACCOUNT)
    role = sandbox.prepare()
    iam = sandbox.client("iam")
    before = iam_state(iam)
    machines = _machines("leaked-long-term-key")

    run = sandbox.execute(
        machines.containment, role, "incident-1", {"user_name": seeded.user_name, "journal_bucket": BUCKET}
    )

    assert run["status"] == "SUCCEEDED", run
    after = iam_state(iam)
    leaked = after[f"user/{seeded.user_name}"]
    assert leaked["keys"] == {seeded.credential_id: "Inactive"}
    assert leaked["inline"]["ResponderDenyBedrockBearerTokens"]["Statement"]["Action"] == [
        "bedrock:CallWithBearerToken",
        "bedrock-mantle:CallWithBearerToken",
    ]
    assert after["user/ml-pipeline"] == before["user/ml-pipeline"]  # the bystander's key still works
    assert sandbox.records() == [
        f"responder/{ACCOUNT}/incident-1/deactivate-{seeded.credential_id}.json",
        f"responder/{ACCOUNT}/incident-1/deny-bearer-tokens-{seeded.user_name}.json",
    ]
    history = json.dumps(sandbox.history(run["executionArn"]), default=str)
    assert seeded.key not in history and seeded.key[4:24] not in history  # the key never enters the history

    back = sandbox.execute(
        machines.rollback, role, "undo-1", {"journal_bucket": BUCKET, "execution_name": "incident-1"}
    )
    assert back["status"] == "SUCCEEDED", back
    kept = iam_state(iam)
    assert kept[f"user/{seeded.user_name}"]["keys"] == {seeded.credential_id: "Inactive"}  # a leaked key stays dead
    kept[f"user/{seeded.user_name}"]["keys"] = before[f"user/{seeded.user_name}"]["keys"]
    assert kept == before

    again = sandbox.execute(
        machines.rollback,
        role,
        "undo-2",
        {"journal_bucket": BUCKET, "execution_name": "incident-1", "reactivate_keys": True},
    )
    assert again["status"] == "SUCCEEDED", again
    assert iam_state(iam) == before


def test_a_full_inline_budget_takes_the_managed_fallback_and_rollback_removes_it(sandbox: Sandbox) -> None:
    seeded = seed_incident(ACCOUNT)
    role = sandbox.prepare()
    iam = sandbox.client("iam")
    fill_inline_budget(iam, user=seeded.user_name)
    before = iam_state(iam)
    machines = _machines("leaked-long-term-key")

    run = sandbox.execute(
        machines.containment, role, "full-1", {"user_name": seeded.user_name, "journal_bucket": BUCKET}
    )

    assert run["status"] == "SUCCEEDED", run
    leaked = iam_state(iam)[f"user/{seeded.user_name}"]
    assert "ResponderDenyBedrockBearerTokens" not in leaked["inline"]
    assert leaked["attached"] == [f"arn:aws:iam::{ACCOUNT}:policy/ResponderDenyBedrockBearerTokens-{seeded.user_name}"]
    back = sandbox.execute(
        machines.rollback,
        role,
        "undo-full",
        {"journal_bucket": BUCKET, "execution_name": "full-1", "reactivate_keys": True},
    )
    assert back["status"] == "SUCCEEDED", back
    assert iam_state(iam) == before


def test_an_unknown_user_fails_by_name_and_changes_nothing(sandbox: Sandbox) -> None:
    seed_incident(ACCOUNT)
    role = sandbox.prepare()
    before = iam_state(sandbox.client("iam"))

    run = sandbox.execute(
        _machines("leaked-long-term-key").containment, role, "typo", {"user_name": "nobody", "journal_bucket": BUCKET}
    )

    assert run["status"] == "FAILED" and run["error"] == "Iam.NoSuchEntityException", run
    assert iam_state(sandbox.client("iam")) == before and sandbox.records() == []
    # The report read back from the execution says which step failed, with AWS's words and request id.
    built = execution_report(AwsOptions(endpoint_url=sandbox.endpoint, region="us-east-1"), run["executionArn"])
    steps = {s["id"]: s for s in built.steps}
    assert built.status == "failed" and steps["resolve"]["status"] == "failed"
    assert (
        steps["resolve"]["error"].startswith("Iam.NoSuchEntityException")
        and "Request ID: " in steps["resolve"]["error"]
    )
    assert steps["deactivate"]["status"] == "pending" and not steps["deactivate"]["changes"]


def test_short_term_containment_of_a_role_then_rollback(sandbox: Sandbox) -> None:
    seeded = seed_short_term_incident(ACCOUNT)
    role = sandbox.prepare()
    iam = sandbox.client("iam")
    before = iam_state(iam)
    machines = _machines("leaked-short-term-key")

    run = sandbox.execute(
        machines.containment, role, "short-1", {"role_name": seeded.role_name, "journal_bucket": BUCKET}
    )

    assert run["status"] == "SUCCEEDED", run
    inline = iam_state(iam)[f"role/{seeded.role_name}"]["inline"]
    assert set(inline) == {"ResponderDenyBedrockBearerTokens", "AWSRevokeOlderSessions"}
    assert "aws:TokenIssueTime" in json.dumps(inline["AWSRevokeOlderSessions"])
    back = sandbox.execute(
        machines.rollback, role, "undo-short", {"journal_bucket": BUCKET, "execution_name": "short-1"}
    )
    assert back["status"] == "SUCCEEDED", back
    assert iam_state(iam) == before


def test_contain_bedrock_keys_contains_what_the_filter_selects(sandbox: Sandbox) -> None:
    seeded = seed_incident(ACCOUNT)
    role = sandbox.prepare()
    iam = sandbox.client("iam")
    machines = _machines("contain-bedrock-keys", {"filter": "user=Bedrock*"})

    run = sandbox.execute(machines.containment, role, "sweep-1", {"journal_bucket": BUCKET})

    assert run["status"] == "SUCCEEDED", run
    state = iam_state(iam)
    assert state[f"user/{seeded.user_name}"]["keys"] == {seeded.credential_id: "Inactive"}
    assert set(state["user/ml-pipeline"]["keys"].values()) == {"Active"}  # not selected by the filter
    assert "ResponderDenyBedrockBearerTokens" not in state["user/ml-pipeline"]["inline"]


def test_the_organization_machine_contains_keys_in_two_member_accounts(sandbox: Sandbox) -> None:
    members = seed_organization(ACCOUNT, 2, 2)
    role = sandbox.prepare()
    sandbox.client("s3").put_object(
        Bucket=BUCKET,
        Key="responder/accounts.json",
        Body=json.dumps([{"account_id": m.account_id} for m in members]).encode(),
    )
    before = {m.account_id: iam_state(sandbox.member_iam(m.account_id)) for m in members}
    machines = _machines("contain-bedrock-keys", {"filter": "all"}, organization=True)
    given = {"journal_bucket": BUCKET, "accounts_key": "responder/accounts.json", "role_name": DEFAULT_ROLE}

    # A dry run is a sweep: every account's selected keys, written by the ResultWriter, and nothing changed.
    swept = sandbox.execute(machines.containment, role, "org-dry", {**given, "dry_run": True})
    assert swept["status"] == "SUCCEEDED", swept
    assert {m.account_id: iam_state(sandbox.member_iam(m.account_id)) for m in members} == before
    results = [k for k in sandbox.records() if k.startswith("responder/results/org-dry/") and "SUCCEEDED" in k]
    found = json.loads(sandbox.client("s3").get_object(Bucket=BUCKET, Key=results[0])["Body"].read())
    listed = {k["credential_id"] for r in found for k in json.loads(r["Output"])["steps"]["select"]["keys"]}
    assert listed == {cid for m in members for cid in m.credential_ids}

    run = sandbox.execute(machines.containment, role, "org-1", given)

    assert run["status"] == "SUCCEEDED", run
    for member in members:
        state = iam_state(sandbox.member_iam(member.account_id))
        for user in member.users:
            assert set(state[f"user/{user}"]["keys"].values()) == {"Inactive"}
            assert "ResponderDenyBedrockBearerTokens" in state[f"user/{user}"]["inline"]
        assert any(key.startswith(f"responder/{member.account_id}/org-1/") for key in sandbox.records())
    with pytest.raises(UserError, match="ran organization-wide"):  # its accounts ran as child executions
        execution_report(AwsOptions(endpoint_url=sandbox.endpoint, region="us-east-1"), run["executionArn"])

    back = sandbox.execute(
        machines.rollback, role, "org-undo", {**given, "execution_name": "org-1", "reactivate_keys": True}
    )
    assert back["status"] == "SUCCEEDED", back
    assert {m.account_id: iam_state(sandbox.member_iam(m.account_id)) for m in members} == before


def test_a_moved_forward_revocation_is_kept_on_rollback_where_aws_hands_the_document_encoded(
    sandbox: Sandbox,
) -> None:
    """IAM answers policy documents URL-encoded and AWS's SDK integrations pass that text on: the sandbox's machine
    sees the same, and the rollback never puts an encoded (malformed) document back; the newer revocation stays."""
    from datetime import datetime, timezone

    from responder.actions.iam_sessions import REVOKE_POLICY_NAME, revoke_document, revoked_before
    from responder.sandbox.stepfunctions import client_for

    seeded = seed_short_term_incident(ACCOUNT)
    role = sandbox.prepare()
    iam = sandbox.client("iam")
    earlier = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    iam.put_role_policy(
        RoleName=seeded.role_name, PolicyName=REVOKE_POLICY_NAME, PolicyDocument=json.dumps(revoke_document(earlier))
    )
    from responder.sandbox import stepfunctions

    stepfunctions.serve_from(sandbox.endpoint)
    answered = client_for("us-east-1", "iam").get_role_policy(RoleName=seeded.role_name, PolicyName=REVOKE_POLICY_NAME)
    assert isinstance(answered["PolicyDocument"], str) and answered["PolicyDocument"].startswith("%7B")
    machines = _machines("leaked-short-term-key")

    run = sandbox.execute(
        machines.containment, role, "again-1", {"role_name": seeded.role_name, "journal_bucket": BUCKET}
    )
    assert run["status"] == "SUCCEEDED", run
    moved = revoked_before(
        iam.get_role_policy(RoleName=seeded.role_name, PolicyName=REVOKE_POLICY_NAME)["PolicyDocument"]
    )
    assert moved is not None and moved > earlier

    back = sandbox.execute(
        machines.rollback, role, "undo-again", {"journal_bucket": BUCKET, "execution_name": "again-1"}
    )
    assert back["status"] == "SUCCEEDED", back
    inline = iam_state(iam)[f"role/{seeded.role_name}"]["inline"]
    assert set(inline) == {REVOKE_POLICY_NAME}  # the deny it added is gone; the revocation stays
    assert revoked_before(inline[REVOKE_POLICY_NAME]) == moved  # never an older (or malformed) one
    assert "cannot be rebuilt" in json.dumps(sandbox.history(back["executionArn"]), default=str)


def test_the_machine_refuses_protected_principals_before_any_change(sandbox: Sandbox) -> None:
    """A principal tagged responder-protected=true, an IAM Identity Center role, the machines' own roles: refused
    by name, before the first change, whoever started the execution."""
    seed_short_term_incident(ACCOUNT)
    role = sandbox.prepare()
    iam = sandbox.client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    tag = [{"Key": "responder-protected", "Value": "true"}]
    iam.create_role(RoleName="prod-app", AssumeRolePolicyDocument=trust, Tags=tag)
    iam.create_role(RoleName="AWSReservedSSO_Admin_0123456789abcdef", AssumeRolePolicyDocument=trust)
    before = iam_state(iam)
    machines = _machines("leaked-short-term-key")
    by_name = json.dumps(machines.containment["States"]["Guard role_name: named?"])
    assert "responder-leaked-short-term-key-states" in by_name and "responder-leaked-short-term-key-rollback" in by_name

    for n, name in enumerate(["prod-app", "AWSReservedSSO_Admin_0123456789abcdef"]):
        given = {"role_name": name, "journal_bucket": BUCKET}
        run = sandbox.execute(machines.containment, role, f"refused-{n}", given)
        assert run["status"] == "FAILED" and run["error"] == "Responder.ProtectedPrincipal", (name, run)
    assert iam_state(iam) == before and sandbox.records() == []


def test_the_rollback_passes_over_forged_records_naming_what_containment_never_put(sandbox: Sandbox) -> None:
    """Anyone who can write to the journal bucket can add a record: one the containment execution's history does
    not show it writing is not acted on (nor one naming a policy responder never puts); its own records are."""
    seeded = seed_incident(ACCOUNT)
    role = sandbox.prepare()
    iam = sandbox.client("iam")
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
    iam.put_user_policy(UserName="ml-pipeline", PolicyName="TeamGuardrail", PolicyDocument=json.dumps(allow))
    team = iam.create_policy(PolicyName="TeamPolicy", PolicyDocument=json.dumps(allow))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="ml-pipeline", PolicyArn=team)
    # an earlier containment's deny on another user: a forged record of this execution must not lift it
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "bedrock:*", "Resource": "*"}]}
    iam.put_user_policy(
        UserName="ml-pipeline", PolicyName="ResponderDenyBedrockBearerTokens", PolicyDocument=json.dumps(deny)
    )
    before = iam_state(iam)
    machines = _machines("leaked-long-term-key")
    run = sandbox.execute(
        machines.containment, role, "forge-1", {"user_name": seeded.user_name, "journal_bucket": BUCKET}
    )
    assert run["status"] == "SUCCEEDED", run
    forged = [
        ("inline", {"kind": "User", "name": "ml-pipeline", "policy_name": "TeamGuardrail"}),
        ("managed", {"kind": "User", "name": "ml-pipeline", "policy_arn": team}),
        # responder's own name: only the containment's history tells this record apart
        ("inline", {"kind": "User", "name": "ml-pipeline", "policy_name": "ResponderDenyBedrockBearerTokens"}),
    ]
    for n, (mode, target) in enumerate(forged):
        record = {
            "step": "deny-bearer-tokens",
            "action": "iam.deny-bearer-tokens-for-user",
            "mode": mode,
            "target": target,
            "before": {"exists": False, "existed": False, "was_attached": False},
        }
        key = f"responder/{ACCOUNT}/forge-1/zz-forged-{n}.json"
        sandbox.client("s3").put_object(Bucket=BUCKET, Key=key, Body=json.dumps(record).encode())

    back = sandbox.execute(
        machines.rollback,
        role,
        "undo-forge",
        {"journal_bucket": BUCKET, "execution_name": "forge-1", "reactivate_keys": True},
    )

    assert back["status"] == "SUCCEEDED", back
    assert iam_state(iam) == before  # the containment undone, the team's policies untouched


def _family_keys(iam: Any, user: str, family: str) -> dict[str, str]:
    service = FAMILIES[family].service_name
    listed = iam.list_service_specific_credentials(UserName=user, ServiceName=service)["ServiceSpecificCredentials"]
    return {k["ServiceSpecificCredentialId"]: k["Status"] for k in listed}


def test_the_long_term_machine_contains_the_family_the_input_names_and_rolls_back(sandbox: Sandbox) -> None:
    seeded = seed_incident(ACCOUNT)
    iam = sandbox.client("iam")
    iam.create_user(UserName="logs-writer")
    logs_key = create_credential(ACCOUNT, "logs-writer", FAMILIES["cloudwatch-logs"].service_name)
    bedrock_key = create_credential(ACCOUNT, "logs-writer")  # the same user's Bedrock key: another family's
    role = sandbox.prepare()
    before = iam_state(iam)
    machines = _machines("leaked-long-term-key")
    given = {"user_name": "logs-writer", "family": "cloudwatch-logs", "journal_bucket": BUCKET}

    run = sandbox.execute(machines.containment, role, "logs-1", given)

    assert run["status"] == "SUCCEEDED", run
    assert _family_keys(iam, "logs-writer", "cloudwatch-logs") == {logs_key["ServiceSpecificCredentialId"]: "Inactive"}
    assert _family_keys(iam, "logs-writer", "bedrock") == {bedrock_key["ServiceSpecificCredentialId"]: "Active"}
    inline = iam_state(iam)["user/logs-writer"]["inline"]
    assert list(inline) == [FAMILIES["cloudwatch-logs"].deny_policy_name]  # exactly that family's bearer action
    assert inline[FAMILIES["cloudwatch-logs"].deny_policy_name]["Statement"]["Action"] == ["logs:CallWithBearerToken"]
    assert iam_state(iam)[f"user/{seeded.user_name}"] == before[f"user/{seeded.user_name}"]

    back = sandbox.execute(
        machines.rollback,
        role,
        "undo-logs",
        {"journal_bucket": BUCKET, "execution_name": "logs-1", "reactivate_keys": True},
    )
    assert back["status"] == "SUCCEEDED", back
    assert iam_state(iam) == before
    assert _family_keys(iam, "logs-writer", "cloudwatch-logs") == {logs_key["ServiceSpecificCredentialId"]: "Active"}

    unknown = sandbox.execute(machines.containment, role, "typo-family", {**given, "family": "cloudwach"})
    assert unknown["status"] == "FAILED" and unknown["error"] == "Responder.UnknownFamily", unknown
    assert iam_state(iam) == before


def test_contain_bedrock_keys_exported_for_one_family_contains_only_its_keys(sandbox: Sandbox) -> None:
    seed_incident(ACCOUNT)
    iam = sandbox.client("iam")
    iam.create_user(UserName="AeaApiKey-x1y2")
    claude = create_credential(ACCOUNT, "AeaApiKey-x1y2", FAMILIES["claude-platform"].service_name)
    role = sandbox.prepare()
    before = iam_state(iam)
    machines = _machines("contain-bedrock-keys", {"filter": "family=claude-platform"})

    run = sandbox.execute(machines.containment, role, "claude-1", {"journal_bucket": BUCKET})

    assert run["status"] == "SUCCEEDED", run
    cid = claude["ServiceSpecificCredentialId"]
    assert _family_keys(iam, "AeaApiKey-x1y2", "claude-platform") == {cid: "Inactive"}
    deny = iam_state(iam)["user/AeaApiKey-x1y2"]["inline"][FAMILIES["claude-platform"].deny_policy_name]
    assert deny["Statement"]["Action"] == ["aws-external-anthropic:CallWithBearerToken"]
    after = iam_state(iam)
    del after["user/AeaApiKey-x1y2"]
    assert after == {k: v for k, v in before.items() if k != "user/AeaApiKey-x1y2"}  # no Bedrock key touched

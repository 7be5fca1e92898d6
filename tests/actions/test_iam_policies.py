from __future__ import annotations

import json
from typing import Any

from responder.actions.base import ActionContext
from responder.actions.iam_policies import (
    DEFAULT_POLICY_NAME,
    DENY_BEARER_TOKENS,
    DenyBearerTokensForUser,
    DenySnapshot,
)
from responder.aws.clients import AwsOptions, Clients
from responder.sandbox.seed import EXISTING_POLICY, Seeded
from tests.factories import ACCOUNT, fill_inline_budget, inline_policies


def ctx() -> ActionContext:
    return ActionContext(Clients(AwsOptions(region="us-east-1")), ACCOUNT)


def run_deny(user: str) -> tuple[DenyBearerTokensForUser, Any, DenySnapshot, dict[str, Any]]:
    action = DenyBearerTokensForUser()
    p = action.Params(user_name=user)
    snap = action.snapshot(ctx(), p)
    applied = action.apply(ctx(), p, snap, action.plan(ctx(), p, snap))
    assert action.verify(ctx(), p)
    return action, p, snap, applied.details


def test_the_deny_covers_both_endpoints() -> None:
    actions = DENY_BEARER_TOKENS["Statement"]["Action"]
    assert set(actions) == {"bedrock:CallWithBearerToken", "bedrock-mantle:CallWithBearerToken"}
    assert DENY_BEARER_TOKENS["Statement"]["Effect"] == "Deny"


def test_inline_round_trip_keeps_other_policies(account: Seeded, iam: Any) -> None:
    before = inline_policies(iam, account.user_name)
    action, p, snap, details = run_deny(account.user_name)
    assert details == {"mode": "inline"}
    assert inline_policies(iam, account.user_name)[DEFAULT_POLICY_NAME] == DENY_BEARER_TOKENS
    assert action.plan(ctx(), p, action.snapshot(ctx(), p)).noop
    assert action.undo(ctx(), p, snap, details).status == "undone"
    assert inline_policies(iam, account.user_name) == before


def test_undo_restores_a_policy_of_the_same_name(account: Seeded, iam: Any) -> None:
    previous = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
    iam.put_user_policy(UserName=account.user_name, PolicyName=DEFAULT_POLICY_NAME, PolicyDocument=json.dumps(previous))
    action, p, snap, details = run_deny(account.user_name)
    assert snap.inline_policy == previous
    action.undo(ctx(), p, snap, details)
    assert inline_policies(iam, account.user_name)[DEFAULT_POLICY_NAME] == previous


def test_full_inline_budget_falls_back_to_a_managed_policy(account: Seeded, iam: Any) -> None:
    # Fill the user's 2,048-character inline budget: the emulator answers LimitExceeded as AWS does.
    fill_inline_budget(iam, user=account.user_name)
    filler = inline_policies(iam, account.user_name)["big"]
    action, p, snap, details = run_deny(account.user_name)
    assert details["mode"] == "managed" and details["created_policy"]
    attached = iam.list_attached_user_policies(UserName=account.user_name)["AttachedPolicies"]
    assert [a["PolicyArn"] for a in attached] == [details["policy_arn"]]
    assert action.plan(ctx(), p, action.snapshot(ctx(), p)).noop
    action.undo(ctx(), p, snap, details)
    assert iam.list_attached_user_policies(UserName=account.user_name)["AttachedPolicies"] == []
    assert not [pol for pol in iam.list_policies(Scope="Local")["Policies"] if pol["Arn"] == details["policy_arn"]]
    name, doc = EXISTING_POLICY
    assert inline_policies(iam, account.user_name) == {name: doc, "big": filler}


def test_a_stale_managed_policy_of_our_name_is_not_trusted(account: Seeded, iam: Any) -> None:
    import pytest

    fill_inline_budget(iam, user=account.user_name)
    allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    name = f"ResponderDenyBedrockBearerTokens-{account.user_name}"
    arn = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(allow_all))["Policy"]["Arn"]
    iam.attach_user_policy(UserName=account.user_name, PolicyArn=arn)
    action = DenyBearerTokensForUser()
    p = action.Params(user_name=account.user_name)
    snap = action.snapshot(ctx(), p)
    assert snap.managed_attached is False  # attached, but it does not deny: not ours
    with pytest.raises(RuntimeError, match="other content"):
        action.apply(ctx(), p, snap, action.plan(ctx(), p, snap))


def test_a_broken_attach_is_still_undone(account: Seeded, iam: Any) -> None:
    """AttachUserPolicy's connection broke (it may or may not have happened): undo works from the snapshot."""
    import pytest
    from botocore.exceptions import ConnectionClosedError

    fill_inline_budget(iam, user=account.user_name)
    c = ctx()

    def broken(model: Any, **_: Any) -> None:
        if model.name == "AttachUserPolicy":
            raise ConnectionClosedError(endpoint_url="https://iam.amazonaws.com/")

    c.clients.on_request(broken)
    action = DenyBearerTokensForUser()
    p = action.Params(user_name=account.user_name)
    snap = action.snapshot(c, p)
    with pytest.raises(ConnectionClosedError):
        action.apply(c, p, snap, action.plan(c, p, snap))
    assert len(iam.list_policies(Scope="Local")["Policies"]) == 1  # created, not attached
    # The journal has no applied details (the call failed): undo must find what to remove by itself.
    assert action.undo(ctx(), p, snap, {}).status == "undone"
    assert iam.list_policies(Scope="Local")["Policies"] == []


def test_undo_detaches_a_policy_whose_attach_answer_was_lost(account: Seeded, iam: Any) -> None:
    fill_inline_budget(iam, user=account.user_name)
    action = DenyBearerTokensForUser()
    p = action.Params(user_name=account.user_name)
    snap = action.snapshot(ctx(), p)
    action.apply(ctx(), p, snap, action.plan(ctx(), p, snap))  # then imagine its answer never arrived
    assert action.undo(ctx(), p, snap, {}).status == "undone"
    assert iam.list_attached_user_policies(UserName=account.user_name)["AttachedPolicies"] == []
    assert iam.list_policies(Scope="Local")["Policies"] == []


def test_the_plan_warns_that_a_replacement_key_is_blocked_too(account: Seeded) -> None:
    action = DenyBearerTokensForUser()
    p = action.Params(user_name=account.user_name)
    plan = action.plan(ctx(), p, action.snapshot(ctx(), p))
    assert any("a replacement included" in n for n in plan.notes)


def test_a_refused_attach_removes_the_policy_it_created(account: Seeded, iam: Any) -> None:
    import pytest
    from botocore.exceptions import ClientError

    fill_inline_budget(iam, user=account.user_name)
    c = ctx()

    def refuse(model: Any, **_: Any) -> None:
        if model.name == "AttachUserPolicy":
            raise ClientError({"Error": {"Code": "LimitExceeded", "Message": "10 managed policies"}}, model.name)

    c.clients.on_request(refuse)
    action = DenyBearerTokensForUser()
    p = action.Params(user_name=account.user_name)
    snap = action.snapshot(c, p)
    with pytest.raises(ClientError):
        action.apply(c, p, snap, action.plan(c, p, snap))
    assert iam.list_policies(Scope="Local")["Policies"] == []

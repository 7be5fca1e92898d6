"""An account's Bedrock keys, filtered and flagged: the sweep's filter and the flags it sets."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from responder.actions.key_inventory import KeyFinding, SweepFilter, sweep
from responder.errors import UserError
from responder.keys import FAMILIES
from responder.sandbox.seed import BYSTANDER, Seeded
from tests.factories import ACCOUNT, Requests, action_context


def finding(user: str = "u", age_days: int = 10, expires: str | None = None) -> KeyFinding:
    return KeyFinding(ACCOUNT, "ACCAEXAMPLEEXAMPLE0001", user, "Active", "2026-01-01T00:00:00+00:00", age_days, expires)


def test_the_filter_reads_and_writes_one_parameter() -> None:
    assert SweepFilter.parse("all") == SweepFilter()
    assert SweepFilter.parse("user=ci-*,older-than=30,no-expiry") == SweepFilter("ci-*", 30, True)
    assert SweepFilter("ci-*", 30, True).as_text() == "user=ci-*,older-than=30,no-expiry"
    assert SweepFilter().as_text() == "all"
    assert SweepFilter.parse("user=ci-*,older-than=0") == SweepFilter("ci-*", 0, False)
    assert SweepFilter.parse(SweepFilter(None, 30, True).as_text()) == SweepFilter(None, 30, True)
    with pytest.raises(UserError, match="filter 'older-than=soon'"):
        SweepFilter.parse("older-than=soon")


def test_the_filter_keeps() -> None:
    assert SweepFilter("ci-*").keeps(finding("ci-7")) and not SweepFilter("ci-*").keeps(finding("prod"))
    assert SweepFilter(older_than_days=9).keeps(finding()) and not SweepFilter(older_than_days=10).keeps(finding())
    assert SweepFilter(no_expiry_only=True).keeps(finding())
    assert not SweepFilter(no_expiry_only=True).keeps(finding(expires="2027-01-01T00:00:00+00:00"))


def test_flags_keys_and_their_owners(account: Seeded, iam: Any) -> None:
    allow_all = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}
    iam.put_user_policy(UserName=BYSTANDER, PolicyName="all", PolicyDocument=json.dumps(allow_all))
    later = datetime.now(timezone.utc) + timedelta(days=40)
    found = {f.user_name: f for f in sweep(iam, SweepFilter(), 30, ACCOUNT, now=later)}
    assert found[BYSTANDER].flags == ["never-expires", "older-than-30d", "owner-admin-like"]
    assert found[account.user_name].flags == ["console-made", "older-than-30d"]  # BedrockAPIKey-*
    assert found[account.user_name].age_days == 40 and found[account.user_name].expires


def test_without_owner_flags_it_reads_only_the_listing(account: Seeded, requests: Requests) -> None:
    iam = action_context(requests=requests).clients.iam
    assert len(sweep(iam, SweepFilter(), None, ACCOUNT, flag_owners=False)) == 2
    assert requests.sent == ["ListServiceSpecificCredentials"] * len(FAMILIES)  # one listing per family

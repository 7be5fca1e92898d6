"""`responder sweep`: every Bedrock key, filtered and flagged, as a table, JSON or CSV. Read-only."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from typing import Any
from unittest import mock

from typer.testing import CliRunner

from responder.cli.main import app
from responder.keys import FAMILIES
from responder.sandbox.seed import Seeded
from responder.sandbox.service_credentials import create_credential
from tests.factories import ACCOUNT, Requests

runner = CliRunner()


def seed_more(iam: Any) -> None:
    """An old admin's key that never expires, and a fresh key with an expiry (beside the seeded two)."""
    iam.create_user(UserName="old-admin")
    # moto does not load AWS managed policies by default: a policy of the same name stands in for it
    admin = iam.create_policy(
        PolicyName="AdministratorAccess",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}
        ),
    )
    iam.attach_user_policy(UserName="old-admin", PolicyArn=admin["Policy"]["Arn"])
    long_ago = datetime.now(timezone.utc) - timedelta(days=400)
    with mock.patch("responder.sandbox.service_credentials._now", return_value=long_ago):
        create_credential(ACCOUNT, "old-admin")
    iam.create_user(UserName="fresh-bot")
    iam.put_user_policy(
        UserName="fresh-bot",
        PolicyName="all",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}
        ),
    )
    create_credential(ACCOUNT, "fresh-bot", age_days=7)


def rows(*args: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["sweep", "-o", "json", *args])
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


def test_sweep_lists_and_flags_every_key(account: Seeded, iam: Any, requests: Requests) -> None:
    seed_more(iam)
    found = {r["user_name"]: r for r in rows()}
    assert set(found) == {"BedrockAPIKey-demo", "ml-pipeline", "old-admin", "fresh-bot"}
    assert found["old-admin"]["flags"] == "never-expires,owner-admin-like"
    assert found["old-admin"]["age_days"] == 400
    (old,) = rows("--older-than", "90")  # the threshold selects, and says so in the flags
    assert old["user_name"] == "old-admin" and old["flags"] == "never-expires,older-than-90d,owner-admin-like"
    assert found["fresh-bot"]["flags"] == "owner-admin-like" and found["fresh-bot"]["expires"]
    assert found["ml-pipeline"]["flags"] == "never-expires"
    # its inline policy allows beyond the family's managed policy: a pivot sweep names (console_users.py)
    assert found["BedrockAPIKey-demo"]["flags"] == "console-made,beyond-family-policy"


def test_sweep_filters(account: Seeded, iam: Any) -> None:
    seed_more(iam)
    assert [r["user_name"] for r in rows()] == ["BedrockAPIKey-demo", "fresh-bot", "ml-pipeline", "old-admin"]
    assert [r["user_name"] for r in rows("--no-expiry")] == ["ml-pipeline", "old-admin"]
    assert [r["user_name"] for r in rows("--user", "*-admin")] == ["old-admin"]
    assert [r["user_name"] for r in rows("--older-than", "30", "--no-expiry")] == ["old-admin"]


def test_sweep_table_and_csv(account: Seeded, iam: Any) -> None:
    seed_more(iam)
    table = runner.invoke(app, ["sweep"]).stdout
    assert "old-admin" in table and "never-expires,owner-admin-like" in table and "4 key(s)" in table
    parsed = list(csv.DictReader(io.StringIO(runner.invoke(app, ["sweep", "-o", "csv"]).stdout)))
    assert len(parsed) == 4 and {"credential_id", "user_name", "status", "age_days", "flags"} <= set(parsed[0])


def test_sweep_is_read_only_and_pages(account: Seeded, iam: Any, monkeypatch: Any) -> None:
    from responder.actions import key_inventory
    from responder.aws.clients import Clients

    sent: list[str] = []
    original = Clients.__init__

    def init(self: Clients, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.on_request(lambda model, **_: sent.append(model.name))

    monkeypatch.setattr(Clients, "__init__", init)
    monkeypatch.setattr(key_inventory, "PAGE", 100)  # pages of 100 keys: 112 keys take two
    for i in range(110):  # more than one page of ListServiceSpecificCredentials
        iam.create_user(UserName=f"u{i:03d}")
        create_credential(ACCOUNT, f"u{i:03d}", age_days=30)
    assert len(rows()) == 112
    # One listing per family and page: Bedrock's 112 keys take two pages, each other family's (none here) one;
    # the owners' policies are one read of every user, not a read per owner.
    assert sent.count("ListServiceSpecificCredentials") == 2 + len(FAMILIES) - 1
    assert sent.count("GetAccountAuthorizationDetails") == 1 and "ListAttachedUserPolicies" not in sent
    assert all(op.startswith(("List", "Get")) for op in sent)

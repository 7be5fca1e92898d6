"""Fan-out options users of c7n-org expect: --external-id for AssumeRole, --ou (repeatable) and --exclude-accounts
with --org; and the sweep's progress across accounts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from responder.aws.clients import AwsOptions, assume_role
from responder.cli.main import app
from responder.sandbox.organization import Member, seed_organization
from responder.sandbox.seed import Seeded
from tests.factories import ACCOUNT

runner = CliRunner()


@pytest.fixture
def members(account: Seeded) -> list[Member]:
    return seed_organization(ACCOUNT, accounts=3, keys_per_account=1)


def swept_accounts(*args: str) -> set[str]:
    result = runner.invoke(app, ["sweep", "--org", "-o", "json", *args])
    assert result.exit_code == 0, result.output
    return {row["account_id"] for row in json.loads(result.stdout)}


def make_ou(parent: str, name: str, *accounts: str) -> str:
    organizations = boto3.client("organizations", region_name="us-east-1")
    ou = organizations.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"]["Id"]
    root = organizations.list_roots()["Roots"][0]["Id"]
    for account_id in accounts:
        organizations.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=ou)
    return str(ou)


def root_id() -> str:
    return str(boto3.client("organizations", region_name="us-east-1").list_roots()["Roots"][0]["Id"])


def test_ou_takes_its_accounts_and_those_of_the_ous_below(members: list[Member]) -> None:
    a, b, c = (m.account_id for m in members)
    team = make_ou(root_id(), "team", a)
    make_ou(team, "team-sub", b)
    assert swept_accounts("--ou", team) == {a, b}
    other = make_ou(root_id(), "other", c)
    assert swept_accounts("--ou", team, "--ou", other) == {a, b, c}


def test_nested_ous_sweep_each_account_once(members: list[Member]) -> None:
    a, b, _ = (m.account_id for m in members)
    team = make_ou(root_id(), "team", a)
    sub = make_ou(team, "team-sub", b)
    result = runner.invoke(app, ["sweep", "--org", "--ou", team, "--ou", sub, "-o", "json"])
    assert result.exit_code == 0, result.output
    rows = [row["account_id"] for row in json.loads(result.stdout)]
    assert sorted(rows) == sorted([a, b])  # b is under both OUs: swept (and its key listed) once


def test_exclude_accounts_leaves_them_out(members: list[Member], tmp_path: Path) -> None:
    excluded = tmp_path / "exclude.txt"
    excluded.write_text(f"# frozen for the audit\n{members[0].account_id}\n")
    everyone = {ACCOUNT, *(m.account_id for m in members)}
    assert swept_accounts("--exclude-accounts", str(excluded)) == everyone - {members[0].account_id}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ou", "ou-abcd-12345678"], "add --org"),
        (["--org", "--ou", "team"], "is not an organizational unit id"),
        (["--org", "--ou", "ou-zzzz-99999999"], "no such organizational unit"),
        (["--org", "--exclude-accounts", "{tmp}/missing.txt"], "no such file"),
        (["--org", "--exclude-accounts", "{tmp}/bad.txt"], "expected a 12-digit ACCOUNT_ID"),
        (["--org", "--exclude-accounts", "{tmp}/all.txt"], "is in --exclude-accounts"),
    ],
)
def test_bad_fan_out_options_are_one_line_and_exit_2(
    members: list[Member], tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "bad.txt").write_text("not-an-account\n")
    (tmp_path / "all.txt").write_text("".join(f"{m}\n" for m in [ACCOUNT, *(m.account_id for m in members)]))
    result = runner.invoke(app, ["sweep", *(a.replace("{tmp}", str(tmp_path)) for a in args)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr


class RecordingSts:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def assume_role(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"Credentials": {"AccessKeyId": "ASIAX", "SecretAccessKey": "s3cret", "SessionToken": "t0ken"}}


def test_assume_role_sends_the_external_id_only_when_given() -> None:
    sts = RecordingSts()
    arn = "arn:aws:iam::210987654321:role/R"
    assumed = assume_role(AwsOptions(external_id="c7n-style-id"), arn, "s", sts)
    assume_role(AwsOptions(), arn, "s", sts)
    assert sts.calls[0]["ExternalId"] == "c7n-style-id" and "ExternalId" not in sts.calls[1]
    assert assumed.external_id is None  # not carried into the assumed account's own requests


def test_external_id_reaches_every_assume_role(members: list[Member], monkeypatch: pytest.MonkeyPatch) -> None:
    import responder.fanout.accounts as accounts

    seen: list[str | None] = []

    def recording(options: AwsOptions, *args: Any) -> AwsOptions:
        seen.append(options.external_id)
        return assume_role(options, *args)

    monkeypatch.setattr(accounts, "assume_role", recording)
    assert swept_accounts("--external-id", "abc-123") == {ACCOUNT, *(m.account_id for m in members)}
    assert seen == ["abc-123"] * len(members)  # the operator's own account needs no role


def test_sweep_reports_progress_per_account(members: list[Member]) -> None:
    from responder.actions.key_inventory import SweepFilter
    from responder.fanout.accounts import Organization
    from responder.fanout.sweep import sweep_accounts

    heard: list[tuple[int, int, int]] = []
    options = AwsOptions(region="us-east-1")
    sweep_accounts(
        options,
        SweepFilter(None, None, False),
        None,
        Organization(),
        "OrganizationAccountAccessRole",
        2,
        lambda *a: heard.append(a),
    )
    total = len(members) + 1
    assert heard[0] == (0, total, 0) and heard[-1] == (total, total, 0) and len(heard) == total + 1


def test_the_operator_policy_grants_what_ou_calls(members: list[Member], monkeypatch: pytest.MonkeyPatch) -> None:
    from responder.aws.clients import Clients

    made: set[str] = set()
    opened = Clients.__init__

    def watched(self: Clients, *args: Any, **kwargs: Any) -> None:
        opened(self, *args, **kwargs)
        self.on_request(lambda model, **_: made.add(f"{model.service_model.signing_name}:{model.name}"))

    monkeypatch.setattr(Clients, "__init__", watched)
    swept_accounts("--ou", make_ou(root_id(), "team", members[0].account_id))
    policy = json.loads(runner.invoke(app, ["permissions", "contain-bedrock-keys", "--sweep", "--fan-out"]).stdout)
    granted = {action for statement in policy["Statement"] for action in statement["Action"]}
    organizations = {call for call in made if call.startswith("organizations:")}
    assert {"organizations:ListAccountsForParent", "organizations:ListOrganizationalUnitsForParent"} <= organizations
    assert organizations <= granted

"""Every sentence true: the claims a run's outputs make (claims.py) against AWS read independently (tests/oracle.py),
through refusals, interruptions and rollbacks. In process, against the emulated account."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest

from responder.actions.iam_credentials import DeactivateServiceCredentials
from responder.cli.render import outcome_dict
from responder.engine.commands.operations import start_run
from responder.engine.commands.recovery import resume_run, rollback_run
from responder.engine.report.build import containment_line
from responder.engine.running.context import Settings
from responder.errors import Interrupted
from responder.sandbox.seed import BYSTANDER, Seeded
from tests.factories import Requests, credential_status, fill_inline_budget
from tests.oracle import check_claims

BOOK = "leaked-long-term-key"


def contain(account: Seeded, settings: Settings) -> Any:
    return start_run(BOOK, {}, account.key, dry_run=False, confirm=None, settings=settings)


def run_dir(settings: Settings) -> Any:
    (found,) = [d for d in settings.runs_dir.iterdir() if (d / "audit.jsonl").exists()]
    return found


def fill_managed_slots(iam: Any, user: str) -> None:
    document = json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}})
    for n in range(10):
        arn = iam.create_policy(PolicyName=f"team-{n:02d}", PolicyDocument=document)["Policy"]["Arn"]
        iam.attach_user_policy(UserName=user, PolicyArn=arn)


def test_a_deny_aws_refused_is_never_reported_as_in_place(account: Seeded, settings: Settings, iam: Any) -> None:
    """Inline budget full and 10 managed policies: LimitExceeded. The key is inactive; nothing says denied."""
    fill_inline_budget(iam, user=account.user_name)
    fill_managed_slots(iam, account.user_name)
    outcome = contain(account, settings)
    assert outcome.status == "failed", outcome.message
    report = json.loads(outcome.paths.report_json.read_text())
    assert report["containment"]["fully_denied_after_s"] is None
    assert report["containment"]["key_inactive_after_s"] is not None
    assert report["claims"]["key_inactive"]["holds"] and not report["claims"]["principal_denied"]["holds"]
    markdown = outcome.paths.report_md.read_text()
    assert "is denied now" not in markdown and "principal denied" not in markdown
    assert "NOT contained: the principal is not denied" in markdown
    shown = outcome_dict(outcome)  # what `-o json` prints
    assert shown["containment"]["fully_denied_after_s"] is None
    assert shown["claims"]["key_inactive"] is True and shown["claims"]["principal_denied"] is False
    check_claims(iam, outcome.paths.directory)


def test_ctrl_c_between_the_deactivation_and_the_deny_claims_the_key_only(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    requests.faults["PutUserPolicy"] = [KeyboardInterrupt()]  # Ctrl-C before the deny leaves
    with pytest.raises(Interrupted):
        contain(account, settings)
    report = json.loads((run_dir(settings) / "report.json").read_text())
    assert report["containment"]["fully_denied_after_s"] is None
    assert not report["claims"]["contained"]["holds"]
    check_claims(iam, run_dir(settings))


def test_a_change_whose_answer_never_came_is_unknown_until_resume_reads_it(
    account: Seeded, settings: Settings, iam: Any
) -> None:
    """Ctrl-C after AWS took the deactivation but before its answer was journaled: AWS holds the key Inactive, so
    the report must not say nothing was contained, nor that what was in flight is journaled."""
    original = DeactivateServiceCredentials.apply

    def answered_then_interrupted(self: Any, *args: Any) -> Any:
        original(self, *args)
        raise KeyboardInterrupt

    with (
        mock.patch.object(DeactivateServiceCredentials, "apply", answered_then_interrupted),
        pytest.raises(Interrupted) as raised,
    ):
        contain(account, settings)
    assert "finished and are journaled" not in str(raised.value)
    assert "never came" in str(raised.value)
    assert credential_status(iam, account.user_name, account.credential_id) == "Inactive"
    directory = run_dir(settings)
    markdown = (directory / "report.md").read_text()
    assert "Nothing was contained" not in markdown
    assert "Unknown: the answer to deactivate never came" in markdown
    check_claims(iam, directory)

    run_id = directory.name
    resumed = resume_run(run_id, settings)
    assert resumed.status == "completed", resumed.message
    check_claims(iam, directory)
    line = resumed.report.claims
    # the resume found its own run's change in place: not "already in place before this run"
    assert not line["key_inactive"]["already"]
    assert "already" not in (directory / "report.md").read_text().split("## Steps")[0]


def test_after_rollback_the_report_says_what_holds_now(account: Seeded, settings: Settings, iam: Any) -> None:
    outcome = contain(account, settings)
    check_claims(iam, outcome.paths.directory)
    back = rollback_run(outcome.run_id, reactivate_keys=True, settings=settings)
    assert back.status == "rolled-back", back.message
    markdown = outcome.paths.report_md.read_text()
    assert "is denied now" not in markdown and "responder rollback" not in markdown.split("## Steps")[0]
    assert "Nothing of this run holds now: it was rolled back." in markdown
    assert back.report.containment["fully_denied_after_s"] is None
    check_claims(iam, outcome.paths.directory)


def test_a_rollback_that_keeps_the_key_inactive_says_so(account: Seeded, settings: Settings, iam: Any) -> None:
    outcome = contain(account, settings)
    rollback_run(outcome.run_id, reactivate_keys=False, settings=settings)
    claims = json.loads(outcome.paths.report_json.read_text())["claims"]
    assert claims["key_inactive"]["holds"] and not claims["principal_denied"]["holds"] and claims["rolled_back"]
    check_claims(iam, outcome.paths.directory)


def test_a_resumed_run_says_which_process_made_each_change(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    requests.faults["PutUserPolicy"] = [KeyboardInterrupt()]
    with pytest.raises(Interrupted):
        contain(account, settings)
    resumed = resume_run(run_dir(settings).name, settings)
    assert resumed.status == "completed", resumed.message
    made_by = {c["step"]: c["process"] for c in resumed.report.claims["in_force"]}
    assert made_by == {"deactivate": "run", "deny-bearer-tokens": "resume 1"}
    opening = resumed.paths.report_md.read_text().split("## Steps")[0]
    assert "key inactive" in opening and "after the run started" in opening
    assert "principal denied" in opening and "after its process started (resume 1)" in opening
    assert "already" not in opening  # the run deactivated the key itself, before the resume
    line = containment_line(resumed.report) or ""
    assert "principal denied" in line and "after the start of its process (resume 1)" in line, line
    check_claims(iam, resumed.paths.directory)


def test_the_opening_names_every_principal_changed(account: Seeded, settings: Settings, iam: Any) -> None:
    """A sweep whose key of one user was inactive already still denies that user: the opening names both users."""
    iam.update_service_specific_credential(
        UserName=BYSTANDER, ServiceSpecificCredentialId=account.bystander_credential_id, Status="Inactive"
    )
    outcome = start_run("contain-bedrock-keys", {"filter": "all"}, None, dry_run=False, confirm=None, settings=settings)
    assert outcome.status == "completed", outcome.message
    opening = outcome.paths.report_md.read_text().split("## Follow-ups")[0]
    for user in (account.user_name, BYSTANDER):
        assert f"user/{user}" in opening, opening
    check_claims(iam, outcome.paths.directory)

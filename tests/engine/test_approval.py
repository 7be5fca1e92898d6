"""Approval is journaled: --yes and a saved plan in run.started, a prompt's yes as run.approved; a run stopped before
anyone approved it is `cancelled`, and resuming it asks again (or needs --yes)."""

from __future__ import annotations

from typing import Any

import pytest

from responder.engine.commands.operations import apply_plan, start_run
from responder.engine.commands.recovery import resume_run, rollback_run
from responder.engine.journal import events as j
from responder.engine.journal.run_state import RunState, load_run
from responder.engine.running.context import Settings
from responder.errors import NotApproved, UserError
from responder.sandbox.seed import Seeded
from tests.factories import Requests, credential_status

BOOK = "leaked-long-term-key"


def killed_at_the_prompt(state: RunState) -> bool:
    raise KeyboardInterrupt  # as kill -9 (or a signal nobody handled) at "Apply these changes?": no end record


def the_run(settings: Settings) -> RunState:
    (found,) = [d for d in settings.runs_dir.iterdir() if (d / "audit.jsonl").exists()]
    return load_run(found / "audit.jsonl")


def test_a_run_killed_at_its_prompt_is_cancelled_and_resume_asks_again(
    account: Seeded, settings: Settings, requests: Requests, iam: Any
) -> None:
    with pytest.raises(KeyboardInterrupt):
        start_run(BOOK, {}, account.key, dry_run=False, confirm=killed_at_the_prompt, settings=settings)
    run = the_run(settings)
    assert run.status == "cancelled"
    assert requests.mutating == []

    asked: list[str] = []

    def no(state: RunState) -> bool:
        asked.append(state.run_id)
        return False

    with pytest.raises(NotApproved, match="not approved: nothing was changed"):
        resume_run(run.run_id, settings, confirm=no)
    assert asked == [run.run_id] and requests.mutating == []
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"
    assert the_run(settings).status == "cancelled"  # declining records nothing

    resumed = resume_run(run.run_id, settings, confirm=lambda state: True)
    assert resumed.status == "completed", resumed.message
    approvals = [r for r in resumed.state.records if r.get("event") == j.APPROVED]
    assert [a["how"] for a in approvals] == ["prompt"]


def test_a_cancelled_run_is_not_relabelled_by_a_rollback(account: Seeded, settings: Settings) -> None:
    outcome = start_run(BOOK, {}, account.key, dry_run=False, confirm=lambda state: False, settings=settings)
    assert outcome.status == "cancelled"
    with pytest.raises(UserError, match="is cancelled: it changed nothing"):
        rollback_run(outcome.run_id, reactivate_keys=False, settings=settings)
    assert load_run(outcome.paths.audit_log).status == "cancelled"


def test_every_way_of_approving_is_journaled(account: Seeded, settings: Settings) -> None:
    yes = start_run(BOOK, {}, account.key, dry_run=False, confirm=None, settings=settings)
    assert yes.state.started.approved == "yes"
    rollback_run(yes.run_id, reactivate_keys=True, settings=settings)
    prompted = start_run(BOOK, {}, account.key, dry_run=False, confirm=lambda state: True, settings=settings)
    assert prompted.status == "completed"
    assert prompted.state.started.approved is None
    assert [r["how"] for r in prompted.state.records if r.get("event") == j.APPROVED] == ["prompt"]
    # and the report times the change from the approval as well as from the start
    assert prompted.report.claims["in_force"][0]["seconds_after_approval"] is not None


def test_an_applied_saved_plan_is_its_approval(account: Seeded, settings: Settings, tmp_path: Any) -> None:
    plan = tmp_path / "plan.json"
    start_run(BOOK, {}, account.key, dry_run=True, confirm=None, settings=settings, save_plan=plan)
    applied = apply_plan(plan, None, settings)
    assert applied.status == "completed", applied.message
    assert applied.state.started.approved == "saved-plan"

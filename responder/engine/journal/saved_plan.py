"""Saved plans: `run --dry-run --save-plan FILE` records what would change and a hash of the state it read;
`apply FILE` applies exactly that plan, and refuses if the account has changed since (as Terraform refuses a
stale saved plan). This is how an approver reviews exactly what will run."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from responder.actions.registry import get_action
from responder.engine.journal import events as j
from responder.engine.journal.audit import canonical
from responder.engine.journal.run_state import RunState
from responder.errors import UserError
from responder.private_files import write_private

FORMAT = "responder-plan/1"


def state_hashes(state: RunState) -> dict[str, str]:
    """Per step, a hash of the state its plan was made from. Volatile reads (CloudTrail history) are left out:
    new events do not make a containment plan stale."""
    hashes: dict[str, str] = {}
    for record in state.records:
        if record.get("event") == j.PLANNED and not record.get("volatile"):
            hashes[record["step"]] = _digest({"snapshot": _state(record), "changes": record.get("changes")})
        elif record.get("event") == j.SKIPPED:
            hashes[record["step"]] = _digest({"skipped": True})
    return hashes


def _state(record: dict[str, Any]) -> Any:
    """The planned step's snapshot as its action's model reads it: one state hashes alike however it was spelled."""
    journaled, action = record.get("snapshot"), get_action(record.get("action") or "")
    if journaled is None or action is None:
        return journaled
    try:
        return action.journaled_snapshot(action.snapshot_from_journal(journaled))
    except ValidationError:  # not a shape this version writes: no fresh plan matches it, so the step is stale
        return journaled


def _digest(value: Any) -> str:
    return hashlib.sha256(canonical(value).encode()).hexdigest()


def made_from(facts: dict[str, Any]) -> str:
    """The hash of what a plan runs: its playbook document, parameters and key facts, as the planning run's
    `run.started` journaled them. A plan file edited after review no longer matches its run's journal."""
    return _digest({name: facts.get(name) for name in ("playbook_document", "params", "key")})


def write_plan(path: Path, state: RunState) -> None:
    started = state.started
    plan = {
        "format": FORMAT,
        "planned_by_run": state.run_id,
        "made_from": made_from(started.to_record()),
        "playbook": started.playbook,
        "playbook_document": started.playbook_document,
        "params": started.params,
        "key": started.key,
        "account_id": started.account_id,
        "endpoint_url": started.endpoint_url,
        "region": started.region,
        "state": state_hashes(state),
        "changes": {s.id: s.changes for s in state.steps.values() if s.changes},
    }
    try:
        write_private(path, json.dumps(plan, indent=2, sort_keys=True) + "\n")
    except OSError as exc:
        raise UserError(f"{path}: cannot write the plan: {exc.strerror}") from None


def read_plan(path: Path) -> dict[str, Any]:
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such plan file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a plan file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"{path}: not a responder plan ({type(exc).__name__})") from None
    required = ("playbook_document", "params", "account_id", "state", "planned_by_run")
    if not isinstance(plan, dict) or plan.get("format") != FORMAT or any(k not in plan for k in required):
        raise UserError(f"{path}: not a {FORMAT} file (make one with `responder run ... --dry-run --save-plan FILE`)")
    return plan


def stale_steps(plan: dict[str, Any], now: RunState, deferred: Collection[str] = ()) -> list[str]:
    """The steps whose state or planned changes differ between the saved plan and a fresh plan. The deferred steps
    (what the key did, read after containment) are not planned again before applying: they cannot be stale."""
    fresh = state_hashes(now)
    saved = {step: digest for step, digest in plan["state"].items() if step not in deferred}
    return sorted(step for step in set(saved) | set(fresh) if saved.get(step) != fresh.get(step))

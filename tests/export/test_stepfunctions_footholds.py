"""The short-term machine leaves each foothold step to the local run (CloudTrail reads, exact rollback snapshots),
saying why in the state's comment and naming no other playbook; its rollback machine has nothing of them to undo."""

from __future__ import annotations

import json
from pathlib import Path

from responder.export.stepfunctions import write
from responder.export.stepfunctions.states import local_reason
from responder.playbook.checks import find_playbook, load_playbook

BOOK = "leaked-short-term-key"
FOOTHOLD_STEPS = ("policies", "trust", "footholds", "grants", "credentials", "logging")
FOOTHOLD_ACTIONS = (
    "remove-window-role-policies",
    "restore-window-trust-policy",
    "deactivate-window-access-keys",
    "remove-window-user-policies",
    "disable-window-user-credentials",
    "restore-invocation-logging",
)


def _states(states: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    """Every state, those inside a Map's processor too."""
    found = dict(states)
    for state in states.values():
        processor = state.get("ItemProcessor")
        if isinstance(processor, dict):
            found |= _states(processor["States"])
    return found


def test_every_short_term_foothold_step_is_left_to_the_local_run(tmp_path: Path) -> None:
    written = write(load_playbook(find_playbook(BOOK)), {}, tmp_path, False)
    machine = json.loads(next(p for p in written if p.name == f"{BOOK}.asl.json").read_text())
    actions = {s.id: s.action or "" for s in load_playbook(find_playbook(BOOK)).actions()}
    for step in FOOTHOLD_STEPS:
        state = machine["States"][f"{step}: left to the local run"]
        # the reason rides in the state as `true` and is read back from the exporter's table: the execution's state,
        # which every later history event carries, stays small enough for the rollback to read it
        carried = state["Result"]["skipped"]  # type: ignore[index]
        assert state["Type"] == "Pass" and local_reason(actions[step], carried) == state["Comment"], step
        assert "responder run " in state["Comment"] and "leaked-long-term-key" not in state["Comment"], step
    rollback = _states(
        json.loads(next(p for p in written if p.name == f"{BOOK}.rollback.asl.json").read_text())["States"]
    )
    for action in FOOTHOLD_ACTIONS:
        undo = [name for name in rollback if name.startswith(f"Undo {action}:")]
        assert undo and all(n.startswith(f"Undo {action}: nothing to undo") for n in undo), action
        assert all(rollback[n]["Type"] == "Pass" for n in undo), action

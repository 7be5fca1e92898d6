"""Which steps wait for which, read from the playbook's own `${steps.ID.OUTPUT}` references.

A step waits for the steps it references; nothing else orders it, so independent reads and independent changes
go out together. Two exceptions keep a run safe: changes to the same part of the same principal keep their
playbook order (see `Target`), and a read that no change needs (what the key did) waits, in a run that applies,
until every change is made: containment is never behind a read it does not use.
"""

from __future__ import annotations

from responder.actions.base import Target
from responder.actions.registry import get_action
from responder.playbook.model import Playbook, Step
from responder.playbook.refs import Ref, refs_in


def _refs(step: Step) -> list[Ref]:
    found = refs_in(step.with_) + refs_in(step.for_each or "")
    if not isinstance(step.when, bool):
        found += refs_in(step.when)
    for sub in step.steps or []:
        found += _refs(sub)
    return found


def depends_on(step: Step) -> set[str]:
    """The ids of the steps this one (a group: any of its steps) needs the outputs of; never its own siblings."""
    siblings = {sub.id for sub in step.steps or []}
    return {r.step for r in _refs(step) if r.kind == "steps" and r.step not in siblings and r.step != step.id}


def changes_something(step: Step) -> bool:
    """A mutating action, or a group holding one."""
    if step.is_group:
        return any(changes_something(sub) for sub in step.steps or [])
    action = get_action(step.action or "")
    return bool(action and action.mutating)


def deferred_steps(playbook: Playbook) -> set[str]:
    """Read-only steps whose outputs no change needs, even through other steps: in a run that applies, they run
    after the last change (the investigation); in a dry run, with the rest."""
    needs = {step.id: depends_on(step) for step in playbook.steps}
    needed: set[str] = set()
    todo = [step.id for step in playbook.steps if changes_something(step)]
    while todo:
        for dep in needs.get(todo.pop(), set()):
            if dep not in needed:
                needed.add(dep)
                todo.append(dep)
    return {s.id for s in playbook.steps if not changes_something(s) and s.id not in needed}


def overlap(mine: list[Target], theirs: list[Target]) -> bool:
    """Two steps change the same part of one principal: the later waits for the earlier."""
    return bool(set(mine) & set(theirs))

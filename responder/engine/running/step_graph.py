"""Which steps wait for which, read from the playbook's own `${steps.ID.OUTPUT}` references.

A step waits for the steps it references; nothing else orders it, so independent reads and independent changes
go out together. Two exceptions keep a run safe: changes to the same thing (a part of one principal, one setting,
one resource: `ChangeTarget.scope`) keep their playbook order, and a read that no change needs (what the key did)
waits, in a run that applies, until every change is made: containment is never behind a read it does not use.
"""

from __future__ import annotations

from responder.actions.registry import get_action
from responder.actions.targets import ChangeTarget
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
    """Read-only steps whose outputs no change needs, even through other steps, and the changes made after
    containment (footholds): in a run that applies, they run after the last other change; in a dry run, with the
    rest."""
    needs = {step.id: depends_on(step) for step in playbook.steps}
    needed: set[str] = set()
    todo = [step.id for step in playbook.steps if changes_something(step)]
    while todo:
        for dep in needs.get(todo.pop(), set()):
            if dep not in needed:
                needed.add(dep)
                todo.append(dep)
    reads = {s.id for s in playbook.steps if not changes_something(s) and s.id not in needed}
    return reads | {s.id for s in playbook.steps if _after_containment(s)}


def asked_before_applying(playbook: Playbook) -> set[str]:
    """The irreversible changes made after containment (stopping jobs, deleting provisioned throughput): planned with
    the changes before the prompt, though they run after containment, so the operator sees them and types 'delete'
    for them as for any other irreversible change. Only a run that asks pays their reads first (`--yes` plans
    nothing ahead)."""
    return {s.id for s in playbook.steps if _after_containment(s) and not _reversible(s)}


def _reversible(step: Step) -> bool:
    action = get_action(step.action or "")
    return bool(action is None or action.reversible)


def _after_containment(step: Step) -> bool:
    """A change that undoes an attacker's foothold: it waits, like the investigation, for every containment change."""
    action = get_action(step.action or "")
    return bool(action and action.mutating and action.after_containment)


def overlap(mine: list[ChangeTarget], theirs: list[ChangeTarget]) -> bool:
    """Two steps change the same thing (one part of a principal, one setting, one resource): the later waits for
    the earlier. A credential's scope is its owner's part, so one key waits for a change to all the owner's keys."""
    return bool({t.scope for t in mine} & {t.scope for t in theirs})

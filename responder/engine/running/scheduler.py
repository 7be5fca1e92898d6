"""Runs a playbook's steps as soon as their inputs are there, several at once, in the order that keeps a run safe.

- A step waits for the steps it references (`step_graph.depends_on`); a group's steps exist once it is expanded.
- A read no change needs (what the key did) waits, in a run that applies, until every change is made.
- A change waits for every earlier change whose targets are not known yet, and for an earlier change to the same
  part of a principal to be verified. Changes to other parts of one principal that do not reference each other
  (a key's deactivation and its user's deny) are due together and go out at once, each after its own
  write-ahead record: each alone stops the key, so a refused one must not hold back the other. A refused change
  stops every step that was not already due; the ones in flight finish and are journaled. Except after
  containment: a refused foothold change (`after_containment`) stops only itself and what waits for it, so the
  other foothold changes still start, due yet or not (whether they were due must not depend on timing).
- Before the run's first change, every principal its ready changes touch is locked at once.
- A change still waiting for its inputs is offered once to read its snapshot ahead, on the outputs the steps it
  waits for know before asking AWS (`read_ahead`): it still sends only once they are done.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from responder.actions.base import Action, ActionParams
from responder.actions.targets import ChangeTarget
from responder.engine.running.step_graph import overlap
from responder.playbook.model import Step


@dataclass(eq=False)
class Node:
    """One step of this run as the scheduler sees it."""

    step: Step
    deps: set[str]
    deferred: bool
    changes: bool  # a mutating action, or a group holding one
    status: str = "waiting"  # waiting, running, done, failed
    bound: tuple[Action[Any, Any], ActionParams] | None = None
    targets: list[ChangeTarget] = field(default_factory=list)
    pending: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # records the main thread journals
    read_ahead: bool = False  # a change whose snapshot was offered to read before its inputs are final


class Steps(Protocol):
    """What the scheduler asks of the executor."""

    def bind(self, node: Node) -> bool: ...  # False: the step's `when` is false, it is skipped

    def expand(self, node: Node) -> list[Node]: ...  # a group's steps, one set per item

    def work(self, node: Node) -> Callable[[], None] | None: ...  # a change AWS accepted returns its verification

    def read_ahead(self, node: Node) -> None: ...  # a waiting change may read its snapshot on known outputs

    def lock(self, targets: list[ChangeTarget]) -> None: ...

    def flush(self, node: Node) -> None: ...  # journal what the main thread holds for the node


Verdict = Literal["go", "block"]


class Schedule:
    def __init__(self, nodes: list[Node], steps: Steps, applying: bool, concurrency: int) -> None:
        self.nodes = nodes
        self.steps = steps
        self.applying = applying
        self.concurrency = concurrency
        self.by_id = {n.step.id: n for n in nodes}
        self.running: dict[Future[Any], Node] = {}
        self.failures: list[tuple[Node, BaseException]] = []
        self.locked = False
        self.first_open = 0  # every node before it is done
        self.unexpanded = sum(1 for n in nodes if n.step.is_group and n.status == "waiting")
        self.open_changes = sum(1 for n in nodes if not n.deferred and n.status != "done")
        self.to_flush: list[Node] = []  # nodes whose records wait for the main thread, in the order they finished

    def _done(self, node: Node) -> None:
        node.status = "done"
        if node.step.is_group:
            self.unexpanded -= 1
        if not node.deferred:
            self.open_changes -= 1
        self.to_flush.append(node)

    def run(self) -> None:
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="responder-step")
        try:
            while True:
                # A failure starts nothing new but the foothold changes that do not wait for it; what is in flight
                # finishes and is journaled.
                self._launch(pool)
                if not self.running:
                    break
                finished, _ = wait(self.running, return_when=FIRST_COMPLETED)
                for future in finished:
                    self._settle(self.running.pop(future), future, pool)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            self._flush()
            for node in self.nodes:  # a read that finished while Ctrl-C stopped the loop before it was settled
                self.steps.flush(node)
        if self.failures:
            order = {id(n): i for i, n in enumerate(self.nodes)}
            self.failures.sort(key=lambda f: order.get(id(f[0]), 0))
            raise self.failures[0][1]
        stuck = [n.step.id for n in self.nodes if n.status == "waiting"]
        if stuck:  # the playbook's checks make this impossible; say so rather than finish quietly
            raise RuntimeError(f"steps {', '.join(stuck)} could never start: their inputs never came")

    def _settle(self, node: Node, future: Future[Any], pool: ThreadPoolExecutor) -> None:
        exc = future.exception()
        if exc is not None:
            node.status = "failed"
            self.failures.append((node, exc))
        elif (verify := future.result()) is not None:  # AWS answered the change: verify it meanwhile
            self.running[pool.submit(verify)] = node
        else:
            self._done(node)

    def _launch(self, pool: ThreadPoolExecutor) -> None:
        """Start what may start, until the pool is full; settle groups and skipped steps at once."""
        while self.first_open < len(self.nodes) and self.nodes[self.first_open].status == "done":
            self.first_open += 1
        starting: list[Node] = []
        index = self.first_open
        active: list[Node] = []  # earlier changes not finished
        refused = [n for n, _ in self.failures]  # a change that waits for one of these never starts
        while index < len(self.nodes) and len(self.running) + len(starting) < self.concurrency:
            node = self.nodes[index]
            if refused and not self._foothold(node):
                index += 1
                continue
            # A deferred change (a foothold) reads nothing before containment is done: not even ahead.
            if (
                self.applying
                and node.changes
                and not node.deferred
                and node.status == "waiting"
                and not node.read_ahead
            ):
                node.read_ahead = True  # offered once: its reads go out with those of the steps it waits for
                if not node.step.is_group and not self._inputs_ready(node):
                    self.steps.read_ahead(node)
            if node.status == "waiting" and self._inputs_ready(node):
                try:
                    if node.step.is_group:
                        self._insert(index, self.steps.expand(node))
                        self._done(node)
                        index += 1
                        continue
                    if node.bound is None and not self.steps.bind(node):
                        self._done(node)
                        index += 1
                        continue
                except Exception as exc:  # a parameter that does not validate, a group list that is not one
                    node.status = "failed"
                    self.failures.append((node, exc))
                    break
                if not (self.applying and node.changes) or self._verdict(node, active + refused) == "go":
                    node.status = "running"
                    starting.append(node)
            if node.changes and node.status not in ("done", "failed"):
                active.append(node)
            index += 1
        if self.applying and not self.locked and any(n.changes for n in starting) and not self.failures:
            self._lock_ready()
        self._flush()
        for node in starting:
            if len(self.failures) > len(refused):  # failed while launching (a parameter, a lock): start nothing
                node.status = "waiting"
                continue
            self.running[pool.submit(self.steps.work, node)] = node

    def _foothold(self, node: Node) -> bool:
        """A change made after containment (deferred), which a refused foothold change does not stop unless it
        waits for it."""
        return self.applying and node.deferred and node.changes and not node.step.is_group

    def _lock_ready(self) -> None:
        """Before the first change: bind every change whose inputs are there and lock all their principals."""
        for node in self.nodes[self.first_open :]:
            if node.status == "waiting" and not node.step.is_group and node.bound is None and self._inputs_ready(node):
                try:
                    if not self.steps.bind(node):
                        self._done(node)
                except Exception as exc:
                    node.status = "failed"
                    self.failures.append((node, exc))
                    return
        try:
            self.steps.lock([t for n in self.nodes if n.status in ("waiting", "running") for t in n.targets])
            self.locked = True
        except Exception as exc:  # another responder holds one: nothing was changed
            first = next(n for n in self.nodes if n.status == "running" and n.changes)
            self.failures.append((first, exc))

    def _flush(self) -> None:
        """Journal what finished reads and skipped steps left to record (after locking what follows them)."""
        while self.to_flush:
            self.steps.flush(self.to_flush.pop(0))

    def _insert(self, index: int, made: list[Node]) -> None:
        self.nodes[index + 1 : index + 1] = made
        self.by_id.update({n.step.id: n for n in made})
        self.unexpanded += sum(1 for n in made if n.step.is_group and n.status == "waiting")
        self.open_changes += sum(1 for n in made if not n.deferred and n.status != "done")

    def _inputs_ready(self, node: Node) -> bool:
        for dep in node.deps:
            found = self.by_id.get(dep)
            if (found is None and self.unexpanded) or (found is not None and found.status != "done"):
                return False
        if self.applying and node.deferred:  # what the key did is read once every change is made
            return not self.unexpanded and self.open_changes == 0
        return True

    @staticmethod
    def _verdict(node: Node, active: list[Node]) -> Verdict:
        """A change is due unless an earlier one not finished may change the same part of a principal."""
        for earlier in active:
            if earlier.step.is_group or earlier.bound is None or overlap(earlier.targets, node.targets):
                return "block"
        return "go"

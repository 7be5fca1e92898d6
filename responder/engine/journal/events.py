"""The records of a run's journal, by name: what a writer may record and a reader may find."""

from __future__ import annotations

from enum import Enum


class Event(str, Enum):
    """A journal record's `event`. A str, so a record read back compares equal to its member."""

    RUN_STARTED = "run.started"  # the first record: playbook, parameters, operator, account, key facts
    RUN_RESUMED = "run.resumed"
    # The operator approved the plan: `how` is prompt (answered yes), yes (--yes) or saved-plan (an applied plan).
    APPROVED = "run.approved"
    ROLLBACK_STARTED = "rollback.started"
    FINISHED = "run.finished"
    # Step records, in the order a step writes them.
    PLANNED = "step.planned"  # dry-run / plan phase: what would change
    SKIPPED = "step.skipped"  # its `when` was false
    READ = "step.read"  # a read-only step finished (outputs)
    UNCHANGED = "step.unchanged"  # already in place: nothing to do (idempotent re-run)
    APPLYING = "step.applying"  # write-ahead: the snapshot and the calls about to be made
    APPLIED = "step.applied"  # the calls returned (request ids)
    VERIFIED = "step.verified"  # read back: the goal state holds
    FAILED = "step.failed"
    UNDOING = "step.undoing"  # write-ahead for undo
    UNDONE = "step.undone"  # undo finished; `status` says how (undone, withheld, irreversible, nothing-to-undo)
    UNDO_FAILED = "step.undo_failed"
    ACCOUNT_FINISHED = "account.finished"  # a fan-out's parent run: one account's run ended (or could not start)
    EXPANDED = "group.expanded"  # a for_each group's items, and the steps they make (in place of the group)
    # `responder investigate`: CloudTrail read again after the run, from its containment moment; the events found.
    INVESTIGATED = "run.investigated"
    # The operator went on from a journal whose hash chain is broken (--accept-broken-chain): what was wrong.
    BROKEN_CHAIN_ACCEPTED = "run.broken_chain_accepted"
    # The operator went on to change their own principal (--allow-self): whose it is, and which step.
    SELF_CHANGE_ALLOWED = "run.self_change_allowed"

    def __str__(self) -> str:
        return self.value


# Short names the engine writes with (`j.APPLYING`): the members themselves.
RUN_STARTED, RUN_RESUMED, ROLLBACK_STARTED, FINISHED, APPROVED = (
    Event.RUN_STARTED,
    Event.RUN_RESUMED,
    Event.ROLLBACK_STARTED,
    Event.FINISHED,
    Event.APPROVED,
)
PLANNED, SKIPPED, READ, UNCHANGED = Event.PLANNED, Event.SKIPPED, Event.READ, Event.UNCHANGED
APPLYING, APPLIED, VERIFIED, FAILED = Event.APPLYING, Event.APPLIED, Event.VERIFIED, Event.FAILED
UNDOING, UNDONE, UNDO_FAILED = Event.UNDOING, Event.UNDONE, Event.UNDO_FAILED
ACCOUNT_FINISHED, EXPANDED, INVESTIGATED = Event.ACCOUNT_FINISHED, Event.EXPANDED, Event.INVESTIGATED
BROKEN_CHAIN_ACCEPTED, SELF_CHANGE_ALLOWED = Event.BROKEN_CHAIN_ACCEPTED, Event.SELF_CHANGE_ALLOWED

# Records fsynced before the run goes on: a write-ahead record must be on disk before its request leaves, and the
# end of a run before the process says it is done. The others are flushed to the kernel, which keeps them if the
# process is killed; only a power cut could lose them, and then the write-ahead records still explain every change.
DURABLE = frozenset({RUN_STARTED, APPROVED, APPLYING, UNDOING, FINISHED, ROLLBACK_STARTED})

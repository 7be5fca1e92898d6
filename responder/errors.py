"""One error root: every failure a user can see is a ResponderError that becomes one line and an exit code."""

from __future__ import annotations

# Exit codes, as documented in the README and `responder --help`.
EXIT_OK = 0
EXIT_STEP_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_ROLLBACK_INCOMPLETE = 3
EXIT_CANCELLED = 4  # the operator declined (or interrupted) the confirmation prompt: nothing was changed
EXIT_INTERRUPTED = 130  # Ctrl-C mid-run, as shells count SIGINT: what was done is journaled, resume or roll back


class ResponderError(Exception):
    """Base of every error responder reports to a user. `where` says where it came from."""

    exit_code = EXIT_STEP_FAILED

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.run_id: str | None = None  # the run that recorded this error, when one did (a fan-out reports it)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class UserError(ResponderError):
    """Bad input (playbook, parameter, key, file, run id): nothing was changed."""

    exit_code = EXIT_BAD_INPUT


class StepFailed(ResponderError):
    """A step failed while applying; the run's on_failure policy has been carried out."""

    exit_code = EXIT_STEP_FAILED


class Interrupted(ResponderError):
    """Ctrl-C (or SIGTERM, SIGHUP) mid-run: nothing more was sent; the message says whether every change sent was
    answered (a change without an answer is unknown) and how to go on."""

    exit_code = EXIT_INTERRUPTED


class NotApproved(ResponderError):
    """A resume of a run whose plan nobody approved, declined at its prompt: nothing was changed or recorded."""

    exit_code = EXIT_CANCELLED


class JournalUnwritable(ResponderError):
    """The runs directory refused a record (a full or read-only disk). Nothing is sent after a refused record."""


class RollbackIncomplete(ResponderError):
    """A rollback could not undo everything: a human must look."""

    exit_code = EXIT_ROLLBACK_INCOMPLETE

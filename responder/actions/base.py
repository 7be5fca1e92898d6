"""What an action is: a small unit that can plan, snapshot, apply, verify and undo one change.

The executor only ever talks to this interface, so adding an action never touches the executor.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, Literal, cast

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer
from typing_extensions import TypeVar

from responder.actions.reads import ReadCache

# Re-exported: the actions import the kinds of target from here, beside the rest of their contract.
from responder.actions.targets import ChangeTarget as ChangeTarget
from responder.actions.targets import Target as Target
from responder.keys import REGION

if TYPE_CHECKING:
    from responder.aws.clients import Clients


class ActionParams(BaseModel):
    """Base of every action's parameters: strict about unknown names."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


P = TypeVar("P", bound=ActionParams)


class ActionSnapshot(BaseModel):
    """Base of every action's snapshot: the state a step read before changing it, what undo restores.

    The journal keeps it as JSON (`model_dump(mode="json")`) and rollback reads it back through the same model, so a
    field renamed here would strand the journals already written: the names are the journal's."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoSnapshot(ActionSnapshot):
    """The snapshot of an action that reads nothing before it acts."""


# The action's snapshot: its model, or a plain dict where an action has none yet (CloudTrail's reads).
S = TypeVar("S", bound=ActionSnapshot | dict[str, Any], default=dict[str, Any])

# A moment in a snapshot, journaled as datetime.isoformat() writes it ("+00:00", not pydantic's "Z"): the journals
# written before snapshots were models spell it so, and a saved plan's hash of the state must not change with it.
JournalTime = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str, when_used="json")]


def _split_commas(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _check_regions(regions: list[str]) -> list[str]:
    bad = [r for r in regions if not REGION.fullmatch(r)]
    if bad:
        raise ValueError(f"not AWS region names: {', '.join(repr(r) for r in bad)} (e.g. us-east-1)")
    return regions


# A list also accepted as "a,b" (how a -p parameter carries it).
CommaList = Annotated[list[str], BeforeValidator(_split_commas)]
# A list of AWS regions, also accepted as "us-east-1,eu-west-1".
Regions = Annotated[list[str], BeforeValidator(_split_commas), AfterValidator(_check_regions)]


@dataclass(frozen=True)
class Identity:
    """Who the operator is (sts:GetCallerIdentity)."""

    account_id: str
    arn: str

    @property
    def partition(self) -> str:  # aws, aws-us-gov, aws-cn: from the operator's ARN
        return self.arn.split(":")[1] if self.arn.count(":") >= 5 else "aws"


class ActionContext:
    """What an action may use: the run's clients, who the operator is, and what this run has already read.

    The identity may still be on its way (a future): reading `account_id` waits for it, so the call that asks
    who the operator is goes out together with the first reads instead of before them.
    """

    def __init__(
        self,
        clients: Clients,
        identity: str | Identity | Future[Identity],
        reactivate_keys: bool = False,  # only rollback ever sets this
        key_alive_until: datetime | None = None,
    ) -> None:
        self.clients = clients
        if isinstance(identity, str):
            identity = Identity(identity, f"arn:aws:iam::{identity}:root")
        self._identity = identity
        self.reactivate_keys = reactivate_keys
        # When the run contained a short-term key: it works until then unless its principal stays denied.
        self.key_alive_until = key_alive_until
        self.reads = ReadCache()

    @property
    def identity(self) -> Identity:
        identity = self._identity
        return identity if isinstance(identity, Identity) else identity.result()

    @property
    def account_id(self) -> str:
        return self.identity.account_id

    @property
    def partition(self) -> str:
        return self.identity.partition

    def key_still_alive(self) -> str | None:
        """Why an undo that would let the leaked key work again must wait, or None when it need not."""
        if self.key_alive_until is None or self.reactivate_keys:
            return None
        if datetime.now(timezone.utc) >= self.key_alive_until:
            return None
        return (
            f"the leaked short-term key is valid until {self.key_alive_until.isoformat()}: lifting this now would "
            "let it work again; a rollback after that time lifts it, or now with --reactivate-keys"
        )

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}::{self.account_id}:{resource}"


class Change(BaseModel):
    """One AWS call a step would make, with the state before and after."""

    call: str  # e.g. "iam:UpdateServiceSpecificCredential"
    parameters: dict[str, Any]
    target: str
    before: Any = None
    after: Any = None
    reversible: bool = True


class StepPlan(BaseModel):
    changes: list[Change] = []
    outputs: dict[str, Any] = {}
    notes: list[str] = []

    @property
    def noop(self) -> bool:
        return not self.changes


class Applied(BaseModel):
    request_ids: list[str] = []
    details: dict[str, Any] = {}  # what undo needs to know about how it was applied
    # Set when the calls made differ from the plan (a fallback): the report must show what really happened.
    changes: list[Change] | None = None
    notes: list[str] = []


UndoStatus = Literal["undone", "withheld", "irreversible", "nothing-to-undo"]


class UndoResult(BaseModel):
    status: UndoStatus
    message: str
    request_ids: list[str] = []


class Action(ABC, Generic[P, S]):
    name: ClassVar[str]
    summary: ClassVar[str]
    Params: ClassVar[type[ActionParams]]
    # What snapshot() returns and undo() restores; None only where the snapshot is still a plain dict.
    Snapshot: ClassVar[type[ActionSnapshot] | None] = None
    permissions: ClassVar[tuple[str, ...]]  # IAM actions the operator needs for every phase
    reversible: ClassVar[bool]
    mutating: ClassVar[bool]
    outputs: ClassVar[tuple[str, ...]] = ()
    # A volatile read (CloudTrail history) changes by itself: it is not journaled whole, and a saved plan is
    # not stale because of it.
    volatile: ClassVar[bool] = False
    # What applying this action achieves for containment, timed in the journal and the report ("key inactive"),
    # and what it stops: the key itself, or its principal (a run is fully contained when both are).
    milestone: ClassVar[str | None] = None
    stops: ClassVar[Literal["key", "principal"] | None] = None
    # Undoes what an attacker left (a foothold), not the key's containment: in a run that applies it runs after the
    # last containment change, so time to containment does not move (engine.running.step_graph.deferred_steps).
    after_containment: ClassVar[bool] = False
    # What the report warns about before anyone rolls this change back (the operator decides with it in view).
    undo_warning: ClassVar[str | None] = None
    # The output holding a summary the report shows in its own section (what the key did).
    report_output: ClassVar[str | None] = None

    def targets(self, params: P) -> list[ChangeTarget]:
        """What this action changes (a principal's part, a credential, an account-region setting, a resource).
        Every mutating action says: locks, the order of steps, the journal and the report rely on it."""
        return []

    def known_before(self, params: P) -> dict[str, Any]:
        """Outputs this step gives whatever AWS answers, known from its parameters alone (the user a key names):
        a change that needs only these may read its snapshot before this step is done (engine.running.read_ahead)."""
        return {}

    @classmethod
    def journaled_snapshot(cls, snapshot: ActionSnapshot | dict[str, Any]) -> dict[str, Any]:
        """The snapshot as the journal keeps it: plain JSON, the same field names whichever version wrote it."""
        return snapshot.model_dump(mode="json") if isinstance(snapshot, ActionSnapshot) else snapshot

    @classmethod
    def snapshot_from_journal(cls, journaled: Any) -> S:
        """A journaled snapshot read back through the action's model (a pydantic ValidationError if it does not
        fit). The one cast: a ClassVar cannot name the class's own type variable."""
        return cast(S, journaled if cls.Snapshot is None else cls.Snapshot.model_validate(journaled))

    @abstractmethod
    def snapshot(self, ctx: ActionContext, params: P) -> S:
        """Read the state this step is about to change. Read-only."""

    @abstractmethod
    def plan(self, ctx: ActionContext, params: P, snapshot: S) -> StepPlan:
        """The changes that would take the snapshot to the goal state; no AWS calls."""

    def apply(self, ctx: ActionContext, params: P, snapshot: S, plan: StepPlan) -> Applied:
        raise NotImplementedError(f"{self.name} changes nothing")

    def verify(self, ctx: ActionContext, params: P, applied: Applied | None = None) -> bool:
        """Read back, afresh: is the goal state in place? `applied` says how it was done, when known.
        Read-only actions have nothing to verify."""
        return True

    def undo(self, ctx: ActionContext, params: P, snapshot: S, applied: dict[str, Any]) -> UndoResult:
        return UndoResult(status="nothing-to-undo", message="this step changed nothing")

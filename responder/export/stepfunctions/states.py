"""The words of an action's Step Functions form: Amazon States Language (JSONPath) pieces.

Each action module has a forms module beside the exporter (`forms/<module>.py`) that registers its actions' forms by
name (`states_form(ActionClass)`), or says why one has none (`no_states_form(ActionClass, why)`); registry.py
imports them all, and the exporter assembles the forms of a playbook's steps into a state machine. A form gets a
`StatesStep` (where its arguments are, in the execution's JSON, and how to call AWS there) and returns a `Chain`:
states with one way in and open ways out.

Every SDK task is `arn:aws:states:::aws-sdk:SERVICE:camelCaseAction` with PascalCase parameters; its errors are
`Service.CodeException` (`Iam.NoSuchEntityException`); throttling is retried with backoff.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from responder.actions.base import Action

State = dict[str, Any]

# IAM answers `Throttling` (not modelled): Step Functions names it after the code, with its suffix.
THROTTLED = ["Iam.ThrottlingException", "S3.SlowDownException", "States.Timeout"]
RETRY_THROTTLED: State = {"ErrorEquals": THROTTLED, "IntervalSeconds": 1, "MaxAttempts": 6, "BackoffRate": 2.0}
NO_SUCH_ENTITY = "Iam.NoSuchEntityException"
# A rollback's input asks for leaked keys to work again (`responder rollback --reactivate-keys`).
REACTIVATE_ASKED: State = {"Variable": "$.input.reactivate_keys", "BooleanEquals": True}
VERIFY_ATTEMPTS = 6  # IAM is eventually consistent: a read-back may lag the change by seconds
VERIFY_WAIT_SECONDS = 2


@dataclass(frozen=True)
class Path:
    """A JSONPath into the execution's state (`$.input.user_name`) or its context (`$$.Execution.Name`)."""

    path: str


def bind(name: str, value: Any) -> tuple[str, Any]:
    """A Parameters entry: `Name.$` for a path or an intrinsic function, `Name` for a constant."""
    if isinstance(value, Path):
        return f"{name}.$", value.path
    return name, value


def parameters(**values: Any) -> State:
    return dict(bind(name, value) for name, value in values.items())


def sdk(call: str) -> str:
    """`iam:UpdateServiceSpecificCredential` -> the SDK integration's resource (camelCase action)."""
    service, _, action = call.partition(":")
    return f"arn:aws:states:::aws-sdk:{service}:{action[:1].lower()}{action[1:]}"


@dataclass
class Chain:
    """States in order, entered at `start`; `exits` are the states whose next state is not decided yet."""

    states: dict[str, State]
    start: str
    exits: list[str] = field(default_factory=list)

    def then(self, other: Chain) -> Chain:
        for name in self.exits:
            self.states[name]["Next"] = other.start
        return Chain({**self.states, **other.states}, self.start, list(other.exits))

    def closed(self) -> dict[str, State]:
        """The states with every open way out ending the machine (or the Map iteration) there."""
        for name in self.exits:
            self.states[name]["End"] = True
        self.exits = []
        return self.states


def single(name: str, state: State) -> Chain:
    return Chain({name: state}, name, [name])


def sequence(first: Chain, *rest: Chain) -> Chain:
    chain = first
    for other in rest:
        chain = chain.then(other)
    return chain


def choose(state_name: str, branches: list[tuple[State, Chain]], otherwise: Chain) -> Chain:
    """A Choice: the first rule that holds takes its chain, else `otherwise`; every chain's ways out are this
    chain's (a chain named by two rules is taken once)."""
    choice = {
        "Type": "Choice",
        "Choices": [{**rule, "Next": chain.start} for rule, chain in branches],
        "Default": otherwise.start,
    }
    states: dict[str, State] = {state_name: choice}
    exits: list[str] = []
    for chain in [*(chain for _, chain in branches), otherwise]:
        if chain.start not in states:
            states.update(chain.states)
            exits.extend(chain.exits)
    return Chain(states, state_name, exits)


def unless_absent(task: Chain, state_name: str, result_path: str | None = None, value: Any = None) -> Chain:
    """`task` (one Task state), where IAM's NoSuchEntity is an answer, not a failure: it leads to a Pass named
    `state_name` that puts `value` at `result_path` (or nothing), and both ways go on alike."""
    absent: State = {"Type": "Pass", "ResultPath": result_path}
    if value is not None:
        absent["Result"] = value
    catch = {"ErrorEquals": [NO_SUCH_ENTITY], "ResultPath": None, "Next": state_name}
    task.states[task.start].setdefault("Catch", []).append(catch)
    return Chain({**task.states, state_name: absent}, task.start, [*task.exits, state_name])


def nothing(state_name: str, comment: str | None = None) -> Chain:
    """A Pass that changes nothing: the way on when there is nothing to do."""
    return single(state_name, {"Type": "Pass", **({"Comment": comment} if comment else {})})


def failing(state_name: str, error: str, cause: str) -> Chain:
    """A Fail state: the execution ends here with `error` (e.g. `Responder.NoBedrockKey`) and `cause`."""
    return Chain({state_name: {"Type": "Fail", "Error": error, "Cause": cause}}, state_name, [])


def passing(state_name: str, result_path: str, **values: Any) -> Chain:
    """A Pass state putting `values` (paths and intrinsics resolved) at `result_path`."""
    return single(state_name, {"Type": "Pass", "Parameters": parameters(**values), "ResultPath": result_path})


@dataclass(frozen=True)
class StatesStep:
    """What a form needs: its state names' prefix, its arguments, where its results go, how to call AWS."""

    label: str  # unique among the machine's states, e.g. "Deactivate"
    action: str
    args: dict[str, Any]  # the step's `with:`: Paths into the execution's state, or constants
    result_path: str  # where the step's outputs go, e.g. "$.steps.resolve"
    credentials: State | None = None  # {"RoleArn.$": ...} when the machine works in another account
    suffix: str = ""  # added to every state name (a machine holds the same steps for two places)

    def name(self, what: str) -> str:
        return f"{self.label}: {what}{self.suffix}"

    def arg(self, name: str) -> Any:
        return self.args[name]

    def task(
        self,
        what: str,
        call: str,
        params: State,
        result_path: str | None = None,
        result_selector: State | None = None,
        catch: list[State] | None = None,
        own_account: bool = False,  # the machine's own account (its journal bucket), whatever account it works in
    ) -> Chain:
        state: State = {"Type": "Task", "Resource": sdk(call), "Parameters": params, "Retry": [RETRY_THROTTLED]}
        if self.credentials is not None and not own_account:
            state["Credentials"] = self.credentials
        if result_selector is not None:
            state["ResultSelector"] = result_selector
        state["ResultPath"] = result_path
        if catch:
            state["Catch"] = catch
        return single(self.name(what), state)

    def write_ahead(self, what: str, key: list[str], record: State) -> Chain:
        """The snapshot of what is about to change, put to the journal bucket before the change is made.

        `record` (paths resolved) is built into `$.record`, then written as JSON to
        `s3://BUCKET/responder/ACCOUNT/EXECUTION/<key>.json`; `key` is the intrinsic function's arguments: quoted
        literals ('deactivate') and paths ($.item.Id). The rollback machine reads these records back."""
        build = passing(self.name(f"record {what}"), "$.record", step=self.label, action=self.action, **record)
        template = "{}" * (len(key) + 1) + ".json"
        put = self.task(
            f"journal {what}",
            "s3:PutObject",
            parameters(
                Bucket=Path("$.input.journal_bucket"),
                Key=Path(f"States.Format('{template}', $.context.journal_prefix, {', '.join(key)})"),
                Body=Path("States.JsonToString($.record)"),
                ContentType="application/json",
            ),
            result_path=None,
            own_account=True,
        )
        return build.then(put)

    def each(self, what: str, items: str, body: Chain, **carry: Any) -> Chain:
        """A Map over the list at `items`: each iteration sees `$.input`, `$.context`, the item at `$.item`, and
        `carry` (paths resolved outside the Map)."""
        selector = {
            "input.$": "$.input",
            "context.$": "$.context",
            "item.$": "$$.Map.Item.Value",
            "steps": {},
            **parameters(**carry),
        }
        state: State = {
            "Type": "Map",
            "ItemsPath": items,
            "ItemSelector": selector,
            "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": body.start, "States": body.closed()},
            "MaxConcurrency": 4,
            "ResultPath": None,
        }
        return single(self.name(what), state)

    def read_back(self, what: str, read: Chain, done: State) -> Chain:
        """Verification: read again until `done` (a Choice rule on what `read` put in the state) holds. IAM is
        eventually consistent, so wait and read up to VERIFY_ATTEMPTS times before failing the step by name."""
        start = passing(self.name(f"start verifying {what}"), "$.verify", attempts=0)
        again = passing(
            self.name(f"count reads of {what}"), "$.verify", attempts=Path("States.MathAdd($.verify.attempts, 1)")
        ).then(single(self.name(f"wait to verify {what}"), {"Type": "Wait", "Seconds": VERIFY_WAIT_SECONDS}))
        given_up = {"Variable": "$.verify.attempts", "NumericGreaterThanEquals": VERIFY_ATTEMPTS}
        failed = failing(
            self.name(f"not {what}"),
            "Responder.VerificationFailed",
            f"{self.label}: AWS does not show the change after {VERIFY_ATTEMPTS} reads",
        )
        verified = nothing(self.name(f"{what}, verified"))
        loop = read.then(choose(self.name(f"{what}?"), [(done, verified), (given_up, failed)], again))
        for name in again.exits:  # after the wait, read again
            loop.states[name]["Next"] = read.start
        return start.then(Chain(loop.states, loop.start, list(verified.exits)))


# What a form is: from the step's place in the machine to its states. An undo form reads the write-ahead record
# at `$.record` (its `before`, `target`) and restores it.
StatesForm = Callable[[StatesStep], Chain]


# action name -> why the machine leaves its steps to the local run, for those registered with `local_run_only`
LOCAL_REASONS: dict[str, str] = {}


def left_to_local_run(step: StatesStep, why: str) -> Chain:
    """A step the machine does not take: a Pass saying why, in its comment and in the step's result, so the
    execution's history and the report both carry it. A reason registered by `local_run_only` is carried as `true`
    and read back from LOCAL_REASONS: the execution's state (every later history event holds all of it) stays small
    enough for the rollback to read the containment's history in one answer (Step Functions caps a task's result
    at 256 KB)."""
    carried: Any = True if LOCAL_REASONS.get(step.action) == why else why
    return single(
        step.name("left to the local run"),
        {"Type": "Pass", "Comment": why, "Result": {"skipped": carried}, "ResultPath": step.result_path},
    )


def local_reason(action: str, carried: Any) -> str:
    """The reason a skipped step's result carries, as the report says it."""
    return LOCAL_REASONS.get(action, "left to the local run") if carried is True else str(carried)


@dataclass(frozen=True)
class Forms:
    apply: StatesForm
    undo: StatesForm | None = None  # reversible actions only


FORMS: dict[str, Forms] = {}
REFUSED: dict[str, str] = {}  # action name -> why it has no Step Functions form


def states_form(action: type[Action[Any, Any]], undo: StatesForm | None = None) -> Callable[[StatesForm], StatesForm]:
    """Register `action`'s Step Functions form (and, for a reversible change, the form of its undo)."""

    def register(form: StatesForm) -> StatesForm:
        FORMS[action.name] = Forms(form, undo)
        return form

    return register


def local_run_only(action: type[Action[Any, Any]], why: str, undo: bool = True) -> None:
    """Register `action` as a step the machine leaves to the local run (`left_to_local_run`, saying `why`); with
    `undo`, its rollback form is a Pass too: the machine changed nothing to undo."""

    LOCAL_REASONS[action.name] = why

    def leave(step: StatesStep) -> Chain:
        return left_to_local_run(step, why)

    def nothing_to_undo(step: StatesStep) -> Chain:
        return nothing(step.name("nothing to undo"))

    states_form(action, undo=nothing_to_undo if undo else None)(leave)


def no_states_form(action: type[Action[Any, Any]], why: str) -> None:
    """Say why `action` cannot run on Step Functions: an export of a playbook using it is refused with this."""
    REFUSED[action.name] = why

"""A journal is trusted to act on only when intact, and only where it was made.

`rollback`, `resume`, `investigate` and `apply` act on what a journal says: the snapshots to restore, the playbook
to run, the endpoint and account to talk to. An edited `audit.jsonl` (a forged `Allow *` snapshot, another
endpoint) must not be followed: the chain is checked first, and a broken one is refused in one line naming its
first bad record, unless the operator says `--accept-broken-chain`, which the journal then records.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from responder.aws.clients import AwsOptions
from responder.engine.journal import events as j
from responder.engine.journal.audit import audit_key, check_records, read_records
from responder.engine.journal.run_state import RunState, state_from_records
from responder.engine.journal.runs import RunPaths
from responder.engine.journal.writer import Journal
from responder.engine.running.context import with_run_endpoint
from responder.errors import UserError

ACCEPT_BROKEN_CHAIN = "--accept-broken-chain"  # the override: named in every refusal, journaled when given


@dataclasses.dataclass(frozen=True)
class TrustedRun:
    state: RunState
    broken: str | None  # the chain's first problem, when the operator went on anyway


def trusted_run(paths: RunPaths, doing: str, accept_broken: bool) -> TrustedRun:
    """The run's state, read once; refused (UserError, nothing changed) when its chain is broken, unless accepted."""
    try:
        records, warnings = read_records(paths.audit_log)
    except ValueError:
        raise UserError(f"run {paths.run_id}: its audit log is not JSON lines: refusing to {doing} from it") from None
    if not records or records[0].get("event") != j.RUN_STARTED:
        raise UserError(f"{paths.audit_log} is not a responder audit log")
    check = check_records(records, key=audit_key())
    broken = None if check.ok else check.problems[0]
    if broken is not None and not accept_broken:
        raise UserError(
            f"run {paths.run_id}: its audit log's hash chain is broken at {broken}: refusing to {doing} from it "
            f"(`responder audit verify {paths.run_id}` lists every problem; {ACCEPT_BROKEN_CHAIN} goes on, journaled)"
        )
    return TrustedRun(state_from_records(records, warnings), broken)


def journal_acceptance(journal: Journal, trusted: TrustedRun, doing: str) -> None:
    """Record that the operator went on from a broken chain: the next reader sees it, and where it broke."""
    if trusted.broken is not None:
        journal.record(j.BROKEN_CHAIN_ACCEPTED, command=doing, problem=trusted.broken)


def same_endpoint(
    aws: AwsOptions, facts: dict[str, Any], run: str, from_env: frozenset[str] = frozenset()
) -> AwsOptions:
    """The AWS options to act on a run (or plan) with: its region, and its endpoint, which must be the one the
    operator's settings reach now. A journal that names another endpoint (edited, or a sandbox run acted on from a
    shell set up for AWS) is refused rather than followed: the changes to undo are where the run made them."""
    recorded = facts.get("endpoint_url")
    if _endpoint(aws.endpoint_url) != _endpoint(recorded):
        now = aws.endpoint_url or "AWS itself (no --endpoint-url)"
        raise UserError(
            f"{run} was made against endpoint {recorded or 'AWS itself'}, but your settings reach {now}: "
            + (f"give --endpoint-url {recorded}" if recorded else "drop --endpoint-url and AWS_ENDPOINT_URL")
            + " to act on it; nothing was changed"
        )
    return with_run_endpoint(aws, facts, from_env)


def _endpoint(url: Any) -> str | None:
    return str(url).rstrip("/") if url else None

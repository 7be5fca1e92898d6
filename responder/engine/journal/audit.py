"""The audit trail: structlog processors that stamp, redact, hash-chain and render each record.

Every record carries `seq`, `prev` (the hash of the record before it) and `hash` (SHA-256 of its own
canonical JSON without `hash`), so an edited, removed or reordered line breaks the chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import threading
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from responder.errors import UserError
from responder.private_files import append_private
from responder.redaction import SECRETS


def _import_structlog() -> Any:
    """structlog, without the rich it would load for pretty console tracebacks this JSON log never prints.

    rich is installed (typer depends on it) and costs ~80 ms to import, on every run's critical path. structlog
    itself (~30 ms, with the asyncio it imports) is imported by the first journal to open, not with this module:
    the report, a saved plan and `audit verify` use only the hash helpers here, and a run sends its first
    requests before its journal opens.
    """
    if "rich" in sys.modules:
        import structlog
    else:
        sys.modules["rich"] = None  # type: ignore[assignment]  # makes `import rich` fail: structlog.dev skips it
        try:
            import structlog
        finally:
            del sys.modules["rich"]
    return structlog


_importing = threading.Lock()  # journals open on several threads (a fan-out's accounts): one import at a time


def load_structlog() -> Any:
    """structlog, imported on first use. A run calls this while its first requests are out, so that its first
    record, once AWS has answered who the operator is, does not wait for the import."""
    with _importing:
        return _import_structlog()


GENESIS = "0" * 64
EventDict = MutableMapping[str, Any]


def canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k not in ("hash", "mac")}
    return hashlib.sha256(canonical(body).encode()).hexdigest()


# An optional key the operator keeps apart from the runs directory: each record's hash is then also signed (HMAC),
# so a journal rewritten and re-hashed by someone without the key no longer verifies, with no anchor needed.
AUDIT_KEY_ENV = "RESPONDER_AUDIT_HMAC_KEY"
AUDIT_KEY_FILE_ENV = "RESPONDER_AUDIT_HMAC_KEY_FILE"


def audit_key() -> bytes | None:
    """The audit HMAC key from $RESPONDER_AUDIT_HMAC_KEY, or the file $RESPONDER_AUDIT_HMAC_KEY_FILE names; None
    when neither is set. The key is a secret: registered, so no output shows it."""
    value = os.environ.get(AUDIT_KEY_ENV) or None
    where = os.environ.get(AUDIT_KEY_FILE_ENV)
    if value is None and where:
        try:
            value = Path(where).read_text(encoding="utf-8").strip() or None
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{AUDIT_KEY_FILE_ENV}={where}: cannot read the audit key ({type(exc).__name__})") from None
        if value is None:
            raise UserError(f"{AUDIT_KEY_FILE_ENV}={where}: the audit key file is empty")
    if value is None:
        return None
    SECRETS.register(value)
    return value.encode("utf-8")


def record_mac(key: bytes, digest: str) -> str:
    return hmac.new(key, digest.encode("ascii"), hashlib.sha256).hexdigest()


def add_timestamp(_: Any, __: str, event_dict: EventDict) -> EventDict:
    event_dict["ts"] = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    return event_dict


def redact_secrets(_: Any, __: str, event_dict: EventDict) -> EventDict:
    redacted: EventDict = SECRETS.redact_value(dict(event_dict))
    return redacted


def to_json_values(_: Any, __: str, event_dict: EventDict) -> EventDict:
    """Make every value plain JSON (datetimes become ISO strings) so the hash survives a re-read."""
    plain: EventDict = json.loads(json.dumps(dict(event_dict), default=_json_default))
    return plain


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


class ChainHashes:
    """Processor that links each record to the one before it."""

    def __init__(self, prev: str = GENESIS, seq: int = 0, key: bytes | None = None) -> None:
        self.prev = prev
        self.seq = seq
        self._before = (prev, seq)
        self._key = key

    def unwritten(self) -> None:
        """The last record never reached the file (a full disk): the next one follows the one before it."""
        self.prev, self.seq = self._before

    def __call__(self, _: Any, __: str, event_dict: EventDict) -> EventDict:
        self._before = (self.prev, self.seq)
        self.seq += 1
        event_dict["seq"] = self.seq
        event_dict["prev"] = self.prev
        event_dict["hash"] = record_hash(dict(event_dict))
        if self._key is not None:
            event_dict["mac"] = record_mac(self._key, event_dict["hash"])
        self.prev = event_dict["hash"]
        return event_dict


class DurableFile:
    """A structlog logger that appends one line and flushes it to the kernel (a killed process loses nothing);
    while `durable` is set it also fsyncs, so a write-ahead record is on disk before its request leaves."""

    def __init__(self, stream: IO[str], chain: ChainHashes | None = None) -> None:
        self._stream = stream
        self.durable = True
        self.chain = chain  # told when a record could not be written, so the chain does not skip it

    def msg(self, message: str) -> None:
        self._stream.write(message + "\n")
        self._stream.flush()
        if self.durable:
            os.fsync(self._stream.fileno())

    def close(self) -> None:
        self._stream.close()

    info = warning = error = msg


@dataclass
class ChainCheck:
    ok: bool
    records: int
    head: str
    problems: list[str] = field(default_factory=list)
    extended_by: int = 0  # records written after the head the report recorded: the report is older than the log


def read_records(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The records of a log, and warnings. A torn last line (a crash mid-write) is skipped, not fatal."""
    records: list[dict[str, Any]] = []
    warnings: list[str] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):
                warnings.append(f"{path}:{number}: ignored a torn last record (the writer was interrupted)")
            else:
                raise
    return records, warnings


def verify_chain(path: Path, expected_head: str | None = None, key: bytes | None = None) -> ChainCheck:
    try:
        records, _ = read_records(path)
    except json.JSONDecodeError as exc:
        return ChainCheck(False, 0, GENESIS, [f"{path}:{exc.lineno}: not a JSON record"])
    return check_records(records, expected_head, key)


def check_records(
    records: list[dict[str, Any]], expected_head: str | None = None, key: bytes | None = None
) -> ChainCheck:
    """The chain of records already read (a command that goes on to use them reads the file once); with the audit
    key, every record's MAC too."""
    problems: list[str] = []
    prev = GENESIS
    seen_at: dict[str, int] = {}
    for index, record in enumerate(records, 1):
        where = f"record {index}"
        if record.get("seq") != index:
            problems.append(f"{where}: sequence number {record.get('seq')} where {index} was expected")
        if record.get("prev") != prev:
            problems.append(f"{where}: does not follow the record before it (removed or reordered lines)")
        if record.get("hash") != record_hash(record):
            problems.append(f"{where}: content does not match its hash (edited)")
        elif key is not None and record.get("mac") != record_mac(key, str(record.get("hash"))):
            missing = "mac" not in record
            problems.append(
                f"{where}: "
                + (
                    "has no MAC (written without the audit key)"
                    if missing
                    else "its MAC does not match the audit key (re-hashed without the key, or another key)"
                )
            )
        prev = str(record.get("hash"))
        seen_at[prev] = index
    extended_by = 0
    if expected_head is not None and prev != expected_head:
        if expected_head in seen_at:  # the log goes on past the report's head: it grew, it did not shrink
            extended_by = len(records) - seen_at[expected_head]
        else:
            problems.append("the chain does not contain the head the report recorded (the log was truncated)")
    return ChainCheck(not problems, len(records), prev, problems, extended_by)


def _drop_torn_tail(path: Path) -> None:
    """A crash mid-write leaves a partial last line: never acknowledged, so cut it before appending."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as stream:
            stream.truncate(data.rfind(b"\n") + 1)


def open_audit_logger(path: Path, **context: Any) -> tuple[Any, DurableFile]:
    """A structlog logger appending to `path`, continuing its hash chain if it already has records."""
    prev, seq = GENESIS, 0
    if path.exists():
        _drop_torn_tail(path)
        records, _ = read_records(path)
        if records:
            prev, seq = str(records[-1]["hash"]), int(records[-1]["seq"])
    structlog = load_structlog()
    chain = ChainHashes(prev, seq, audit_key())
    out = DurableFile(append_private(path), chain)
    logger = structlog.wrap_logger(
        out,
        processors=[
            add_timestamp,
            redact_secrets,
            to_json_values,
            chain,
            structlog.processors.JSONRenderer(sort_keys=True),
        ],
        context_class=dict,
        cache_logger_on_first_use=False,
    )
    return logger.bind(**context), out

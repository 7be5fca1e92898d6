"""Where runs live: one directory per run holding its audit log and reports."""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from responder.errors import UserError
from responder.private_files import private_directory
from responder.redaction import shown

AUDIT_LOG = "audit.jsonl"
REPORT_MD = "report.md"
REPORT_JSON = "report.json"
ACCOUNT_RUNS = "accounts"  # a fan-out's run directory keeps its accounts' runs here


def default_runs_dir(kind: str = "runs") -> Path:
    """$RESPONDER_RUNS_DIR, else $XDG_STATE_HOME/responder/<kind>, else ~/.local/state/responder/<kind>."""
    override = os.environ.get("RESPONDER_RUNS_DIR")
    if override and kind == "runs":
        return Path(override)
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "responder" / kind


@dataclass(frozen=True)
class RunPaths:
    root: Path
    run_id: str

    @property
    def directory(self) -> Path:
        return self.root / self.run_id

    @property
    def audit_log(self) -> Path:
        return self.directory / AUDIT_LOG

    @property
    def report_md(self) -> Path:
        return self.directory / REPORT_MD

    @property
    def report_json(self) -> Path:
        return self.directory / REPORT_JSON


def new_run(root: Path) -> RunPaths:
    # Sortable by time, unique without coordination.
    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
    paths = RunPaths(root, run_id)
    try:
        private_directory(paths.directory)
        free = shutil.disk_usage(paths.directory).free
    except OSError as exc:
        raise UserError(f"cannot create the run directory {paths.directory}: {exc.strerror}") from None
    if free < ROOM_FOR_A_RUN:  # checked before anything is sent: a journal that cannot grow must not start a run
        shutil.rmtree(paths.directory, ignore_errors=True)
        raise UserError(
            f"the runs directory {root} has {free:,} bytes free, under the {ROOM_FOR_A_RUN:,} a run's journal needs: "
            "free space, or point --runs-dir (RESPONDER_RUNS_DIR) at another disk; nothing was changed"
        )
    return paths


# A run of one key journals about 20 KB; a thousand keys, about 10 MB. Refuse below this much free space.
ROOM_FOR_A_RUN = 16 * 1024 * 1024


AMBIGUOUS_SHOWN = 5  # ids listed when a prefix names several runs: enough to pick from, one line still


def find_run(root: Path, run_id: str) -> RunPaths:
    if not run_id or "/" in run_id or run_id.startswith("."):
        raise UserError(f"{shown(run_id)} is not a run id (see `responder runs`)")
    exact = RunPaths(root, run_id)
    if _is_run(exact.directory):
        return exact
    # A prefix of a run, or of one account's run inside a fan-out.
    patterns = (f"{run_id}*", f"*/{ACCOUNT_RUNS}/{run_id}*")
    found = [p for pattern in patterns for p in root.glob(pattern) if _is_run(p)] if root.is_dir() else []
    if len(found) == 1:
        return RunPaths(found[0].parent, found[0].name)
    if len(found) > 1:
        names = sorted(p.name for p in found)
        more = f", and {len(names) - AMBIGUOUS_SHOWN} more" if len(names) > AMBIGUOUS_SHOWN else ""
        raise UserError(
            f"run id {shown(run_id)} is ambiguous: {', '.join(names[:AMBIGUOUS_SHOWN])}{more} "
            "(give more of the id; `responder runs` lists them)"
        )
    raise UserError(f"no run {shown(run_id)} in {root} (see `responder runs`, or pass --runs-dir)")


def _is_run(directory: Path) -> bool:
    """A run's directory holds its audit log. An id no file system can name (longer than a file name may be) is
    no run either, not an OSError."""
    try:
        return (directory / AUDIT_LOG).is_file()
    except (OSError, ValueError):
        return False


def all_runs(root: Path) -> list[RunPaths]:
    if not root.is_dir():
        return []
    return [RunPaths(root, p.name) for p in sorted(root.iterdir()) if (p / AUDIT_LOG).is_file()]

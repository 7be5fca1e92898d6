"""Find the whole key an alert points at, when the alert holds only part of it: read the file and line (or the
file as the alert's commit held it) inside the repository, and confirm the key found there against what the
alert recorded (its start, its SHA-1). A path that leaves the repository is refused."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

from responder.alerts.source import Finding
from responder.errors import UserError
from responder.keys.registry import prefixes
from responder.redaction import SECRETS

MAX_SOURCE_BYTES = 16 * 1024 * 1024
_STARTS = "|".join(re.escape(p) for p in prefixes())
# A key of a family whose prefix responder knows, not inside a longer base64 run.
KEY_IN_TEXT = re.compile(rf"(?<![A-Za-z0-9+/])(?:{_STARTS})[A-Za-z0-9+/]+={{0,2}}")


def looks_like_a_key_start(recorded: str) -> bool:
    """Whether what an alert recorded is the start of a key responder knows (gitleaks's short-lived rule
    records `bedrock-api-key-`; a redacted report the first characters of an `ABSK` key)."""
    return len(recorded) >= 4 and any(p.startswith(recorded) or recorded.startswith(p) for p in prefixes())


def inside(repo: Path, path: str, where: str) -> Path:
    root = repo.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root):
        raise UserError(f"{where}: its file is outside the repository {repo}: refused")
    return target


def _line_of(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _at_commit(repo: Path, commit: str, path: str) -> str:
    """The file as the alert's commit held it (`git show COMMIT:PATH`); '' when git cannot tell."""
    if not re.fullmatch(r"[0-9a-f]{7,64}", commit):
        return ""
    relative = inside(repo, path, "the alert").relative_to(repo.resolve()).as_posix()
    try:
        # The commit is checked hex and the path is inside the repository; git is the operator's own.
        shown = subprocess.run(  # noqa: S603
            ["git", "-C", str(repo), "show", f"{commit}:{relative}"],  # noqa: S607
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return shown.stdout[:MAX_SOURCE_BYTES].decode("utf-8", "replace") if shown.returncode == 0 else ""


def _candidates(text: str, line: int) -> list[tuple[int, str]]:
    found = [(m.start() + 1, m.group(0)) for m in KEY_IN_TEXT.finditer(_line_of(text, line))]
    SECRETS.register(*(key for _, key in found))
    return found


def _confirmed(finding: Finding, candidates: list[tuple[int, str]]) -> list[tuple[int, str]]:
    if finding.sha1 is not None:
        return [c for c in candidates if hashlib.sha1(c[1].encode()).hexdigest() == finding.sha1]  # noqa: S324 (detect-secrets' hash)
    if finding.prefix:
        return [c for c in candidates if c[1].startswith(finding.prefix)]
    return []


def _missing(finding: Finding, repo: Path) -> str:
    raise UserError(f"{finding.where}: no file {finding.path} in the repository {repo} (give --repo DIR)")


def register_recorded(*texts: str) -> None:
    """Register what an alert recorded as secrets, except a bare key prefix (gitleaks's short-lived rule records
    `bedrock-api-key-`), which would redact every alias that contains it."""
    SECRETS.register(*(t for t in texts if not any(p.startswith(t) for p in prefixes())))


def whole_key(finding: Finding, repo: Path) -> str | None:
    """The whole key the finding points at, confirmed; None when the place holds no key responder knows (the
    finding is about another kind of secret). Raises UserError when the place holds a key the alert's record
    does not confirm."""
    if finding.path is None or finding.line is None:
        raise UserError(f"{finding.where}: it holds part of a key and names no file and line to read it from")
    target = inside(repo, finding.path, finding.where)
    try:
        text = target.read_bytes()[:MAX_SOURCE_BYTES].decode("utf-8", "replace")
    except FileNotFoundError:
        text = "" if finding.commit else _missing(finding, repo)
    except OSError:
        raise UserError(f"{finding.where}: cannot read {finding.path} in {repo}") from None
    candidates = _candidates(text, finding.line)
    confirmed = _confirmed(finding, candidates)
    if not confirmed and finding.commit:
        candidates = _candidates(_at_commit(repo, finding.commit, finding.path), finding.line) or candidates
        confirmed = _confirmed(finding, candidates)
    if not candidates:
        if finding.prefix and looks_like_a_key_start(finding.prefix):
            raise UserError(f"{finding.where}: no key at {finding.path} line {finding.line}: cannot confirm it")
        return None
    if not confirmed:
        recorded = "its hash" if finding.sha1 else "its start" if finding.prefix else "nothing (a redacted report)"
        raise UserError(
            f"{finding.where}: the key at {finding.path} line {finding.line} does not match what the alert "
            f"recorded ({recorded}): not confirmed, refused"
        )
    if len(confirmed) > 1 and finding.column is not None:
        confirmed = [min(confirmed, key=lambda c: abs(c[0] - (finding.column or 0)))]
    if len(confirmed) > 1:
        raise UserError(f"{finding.where}: {len(confirmed)} keys at {finding.path} line {finding.line} match it")
    return confirmed[0][1]

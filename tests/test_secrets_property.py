"""Property: for any generated Bedrock API key, no command path prints or writes the key or its secret parts.

Each example starts with an empty secret registry, as a fresh `responder` process does, and runs every command that
accepts a key (and some that only get one by mistake). It then searches stdout, stderr, exception reprs and every
file under the runs directory for the key and each secret part of it.
"""

from __future__ import annotations

import base64
import contextlib
import string
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, quote

import pytest
import typer
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from responder.cli.main import app
from responder.redaction import ECHO_LIMIT, SECRETS
from responder.sandbox.seed import LEAKED_USER, Seeded
from tests.factories import ACCOUNT, make_key, make_token

runner = CliRunner()
SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

IAM_NAME_CHARS = string.ascii_letters + string.digits + "_+=,.@-"  # IAM's [\w+=,.@-], \w being ASCII there
SECRET_CHARS = string.ascii_letters + string.digits  # free of '+', '/' and '='
SESSION_TOKEN_CHARS = string.ascii_letters + string.digits + "+/="  # so URL-encoding changes the token
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1")
NOW = datetime.now(timezone.utc)


@dataclass(frozen=True)
class Leak:
    """A key as it would be pasted into a file, and the strings that must never appear anywhere."""

    key: str
    file_text: str
    forbidden: tuple[str, ...]
    kind: str  # long-term | short-term

    @property
    def playbook(self) -> str:
        return f"leaked-{self.kind}-key"


def echoed(key: str) -> str:
    """What a message echoing the key would show of it, were redaction off: its first ECHO_LIMIT characters."""
    return key[:ECHO_LIMIT]


def long_term_leak(user: str, secret: str, pad: bool, trailer: str) -> Leak:
    key = make_key(f"{user}-at-{ACCOUNT}", secret, pad=pad)
    body = key[4:]
    text = base64.b64decode(body + "=" * (-len(body) % 4)).decode()
    assert text.partition(":")[2] == secret  # what follows the first ':' is the secret
    return Leak(key, key + trailer, (key, body, text, secret, echoed(key)), "long-term")


def short_term_leak(access_key_id: str, region: str, seconds: int, age: int | None, session: str, trailer: str) -> Leak:
    issued = None if age is None else NOW - timedelta(seconds=age)
    key = make_token(access_key_id, region, seconds, issued=issued, session_token=session)
    body = key[len("bedrock-api-key-") :]
    url = base64.b64decode(body + "=" * (-len(body) % 4)).decode()
    query = {k: v[0] for k, v in parse_qs(url.partition("?")[2]).items()}
    forbidden = [key, body, url, query["X-Amz-Signature"], echoed(key)]
    if access_key_id.startswith("ASIA"):
        token = query["X-Amz-Security-Token"]
        assert token == session
        forbidden += [token, quote(token, safe="")]
    return Leak(key, key + trailer, tuple(forbidden), "short-term")


TRAILERS = st.sampled_from(["", "\n", "  \r\n"])


def random_looking(alphabet: str, min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """Text with at least 10 distinct characters, as real secrets have: Hypothesis's favourite "00000000000000000000"
    is not a secret, and does occur in outputs (the audit chain's first "prev" hash is 64 zeros)."""
    return st.text(alphabet, min_size=min_size, max_size=max_size).filter(lambda text: len(set(text)) >= 10)


long_term_leaks = st.builds(
    long_term_leak,
    user=st.text(IAM_NAME_CHARS, min_size=1, max_size=64),
    secret=random_looking(SECRET_CHARS, 20, 60),
    pad=st.booleans(),
    trailer=TRAILERS,
)
short_term_leaks = st.builds(
    short_term_leak,
    access_key_id=st.tuples(
        st.sampled_from(["ASIA", "AKIA"]), st.text(string.ascii_uppercase + string.digits, min_size=16, max_size=16)
    ).map("".join),
    region=st.sampled_from(REGIONS),
    seconds=st.integers(1, 43200),
    age=st.none() | st.integers(0, 400 * 86400),  # issued now, or up to 400 days ago (expired)
    session=random_looking(SESSION_TOKEN_CHARS, 20, 200),
    trailer=TRAILERS,
)


@contextlib.contextmanager
def fresh_process_registry() -> Iterator[None]:
    """As in a new process, no secret is registered yet: the first outputs rely on the redactor's patterns alone."""
    with mock.patch.object(SECRETS, "_secrets", set()):
        yield


def everything_written(root: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(root.rglob("*")) if p.is_file())


def assert_nothing_leaks(leak: Leak, seen: str) -> None:
    for form in leak.forbidden:
        at = seen.find(form)
        assert at < 0, f"secret part {form[:10]!r}... ({len(form)} chars) leaked here: {seen[max(0, at - 200) : at]!r}"


def run_every_path(leak: Leak, workdir: Path) -> tuple[str, dict[str, Any]]:
    """Run every command path with the leaked key; return all they printed and wrote, and their exit codes."""
    key_file = workdir / "leaked.txt"
    key_file.write_text(leak.file_text)
    runs = workdir / "runs"
    file, in_runs = str(key_file), ["--runs-dir", str(runs)]
    wrong_param = ["-p", f"credential_id={leak.key}"]
    commands: dict[str, tuple[list[str], str | None]] = {
        # Mistakes first, before any command has parsed (and so registered) the key: only the patterns can catch it.
        "key-as-param-only": (["--debug", "run", "leaked-long-term-key", *wrong_param, "--dry-run", *in_runs], None),
        "key-as-role-param-only": (
            ["--debug", "run", "leaked-short-term-key", "-p", f"role_name={leak.key}", "--dry-run", *in_runs],
            None,
        ),
        "key-file-as-playbook": (["validate", file], None),
        "key-file-as-playbook-run": (["run", file, "--dry-run", *in_runs], None),
        "identify-offline": (["identify", file, "--offline"], None),
        "identify-offline-json": (["identify", file, "--offline", "-o", "json"], None),
        "identify-online": (["identify", file], None),
        "identify-stdin-debug": (["--debug", "identify", "-", "-o", "json"], leak.file_text),
        "run-long-term": (["run", "leaked-long-term-key", "--key-file", file, "--dry-run", *in_runs], None),
        "run-short-term": (["run", "leaked-short-term-key", "--key-file", file, "--dry-run", *in_runs], None),
        "run-stdin-json": (["run", leak.playbook, "--key-file", "-", "--dry-run", "-o", "json", *in_runs], leak.key),
        "debug-long-term-key-as-param-too": (
            ["--debug", "run", "leaked-long-term-key", "--key-file", file, *wrong_param, "--dry-run", *in_runs],
            None,
        ),
        "debug-short-term-key-as-param-too": (
            ["--debug", "run", "leaked-short-term-key", "--key-file", file, *wrong_param, "--dry-run", *in_runs],
            None,
        ),
    }
    outputs, codes = [], {}
    for name, (args, stdin) in commands.items():
        result = runner.invoke(app, args, input=stdin)
        codes[name] = result.exit_code
        outputs.append(f"== {name}\n{result.stdout}\n{result.stderr}\n{result.exception!r}")
    return "\n".join(outputs) + "\n" + everything_written(runs), codes


def check_leak(leak: Leak, account: Seeded, tmp_path: Path) -> None:
    workdir = Path(tempfile.mkdtemp(dir=tmp_path))
    with fresh_process_registry():
        seen, codes = run_every_path(leak, workdir)
    # The paths ran as expected (so there was something to search): decoded offline, rejected or refused online.
    assert codes["identify-offline"] == 0 and "Fingerprint:" in seen, seen[-2000:]
    assert codes["identify-online"] == 0, seen[-2000:]
    # Runs are refused (exit 2) or, for the seeded user's alias, planned (exit 0): never an internal error.
    assert all(code in (0, 2) for name, code in codes.items() if name.startswith(("run", "debug", "key"))), codes
    assert list((workdir / "runs").glob("*/audit.jsonl")), "no run journaled anything"
    assert "Traceback" in seen  # --debug did print tracebacks: they are searched too
    assert_nothing_leaks(leak, seen)


@SETTINGS
@given(leak=long_term_leaks)
# A key that is all word characters passes credential_id's pattern \w{20,128}, so the run goes on to resolve with it.
@example(leak=long_term_leak("alice", "Xq7Lm2Pz9Rt4Vw8Ks3Nb0000", pad=False, trailer=""))
# The seeded user's alias: the dry runs plan everything, and write a full report.
@example(leak=long_term_leak(LEAKED_USER, "Xq7Lm2Pz9Rt4Vw8Ks3Nb0000", pad=True, trailer="\n"))
def test_long_term_keys_never_leak(leak: Leak, account: Seeded, tmp_path: Path) -> None:
    check_leak(leak, account, tmp_path)


@SETTINGS
@given(leak=short_term_leaks)
def test_short_term_keys_never_leak(leak: Leak, account: Seeded, tmp_path: Path) -> None:
    check_leak(leak, account, tmp_path)


def test_the_search_finds_a_leak_when_redaction_is_off(account: Seeded, tmp_path: Path) -> None:
    """The property can fail: with the redactor disabled, the same paths do print the key."""
    # Short enough that an error line, which echoes at most 60 characters of a bad value, shows all of it.
    leak = long_term_leak("al", "s3cr3tXYZ01", pad=True, trailer="\n")
    # Both defences off: the redactor, and the refusal of a parameter value that looks like a key (which otherwise
    # keeps the key-as-parameter paths from echoing it at all).
    with (
        mock.patch.object(type(SECRETS), "redact", lambda self, text: text),
        mock.patch("responder.playbook.params.may_hold_key", lambda text: False),
    ):
        seen, _ = run_every_path(leak, Path(tempfile.mkdtemp(dir=tmp_path)))
    with pytest.raises(AssertionError, match="leaked here"):
        assert_nothing_leaks(leak, seen)


# ----------------------------------------------------------------------------------------------------------------
# An unexpected internal error: one redacted line (and a redacted traceback with --debug), never a locals table.

KEYS = {
    "long-term": long_term_leak("alice", "s3cr3tPartOfTheKeyXYZ0123", pad=True, trailer=""),
    "short-term": short_term_leak("ASIAQ3EGXYZEXAMPLE01", "us-west-2", 3600, None, "FwoGZXIvYXdzEXAMPLE+/=tok", ""),
}


@pytest.mark.parametrize("kind", KEYS)
@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_an_internal_error_is_redacted_and_shows_no_locals(
    kind: str, debug: bool, account: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    leak = KEYS[kind]

    def boom(*_: Any, **__: Any) -> None:
        raise RuntimeError(f"boom {leak.key}")

    monkeypatch.setattr("responder.engine.commands.operations.start_run", boom)
    (tmp_path / "k.txt").write_text(leak.key)
    args = ["run", leak.playbook, "--key-file", str(tmp_path / "k.txt"), "--dry-run", "--runs-dir", str(tmp_path)]
    with fresh_process_registry():
        result = runner.invoke(app, ["--debug", *args] if debug else args)
    out = result.stdout + result.stderr + repr(result.exception)
    assert result.exit_code == 1, out
    assert "error: internal error: RuntimeError: boom " in result.stderr
    assert "locals" not in out
    assert ("Traceback" in out) is debug
    assert_nothing_leaks(leak, out)


def test_typers_own_exception_output_shows_no_locals(
    account: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Were an exception to escape responder's handler, Typer would print it: without locals, so without the key that
    `run` holds in a local variable."""
    leak = KEYS["long-term"]

    def boom(*_: Any, **__: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("responder.engine.commands.operations.start_run", boom)
    # the handler every command opens with (cli.output.reported_output takes it from cli.errors when it runs)
    monkeypatch.setattr("responder.cli.errors.reported_errors", contextlib.nullcontext)
    monkeypatch.delenv("TYPER_STANDARD_TRACEBACK", raising=False)
    monkeypatch.delenv("_TYPER_STANDARD_TRACEBACK", raising=False)
    (tmp_path / "k.txt").write_text(leak.key)
    args = ["run", "leaked-long-term-key", "--key-file", str(tmp_path / "k.txt"), "--dry-run"]
    with pytest.raises(RuntimeError) as escaped, mock.patch("sys.excepthook"):
        app([*args, "--runs-dir", str(tmp_path)], standalone_mode=False)  # what main() does
    capsys.readouterr()
    typer.main.except_hook(RuntimeError, escaped.value, escaped.value.__traceback__)
    shown = capsys.readouterr().err
    assert "RuntimeError" in shown and "boom" in shown  # Typer's own rendering
    # Without rich (responder.cli sets TYPER_USE_RICH=0 when it is imported before typer) the traceback is plain
    # and names this test's frame, whose name holds "locals": only a locals table would be a leak.
    assert "locals" not in shown.replace("shows_no_locals", "")
    assert_nothing_leaks(leak, shown)

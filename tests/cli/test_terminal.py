"""Colour and the progress line: on a terminal only, never on a pipe; NO_COLOR and --no-color turn colour off."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from responder.cli import terminal
from responder.cli.main import app
from responder.cli.render import Progress
from responder.cli.terminal import ProgressLine, paint
from responder.engine.journal import events as j
from responder.sandbox.organization import seed_organization
from responder.sandbox.seed import Seeded
from tests.factories import ACCOUNT

ESC = "\x1b["


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def tty(monkeypatch: pytest.MonkeyPatch) -> Callable[[], tuple[Tty, Tty]]:
    """Call it in the test itself: pytest puts its own capture back on sys.stdout between setup and the test."""

    def activate() -> tuple[Tty, Tty]:
        out, err = Tty(), Tty()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        monkeypatch.delenv("NO_COLOR", raising=False)
        monkeypatch.setitem(terminal.COLOUR, "off", False)
        return out, err

    return activate


def test_colour_on_a_terminal_only(tty: Callable[[], tuple[Tty, Tty]], monkeypatch: pytest.MonkeyPatch) -> None:
    tty()
    assert paint("FAILED", "failed").startswith(ESC)
    assert paint("completed").startswith(ESC)
    assert paint("whatever") == "whatever"  # no status, no colour
    monkeypatch.setenv("NO_COLOR", "1")
    assert paint("FAILED", "failed") == "FAILED"
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setitem(terminal.COLOUR, "off", True)  # what --no-color sets
    assert paint("FAILED", "failed") == "FAILED"


def test_no_colour_on_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    monkeypatch.setitem(terminal.COLOUR, "off", False)
    assert paint("FAILED", "failed") == "FAILED"


def test_no_color_option_anywhere_sets_it() -> None:
    for args in (["--no-color", "list"], ["list", "--no-color"]):
        terminal.COLOUR["off"] = False
        assert CliRunner().invoke(app, args).exit_code == 0
        assert terminal.COLOUR["off"], args


def fan_out_events(progress: Progress) -> None:
    progress(j.RUN_STARTED, {"fanout": {"accounts": [{"account_id": "1"}, {"account_id": "2"}, {"account_id": "3"}]}})
    for account, code in (("1", 0), ("2", 1)):
        progress(
            j.ACCOUNT_FINISHED,
            {
                "account_id": account,
                "run_id": None,
                "status": "completed" if code == 0 else "failed",
                "exit_code": code,
                "message": "m",
            },
        )


def test_a_fan_out_draws_done_total_failures_and_time_on_stderr(tty: Callable[[], tuple[Tty, Tty]]) -> None:
    out, err = tty()
    progress = Progress(err=False)
    fan_out_events(progress)
    assert progress.line is not None and "accounts: 2/3, 1 failed, " in progress.line.text()
    assert "\r" in err.getvalue() and "accounts: 2/3, 1 failed" in err.getvalue()
    assert "accounts:" not in out.getvalue()  # stdout keeps the records alone


def test_a_groups_steps_are_counted(tty: Callable[[], tuple[Tty, Tty]]) -> None:
    _, err = tty()
    progress = Progress(err=False)
    progress(j.EXPANDED, {"group": "contain", "items": [1, 2], "steps": [{"id": "a[1]"}, {"id": "a[2]"}]})
    progress(j.VERIFIED, {"step": "a[1]"})
    assert "contain: steps: 1/2" in err.getvalue()
    progress(j.FAILED, {"step": "a[2]", "error": "boom"})
    assert "contain: steps: 2/2, 1 failed" in err.getvalue() and progress.line is None  # closed when all are done


def test_nothing_of_it_on_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    progress = Progress(err=False)
    fan_out_events(progress)
    assert err.getvalue() == ""
    line = ProgressLine("sweep: accounts")
    line.update(1, 2, 0)
    line.close()
    assert err.getvalue() == ""


def test_sweep_across_accounts_on_a_pipe_prints_no_progress(account: Seeded) -> None:
    seed_organization(ACCOUNT, accounts=2, keys_per_account=1)
    result = CliRunner().invoke(app, ["sweep", "--org", "-o", "json"])
    assert result.exit_code == 0 and "\r" not in result.stderr and "accounts:" not in result.stderr

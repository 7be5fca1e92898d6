"""Shell completion of commands, options, playbook names and run ids, computed only when the shell asks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from responder.cli.completion import complete_playbook, complete_run_id


def complete(words: str, **env: str) -> list[str]:
    """What bash completion would offer for the last word of `words` (Click's protocol, through the real script)."""
    done = subprocess.run(
        ["responder"],
        env={
            **os.environ,
            "_RESPONDER_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.split()


def test_playbook_names_commands_and_options(tmp_path: Path) -> None:
    assert complete("responder show leaked") == ["leaked-long-term-key", "leaked-short-term-key"]
    assert "rehearse" in complete("responder reh")
    assert complete("responder sweep --exclude-acc") == ["--exclude-accounts"]


def test_run_ids_from_the_runs_dir_given(tmp_path: Path) -> None:
    for run_id in ("20261201T000000Z-aaaaaa", "20261202T000000Z-bbbbbb"):
        (tmp_path / run_id).mkdir()
        (tmp_path / run_id / "audit.jsonl").write_text("{}\n")
    assert complete(f"responder rollback --runs-dir {tmp_path} 2026") == [
        "20261202T000000Z-bbbbbb",
        "20261201T000000Z-aaaaaa",
    ]
    assert complete("responder report 20261201", RESPONDER_RUNS_DIR=str(tmp_path)) == ["20261201T000000Z-aaaaaa"]


def test_completion_is_lazy() -> None:
    """Building the commands (what --help does) imports nothing a completion reads."""
    code = (
        "import sys, typer; from responder.cli.main import app; typer.main.get_command(app); "
        "print(sorted(m for m in ('responder.playbook.shipped', 'responder.playbook.source') if m in sys.modules))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert shown.strip() == "[]"
    assert complete_playbook(None, None, "contain") == ["contain-bedrock-keys"]
    assert complete_run_id(type("Ctx", (), {"params": {"runs_dir": "/nonexistent"}})(), None, "") == []

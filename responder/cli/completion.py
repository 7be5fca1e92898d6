"""Shell completion of playbook names and run ids (`responder --install-completion`). Each function imports what
it reads only when the shell asks, so `responder --help` and every command pay nothing for it. command.py attaches
them by metavar (PLAYBOOK, RUN_ID) as Click's completion hooks."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def complete_playbook(ctx: Any, param: Any, incomplete: str) -> list[str]:
    from responder.playbook.shipped import shipped_playbooks

    return [name for name in shipped_playbooks() if name.startswith(incomplete)]


def complete_run_id(ctx: Any, param: Any, incomplete: str) -> list[str]:
    """Run ids under --runs-dir (given on the line or before the command) or the default, newest first."""
    from responder.engine.journal.runs import all_runs, default_runs_dir

    given = ctx.params.get("runs_dir") or ctx.find_root().params.get("runs_dir")
    root = Path(given) if given else default_runs_dir()
    try:
        ids = [paths.run_id for paths in all_runs(root)]
    except OSError:
        return []
    return sorted((run_id for run_id in ids if run_id.startswith(incomplete)), reverse=True)

"""Where the shipped playbooks are: apart from `responder.playbook.model`, so `responder list` needs no pydantic."""

from __future__ import annotations

from pathlib import Path

SHIPPED = Path(__file__).parent.parent / "playbooks"  # in the wheel; a link to ../playbooks in the repository


def shipped_playbooks() -> dict[str, Path]:
    return {path.stem: path for path in sorted(SHIPPED.glob("*.yaml"))}

"""Where the shipped playbooks are: apart from `responder.playbook.model`, so `responder list` needs no pydantic."""

from __future__ import annotations

from pathlib import Path

SHIPPED = Path(__file__).parent.parent / "playbooks"  # in the wheel; a link to ../playbooks in the repository


# Family-neutral names for the playbooks that cover every key family; the names they shipped with keep working
# (runs, reports and Step Functions exports name the playbook by its own name).
ALIASES = {"contain-api-keys": "contain-bedrock-keys", "api-key-guardrails": "bedrock-key-guardrails"}


def shipped_playbooks() -> dict[str, Path]:
    return {path.stem: path for path in sorted(SHIPPED.glob("*.yaml"))}

"""`responder export stepfunctions`: a playbook as AWS Step Functions state machines, deployable with CloudFormation.

Writes, for PLAYBOOK: PLAYBOOK.asl.json (the containment), PLAYBOOK.rollback.asl.json (its compensation, from the
write-ahead records the containment puts to S3), PLAYBOOK.template.yaml (both machines, their role, the journal
bucket, a log group, an optional EventBridge rule) and PLAYBOOK.md (how to deploy, start, follow, roll back).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from responder.errors import UserError
from responder.export import register
from responder.export.stepfunctions.guide import guide
from responder.export.stepfunctions.machine import (
    containment,
    machine_for,
    organization_containment,
    organization_rollback,
    rollback,
)
from responder.export.stepfunctions.template import template
from responder.playbook.model import Playbook


@dataclass(frozen=True)
class Export:
    containment: dict[str, Any]
    rollback: dict[str, Any]
    template: dict[str, Any]
    guide: str


def build(playbook: Playbook, fixed: dict[str, Any], organization: bool = False) -> Export:
    machine = machine_for(playbook, fixed)
    if organization:
        forward, back = organization_containment(machine), organization_rollback(machine)
    else:
        forward, back = containment(machine), rollback(machine)
    return Export(forward, back, template(playbook, forward, back, organization, fixed), guide(machine, organization))


@register("stepfunctions")
def write(playbook: Playbook, fixed: dict[str, Any], output_dir: Path, organization: bool = False) -> list[Path]:
    export = build(playbook, fixed, organization)
    name = playbook.name
    files = {
        output_dir / f"{name}.asl.json": json.dumps(export.containment, indent=2) + "\n",
        output_dir / f"{name}.rollback.asl.json": json.dumps(export.rollback, indent=2) + "\n",
        # through JSON first: shared pieces would become YAML aliases, which CloudFormation rejects
        output_dir / f"{name}.template.yaml": yaml.safe_dump(
            json.loads(json.dumps(export.template)), sort_keys=False, width=120
        ),
        output_dir / f"{name}.md": export.guide,
    }
    _write_all(output_dir, files)
    return list(files)


def _write_all(output_dir: Path, files: dict[Path, str]) -> None:
    """All four files or none: each is written beside its place and moved there only when all are written."""
    staged: list[tuple[Path, Path]] = []
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        for path, text in files.items():
            temporary = path.with_name(f".{path.name}.partial")
            temporary.write_text(text, encoding="utf-8")
            staged.append((temporary, path))
        for temporary, path in staged:
            os.replace(temporary, path)
    except OSError as exc:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise UserError(
            f"--output-dir {output_dir}: cannot write there ({exc.strerror or type(exc).__name__})"
        ) from None

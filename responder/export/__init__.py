"""Exporters: a playbook written out for another engine (AWS Step Functions is the first to come).

Each exporter registers itself here by name; the CLI lists and calls them through `EXPORTERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

# name -> write(playbook, fixed params, output_dir, organization-wide) -> the files written
Exporter = Callable[[Any, dict[str, Any], Path, bool], list[Path]]
EXPORTERS: dict[str, Exporter] = {}


def register(name: str) -> Callable[[Exporter], Exporter]:
    def add(exporter: Exporter) -> Exporter:
        if name in EXPORTERS:
            raise RuntimeError(f"exporter {name} registered twice")
        EXPORTERS[name] = exporter
        return exporter

    return add

"""The timeline pictures' file names in a run's directory: what the report links, without drawing anything."""

from __future__ import annotations

from pathlib import Path


def picture_names(source: str) -> tuple[str, str]:
    slug = source.split(".")[0]  # bedrock, bedrock-mantle
    return f"timeline-{slug}.svg", f"timeline-{slug}.png"


def existing_pictures(directory: Path) -> list[str]:
    """The pictures drawn for this run, relative to its directory (the report travels without the laptop)."""
    return sorted(p.name for p in directory.glob("timeline-*") if p.suffix in (".svg", ".png"))

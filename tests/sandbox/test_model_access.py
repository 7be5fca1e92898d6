"""The rehearsals' model-access check fails when the report leaves out any model access seeded in the key's life,
or when the opening does not say the entitlement stage was reached: a check that cannot fail proves nothing."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from responder.sandbox.model_access import MODEL_ACCESS_EVENTS, model_access_checks

IDS = ["e-use-case", "e-agreement", "e-entitlement"]


def _run(tmp_path: Path, names: list[str], reached: list[str], written: str) -> Any:
    notes = [f"model access put during the exposure window: {n} at ... (event {i}): ..." for n, i in names]
    report_md = tmp_path / "report.md"
    report_md.write_text(written, encoding="utf-8")
    report = SimpleNamespace(steps=[{"id": "investigate", "notes": notes}], evidence={"stages": {"reached": reached}})
    return SimpleNamespace(report=report, paths=SimpleNamespace(report_md=report_md))


ALL = [(name, event) for (name, _), event in zip(MODEL_ACCESS_EVENTS, IDS, strict=True)]
WRITTEN = " ".join(IDS) + " aws bedrock delete-foundation-model-agreement"


def test_every_model_access_named_passes(tmp_path: Path) -> None:
    checks = model_access_checks(_run(tmp_path, ALL, ["entitlement"], WRITTEN), IDS)
    assert [c.ok for c in checks] == [True, True] and "(3 of 3)" in checks[0].what


@pytest.mark.parametrize(
    ("names", "reached", "written", "failing"),
    [
        (ALL[:2], ["entitlement"], WRITTEN, 0),  # one event not named in the notes
        (ALL, ["entitlement"], " ".join(IDS), 0),  # report.md without the command to remove the agreement
        (ALL, ["entitlement"], WRITTEN.replace(IDS[2], ""), 0),  # report.md without one event
        (ALL, ["reconnaissance"], WRITTEN, 1),  # the opening does not say entitlement
    ],
)
def test_a_model_access_left_out_fails(
    tmp_path: Path, names: list[tuple[str, str]], reached: list[str], written: str, failing: int
) -> None:
    checks = model_access_checks(_run(tmp_path, names, reached, written), IDS)
    assert [c.ok for c in checks] == [i != failing for i in range(2)]

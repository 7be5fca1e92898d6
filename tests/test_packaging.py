"""The install: its own distribution name, a slim core, the sandbox extra, and the README's two set-up commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import responder

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the package itself supports 3.10
ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
CORE = {"boto3", "typer", "structlog", "pydantic", "pyyaml"}


def name_of(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()


def test_a_free_name_and_one_version() -> None:
    assert PROJECT["name"] == "bedrock-key-responder"  # `responder` on PyPI is an HTTP framework
    assert "version" in PROJECT["dynamic"] and "version" not in PROJECT
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert setuptools["dynamic"]["version"] == {"attr": "responder.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", responder.__version__)
    assert f"## [{responder.__version__}]" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "Apache License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert PROJECT["license"] == {"text": "Apache-2.0"}
    assert "License :: OSI Approved :: Apache Software License" in PROJECT["classifiers"]
    assert {"Homepage", "Source", "Issues", "Changelog"} <= set(PROJECT["urls"])


def test_the_core_is_slim_and_the_emulator_an_extra() -> None:
    assert {name_of(r) for r in PROJECT["dependencies"]} == CORE
    sandbox = {name_of(r): r for r in PROJECT["optional-dependencies"]["sandbox"]}
    generators = {"aws-bedrock-token-generator", "token-generator-for-aws-external-anthropic"}
    assert {"moto", "flask", "flask-cors", *generators} == set(sandbox)
    moto_extras = set(re.search(r"\[(.*)\]", sandbox["moto"]).group(1).split(","))  # type: ignore[union-attr]
    # What the sandbox emulates, and what the Step Functions and Security Hub work needs (securityhub has no extra)
    assert {"iam", "sts", "organizations", "cloudtrail", "stepfunctions", "s3", "events"} <= moto_extras
    assert "server" not in moto_extras and "all" not in moto_extras
    dev = PROJECT["optional-dependencies"]["dev"]
    assert any(d.startswith("bedrock-key-responder[sandbox") for d in dev)  # the tests rehearse and serve
    pins = {name_of(r): r for r in dev}
    assert "<" in pins["ruff"] and "<" in pins["mypy"]  # majors pinned


def test_the_moto_extras_named_exist() -> None:
    """pip only warns about an extra moto does not have: check them against moto's own metadata."""
    import importlib.metadata

    sandbox = {name_of(r): r for r in PROJECT["optional-dependencies"]["sandbox"]}
    named = set(re.search(r"\[(.*)\]", sandbox["moto"]).group(1).split(","))  # type: ignore[union-attr]
    assert named <= set(importlib.metadata.metadata("moto").get_all("Provides-Extra") or [])


def test_the_readme_opens_with_the_two_set_up_commands_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(first_block) == 2
    rehearse, test = first_block
    assert "python3 -m venv" in rehearse and "'.[sandbox]'" in rehearse
    assert rehearse.endswith("responder rehearse leaked-long-term-key")
    assert test in (ROOT / ".ci" / "run").read_text(encoding="utf-8")  # verbatim
    assert "PEP 668" in readme and "pipx install" in readme


def test_every_package_ships_in_the_wheel() -> None:
    """The wheel lists its packages by hand (responder/playbooks and runbooks are links to the top level): a new
    package left off the list installs nowhere but an editable checkout, and the installed command fails on its
    import (a fresh `pip install '.[sandbox]'` ended in "No module named 'responder.keys'")."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "responder").rglob("__init__.py")}
    assert found - listed == set()

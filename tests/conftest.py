"""Small factories: an emulated account with a user holding a leaked key, and settings that watch requests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from responder.engine.running.context import Settings
from responder.redaction import SECRETS
from responder.sandbox.emulator import install
from responder.sandbox.seed import Seeded, SeededShortTerm, seed_incident, seed_short_term_incident
from tests.factories import ACCOUNT, Requests, watched_settings


@pytest.fixture(autouse=True)
def _fresh_secrets() -> Iterator[None]:
    """Secrets registered by one test (hypothesis makes short, common ones) must not redact another's output."""
    SECRETS.clear()
    yield
    SECRETS.clear()


@pytest.fixture(autouse=True)
def _private_umask() -> Iterator[None]:
    """Files the tests write (key files above all) are private, as an operator's should be: a key file readable by
    others gets a `chmod 600` note, which the tests of that note ask for themselves."""
    previous = os.umask(0o077)
    yield
    os.umask(previous)


@pytest.fixture(autouse=True)
def _isolated_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_") or name.startswith("RESPONDER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
def account() -> Iterator[Seeded]:
    """An emulated account: user BedrockAPIKey-demo holds the leaked key, user ml-pipeline an unrelated one."""
    from moto import mock_aws

    with mock_aws():
        install()
        yield seed_incident(ACCOUNT)


@pytest.fixture
def requests() -> Requests:
    return Requests()


@pytest.fixture
def settings(tmp_path: Path, requests: Requests) -> Settings:
    return watched_settings(tmp_path, requests.handler)


@pytest.fixture
def iam(account: Seeded) -> Any:
    import boto3

    return boto3.client("iam", region_name="us-east-1")


@pytest.fixture
def short_account(account: Seeded) -> SeededShortTerm:
    """The same account, plus a role session whose leaked short-term key CloudTrail has seen in us-west-2."""
    return seed_short_term_incident(ACCOUNT)

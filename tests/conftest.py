"""Small factories: an emulated account with a user holding a leaked key, and settings that watch requests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.loaders
import botocore.session
import pytest
import typer.testing

from responder.engine.running.context import Settings
from responder.redaction import SECRETS
from responder.sandbox.emulator import install
from responder.sandbox.seed import Seeded, SeededShortTerm, seed_incident, seed_short_term_incident
from tests.factories import ACCOUNT, Requests, watched_settings

# ---- speed: one click command tree per Typer app
#
# typer's CliRunner.invoke(app, ...) rebuilds the whole click command tree from the Typer app on every call
# (typer.main.get_command inspects every command function's signature again): ~30 ms of CPU for responder's app,
# over a thousand invocations in the suite (about a third of tests/cli/test_bad_input.py's CPU). The tree holds
# nothing of one invocation (click makes a fresh Context for each, and the app's root callback resets the --debug
# and --no-color flags), so each worker builds it once per app and reuses it. Rebuilt if commands, groups or the
# callback are registered on the app afterwards. Tests calling typer.main.get_command themselves still get a
# fresh tree, as `responder` itself does on every start.
_build_command = typer.testing._get_command
_built: dict[int, tuple[typer.Typer, tuple[int, int, int], Any]] = {}


def _cached_command(app: typer.Typer) -> Any:
    shape = (len(app.registered_commands), len(app.registered_groups), id(app.registered_callback))
    cached = _built.get(id(app))
    if cached is None or cached[0] is not app or cached[1] != shape:
        cached = _built[id(app)] = (app, shape, _build_command(app))  # holds the app: its id is not reused
    return cached[2]


typer.testing._get_command = _cached_command

# ---- speed: one botocore model loader per worker
#
# Every boto3.client(...) a test makes outside a shared session (the `iam` fixture, each moto-backed check) starts a
# new botocore session, whose new loader parses the service's model and endpoints.json again: ~0.1 s of CPU per
# client, the largest cost of many in-process tests. Sessions here share one loader per search path (it caches
# what it parsed; botocore treats the models as read-only, and responder shares one loader per process in the
# same way, see responder/aws/clients.py). Only this test process is affected: a `responder` subprocess is not.
_create_loader = botocore.loaders.create_loader
_loaders: dict[str | None, botocore.loaders.Loader] = {}


def _shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
    if search_path_string not in _loaders:
        _loaders[search_path_string] = _create_loader(search_path_string)
    return _loaders[search_path_string]


botocore.session.create_loader = _shared_loader  # type: ignore[assignment]  # the name sessions call


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

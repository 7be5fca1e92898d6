"""Ctrl-C at a generated point (Hypothesis): before the k-th AWS request of a run, or just after AWS answered one of
its changes and before the answer was journaled. Whatever the point, every claim of the outputs is what AWS holds
(tests/oracle.py), after the interruption and again after the resume or rollback that follows."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from responder.actions.iam_credentials import DeactivateServiceCredentials
from responder.actions.iam_policies import DenyBearerTokensForUser
from responder.aws.clients import AwsOptions, Clients
from responder.engine.commands.operations import start_run
from responder.engine.commands.recovery import resume_run, rollback_run
from responder.engine.running.context import Settings
from responder.errors import Interrupted
from responder.sandbox.emulator import install
from responder.sandbox.seed import seed_incident
from tests.factories import ACCOUNT, Requests
from tests.oracle import check_claims

ANSWERED = {"deactivate": DeactivateServiceCredentials, "deny": DenyBearerTokensForUser}


def _settings(runs: Path, requests: Requests) -> Settings:
    def open_clients(options: AwsOptions, read_only: bool) -> Clients:
        clients = Clients(options, read_only)
        clients.on_request(requests.handler)
        return clients

    return Settings(runs_dir=runs, aws=AwsOptions(region="us-east-1"), open_clients=open_clients, verify_delays=(0.0,))


class _CountedStop(Requests):
    """Ctrl-C as the k-th request is about to leave."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = k

    def handler(self, model: Any, **kwargs: Any) -> None:
        super().handler(model, **kwargs)
        if len(self.sent) == self.k:
            raise KeyboardInterrupt


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    point=st.one_of(st.integers(1, 8), st.sampled_from(sorted(ANSWERED))),
    recovery=st.sampled_from(["resume", "rollback"]),
)
def test_claims_hold_at_any_interruption_point(point: int | str, recovery: str) -> None:
    with mock_aws(), tempfile.TemporaryDirectory() as tmp:
        install()
        seeded = seed_incident(ACCOUNT)
        iam = boto3.client("iam", region_name="us-east-1")
        runs = Path(tmp) / "runs"
        requests = _CountedStop(point) if isinstance(point, int) else Requests()
        config = _settings(runs, requests)
        patch: Any = mock.MagicMock()
        if isinstance(point, str):  # AWS answers the change; the process stops before journaling the answer
            action = ANSWERED[point]
            original = action.apply

            def answered_then_stopped(self: Any, *args: Any) -> Any:
                original(self, *args)
                raise KeyboardInterrupt

            patch = mock.patch.object(action, "apply", answered_then_stopped)
        # Stopped before the journal began (at the identity's request), there is nothing to check.
        with patch, contextlib.suppress(Interrupted, KeyboardInterrupt):
            start_run("leaked-long-term-key", {}, seeded.key, dry_run=False, confirm=None, settings=config)
        dirs = [d for d in runs.glob("*") if (d / "report.json").exists()]
        if not dirs:
            return
        (run_dir,) = dirs
        check_claims(iam, run_dir)
        if isinstance(requests, _CountedStop):
            requests.k = 0  # no more Ctrl-C
        if recovery == "resume":
            try:
                resume_run(run_dir.name, config)
            except Exception as exc:  # a run with nothing to resume says so; the claims must still hold
                assert "nothing to resume" in str(exc), exc
        else:
            try:
                rollback_run(run_dir.name, True, config)
            except Exception as exc:
                assert "nothing to roll back" in str(exc), exc
        check_claims(iam, run_dir)

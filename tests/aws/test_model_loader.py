"""Clients are made without botocore's census of every service it knows (a quarter of the first client's CPU)."""

from __future__ import annotations

from typing import Any

import botocore.exceptions
import botocore.loaders
import pytest

from responder.aws import clients as clients_module
from responder.aws.clients import AwsOptions, Clients


def test_clients_and_paginators_load_only_their_own_models(monkeypatch: pytest.MonkeyPatch) -> None:
    def census(*_: Any, **__: Any) -> Any:
        raise AssertionError("botocore listed every service it has")

    monkeypatch.setattr(botocore.loaders.Loader, "list_available_services", census)
    monkeypatch.setattr(clients_module, "_shared", {})  # a loader of its own: nothing read before this test
    clients = Clients(AwsOptions(region="us-east-1"))
    assert clients.iam.meta.service_model.service_name == "iam"
    assert clients.sts.meta.service_model.operation_model("GetCallerIdentity").name == "GetCallerIdentity"
    assert clients.client("cloudtrail").can_paginate("lookup_events")


def test_a_service_botocore_lacks_is_still_an_unknown_service() -> None:
    with pytest.raises(botocore.exceptions.UnknownServiceError):
        Clients(AwsOptions(region="us-east-1")).client("no-such-service")

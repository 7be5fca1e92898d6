"""CloudTrail Lake event data stores: which log Bedrock's and Mantle's data events over the window, read as AWS
describes them (the sandbox's answer checked against botocore's model), and the query that searches one."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import botocore.session
from botocore.exceptions import ClientError

from responder.actions.base import ActionContext
from responder.actions.lake_coverage import read_stores
from responder.aws.clients import AwsOptions, Clients
from responder.engine.report.evidence import Search, start_query_command
from responder.sandbox.event_data_stores import BEDROCK_DATA_SELECTORS, seed_event_data_store
from responder.sandbox.seed import Seeded
from tests.factories import ACCOUNT

NOW = datetime.now(timezone.utc)
WINDOW = (NOW - timedelta(hours=2), NOW)
MANAGEMENT_ONLY = [{"Name": "m", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]


def _context() -> ActionContext:
    return ActionContext(Clients(AwsOptions(region="us-east-1")), ACCOUNT)


def test_the_sandbox_answers_in_botocores_shapes(account: Seeded) -> None:
    model = botocore.session.get_session().get_service_model("cloudtrail")
    store = seed_event_data_store(ACCOUNT, "us-east-1", "lake", BEDROCK_DATA_SELECTORS, NOW - timedelta(days=3))
    assert set(store) <= set(model.operation_model("GetEventDataStore").output_shape.members)
    assert store["Status"] in model.shape_for("EventDataStoreStatus").enum
    assert store["BillingMode"] in model.shape_for("BillingMode").enum
    cloudtrail = boto3.client("cloudtrail", region_name="us-east-1")
    listed = cloudtrail.list_event_data_stores()["EventDataStores"]
    assert listed == [{"EventDataStoreArn": store["EventDataStoreArn"], "Name": "lake"}]  # the rest is deprecated
    described = cloudtrail.get_event_data_store(EventDataStore=store["EventDataStoreArn"].rsplit("/", 1)[1])
    assert described["AdvancedEventSelectors"] == BEDROCK_DATA_SELECTORS and described["MultiRegionEnabled"]
    assert boto3.client("cloudtrail", region_name="eu-west-1").list_event_data_stores()["EventDataStores"] == []


def test_a_store_counts_for_a_region_only_over_the_whole_window(account: Seeded) -> None:
    seed_event_data_store(ACCOUNT, "us-east-1", "every-region", BEDROCK_DATA_SELECTORS, NOW - timedelta(days=3))
    seed_event_data_store(  # made after the window began: logs only part of it
        ACCOUNT, "eu-west-1", "late", BEDROCK_DATA_SELECTORS, NOW - timedelta(hours=1), multi_region=False
    )
    seed_event_data_store(  # stopped now: when it stopped is not in its description
        ACCOUNT, "us-west-2", "stopped", BEDROCK_DATA_SELECTORS, NOW - timedelta(days=3), False, "STOPPED_INGESTION"
    )
    seed_event_data_store(ACCOUNT, "ap-south-1", "mgmt", MANAGEMENT_ONLY, NOW - timedelta(days=3), False)
    lake = read_stores(_context(), ["eu-west-1", "us-west-2", "ap-south-1"], WINDOW)
    assert lake.problems == [] and lake.listed == ["eu-west-1", "us-west-2", "ap-south-1"]
    assert {s["name"]: s["window"] for s in lake.stores} == {"late": "part", "stopped": "unknown", "mgmt": "whole"}
    assert lake.visibility("eu-west-1")["mantle"] is False and lake.visibility("eu-west-1")["mantle_partly"] == ["late"]
    assert lake.visibility("us-west-2")["mantle"] is None  # unknown, never "not logged"
    assert lake.visibility("ap-south-1")["mantle"] is False  # a store of management events only
    # The store homed in us-east-1 is seen once its region is searched, and covers every region.
    lake = read_stores(_context(), ["us-east-1", "ap-south-1"], WINDOW)
    seen = lake.visibility("ap-south-1")
    assert (seen["mantle"], seen["bedrock"], seen["mantle_stores"]) == (True, True, ["every-region"])


def _answering(code: str, region: str) -> ActionContext:
    """A context whose ListEventDataStores in `region` AWS answers with the error `code`."""

    def answer(model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name == "ListEventDataStores" and f".{region}." in str(params.get("url")):
            raise ClientError({"Error": {"Code": code, "Message": "no"}}, model.name)

    clients = Clients(AwsOptions(region="us-east-1"))
    clients.on_request(answer)
    return ActionContext(clients, ACCOUNT)


def test_a_refused_listing_names_its_permission_and_leaves_every_region_unknown(account: Seeded) -> None:
    lake = read_stores(_answering("AccessDeniedException", "us-east-1"), ["us-east-1", "eu-west-1"], WINDOW)
    assert [p["why"] for p in lake.problems] == ["AccessDeniedException: needs cloudtrail:ListEventDataStores"]
    assert lake.listed == ["eu-west-1"]
    # A multi-region store homed where the listing was refused may cover any region: unknown everywhere.
    assert lake.visibility("us-east-1")["mantle"] is None and lake.visibility("eu-west-1")["mantle"] is None
    # Lake not offered in a region is no refusal: no store there.
    lake = read_stores(_answering("UnsupportedOperationException", "us-east-1"), ["us-east-1"], WINDOW)
    assert (lake.problems, lake.not_offered, lake.visibility("us-east-1")["mantle"]) == ([], ["us-east-1"], False)


def test_the_start_query_command_quotes_its_values_or_is_not_given() -> None:
    search = Search("Username=o'neil", ["us-east-1"], "2026-12-06T10:00:00+00:00", "2026-12-06T12:00:00+00:00")
    store = "0f9e8d7c-1234-4abc-9def-0123456789ab"
    command = start_query_command(search, store, "us-east-1")
    assert command is not None
    assert command.startswith('aws cloudtrail start-query --region us-east-1 --query-statement "SELECT eventTime, ')
    assert f" FROM {store} WHERE eventSource IN ('bedrock.amazonaws.com', 'bedrock-mantle.amazonaws.com')" in command
    assert "userIdentity.username = 'o''neil'" in command  # SQL: the quote doubled, the literal not closed
    assert "eventTime >= '2026-12-06 10:00:00' AND eventTime <= '2026-12-06 12:00:00'" in command
    assert "\n" not in command and command.endswith('ORDER BY eventTime"')
    # What a double-quoted shell word would expand is never printed as a command.
    assert start_query_command(Search("Username=a$(id)", [], "", ""), store, "us-east-1") is None
    assert start_query_command(Search('Username=a"b', [], "", ""), store, "us-east-1") is None
    assert start_query_command(search, "x; rm -rf ~", "us-east-1") is None
    assert start_query_command(search, store, "us-east-1 --profile prod") is None

"""moto's CloudTrail, extended by responder.sandbox.cloudtrail_events, answers LookupEvents like AWS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import moto
import pytest
from botocore.exceptions import ClientError
from moto.core.base_backend import BackendDict
from moto.server import ThreadedMotoServer

from responder.sandbox import cloudtrail_events as ce

ACCOUNT = "123456789012"  # moto's default account
OTHER_ACCOUNT = "210987654321"
REGION = "us-east-1"
T0 = datetime(2025, 5, 1, 12, 0, tzinfo=timezone.utc)
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ci-runner"


@pytest.fixture
def cloudtrail() -> Iterator[Any]:
    ce.install()
    with moto.mock_aws():
        yield boto3.client("cloudtrail", region_name=REGION)


def _role_session_event(key_id: str, session: str, when: datetime, **extra: Any) -> dict[str, Any]:
    """A Bedrock call by a role session, shaped as CloudTrail writes it."""
    return {
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "bedrock.amazonaws.com",
        "eventName": "InvokeModel",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "python-requests/2.32",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"AROAEXAMPLE:{session}",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/ci-runner/{session}",
            "accountId": ACCOUNT,
            "accessKeyId": key_id,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLE",
                    "arn": ROLE_ARN,
                    "accountId": ACCOUNT,
                    "userName": "ci-runner",
                },
                "attributes": {"creationDate": when - timedelta(minutes=5), "mfaAuthenticated": "false"},
            },
        },
        "additionalEventData": {"callWithBearerToken": True},
        "requestParameters": {"modelId": "anthropic.claude-3-haiku-20240307-v1:0"},
        "responseElements": None,
        **extra,
    }


def _user_event(when: datetime) -> dict[str, Any]:
    return {
        "eventTime": when,
        "eventSource": "iam.amazonaws.com",
        "eventName": "ListUsers",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
            "accountId": ACCOUNT,
            "accessKeyId": "AKIAALICE",
            "userName": "alice",
        },
    }


def _seed_three() -> list[dict[str, Any]]:
    return [
        ce.record_event(ACCOUNT, REGION, _role_session_event("ASIAONE", "leaked", T0)),
        ce.record_event(ACCOUNT, REGION, _role_session_event("ASIATWO", "other", T0 + timedelta(minutes=1))),
        ce.record_event(ACCOUNT, REGION, _user_event(T0 + timedelta(minutes=2))),
    ]


def _by(cloudtrail: Any, key: str, value: str, **kwargs: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = cloudtrail.lookup_events(
        LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}], **kwargs
    )["Events"]
    return events


def _ids(events: list[dict[str, Any]]) -> list[str]:
    return [e["EventId"] for e in events]


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def test_record_event_fills_cloudtrail_defaults() -> None:
    ce.install()
    with moto.mock_aws():
        stored = ce.record_event(
            ACCOUNT, REGION, {"eventSource": "sts.amazonaws.com", "eventName": "GetCallerIdentity"}
        )
        assert stored["eventType"] == "AwsApiCall" and stored["managementEvent"] is True
        assert stored["recipientAccountId"] == ACCOUNT and stored["awsRegion"] == REGION
        assert stored["readOnly"] is True
        assert len(stored["eventID"]) == 36
        assert abs(datetime.fromisoformat(stored["eventTime"][:-1] + "+00:00") - datetime.now(timezone.utc)).seconds < 5
        with pytest.raises(ValueError):
            ce.record_event(
                ACCOUNT, REGION, {"eventSource": "bedrock.amazonaws.com", "eventName": "X", "awsRegion": "eu-west-1"}
            )


def test_lookup_by_access_key_username_and_event_name(cloudtrail: Any) -> None:
    leaked, other, alice = _seed_three()
    [event] = _by(cloudtrail, "AccessKeyId", "ASIAONE")
    assert event["EventId"] == leaked["eventID"]
    assert event["EventName"] == "InvokeModel" and event["EventSource"] == "bedrock.amazonaws.com"
    assert event["ReadOnly"] == "false" and event["AccessKeyId"] == "ASIAONE"
    assert event["Username"] == "leaked"  # an assumed role's user name is its session name
    assert event["EventTime"] == T0
    assert _ids(_by(cloudtrail, "Username", "alice")) == [alice["eventID"]]
    assert _ids(_by(cloudtrail, "EventName", "InvokeModel")) == [other["eventID"], leaked["eventID"]]
    assert _ids(_by(cloudtrail, "ReadOnly", "true")) == [alice["eventID"]]
    assert _by(cloudtrail, "AccessKeyId", "ASIANONE") == []
    assert _ids(cloudtrail.lookup_events()["Events"]) == [alice["eventID"], other["eventID"], leaked["eventID"]]


def test_cloudtrail_event_is_the_full_record_as_json(cloudtrail: Any) -> None:
    _seed_three()
    bearer = [json.loads(e["CloudTrailEvent"]) for e in _by(cloudtrail, "EventSource", "bedrock.amazonaws.com")]
    assert len(bearer) == 2
    for record in bearer:
        assert record["userIdentity"]["type"] == "AssumedRole"
        assert record["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] == ROLE_ARN
        assert record["userIdentity"]["sessionContext"]["attributes"]["creationDate"].endswith("Z")
        assert record["additionalEventData"]["callWithBearerToken"] is True
    [alice] = [json.loads(e["CloudTrailEvent"]) for e in _by(cloudtrail, "AccessKeyId", "AKIAALICE")]
    assert "additionalEventData" not in alice


def test_window_is_inclusive_on_event_time(cloudtrail: Any) -> None:
    leaked, other, alice = _seed_three()
    window = cloudtrail.lookup_events(StartTime=T0 + timedelta(minutes=1), EndTime=T0 + timedelta(minutes=2))
    assert _ids(window["Events"]) == [alice["eventID"], other["eventID"]]
    assert _ids(cloudtrail.lookup_events(EndTime=T0)["Events"]) == [leaked["eventID"]]
    assert cloudtrail.lookup_events(StartTime=T0 + timedelta(minutes=3))["Events"] == []
    with pytest.raises(ClientError) as excinfo:
        cloudtrail.lookup_events(StartTime=T0 + timedelta(minutes=1), EndTime=T0)
    assert _error(excinfo) == "InvalidTimeRangeException"


def test_pagination_returns_every_event_once_newest_first(cloudtrail: Any) -> None:
    recorded = [
        ce.record_event(ACCOUNT, REGION, _role_session_event("ASIAPAGE", "s", T0 + timedelta(seconds=i // 2)))
        for i in range(120)  # pairs share a second: the recording order breaks the tie
    ]
    pages, kwargs = [], {"LookupAttributes": [{"AttributeKey": "AccessKeyId", "AttributeValue": "ASIAPAGE"}]}
    for _ in range(5):  # bounded: a token that does not advance must fail the test, not hang it
        page = cloudtrail.lookup_events(MaxResults=50, **kwargs)
        pages.append(page["Events"])
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
        if len(pages) == 1:  # a newer event recorded meanwhile shifts nothing: tokens mark a position
            ce.record_event(ACCOUNT, REGION, _role_session_event("ASIAPAGE", "s", T0 + timedelta(hours=1)))
    assert [len(p) for p in pages] == [50, 50, 20]
    assert [e["EventId"] for p in pages for e in p] == [r["eventID"] for r in reversed(recorded)]
    paginated = cloudtrail.get_paginator("lookup_events").paginate(LookupAttributes=kwargs["LookupAttributes"])
    assert [len(p["Events"]) for p in paginated] == [50, 50, 21]  # default page size is 50
    with pytest.raises(ClientError) as excinfo:  # a token is bound to the query that issued it
        cloudtrail.lookup_events(NextToken=kwargs["NextToken"])
    assert _error(excinfo) == "InvalidNextTokenException"
    with pytest.raises(ClientError) as excinfo:
        cloudtrail.lookup_events(NextToken="not-a-token")
    assert _error(excinfo) == "InvalidNextTokenException"


def test_regions_and_accounts_have_separate_histories(cloudtrail: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    east = ce.record_event(ACCOUNT, REGION, _role_session_event("ASIAONE", "s", T0))
    west = ce.record_event(ACCOUNT, "us-west-2", _role_session_event("ASIAONE", "s", T0))
    elsewhere = ce.record_event(OTHER_ACCOUNT, REGION, _role_session_event("ASIAONE", "s", T0))
    assert _ids(_by(cloudtrail, "AccessKeyId", "ASIAONE")) == [east["eventID"]]
    west_client = boto3.client("cloudtrail", region_name="us-west-2")
    assert _ids(_by(west_client, "AccessKeyId", "ASIAONE")) == [west["eventID"]]
    assert json.loads(_by(west_client, "EventId", west["eventID"])[0]["CloudTrailEvent"])["awsRegion"] == "us-west-2"
    monkeypatch.setenv("MOTO_ACCOUNT_ID", OTHER_ACCOUNT)
    assert _ids(_by(cloudtrail, "AccessKeyId", "ASIAONE")) == [elsewhere["eventID"]]
    assert elsewhere["recipientAccountId"] == OTHER_ACCOUNT


def test_invalid_requests_fail_with_the_modelled_errors(cloudtrail: Any) -> None:
    _seed_three()
    attributes = [
        {"AttributeKey": "AccessKeyId", "AttributeValue": "ASIAONE"},
        {"AttributeKey": "EventName", "AttributeValue": "InvokeModel"},
    ]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"LookupAttributes": attributes}, "InvalidLookupAttributesException"),
        ({"LookupAttributes": [{"AttributeKey": "Region", "AttributeValue": "x"}]}, "InvalidLookupAttributesException"),
        ({"MaxResults": 51}, "InvalidMaxResultsException"),
        ({"EventCategory": "management"}, "InvalidEventCategoryException"),
    ]
    for kwargs, code in cases:
        with pytest.raises(ClientError) as excinfo:
            cloudtrail.lookup_events(**kwargs)
        assert _error(excinfo) == code
        assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert len(cloudtrail.lookup_events(MaxResults=1)["Events"]) == 1
    assert cloudtrail.lookup_events(EventCategory="insight")["Events"] == []  # no Insights events are emulated


def test_moto_reset_clears_the_history(cloudtrail: Any) -> None:
    _seed_three()
    assert len(cloudtrail.lookup_events()["Events"]) == 3
    BackendDict.reset()
    assert cloudtrail.lookup_events()["Events"] == []


def test_install_is_idempotent() -> None:
    ce.install()
    ce.install()
    from moto.cloudtrail.responses import CloudTrailResponse

    assert CloudTrailResponse.lookup_events is ce.lookup_events  # type: ignore[attr-defined]


def test_the_moto_server_serves_lookup_events() -> None:
    ce.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        cloudtrail = boto3.client(
            "cloudtrail",
            region_name=REGION,
            endpoint_url=f"http://{host}:{port}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        leaked, _, _ = _seed_three()
        [event] = _by(cloudtrail, "AccessKeyId", "ASIAONE")
        assert event["EventId"] == leaked["eventID"] and event["EventTime"] == T0
        assert json.loads(event["CloudTrailEvent"])["additionalEventData"]["callWithBearerToken"] is True
        with pytest.raises(ClientError) as excinfo:
            cloudtrail.lookup_events(MaxResults=51)
        assert _error(excinfo) == "InvalidMaxResultsException"
    finally:
        server.stop()
        BackendDict.reset()  # the server shares this process's backends

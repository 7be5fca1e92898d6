"""Which trails log Bedrock's and Mantle's data events, read from their selectors as CloudTrail applies them."""

from __future__ import annotations

from typing import Any

import botocore.session

from responder.actions.trail_coverage import (
    ALL_REGIONS,
    MANTLE_DATA_TYPES,
    Coverage,
    data_events_of,
    selector_admits,
)


def _data(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"Name": "s", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}, *fields]}


def test_a_selector_logs_a_type_only_when_every_field_admits_it() -> None:
    mantle = "AWS::BedrockMantle::Project"
    assert selector_admits(_data({"Field": "resources.type", "Equals": [mantle]}), mantle)
    assert selector_admits(_data({"Field": "resources.type", "StartsWith": ["AWS::BedrockMantle::"]}), mantle)
    assert not selector_admits(_data({"Field": "resources.type", "Equals": ["AWS::S3::Object"]}), mantle)
    assert not selector_admits(
        _data({"Field": "resources.type", "StartsWith": ["AWS::Bedrock"], "NotEquals": [mantle]}), mantle
    )
    management = {"Name": "m", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}
    assert not selector_admits(management, mantle)
    assert not selector_admits(_data(), mantle)  # data events of no type named: CloudTrail logs none


def test_selectors_say_which_types_are_logged_and_whether_a_filter_narrows_them() -> None:
    narrowed = _data(
        {"Field": "resources.type", "Equals": list(MANTLE_DATA_TYPES)},
        {"Field": "eventName", "Equals": ["CreateFile"]},
    )
    found = data_events_of({"AdvancedEventSelectors": [narrowed]})
    assert found["mantle"] == {"logged": list(MANTLE_DATA_TYPES), "missing": [], "narrowed": True}
    assert found["bedrock"]["logged"] == [] and not found["bedrock"]["narrowed"]
    # Basic selectors log data events only for S3, Lambda and DynamoDB: never Bedrock's.
    basic = {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}]}
    assert data_events_of(basic)["mantle"]["logged"] == []


def test_the_field_names_are_botocores() -> None:
    model = botocore.session.get_session().get_service_model("cloudtrail")
    assert {"FieldSelectors"} <= set(model.shape_for("AdvancedEventSelector").members)
    fields = set(model.shape_for("AdvancedFieldSelector").members)
    assert {"Field", "Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith"} == fields
    trail = set(model.shape_for("Trail").members)
    assert {"TrailARN", "HomeRegion", "IsMultiRegionTrail", "IsOrganizationTrail"} <= trail
    selectors = set(model.operation_model("GetEventSelectors").output_shape.members)
    assert {"EventSelectors", "AdvancedEventSelectors"} <= selectors


def _trail(regions: list[str], logging: bool | None, mantle: list[str] | None) -> dict[str, Any]:
    events = None
    if mantle is not None:
        events = {
            "bedrock": {"logged": [], "missing": [], "narrowed": False},
            "mantle": {"logged": mantle, "missing": [], "narrowed": False},
        }
    return {"name": "t", "regions": regions, "logging": logging, "data_events": events}


def test_a_region_is_unknown_not_unlogged_when_a_trail_over_it_could_not_be_read() -> None:
    every = list(MANTLE_DATA_TYPES)
    assert Coverage([], [], read=True).visibility("eu-west-1")["mantle"] is False  # no trail at all
    assert Coverage([], [], read=False).visibility("eu-west-1")["mantle"] is None  # DescribeTrails refused
    unread = Coverage([_trail([ALL_REGIONS], True, None)], [], read=True)
    assert unread.visibility("eu-west-1")["mantle"] is None
    logged = Coverage([_trail(["eu-west-1"], True, every)], [], read=True)
    assert logged.visibility("eu-west-1")["mantle"] is True
    assert logged.visibility("us-east-1")["mantle"] is False  # a single-region trail covers only its home
    stopped = Coverage([_trail([ALL_REGIONS], False, every)], [], read=True)
    assert stopped.visibility("eu-west-1")["mantle"] is False  # a trail that is not logging records nothing

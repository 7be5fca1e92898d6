"""Amazon CloudWatch (metrics over OTLP) API keys: long-term only. AWS documents no key prefix, so a key is
recognised online, by its alias in this service's listing (docs/key-families.md)."""

from __future__ import annotations

from responder.keys.family import ConsoleUsers, EventSource, KeyFamily, LongTermFormat

CLOUDWATCH = KeyFamily(
    name="cloudwatch",
    title="Amazon CloudWatch",
    short_title="CloudWatch",
    service_name="cloudwatch.amazonaws.com",
    long_term=LongTermFormat(prefix=None),
    bearer_actions=("cloudwatch:CallWithBearerToken",),
    console_users=ConsoleUsers(name_glob=None, managed_policies=("CloudWatchAPIKeyAccess",)),
    event_sources=(
        EventSource(
            source="monitoring.amazonaws.com", bearer_calls="data", data_resource_type="AWS::CloudWatch::Dataset"
        ),
    ),
    playbooks={"long-term": "leaked-long-term-key"},
    sources=(
        "IAM user guide, API keys for AWS services",
        "CloudWatch user guide, Setting up bearer token authentication for Metrics",
    ),
)

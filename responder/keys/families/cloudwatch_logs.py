"""Amazon CloudWatch Logs API keys ("ACWL tokens"): long-term only, used on the HTTP ingestion endpoints of log
groups that also allow bearer authentication. AWS documents no key prefix and no console user pattern: a key is
recognised online, by its alias in this service's listing (docs/key-families.md)."""

from __future__ import annotations

from responder.keys.family import ConsoleUsers, EventSource, KeyFamily, LongTermFormat

CLOUDWATCH_LOGS = KeyFamily(
    name="cloudwatch-logs",
    title="Amazon CloudWatch Logs",
    short_title="CloudWatch Logs",
    service_name="logs.amazonaws.com",
    long_term=LongTermFormat(prefix=None),
    bearer_actions=("logs:CallWithBearerToken",),
    console_users=ConsoleUsers(name_glob=None, managed_policies=("CloudWatchLogsAPIKeyAccess",)),
    event_sources=(
        EventSource(
            source="logs.amazonaws.com", bearer_calls="data", data_resource_type="AWS::Logs::LogGroupAuthorization"
        ),
    ),
    playbooks={"long-term": "leaked-long-term-key"},
    sources=(
        "IAM user guide, API keys for AWS services",
        "CloudWatch Logs user guide, Setting up bearer token authentication (CWL_HTTP_Endpoints_BearerTokenAuth)",
        "AWS managed policy reference, CloudWatchLogsAPIKeyAccess",
    ),
)

"""Everything responder adds to moto, installed in one call (the rehearsal, the server and the tests)."""

from __future__ import annotations

from responder.sandbox import (
    account_regions,
    bedrock_jobs,
    cloudtrail_events,
    event_data_stores,
    iam_limits,
    login_profiles,
    metric_listing,
    organization,
    security_hub,
    service_credentials,
    stepfunctions,
)


def install() -> None:
    """Idempotent: IAM service-specific credentials, IAM's policy budgets, quotas and protected roles, login
    profiles dated as IAM dates them, CloudTrail LookupEvents, an AssumeRole that checks the role exists, Step
    Functions that execute, Security Hub's checks on imported findings, Bedrock customization jobs listed
    by their times, the account's regions, CloudTrail Lake event data stores, and
    CloudWatch's ListMetrics forgetting metrics idle for two weeks."""
    service_credentials.install()
    iam_limits.install()
    login_profiles.install()
    cloudtrail_events.install()
    organization.install()
    stepfunctions.install()
    security_hub.install()
    account_regions.install()
    bedrock_jobs.install()
    event_data_stores.install()
    metric_listing.install()

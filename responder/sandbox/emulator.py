"""Everything responder adds to moto, installed in one call (the rehearsal, the server and the tests)."""

from __future__ import annotations

from responder.sandbox import cloudtrail_events, iam_limits, organization, service_credentials, stepfunctions


def install() -> None:
    """Idempotent: IAM service-specific credentials, IAM's policy budgets, quotas and protected roles, CloudTrail
    LookupEvents, an AssumeRole that checks the role exists, and Step Functions that execute."""
    service_credentials.install()
    iam_limits.install()
    cloudtrail_events.install()
    organization.install()
    stepfunctions.install()

"""Everything responder adds to moto, installed in one call (the rehearsal, the server and the tests)."""

from __future__ import annotations

from responder.sandbox import cloudtrail_events, organization, service_credentials


def install() -> None:
    """Idempotent: IAM service-specific credentials and policy budgets, CloudTrail LookupEvents, and an
    AssumeRole that checks the role exists."""
    service_credentials.install()
    cloudtrail_events.install()
    organization.install()

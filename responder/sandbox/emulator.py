"""Everything responder adds to moto, installed in one call (the rehearsal, the server and the tests)."""

from __future__ import annotations

from responder.sandbox import cloudtrail_events, service_credentials


def install() -> None:
    """Idempotent: IAM service-specific credentials and policy budgets, and CloudTrail LookupEvents."""
    service_credentials.install()
    cloudtrail_events.install()

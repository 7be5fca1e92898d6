"""Claude Platform on AWS API keys (`aws-external-anthropic.amazonaws.com`).

The short-term format is AWS's own token generator's (`token-generator-for-aws-external-anthropic` on PyPI).
The long-term prefix `AEAA` and the `AeaApiKey-*` console users are documented only by a third party
(BeyondTrust's bedrock-keys-security): responder recognises the prefix to name the family, but still finds the
credential by the alias IAM lists under this service name, never by the prefix or the user name pattern alone.
"""

from __future__ import annotations

from responder.keys.family import ConsoleUsers, EventSource, KeyFamily, LongTermFormat, ShortTermFormat

CLAUDE_PLATFORM = KeyFamily(
    name="claude-platform",
    title="Claude Platform on AWS",
    short_title="Claude Platform on AWS",
    service_name="aws-external-anthropic.amazonaws.com",
    long_term=LongTermFormat(prefix="AEAA", confirmed_by="third-party"),
    short_term=ShortTermFormat(
        prefix="aws-external-anthropic-api-key-",
        host="aws-external-anthropic.amazonaws.com",
        signing_service="aws-external-anthropic",
    ),
    bearer_actions=("aws-external-anthropic:CallWithBearerToken",),
    # The IAM guide names AnthropicInferenceAccess; a third-party tool reports AnthropicLimitedAccess on
    # console-made users: both are recognised.
    console_users=ConsoleUsers(
        name_glob="AeaApiKey-*",
        managed_policies=("AnthropicInferenceAccess", "AnthropicLimitedAccess"),
        confirmed_by="third-party",
    ),
    event_sources=(
        EventSource(
            source="aws-external-anthropic.amazonaws.com",
            bearer_calls="data",
            data_resource_type="AWS::AWSExternalAnthropic::Workspace",
        ),
    ),
    playbooks={"long-term": "leaked-long-term-key", "short-term": "leaked-short-term-key"},
    sources=(
        "IAM user guide, API keys for AWS services",
        "token-generator-for-aws-external-anthropic 1.0.0 (PyPI): prefix, host, signing service",
        "third party: BeyondTrust bedrock-keys-security (AEAA prefix, AeaApiKey-* users, AnthropicLimitedAccess)",
    ),
)

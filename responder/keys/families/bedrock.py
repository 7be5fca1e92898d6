"""Amazon Bedrock API keys: long-term `ABSK...`, short-term `bedrock-api-key-...` (FACTS.md)."""

from __future__ import annotations

from responder.keys.family import ConsoleUsers, EventSource, KeyFamily, LongTermFormat, ShortTermFormat

BEDROCK = KeyFamily(
    name="bedrock",
    title="Amazon Bedrock",
    short_title="Bedrock",
    service_name="bedrock.amazonaws.com",
    long_term=LongTermFormat(prefix="ABSK"),
    short_term=ShortTermFormat(prefix="bedrock-api-key-", host="bedrock.amazonaws.com", signing_service="bedrock"),
    # Two endpoints, each with its own action: denying only the first leaves the Mantle endpoint open.
    bearer_actions=("bedrock:CallWithBearerToken", "bedrock-mantle:CallWithBearerToken"),
    console_users=ConsoleUsers(name_glob="BedrockAPIKey-*", managed_policies=("AmazonBedrockLimitedAccess",)),
    event_sources=(
        EventSource(source="bedrock.amazonaws.com", bearer_calls="management"),
        # Mantle inference (CreateInference) is a data event; its model and project operations are management.
        EventSource(
            source="bedrock-mantle.amazonaws.com",
            bearer_calls="data",
            caveat=(
                "Bedrock Mantle's model, fine-tuning and project calls are management events and are counted here; "
                "Mantle inference (CreateInference) is a CloudTrail data event, never visible to LookupEvents: "
                "search a trail or a CloudTrail Lake event data store that records data events (the report prints "
                "the query)"
            ),
        ),
    ),
    condition_keys=("bedrock:bearerTokenType",),
    bearer_token_types={"short-term": "SHORT_TERM", "long-term": "LONG_TERM"},
    playbooks={"long-term": "leaked-long-term-key", "short-term": "leaked-short-term-key"},
    sources=(
        "IAM user guide, API keys for AWS services",
        "Bedrock user guide, Control permissions for generating and using Amazon Bedrock API keys",
        "Bedrock user guide, Logging Mantle API calls with CloudTrail",
        "aws-bedrock-token-generator (PyPI)",
    ),
)

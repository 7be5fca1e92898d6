"""What a family of AWS API keys is: the typed contract every module in responder/keys/families/ fills in.

AWS's IAM user guide ("API keys for AWS services") lists several services whose long-term API keys are IAM
service-specific credentials used as bearer tokens; some also have short-term keys (SigV4 presigned requests).
A family is plain data, checked when it is built: the code that decodes, finds, contains and investigates a
key asks the family for every fact that differs between services, and never branches on a family's name.
Where a fact is documented only by third parties, the family says so (`confirmed_by`): responder then never
relies on it to choose a principal (docs/key-families.md).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

KeyKind = Literal["long-term", "short-term"]
KINDS: tuple[KeyKind, ...] = ("long-term", "short-term")
Source = Literal["aws", "third-party"]
_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z]+$")


class Fact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LongTermFormat(Fact):
    """`<prefix>` + base64(`<alias>:<secret>`), the alias `<user>[+N]-at-<account>[suffix]`, as IAM lists it.
    With no prefix, AWS documents none: such a key is recognised only online, by its alias."""

    prefix: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{4}$")
    confirmed_by: Source = "aws"


class ShortTermFormat(Fact):
    """`<prefix>` + base64 of a presigned `https://<host>/?Action=CallWithBearerToken&...` request, signed for
    `<signing_service>` in one region."""

    prefix: str
    host: str
    signing_service: str
    confirmed_by: Source = "aws"


class EventSource(Fact):
    """A CloudTrail event source the family's bearer calls appear under. Data events never reach LookupEvents:
    only a trail with the data resource type selected records them, and the report must say so."""

    source: str = Field(pattern=r"^[a-z0-9.-]+\.amazonaws\.com$")
    bearer_calls: Literal["management", "data"]
    data_resource_type: str | None = None  # the trail's advanced event selector resources.type
    # What LookupEvents misses of this source when it is not simply every bearer call (the report says it).
    caveat: str | None = None


class ConsoleUsers(Fact):
    """The IAM users a service's console makes for each key it issues, and the managed policy it attaches."""

    name_glob: str | None  # None: AWS documents no pattern and no third party names one
    managed_policies: tuple[str, ...]
    confirmed_by: Source = "aws"


class KeyFamily(Fact):
    """One family of AWS API keys: everything responder must know to recognise, contain and investigate it."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")  # the registry's key, the --family filter's value
    title: str  # what a person calls it: "Amazon Bedrock"
    short_title: str  # in sentences: "not a Bedrock API key"
    service_name: str = Field(pattern=r"^[a-z0-9-]+\.amazonaws\.com$")  # IAM's ServiceName
    long_term: LongTermFormat
    short_term: ShortTermFormat | None = None
    bearer_actions: tuple[str, ...] = Field(min_length=1)  # every one must be denied to stop the keys
    console_users: ConsoleUsers
    event_sources: tuple[EventSource, ...] = Field(min_length=1)
    condition_keys: tuple[str, ...] = ()  # guardrails' use conditions beside iam:ServiceSpecificCredential*
    # The value its `...:bearerTokenType` condition key (in condition_keys) takes for each kind of key: what lets
    # guardrails deny one kind only. Empty: the family has no such key.
    bearer_token_types: dict[KeyKind, str] = Field(default_factory=dict)
    playbooks: dict[KeyKind, str]  # the playbook that contains each kind of key the family has
    sources: tuple[str, ...] = Field(min_length=1)  # where the facts above were read

    @field_validator("bearer_actions")
    @classmethod
    def _actions(cls, actions: tuple[str, ...]) -> tuple[str, ...]:
        for action in actions:
            if not _ACTION.fullmatch(action):
                raise ValueError(f"{action!r} is not an IAM action")
        return actions

    @property
    def kinds(self) -> tuple[KeyKind, ...]:
        return ("long-term", "short-term") if self.short_term is not None else ("long-term",)

    @property
    def bearer_token_type_key(self) -> str | None:
        """The condition key telling its keys' kinds apart on its first bearer action, or None."""
        return next((k for k in self.condition_keys if k.endswith(":bearerTokenType")), None)

    @property
    def data_event_sources(self) -> tuple[EventSource, ...]:
        return tuple(s for s in self.event_sources if s.bearer_calls == "data")

    @property
    def deny_policy_name(self) -> str:
        """The inline policy that denies this family's bearer calls: one per family, so containing a user's
        CloudWatch Logs key never overwrites the deny of its Bedrock key."""
        return "ResponderDeny" + "".join(part.capitalize() for part in self.name.split("-")) + "BearerTokens"

    def format_of(self, kind: KeyKind) -> LongTermFormat | ShortTermFormat | None:
        """How its keys of that kind are written; None for a kind the family does not have."""
        return {"long-term": self.long_term, "short-term": self.short_term}[kind]

    def playbook_for(self, kind: KeyKind) -> str:
        return self.playbooks[kind]

    def deny_document(self) -> dict[str, Any]:
        """The policy that denies this family's bearer-token calls to one principal."""
        return {
            "Version": "2012-10-17",
            "Statement": {"Effect": "Deny", "Action": list(self.bearer_actions), "Resource": "*"},
        }


class FamilyFacts(Fact):
    """What a run's journal keeps of the family of its key: enough to read the run back even if a later
    release changes the family (a report then states what the run was told, not today's facts)."""

    name: str
    service_name: str
    bearer_actions: tuple[str, ...]
    event_sources: tuple[EventSource, ...]
    short_title: str = ""  # in sentences ("a CloudWatch Logs API key"); "" in journals that did not record it

    @classmethod
    def of(cls, family: KeyFamily) -> FamilyFacts:
        return cls(
            short_title=family.short_title,
            name=family.name,
            service_name=family.service_name,
            bearer_actions=family.bearer_actions,
            event_sources=family.event_sources,
        )

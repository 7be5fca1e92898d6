"""GuardDuty findings about Bedrock abuse: a finding (`aws guardduty get-findings` output, its `Findings` list,
one finding, or the EventBridge event whose `detail` is one).

A finding names a principal, never a key: `resource.accessKeyDetails` (`accessKeyId`, `userName`, `userType`)
and `accountId` (GuardDuty finding format, "Resource" and sample findings). The API's CLI output spells fields
in PascalCase and EventBridge in camelCase: both are read. Only the types about Bedrock and AI protection are
taken (FACTS.md); exposure is `service.eventFirstSeen`, the first activity the finding saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from responder.alerts.document import load_json, need, optional, timestamp
from responder.alerts.source import Finding, Holds, Principal
from responder.errors import UserError
from responder.names import ACCOUNT_ID

TYPES = frozenset(
    {
        "DefenseEvasion:IAMUser/BedrockLoggingDisabled",
        "Impact:IAMUser/AnomalousModelInvocation",
        "Impact:IAMUser/CostHarvesting",
        "Impact:IAMUser/PromptInjection.Direct",
    }
)
_KINDS = {"IAMUser": "user", "AssumedRole": "role"}


def _camel(value: Any) -> Any:
    """The same document with every key's first letter in lower case (PascalCase CLI output -> camelCase)."""
    if isinstance(value, dict):
        return {(k[:1].lower() + k[1:] if isinstance(k, str) else k): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


@dataclass(frozen=True)
class GuardDuty:
    name: str = "guardduty"
    title: str = "GuardDuty finding"
    holds: Holds = "principal"
    exposure: str = "the first activity the finding saw (service.eventFirstSeen)"
    documented_by: str = "GuardDuty user guide: finding format, finding types (Bedrock, AI protection)"

    def findings(self, text: str) -> list[Finding]:
        document = _camel(load_json(text, self.title))
        if isinstance(document, dict) and "detail" in document:
            document = document["detail"]
        if isinstance(document, dict) and "findings" in document:
            document = document["findings"]
        items = document if isinstance(document, list) else [document]
        found = []
        for index, item in enumerate(items):
            where = f"finding {index + 1}"
            kind = need(item, "type", str, where, self.title)
            if kind not in TYPES:
                continue  # not about Bedrock keys' use: nothing of it is responder's
            account = need(item, "accountId", str, where, self.title)
            details = need(need(item, "resource", dict, where, self.title), "accessKeyDetails", dict, where, self.title)
            user_type = need(details, "userType", str, where, self.title)
            if user_type not in _KINDS or not ACCOUNT_ID.fullmatch(account):
                raise UserError(f"{where}: its principal is a {user_type}: responder contains IAM users and roles")
            principal = Principal(
                kind="user" if _KINDS[user_type] == "user" else "role",
                name=need(details, "userName", str, where, self.title),
                account_id=account,
                access_key_id=optional(details, "accessKeyId", str),
                finding_type=kind,
            )
            service = optional(item, "service", dict) or {}
            found.append(
                Finding(
                    where=where,
                    rule=kind,
                    principal=principal,
                    exposed_at=timestamp(optional(service, "eventFirstSeen", str)),
                )
            )
        return found


GUARDDUTY = GuardDuty()

"""Model access an LLMjacking attacker puts during the key's life (the entitlement stage), seeded for the rehearsals,
and the rehearsals' check that the run's report names each with what to do.

The three events the stage table (`actions/attack_stages.py`) calls entitlement, made with the key's own principal
so the investigation reads them: `PutUseCaseForModelAccess` (its one parameter, `formData`, is a blob: CloudTrail
shows no model), `CreateFoundationModelAgreement` (`modelId`, `offerToken`: botocore's bedrock model) and
`PutFoundationModelEntitlement` (an IAM action with no API operation; the event names the model). moto has none of
these operations: only the CloudTrail records are seeded, which is all the run reads (it changes no model access).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from responder.engine.commands.outcome import Outcome
from responder.sandbox.check import Check
from responder.sandbox.cloudtrail_events import record_event
from responder.sandbox.seed import ATTACKER_IP

ENTITLED_MODEL = "anthropic.claude-3-opus-20240229-v1:0"
MODEL_ACCESS_EVENTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("PutUseCaseForModelAccess", {"formData": "eyJjb21wYW55TmFtZSI6IkV4YW1wbGUifQ=="}),
    ("CreateFoundationModelAgreement", {"modelId": ENTITLED_MODEL, "offerToken": "HIDDEN_DUE_TO_SECURITY_REASONS"}),
    ("PutFoundationModelEntitlement", {"modelId": ENTITLED_MODEL}),
)


def seed_model_access(account_id: str, region: str, identity: dict[str, Any], start: datetime) -> list[str]:
    """The three entitlement calls, by `identity` (the key's principal), a minute apart from `start`; returns their
    event ids."""
    ids = []
    for i, (name, parameters) in enumerate(MODEL_ACCESS_EVENTS):
        record = record_event(
            account_id,
            region,
            {
                "eventTime": start + timedelta(minutes=i),
                "eventSource": "bedrock.amazonaws.com",
                "eventName": name,
                "sourceIPAddress": ATTACKER_IP,
                "userAgent": "aws-cli/2.15",
                "userIdentity": identity,
                "requestParameters": parameters,
            },
        )
        ids.append(str(record["eventID"]))
    return ids


def model_access_checks(run: Outcome, event_ids: list[str]) -> list[Check]:
    """The report reaches the entitlement stage and names each model-access event with what to do, in its
    investigation notes and in report.md as written."""
    step = next((s for s in run.report.steps if s.get("id") == "investigate"), {})
    notes = [n for n in step.get("notes") or [] if n.startswith("model access put during the exposure window")]
    pairs = zip((name for name, _ in MODEL_ACCESS_EVENTS), event_ids, strict=True)
    named = [name for name, event in pairs if _names(notes, name, event)]
    written = run.paths.report_md.read_text(encoding="utf-8") if run.paths.report_md.exists() else ""
    reached = ((run.report.evidence or {}).get("stages") or {}).get("reached") or []
    return [
        Check(
            "the report names each model access put during the key's life (use case, agreement, entitlement), "
            f"with what to do ({len(named)} of {len(MODEL_ACCESS_EVENTS)})",
            len(named) == len(MODEL_ACCESS_EVENTS)
            and all(event in written for event in event_ids)
            and "delete-foundation-model-agreement" in written,
        ),
        Check("the report's opening says the entitlement stage was reached", "entitlement" in reached),
    ]


def _names(notes: list[str], name: str, event_id: str) -> bool:
    return any(f": {name}" in note and event_id in note for note in notes)

"""A run as AWS Security Finding Format (ASFF) findings, where security teams look: one per contained key.

Field names are botocore's securityhub `AwsSecurityFinding`. A finding names the principal and the key's
fingerprint (or credential id), never the key; its ProductFields carry the run id that links back to the run.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from responder.actions.base import Identity
from responder.engine.report.model import Report
from responder.engine.report.summary import deactivated_credentials, opening
from responder.keys.journaled import key_title
from responder.redaction import SECRETS

SCHEMA_VERSION = "2018-10-08"
DESCRIPTION_LIMIT = 1024  # ASFF's Description maximum
TITLE_LIMIT = 256
FINDING_TYPE = "Sensitive Data Identifications/Passwords/Leaked Amazon Bedrock API key"
CONTAINED = ("completed",)  # a run that ended so holds its containment: the finding is RESOLVED


def product_arn(partition: str, region: str, account: str) -> str:
    """The default product of an account's own findings (custom integrations import as it)."""
    return f"arn:{partition}:securityhub:{region}:{account}:product/{account}/default"


def _partition(report: Report) -> str:
    """The operator's partition (aws, aws-us-gov, aws-cn), read from its ARN as the run's identity reads it."""
    return Identity(str(report.account), str(report.operator or "")).partition


def _keys(report: Report) -> list[dict[str, str]]:
    """The keys a run contained: the leaked key it was given, or each credential it deactivated (a sweep)."""
    key = report.key or {}
    if key.get("fingerprint"):
        return [{"label": str(key["fingerprint"]), "fingerprint": str(key["fingerprint"])}]
    return [
        {"label": credential, "credential_id": credential, "user": user}
        for credential, user in deactivated_credentials(report).items()
    ]


def _resources(report: Report, key: dict[str, str], region: str) -> list[dict[str, Any]]:
    partition, account = _partition(report), str(report.account)
    principal = report.principal
    if key.get("user"):
        principal = {"type": "user", "name": key["user"]}
    resources: list[dict[str, Any]] = []
    if principal:
        kind = "AwsIamUser" if principal["type"] == "user" else "AwsIamRole"
        arn = f"arn:{partition}:iam::{account}:{principal['type']}/{principal['name']}"
        resources.append({"Type": kind, "Id": arn, "Partition": partition, "Region": region})
    resources.append(
        {
            "Type": "Other",
            "Id": key.get("credential_id") or f"bedrock-api-key/{key['label']}",
            "Partition": partition,
            "Region": region,
            "Details": {"Other": {k: v for k, v in key.items() if k != "label"}},
        }
    )
    return resources


def _severity(report: Report) -> str:
    evidence = report.evidence or {}
    if evidence.get("after_containment"):
        return "CRITICAL"  # the key was used after containment
    return "HIGH" if evidence.get("bearer_token_calls") else "MEDIUM"


def _iso(value: Any) -> str:
    text = str(value or datetime.now(timezone.utc).isoformat())
    return text.replace("+00:00", "Z")


def asff_findings(report: Report, region: str) -> list[dict[str, Any]]:
    """The run's findings; a fan-out's are its accounts' runs' findings."""
    if report.accounts:
        return [f for a in report.accounts if a.get("report") for f in asff_findings(a["report"], region)]
    if report.dry_run:
        return []
    account = str(report.account)
    evidence = report.evidence or {}
    claims = report.claims
    contained = bool(claims["contained"]["holds"]) if claims else report.status in CONTAINED
    principal = report.principal
    findings = []
    title = key_title(report.key)  # the family's name: "Amazon Bedrock"; "AWS" when no key names one
    for key in _keys(report):
        whose = key.get("user") or (principal or {}).get("name") or "an unknown principal"
        finding: dict[str, Any] = {
            "SchemaVersion": SCHEMA_VERSION,
            "Id": f"responder/{report.run_id}/{key['label']}",
            "ProductArn": product_arn(_partition(report), region, account),
            "ProductName": "responder",
            "CompanyName": "responder",
            "Region": region,
            "GeneratorId": f"responder/{report.playbook}",
            "AwsAccountId": account,
            "Types": [FINDING_TYPE.replace("Amazon Bedrock", title)],
            "CreatedAt": _iso(report.started_at),
            "UpdatedAt": _iso(report.finished_at),
            "Severity": {"Label": _severity(report)},
            "Title": f"Leaked {title} API key of {whose} {'contained' if contained else report.status}"[:TITLE_LIMIT],
            "Description": opening(report)[:DESCRIPTION_LIMIT],
            "ProductFields": {
                "responder/RunId": report.run_id,
                "responder/Playbook": report.playbook,
                "responder/Status": report.status,
                "responder/Key": key["label"],
                "responder/BearerTokenCalls": str(evidence.get("bearer_token_calls", 0)),
                "responder/CallsAfterContainment": str(len(evidence.get("after_containment") or [])),
                "responder/AuditHead": str(report.audit_head),
            },
            "Resources": _resources(report, key, region),
            "Workflow": {"Status": "RESOLVED" if contained else "NEW"},
            "RecordState": "ACTIVE",
            "Remediation": {
                "Recommendation": {"Text": f"Follow the run's report: responder report {report.run_id}"[:512]}
            },
        }
        if evidence.get("first_seen"):
            finding["FirstObservedAt"] = _iso(evidence["first_seen"])
            finding["LastObservedAt"] = _iso(evidence["last_seen"])
        findings.append(SECRETS.redact_value(finding))
    return findings


IMPORT_BATCH = 100  # BatchImportFindings takes at most 100 findings a call


def import_findings(securityhub: Any, findings: list[dict[str, Any]]) -> tuple[int, list[dict[str, Any]]]:
    """Import into Security Hub (the client of the findings' region): how many it took, and what it refused."""
    imported, failed = 0, []
    for start in range(0, len(findings), IMPORT_BATCH):
        answer = securityhub.batch_import_findings(Findings=findings[start : start + IMPORT_BATCH])
        imported += int(answer.get("SuccessCount", 0))
        failed += answer.get("FailedFindings", [])
    return imported, failed

"""The stages of an LLMjacking attack, as CloudTrail shows them: one table, read by the investigation and the report.

Published LLMjacking reports (Sysdig, Permiso, Elastic's detection rules, BeyondTrust's Bedrock research, AWS's
customer playbook framework) describe the same stages within minutes of a leak. Each row names the event source and
the event name (a trailing `*` matches a prefix: `InvokeModel*`); the names are botocore's operation names, checked
by tests/actions/test_attack_stages.py, except where the row says why it cannot be. Pure functions: no AWS call.
"""

from __future__ import annotations

from typing import Any, Literal

from responder.actions.cloudtrail_records import BEDROCK_SOURCE, MANTLE_SOURCE
from responder.inert import plain

Stage = Literal["reconnaissance", "entitlement", "evasion", "persistence", "monetisation"]
# In the order an attack goes through them: a later stage reached is the worse news.
STAGES: tuple[Stage, ...] = ("reconnaissance", "entitlement", "evasion", "persistence", "monetisation")

# CloudTrail's event sources (cloudtrail_records names Bedrock's two endpoints). Bedrock's control plane and its
# runtime (InvokeModel, Converse) log under one source.
BEDROCK, MANTLE = BEDROCK_SOURCE, MANTLE_SOURCE
IAM = "iam.amazonaws.com"

# (eventSource, eventName or prefix*) -> stage. The one place a stage is decided.
STAGE_OF_EVENT: dict[tuple[str, str], Stage] = {
    (BEDROCK, "ListFoundationModels"): "reconnaissance",
    (BEDROCK, "GetFoundationModelAvailability"): "reconnaissance",
    (BEDROCK, "GetModelInvocationLoggingConfiguration"): "reconnaissance",
    (BEDROCK, "PutUseCaseForModelAccess"): "entitlement",
    (BEDROCK, "CreateFoundationModelAgreement"): "entitlement",
    # An IAM action with no API operation of its own (granting model access logs it): not in botocore's model.
    (BEDROCK, "PutFoundationModelEntitlement"): "entitlement",
    (BEDROCK, "DeleteModelInvocationLoggingConfiguration"): "evasion",
    # Pointing the logs elsewhere (GuardDuty: DefenseEvasion:IAMUser/BedrockLoggingDisabled covers the deletion).
    (BEDROCK, "PutModelInvocationLoggingConfiguration"): "evasion",
    (IAM, "CreateAccessKey"): "persistence",
    (IAM, "CreateServiceSpecificCredential"): "persistence",
    (IAM, "CreateLoginProfile"): "persistence",
    (IAM, "UpdateLoginProfile"): "persistence",
    (IAM, "UpdateAssumeRolePolicy"): "persistence",
    (IAM, "AttachUserPolicy"): "persistence",
    (IAM, "PutUserPolicy"): "persistence",
    (IAM, "AttachRolePolicy"): "persistence",
    (IAM, "PutRolePolicy"): "persistence",
    (IAM, "AddUserToGroup"): "persistence",
    (BEDROCK, "InvokeModel*"): "monetisation",
    (BEDROCK, "Converse*"): "monetisation",
    (BEDROCK, "StartAsyncInvoke"): "monetisation",
    (BEDROCK, "CreateModelInvocationJob"): "monetisation",
    (BEDROCK, "CreateModelCustomizationJob"): "monetisation",
    (BEDROCK, "CreateProvisionedModelThroughput"): "monetisation",
    # Mantle has no botocore model; its inference is a CloudTrail data event (FACTS.md): seen only from a trail.
    (MANTLE, "CreateInference"): "monetisation",
}

# IAM requestParameters that name the user or role a call changes.
_NAMED_BY = {"user": ("userName",), "role": ("roleName",)}


def stage_of(source: Any, name: Any) -> Stage | None:
    """The stage an event (by its eventSource and eventName) belongs to, or None: counted, not hidden."""
    source, name = str(source), str(name)
    exact = STAGE_OF_EVENT.get((source, name))
    if exact is not None:
        return exact
    for (row_source, row_name), stage in STAGE_OF_EVENT.items():
        if row_source == source and row_name.endswith("*") and name.startswith(row_name[:-1]):
            return stage
    return None


def names_principal(record: dict[str, Any], kind: str, name: str) -> bool:
    """An IAM call that changes the user or role: done TO the principal, by whoever held other credentials."""
    parameters = record.get("requestParameters")
    if record.get("eventSource") != IAM or not isinstance(parameters, dict):
        return False
    return any(parameters.get(field) == name for field in _NAMED_BY.get(kind, ()))


def stages_reached(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The stages the events (events.jsonl lines: source, name, time, region, source IP, actor) reach or only
    attempt, in attack order; each finding by event; and how many events matched no stage."""
    findings: list[dict[str, Any]] = []
    unclassified = 0
    for event in events:
        stage = stage_of(event.get("source"), event.get("name"))
        if stage is None:
            unclassified += 1
            continue
        findings.append(
            {
                "stage": stage,
                "event_id": event.get("event_id"),
                "time": event.get("time"),
                "region": event.get("region"),
                "source_ip": event.get("source_ip"),
                "source": event.get("source"),
                "name": event.get("name"),
                "actor": event.get("actor"),
                "on_behalf_of": event.get("on_behalf_of"),
                "error_code": event.get("error_code"),
            }
        )
    findings.sort(key=lambda f: (STAGES.index(f["stage"]), str(f["time"]), str(f["event_id"])))
    # A stage is reached by a call AWS carried out; one whose every call AWS refused (an error code) was attempted.
    reached = [s for s in STAGES if any(f["stage"] == s and not f["error_code"] for f in findings)]
    attempted = [s for s in STAGES if s not in reached and any(f["stage"] == s for f in findings)]
    counts = [[s, sum(1 for f in findings if f["stage"] == s)] for s in STAGES if s in reached or s in attempted]
    return {
        "reached": reached,
        "attempted": attempted,
        "counts": counts,
        "findings": findings,
        "unclassified": unclassified,
    }


def _what_to_do(name: str, region: str, model: str) -> str:
    # Operation names from botocore's bedrock model: DeleteFoundationModelAgreement takes the modelId;
    # PutUseCaseForModelAccess has no Delete, and PutFoundationModelEntitlement is an IAM action with no operation.
    check = (
        "check what the account now holds: aws bedrock get-foundation-model-availability "
        f"--region {region} --model-id {model}"
    )
    if name == "CreateFoundationModelAgreement":
        return (
            f"if your team did not accept it, remove the agreement (responder does not: whether that restores the "
            f"model's access exactly as before is not documented): aws bedrock delete-foundation-model-agreement "
            f"--region {region} --model-id {model}; {check}"
        )
    if name == "PutUseCaseForModelAccess":
        return (
            "no AWS API deletes a use-case form or restores the one before it exactly: if the form is not your "
            f"team's, put your own again (aws bedrock put-use-case-for-model-access --region {region} --form-data ...)"
        )
    return f"no AWS API undoes model access granted this way exactly; {check}"


def entitlement_follow_ups(records: list[dict[str, Any]]) -> list[str]:
    """Model access the window's CloudTrail records show put (the entitlement stage, calls AWS carried out), one
    follow-up per event naming the model and what to do; responder changes no model access itself. The model id
    comes from the attacker's request: inert."""

    notes = []
    for record in records:
        source, name = record.get("eventSource"), str(record.get("eventName"))
        if stage_of(source, name) != "entitlement" or record.get("errorCode"):
            continue
        parameters = record.get("requestParameters")
        model = (
            plain(str(parameters.get("modelId")))
            if isinstance(parameters, dict) and parameters.get("modelId")
            else None
        )
        region = plain(str(record.get("awsRegion") or "unknown"))
        notes.append(
            f"model access put during the exposure window: {plain(name)}"
            f"{f' for {model}' if model else ' (no model named)'} at {plain(str(record.get('eventTime')))} in {region} "
            f"(event {plain(str(record.get('eventID')))}): " + _what_to_do(name, region, model or "MODEL_ID")
        )
    return notes

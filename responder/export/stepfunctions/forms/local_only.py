"""The steps the exported machine leaves to the local run, each with the line the machine carries saying why: the
foothold steps and the quarantine read CloudTrail's events (us-east-1, paced at 2 requests a second) or need the
local journal's snapshot for an exact rollback, and the containment machine contains only."""

from __future__ import annotations

from responder.actions.bedrock_job_stops import DeleteWindowThroughput, StopWindowJobs
from responder.actions.bedrock_jobs import ListWindowJobs
from responder.actions.bedrock_logging import RestoreInvocationLogging
from responder.actions.footholds import DeactivateWindowAccessKeys
from responder.actions.footholds_credentials import DisableWindowUserCredentials
from responder.actions.footholds_policies import RemoveWindowRolePolicies, RemoveWindowUserPolicies
from responder.actions.footholds_trust import RestoreWindowTrustPolicy
from responder.actions.iam_quarantine import QuarantineUser
from responder.export.stepfunctions.states import local_run_only

local_run_only(
    DeactivateWindowAccessKeys,
    "access keys an attacker may have created during the exposure window are not deactivated by the exported "
    "machine (its rollback could not restore them exactly): run `responder run PLAYBOOK` locally after it",
)
local_run_only(
    DisableWindowUserCredentials,
    "service-specific credentials and a console password created on the user during the exposure window are "
    "not closed by the exported machine: run `responder run PLAYBOOK` locally after it",
)
for _removal in (RemoveWindowUserPolicies, RemoveWindowRolePolicies):
    local_run_only(
        _removal,
        "policies given to the principal during the exposure window are found in CloudTrail's IAM events, which the "
        "machine does not read: run `responder run PLAYBOOK` locally after it to remove them",
    )
local_run_only(
    RestoreWindowTrustPolicy,
    "a trust policy changed during the exposure window is found in CloudTrail's IAM events, which the machine does "
    "not read: run `responder run leaked-short-term-key` locally after it",
)
local_run_only(
    RestoreInvocationLogging,
    "invocation logging changed during the exposure window is found in CloudTrail, which the machine does not read: "
    "run `responder run PLAYBOOK` locally after it to put it back",
)
local_run_only(
    ListWindowJobs,
    "jobs started during the exposure window are listed by the local run (`responder run PLAYBOOK --dry-run`): "
    "the machine contains only",
    undo=False,
)
local_run_only(
    StopWindowJobs,
    "jobs started during the exposure window are stopped only by the local run, when asked (`responder run "
    "PLAYBOOK -p stop_jobs=true`): the machine contains only",
)
local_run_only(
    DeleteWindowThroughput,
    "local run only (-p delete_throughput=true): its creator is in CloudTrail",
)
local_run_only(
    QuarantineUser,
    "the user is not quarantined by the exported machine: run `responder run leaked-long-term-key "
    "-p quarantine_user=true` locally after it",
)

"""Faults at the wire, for every mutating call of every shipped playbook: the account never holds a change the
journal cannot explain, and `resume` then `rollback --reactivate-keys` always complete.

The run talks to an in-process moto server through `tests/faultproxy.py`, which fails the Nth request for one
operation. Throttles are answered twice (`Throttling`, then the request goes through, within responder's own retry
budget, MAX_ATTEMPTS); the other faults answer every attempt botocore makes, and a persistent cell lets it make
1 attempt + PERSISTENT_MAX_ATTEMPTS (2) retries for 503 and connection resets (how many changes nothing the cell
checks); AccessDenied is not retried.

| playbook (account shape) | call (step) | throttle x2 | deny | unavailable | reset-after |
|---|---|---|---|---|---|
| leaked-long-term-key | UpdateServiceSpecificCredential (deactivate) | C | F | F | F+ |
| leaked-long-term-key | PutUserPolicy (deny-bearer-tokens) | C | F | F | F+ |
| leaked-short-term-key | PutRolePolicy ResponderDenyBedrockBearerTokens (deny-role-bearer-tokens) | C | F | F | F+ |
| leaked-short-term-key | PutRolePolicy AWSRevokeOlderSessions (revoke-role-sessions) | C | F | F | F+ |
| leaked-long-term-key, user's inline budget full | CreatePolicy (deny-bearer-tokens) | C | F | F | F+ |
| leaked-long-term-key, user's inline budget full | AttachUserPolicy (deny-bearer-tokens) | C | F | F | F+ |
| bedrock-key-guardrails (on the user) | PutUserPolicy (put-guardrails) | C | F | F | F+ |
| contain-bedrock-keys (user=the leaked user) | UpdateServiceSpecificCredential (deactivate[…]) | C | F | F | F+ |
| contain-bedrock-keys (user=the leaked user) | PutUserPolicy (deny-bearer-tokens[…]) | C | F | F | F+ |
| leaked-long-term-key, LLMjacking footholds | UpdateAccessKey (footholds) | C | F | F | F+ |
| leaked-long-term-key, LLMjacking footholds | DetachUserPolicy (policies) | C | F | F | F+ |
| leaked-long-term-key, LLMjacking footholds | DeleteUserPolicy (policies) | | F | | F+ |
| leaked-long-term-key, LLMjacking footholds | PutModelInvocationLoggingConfiguration (logging) | C | F | F | F+ |
| leaked-long-term-key, LLMjacking footholds | UpdateServiceSpecificCredential (credentials) | | F | | F+ |
| leaked-long-term-key, LLMjacking footholds | DeleteLoginProfile (credentials) | C | F | F | F+ |
| leaked-short-term-key, the role's footholds | DetachRolePolicy (policies) | | F | | F+ |
| leaked-short-term-key, the role's footholds | DeleteRolePolicy (policies) | | F | | F+ |
| leaked-short-term-key, the role's footholds | UpdateAssumeRolePolicy (trust) | C | F | F | F+ |
| leaked-short-term-key, the role's footholds | PutModelInvocationLoggingConfiguration (logging, us-west-2) | | | | F+ |
| leaked-short-term-key, user-signed | UpdateAccessKey, the signing key (deactivate-access-key) | | F | | F+ |
| leaked-long-term-key -p stop_jobs,quarantine_user | StopModelCustomizationJob (stop) | C | FI | FI | F+I |
| leaked-long-term-key -p stop_jobs,quarantine_user | StopModelInvocationJob (stop) | | | | F+I |
| leaked-long-term-key -p stop_jobs,quarantine_user | StopEvaluationJob (stop) | | FI | | |
| leaked-long-term-key -p delete_throughput | DeleteProvisionedModelThroughput, hourly (throughput) | | | | F+I |
| leaked-long-term-key -p stop_jobs,quarantine_user | PutUserPolicy deny-all (quarantine) | C | F | F | F+ |
| leaked-long-term-key -p stop_jobs,quarantine_user | UpdateAccessKey (quarantine) | | F | | F+ |
| leaked-long-term-key -p stop_jobs,quarantine_user | DeleteLoginProfile (quarantine) | | F | | F+ |
| leaked-long-term-key -p close_older | UpdateAccessKey (footholds) | | F | | F+ |
| leaked-long-term-key -p close_older | UpdateServiceSpecificCredential (credentials) | | F | | F+ |
| leaked-long-term-key -p close_older | DeleteLoginProfile (credentials) | | F | | F+ |

- **C**: botocore retries; the run completes (exit 0), the step is verified; rollback restores the seeded account.
- **F**: the run stops (exit 1, `failed`, the message says `responder resume RUN_ID`); the steps before are
  verified and in place; the failed step names the cause (deny: the missing `iam:`/`bedrock:` permission) and its
  request changed nothing; no step that was not due with it wrote anything (no `step.applying`); nothing changed
  that no `step.applying` explains.
- **Due together**: the key's deactivation and its principal's deny (the role's deny and its session revocation)
  reference each other in nothing, and each alone stops the key: they go out at once. When one is refused, the
  other, already due, is sent anyway and ends verified and in place (partial containment beats none); this is the
  one place the matrix's promise changed when they stopped waiting for each other.
- **F+**: as F, but the request's change *is* in place upstream (its answer was lost): allowed because the journal
  holds the write-ahead `step.applying` record with the snapshot, so rollback undoes it.
- Every F and F+ cell then resumes (`completed`, account contained) and rolls back with `--reactivate-keys`
  (`rolled-back`, the account exactly as seeded).
- **I** (irreversible: a stopped job cannot be resumed and deleted throughput cannot be restored, so no rollback
  can undo either): what holds instead is that containment stays applied, the run stops at the step and names
  `responder resume RUN_ID`, resume stops the jobs or deletes the throughput (or, its answer lost, finds it done),
  and rollback reports the step `irreversible` in its message and restores everything else exactly
  (`lost_for_good`: the customization job stays `Stopped`, the batch and evaluation jobs `Stopping` as AWS first
  answers a stop, the hourly throughput gone, as the quarantine's removed console password stays removed, which
  its undo names with the command to set a new one).
- The full-budget account runs the fallback only: its UpdateServiceSpecificCredential and PutUserPolicy calls
  are the rows above.
- **Footholds.** The LLMjacking account (an access key, a second Bedrock key and a console password made on the
  user, a managed and an inline policy given to it, invocation logging deleted, all during the key's life) faults
  only the foothold steps' calls (its containment calls are the rows above); so do the role's footholds (a managed
  and an inline policy given to the role, its trust policy widened to another account, the key's region's
  invocation logging deleted) on the short-term playbook, and the user-signed key's (`+user-signed`: an IAM user's
  access key signed the token; `seed_user_signed_llmjacking` leaves on that user what FOOTHOLDS leaves on the
  long-term key's, its steps the same actions, `grants` being the short-term playbook's `policies`): its cells are
  the signing key's deactivation, the one call of the user path no other scenario makes (the window key's
  `UpdateAccessKey` is told from it by `AccessKeyId`, MATCH); the deny due with it and its foothold steps are
  FOOTHOLDS' actions.
  A foothold step runs after the last containment change: in every foothold cell the containment steps are
  verified and in place after the faulted run and after resume, and a refused foothold step stops only itself and
  the foothold steps that wait for it (WAITS_FOR: the quarantine changes the access keys and password after the
  footholds and credentials steps); every other foothold step still ends verified.
- **Scenarios with parameters.** A scenario is a playbook run against one shape of the account with its own
  parameters (SCENARIO_PARAMS): `+asked` (the user's team key and console password older than the key, and
  `seed_window_jobs`: a customization, a batch and an evaluation job the user started during its life, still
  running, two provisioned throughputs it bought, one under a commitment term AWS refuses to delete (ConflictException)
  and so never requested, one hourly, and a batch job the team started, which stays; `-p stop_jobs=true
  -p delete_throughput=true -p quarantine_user=true`) and `+close-older` (an
  older access key, Bedrock key and password; `-p close_older=true`) reach the steps behind a parameter. A new
  gated call is a table line: its parameter in SCENARIO_PARAMS (on `+asked` when its shape can hold what it
  changes, as the batch and evaluation job stops and `delete_throughput` do: `seed_window_jobs` in
  `Incident.shape`), its calls in MATRIX_CALLS with their step, the operation in FAULTED_CALLS, its step in
  FOOTHOLD_STEPS, and, when AWS cannot undo it, in IRREVERSIBLE and `lost_for_good`; `account_state` reads what it
  changes (`test_account_state_is_what_aws_answers` checks the read against the API's answer), `footprint` and
  `in_place` say what that is.
- **Which foothold calls are throttled and unavailable**: one call of each foothold step (RETRIED_CALLS). The
  retry is botocore's, the same for every call of a service and proven on the containment rows; what a cell adds
  is the step's journaling, verification and resume around a retried or exhausted call, and a step's other calls
  go through the same loop after the same write-ahead record. Each cell costs a run, a resume and a rollback, so a
  call whose faults would repeat another cell's proof is narrowed (CALL_FAULTS) or left to its scenario's others.
- botocore's waits (backoff, and adaptive rate limiting after a throttle) are zeroed for the matrix (`no_waiting`):
  they prove nothing it checks and cost a throttle cell ~4 s.
"""

from __future__ import annotations

import functools
import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import boto3
import botocore.session
import pytest
from botocore.retries.bucket import TokenBucket
from botocore.retries.standard import ExponentialBackoff
from moto.bedrock.models import bedrock_backends
from moto.iam.models import iam_backends

from responder.actions.guardrails import GUARDRAIL_POLICY_NAME
from responder.actions.iam_policies import DEFAULT_POLICY_NAME, DENY_BEARER_TOKENS, managed_policy_name
from responder.actions.iam_quarantine import DENY_ALL, QUARANTINE_POLICY_NAME
from responder.actions.iam_sessions import REVOKE_POLICY_NAME, revoked_before
from responder.aws.clients import MAX_ATTEMPTS, AwsOptions, is_read_only
from responder.engine.commands.operations import start_run
from responder.engine.commands.outcome import Outcome
from responder.engine.commands.recovery import resume_run, rollback_run
from responder.engine.journal import events as j
from responder.engine.journal.run_state import RunState, load_run
from responder.engine.running.context import Settings
from responder.keys import parse_short_term_key
from responder.playbook.shipped import shipped_playbooks
from responder.sandbox.bedrock_jobs import _EVALUATION_JOBS, _INVOCATION_JOBS, _THROUGHPUTS  # the emulator's store
from responder.sandbox.bedrock_jobs import _kept as bedrock_kept
from responder.sandbox.llmjacking import (
    BACKDOOR_INLINE,
    TEAM_LOGGING,
    Footholds,
    seed_logging_deleted,
    seed_policy_footholds,
    seed_trust_change,
    window_start,
)
from responder.sandbox.login_profiles import seed_login_profile
from responder.sandbox.seed import (
    BYSTANDER,
    EXISTING_POLICY,
    LEAKED_ROLE,
    LEAKED_USER,
    ROLE_TRUST,
    SANDBOX_REGION,
    TOKEN_REGION,
    Seeded,
    SeededShortTerm,
    seed_incident,
    seed_short_term_incident,
)
from responder.sandbox.service_credentials import _state as service_credentials_of  # the emulator's own store
from responder.sandbox.service_credentials import create_credential
from responder.sandbox.user_signed import SIGNING_USER, UserSignedLLMjacking, seed_user_signed_llmjacking
from responder.sandbox.window_jobs import WindowJobs, seed_window_jobs, user_identity
from tests.factories import ACCOUNT, inline_policies, moto_http_server
from tests.faultproxy import FaultProxy
from tests.oracle import check_claims

LONG, SHORT = "leaked-long-term-key", "leaked-short-term-key"
FULL_BUDGET = f"{LONG}+full-inline-budget"  # the user's 2,048-character inline budget has no room for the deny
FOOTHOLDS = f"{LONG}+llmjacking"  # what an attacker left on the user during the key's life
ROLE_FOOTHOLDS = f"{SHORT}+role-footholds"  # and on the role whose session signed a short-term key
ASKED = f"{LONG}+asked"  # the irreversible gated steps asked for: a window job stopped, the user quarantined
CLOSE_OLDER = f"{LONG}+close-older"  # the user's ways in older than the key closed as well
USER_SIGNED = f"{SHORT}+user-signed"  # an IAM user's access key signed the key; footholds left on that user
# Scenario -> playbook. A scenario is a playbook run against one shape of the seeded account.
GUARD = "bedrock-key-guardrails"  # preventive: put on the leaked user, no key
MANY = "contain-bedrock-keys"  # a filter selecting the leaked user's key: one step group, named after the key
SCENARIOS = {
    LONG: LONG,
    SHORT: SHORT,
    FULL_BUDGET: LONG,
    GUARD: GUARD,
    MANY: MANY,
    FOOTHOLDS: LONG,
    ROLE_FOOTHOLDS: SHORT,
    ASKED: LONG,
    CLOSE_OLDER: LONG,
    USER_SIGNED: SHORT,
}
# The parameters a run of the scenario is given (as `-p NAME=VALUE`), on top of its playbook's: a step behind a
# parameter (`when: ${params.X}`) is reached by a scenario that sets X. A new gated call is one more line here (or a
# parameter added to a scenario that already reaches its account shape), its calls in MATRIX_CALLS, and its cells
# in FAULTED_CALLS: e.g. the batch and evaluation jobs' stops with `stop_jobs` on ASKED once its shape seeds them.
PLAYBOOK_PARAMS: dict[str, dict[str, str]] = {
    GUARD: {"principal_name": LEAKED_USER},
    MANY: {"filter": f"user={LEAKED_USER}"},
}
SCENARIO_PARAMS: dict[str, dict[str, str]] = {
    ASKED: {"stop_jobs": "true", "delete_throughput": "true", "quarantine_user": "true"},
    CLOSE_OLDER: {"close_older": "true"},
}
# Every mutating call a clean run of the scenario makes, in order, with the step making it:
# test_matrix_covers_every_mutating_call keeps this honest, so a new step cannot escape the matrix.
MATRIX_CALLS: dict[str, list[tuple[str, str]]] = {
    LONG: [("UpdateServiceSpecificCredential", "deactivate"), ("PutUserPolicy", "deny-bearer-tokens")],
    SHORT: [("PutRolePolicy", "deny-role-bearer-tokens"), ("PutRolePolicy", "revoke-role-sessions")],
    GUARD: [("PutUserPolicy", "put-guardrails")],
    MANY: [("UpdateServiceSpecificCredential", "deactivate"), ("PutUserPolicy", "deny-bearer-tokens")],
    FULL_BUDGET: [
        ("UpdateServiceSpecificCredential", "deactivate"),
        ("PutUserPolicy", "deny-bearer-tokens"),  # answered LimitExceeded: the step falls back to a managed policy
        ("CreatePolicy", "deny-bearer-tokens"),
        ("AttachUserPolicy", "deny-bearer-tokens"),
    ],
    FOOTHOLDS: [
        ("UpdateServiceSpecificCredential", "deactivate"),
        ("PutUserPolicy", "deny-bearer-tokens"),
        ("UpdateAccessKey", "footholds"),
        ("DetachUserPolicy", "policies"),
        ("DeleteUserPolicy", "policies"),
        ("UpdateServiceSpecificCredential", "credentials"),
        ("DeleteLoginProfile", "credentials"),
        ("PutModelInvocationLoggingConfiguration", "logging"),
    ],
    ROLE_FOOTHOLDS: [
        ("PutRolePolicy", "deny-role-bearer-tokens"),
        ("PutRolePolicy", "revoke-role-sessions"),
        ("DetachRolePolicy", "policies"),
        ("DeleteRolePolicy", "policies"),
        ("UpdateAssumeRolePolicy", "trust"),
        ("PutModelInvocationLoggingConfiguration", "logging"),  # the key's region's (us-west-2)
    ],
    USER_SIGNED: [
        ("PutUserPolicy", "deny-user-bearer-tokens"),
        ("UpdateAccessKey", "deactivate-access-key"),  # the access key that signed the token
        ("UpdateAccessKey", "footholds"),  # the one made on the user during the key's life
        ("DetachUserPolicy", "grants"),
        ("DeleteUserPolicy", "grants"),
        ("UpdateServiceSpecificCredential", "credentials"),
        ("DeleteLoginProfile", "credentials"),
        ("PutModelInvocationLoggingConfiguration", "logging"),
    ],
    ASKED: [
        ("UpdateServiceSpecificCredential", "deactivate"),
        ("PutUserPolicy", "deny-bearer-tokens"),
        ("StopModelCustomizationJob", "stop"),
        ("StopModelInvocationJob", "stop"),
        ("StopEvaluationJob", "stop"),
        ("DeleteProvisionedModelThroughput", "throughput"),  # the hourly one: a committed one AWS will not delete
        ("PutUserPolicy", "quarantine"),  # the deny-all first: the user can do nothing while the rest goes
        ("UpdateAccessKey", "quarantine"),
        ("DeleteLoginProfile", "quarantine"),
    ],
    CLOSE_OLDER: [
        ("UpdateServiceSpecificCredential", "deactivate"),
        ("PutUserPolicy", "deny-bearer-tokens"),
        ("UpdateAccessKey", "footholds"),
        ("UpdateServiceSpecificCredential", "credentials"),
        ("DeleteLoginProfile", "credentials"),
    ],
}
# The calls the FULL_BUDGET scenario shares with LONG are faulted there already: here only the fallback's. An
# operation two steps send is named with its step: "Operation (step)".
FAULTED_CALLS = {
    FULL_BUDGET: {"CreatePolicy", "AttachUserPolicy"},
    FOOTHOLDS: {
        "UpdateAccessKey",
        "DetachUserPolicy",
        "DeleteUserPolicy",
        "PutModelInvocationLoggingConfiguration",
        "UpdateServiceSpecificCredential (credentials)",  # the window credential's: containment's is faulted above
        "DeleteLoginProfile",
    },
    ROLE_FOOTHOLDS: {
        "DetachRolePolicy",
        "DeleteRolePolicy",
        "UpdateAssumeRolePolicy",
        "PutModelInvocationLoggingConfiguration",
    },
    # the user path's own: the signing key's deactivation, an action no other scenario runs (its deny is
    # deny-bearer-tokens-for-user and its foothold steps are FOOTHOLDS' actions, faulted there)
    USER_SIGNED: {"UpdateAccessKey (deactivate-access-key)"},
    ASKED: {
        "StopModelCustomizationJob",
        "StopModelInvocationJob",
        "StopEvaluationJob",
        "DeleteProvisionedModelThroughput",
        "PutUserPolicy (quarantine)",
        "UpdateAccessKey",
        "DeleteLoginProfile",
    },
    CLOSE_OLDER: {"UpdateAccessKey", "UpdateServiceSpecificCredential (credentials)", "DeleteLoginProfile"},
}
# The containment changes of a scenario that are due together (sent at once): a refused one does not hold back the
# others. A foothold scenario's containment calls are faulted on its playbook's plain scenario.
DUE_TOGETHER: dict[str, set[str]] = {
    LONG: {"deactivate", "deny-bearer-tokens"},
    FULL_BUDGET: {"deactivate", "deny-bearer-tokens"},
    MANY: {"deactivate", "deny-bearer-tokens"},
    SHORT: {"deny-role-bearer-tokens", "revoke-role-sessions"},
    USER_SIGNED: {"deny-user-bearer-tokens", "deactivate-access-key"},
    GUARD: set(),
}
# The containment steps of each playbook that has foothold steps (of the scenario, where its principal is another
# kind): they stay applied whatever a foothold step meets.
CONTAINMENT = {
    LONG: ("deactivate", "deny-bearer-tokens"),
    SHORT: ("deny-role-bearer-tokens", "revoke-role-sessions"),
    USER_SIGNED: ("deny-user-bearer-tokens", "deactivate-access-key"),
}
# The steps that change what an attacker left (after containment). A refused one stops only itself and the foothold
# steps that wait for it (WAITS_FOR: a later step changing the same part of the principal keeps playbook order);
# every other foothold step still goes.
FOOTHOLD_STEPS = {
    "footholds",
    "policies",
    "grants",
    "credentials",
    "logging",
    "trust",
    "stop",
    "throughput",
    "quarantine",
}
WAITS_FOR = {"quarantine": {"footholds", "credentials"}}  # the user's access keys and console password
SEVERAL_REQUESTS = {"policies", "grants", "credentials", "stop", "quarantine"}  # steps that send a request per change
# Steps whose change no rollback undoes (AWS has no inverse): rollback reports them irreversible, the rest exactly.
IRREVERSIBLE = {"stop", "throughput"}
# Two steps sending one operation at once are told apart by what they send, never by which arrives first:
# "Operation (step)" -> the parameters only that step's request carries.
MATCH: dict[str, dict[str, str]] = {
    "PutRolePolicy (deny-role-bearer-tokens)": {"PolicyName": DEFAULT_POLICY_NAME},
    "PutRolePolicy (revoke-role-sessions)": {"PolicyName": REVOKE_POLICY_NAME},
    "PutUserPolicy (deny-bearer-tokens)": {"PolicyName": DEFAULT_POLICY_NAME},
    "PutUserPolicy (quarantine)": {"PolicyName": QUARANTINE_POLICY_NAME},
}
FAULTS = ("throttle", "deny", "unavailable", "reset-after")
# The foothold calls are faulted refused and answer-lost (each cell costs a run, a resume and a rollback), and one
# call of each foothold step throttled and unavailable as well (RETRIED_CALLS): a throttle retried and landing, and
# a 503 exhausting the attempts, prove the step's write-ahead record, verification and resume around botocore's
# retry. The step's other calls go through the same retry (botocore's, per service, proven on the rows above) in
# the same loop after the same record: a cell each would prove nothing new for its cost.
SCENARIO_FAULTS = {
    FOOTHOLDS: ("deny", "reset-after"),
    ROLE_FOOTHOLDS: ("deny", "reset-after"),
    ASKED: ("deny", "reset-after"),
    CLOSE_OLDER: ("deny", "reset-after"),
    USER_SIGNED: ("deny", "reset-after"),
}
RETRIED_CALLS = {
    FOOTHOLDS: {
        "UpdateAccessKey",
        "DetachUserPolicy",
        "PutModelInvocationLoggingConfiguration",
        "DeleteLoginProfile",
    },
    ROLE_FOOTHOLDS: {"UpdateAssumeRolePolicy"},
    ASKED: {"StopModelCustomizationJob", "PutUserPolicy (quarantine)"},
}
# Calls faulted with fewer faults than their scenario's, where the others would repeat a cell for its cost (CI's
# 3-minute budget): the stop step's three requests share one loop after one write-ahead record, so a refusal after
# two stops landed (evaluation) and a lost answer leaving a job `Stopping`, not `Stopped` (batch), are what its later
# calls add to the customization job's cells; the throughput step's lost answer (the hourly one deleted upstream, the
# committed one never asked for; resume finds it gone, rollback names it irreversible) holds what its refusal would
# (a foothold step's refusal stopping only itself is proven on the stop's); the role path's logging is the long-term
# path's action in the key's region, where a lost answer (its write there, undone there) is what is new.
CALL_FAULTS: dict[str, dict[str, tuple[str, ...]]] = {
    ASKED: {
        "StopModelInvocationJob": ("reset-after",),
        "StopEvaluationJob": ("deny",),
        "DeleteProvisionedModelThroughput": ("reset-after",),
    },
    ROLE_FOOTHOLDS: {"PutModelInvocationLoggingConfiguration": ("reset-after",)},
}
THROTTLES = 2  # "a few": retried twice
PERSISTENT = 100  # more than botocore ever attempts
# A persistent fault exhausts every retry, and botocore's backoff between them costs seconds a cell. How many
# retries came before the failure changes nothing the matrix checks, so persistent cells allow two (the
# throttle cells keep responder's default budget and prove the retry itself).
PERSISTENT_MAX_ATTEMPTS = 2
ATTEMPTS = PERSISTENT_MAX_ATTEMPTS + 1  # botocore's max_attempts counts the retries after the first attempt
MANAGED = managed_policy_name(LEAKED_USER)
# Cells that expose a known product bug, marked xfail(strict=True) until fixed. The three this matrix found are
# fixed: a lost CreatePolicy or AttachUserPolicy answer left the managed deny behind after rollback (undo now works
# from the write-ahead snapshot and the live state), and a refused stop held back the quarantine, which does not
# wait for it, when the quarantine was not yet due (a refused foothold change now stops only what waits for it).
KNOWN_BUGS: dict[str, str] = {}

STOPS = {
    "StopModelCustomizationJob": "customization",
    "StopModelInvocationJob": "batch",
    "StopEvaluationJob": "evaluation",
}
State = dict[str, Any]  # the account, flattened: "credential <id>" / "user-policy <user> <name>" / ... -> value


@dataclass(frozen=True)
class Cell:
    scenario: str
    operation: str
    step: str  # the step whose request for the operation the fault hits (MATCH tells them apart)
    fault: str

    @property
    def playbook(self) -> str:
        return SCENARIOS[self.scenario]

    @property
    def id(self) -> str:
        return f"{self.scenario}-{self.operation}-{self.step}-{self.fault}"


def _cells() -> list[Cell]:
    cells = []
    for scenario, calls in MATRIX_CALLS.items():
        for operation, step in calls:
            faulted = FAULTED_CALLS.get(scenario, {operation})
            if operation not in faulted and f"{operation} ({step})" not in faulted:
                continue
            faults = SCENARIO_FAULTS.get(scenario, FAULTS)
            if {operation, f"{operation} ({step})"} & RETRIED_CALLS.get(scenario, set()):
                faults = FAULTS
            narrowed = CALL_FAULTS.get(scenario, {})
            faults = narrowed.get(f"{operation} ({step})", narrowed.get(operation, faults))
            cells += [Cell(scenario, operation, step, fault) for fault in faults]
    return cells


def _params() -> list[Any]:
    params = []
    for cell in _cells():
        bug = KNOWN_BUGS.get(cell.id)
        marks = [pytest.mark.xfail(strict=True, raises=AssertionError, reason=bug)] if bug else []
        params.append(pytest.param(cell, id=cell.id, marks=marks))
    return params


@dataclass
class Incident:
    long: Seeded
    short: SeededShortTerm
    upstream: str
    scenario: str = ""
    footholds: Footholds | None = None  # the LLMjacking scenario's
    planted_key: str | None = None
    window_credential: str | None = None  # a second Bedrock key made on the user during the key's life
    team_key: str | None = None  # the team's own access key, older than the leaked key
    older_credential: str | None = None  # and a second Bedrock key of the user's, older than the leaked one
    job_arn: str | None = None  # a customization job started during the key's life, still running
    window_jobs: WindowJobs | None = None  # +asked's: the user's running jobs and throughput, the team's job
    user_signed: UserSignedLLMjacking | None = None  # the user-signed short-term key and its user's footholds
    clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    @property
    def user(self) -> str:
        """The key's user: the long-term key's, or the one whose access key signed a short-term key."""
        return SIGNING_USER if self.user_signed else LEAKED_USER

    @property
    def users(self) -> tuple[str, ...]:
        return (LEAKED_USER, BYSTANDER, SIGNING_USER) if self.user_signed else (LEAKED_USER, BYSTANDER)

    @property
    def logging_region(self) -> str:
        """Where the logging step restores invocation logging: the key's region (a short-term key's is its own)."""
        return TOKEN_REGION if SCENARIOS[self.scenario] == SHORT else SANDBOX_REGION

    @property
    def other_credential(self) -> str | None:
        """The user's Bedrock credential the credentials step closes (not the leaked key's)."""
        return self.window_credential or (self.older_credential if self.scenario == CLOSE_OLDER else None)

    @property
    def closed_keys(self) -> list[str]:
        """The access keys the footholds step sets Inactive: made in the window, or all with close_older."""
        return [k for k in (self.planted_key, self.team_key if self.scenario == CLOSE_OLDER else None) if k]

    def match(self, step: str, operation: str) -> dict[str, str] | None:
        """What the step's request carries that another step's of the same operation does not."""
        if operation == "UpdateAccessKey" and self.user_signed:  # the signing key's (containment) or the window's
            signed = self.user_signed
            return {
                "AccessKeyId": signed.signed.signing_key_id
                if step == "deactivate-access-key"
                else signed.planted_key_id
            }
        if operation != "UpdateServiceSpecificCredential":
            return MATCH.get(f"{operation} ({step})")
        if step == "credentials":  # deactivate sends the same operation, for the leaked key's credential
            return {"ServiceSpecificCredentialId": self.other_credential or ""}
        if step == "deactivate" and self.other_credential:
            return {"ServiceSpecificCredentialId": self.long.credential_id}
        return None

    def key(self, playbook: str) -> str | None:
        if playbook == SHORT and self.user_signed:
            return self.user_signed.key
        return {LONG: self.long.key, SHORT: self.short.key}.get(playbook)

    def iam(self) -> Any:
        return self.client("iam")

    def client(self, service: str, region: str = SANDBOX_REGION) -> Any:
        """A client straight to the upstream, made once per test (making one costs more than its calls)."""
        if (service, region) not in self.clients:
            self.clients[service, region] = boto3.client(service, region_name=region, endpoint_url=self.upstream)
        return self.clients[service, region]

    def shape(self, scenario: str) -> None:
        """Give the seeded account the scenario's shape (straight upstream, never through the proxy)."""
        self.scenario = scenario
        if scenario in (ASKED, CLOSE_OLDER):  # the team's own ways in, from before the key was made
            older = datetime.now(timezone.utc) - timedelta(days=40)
            team = iam_backends[ACCOUNT]["aws"].create_access_key(LEAKED_USER)
            team.create_date = older.replace(tzinfo=None)  # moto keeps naive UTC
            self.team_key = team.access_key_id
            seed_login_profile(ACCOUNT, LEAKED_USER, older)
            if scenario == CLOSE_OLDER:
                with mock.patch("responder.sandbox.service_credentials._now", return_value=older):
                    self.older_credential = create_credential(ACCOUNT, LEAKED_USER)["ServiceSpecificCredentialId"]
            else:  # started by the key's user (CloudTrail's Create* events say so): the stop and throughput steps
                # change only what it started; the team's batch job and the throughput under a commitment stay
                jobs = seed_window_jobs(ACCOUNT, SANDBOX_REGION, window_start(80), user_identity(ACCOUNT, LEAKED_USER))
                self.window_jobs, self.job_arn = jobs, jobs.principal["customization"]
        if scenario == FOOTHOLDS:
            since = window_start(110)  # the key was made two hours ago
            self.footholds = seed_policy_footholds(ACCOUNT, "user", LEAKED_USER, since)
            self.planted_key = self.iam().create_access_key(UserName=LEAKED_USER)["AccessKey"]["AccessKeyId"]
            seed_logging_deleted(ACCOUNT, "us-east-1", since)
            credential = create_credential(ACCOUNT, LEAKED_USER)  # made now: in the window
            self.window_credential = credential["ServiceSpecificCredentialId"]
            self.iam().create_login_profile(UserName=LEAKED_USER, Password="Attacker-chosen-1!")
        if scenario == ROLE_FOOTHOLDS:
            since = parse_short_term_key(self.short.key).issued_at
            self.footholds = seed_policy_footholds(ACCOUNT, "role", LEAKED_ROLE, since)
            seed_trust_change(ACCOUNT, LEAKED_ROLE, since, ROLE_TRUST)
            seed_logging_deleted(ACCOUNT, TOKEN_REGION, since)  # the key's region's
        if scenario == USER_SIGNED:
            self.user_signed = seed_user_signed_llmjacking(ACCOUNT)
            self.footholds = self.user_signed.policies
            self.planted_key = self.user_signed.planted_key_id
            self.window_credential = self.user_signed.window_credential_id
        if scenario == FULL_BUDGET:  # as test_sandbox_e2e: room left, but not for the deny
            resources = [f"arn:aws:s3:::bucket/{i:04d}" for i in range(66)]
            statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": resources}
            document = {"Version": "2012-10-17", "Statement": [statement]}
            self.iam().put_user_policy(UserName=LEAKED_USER, PolicyName="big", PolicyDocument=json.dumps(document))


@pytest.fixture(scope="module", autouse=True)
def no_waiting() -> Iterator[None]:
    """botocore's waits, between attempts (up to 1 s, then 2 s, after a throttle) and before each request once a
    throttle turns on adaptive rate limiting (0.5 requests a second at first), cost a throttle cell ~4 s and prove
    nothing the matrix checks: botocore still decides every retry, and the cell counts the attempts."""
    with (
        mock.patch.object(ExponentialBackoff, "delay_amount", return_value=0.0),
        mock.patch.object(TokenBucket, "acquire", return_value=True),
    ):
        yield


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    """One in-process moto server for the module; each test resets and re-seeds it."""
    with moto_http_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def proxy(upstream: str) -> Iterator[FaultProxy]:
    with FaultProxy(upstream) as running:
        yield running


@pytest.fixture
def incident(upstream: str, proxy: FaultProxy) -> Incident:
    parts = urlsplit(upstream)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    connection.request("POST", "/moto-api/reset")
    assert connection.getresponse().status == 200
    connection.close()
    proxy.disarm()
    proxy.seen.clear()
    proxy.forms.clear()
    proxy.faulted.clear()
    return Incident(seed_incident(ACCOUNT), seed_short_term_incident(ACCOUNT), upstream)


def _settings(
    tmp_path: Path,
    proxy: FaultProxy,
    listener: Callable[[str, dict[str, Any]], None] | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> Settings:
    return Settings(
        runs_dir=tmp_path / "runs",
        aws=AwsOptions(region="us-east-1", endpoint_url=proxy.url, max_attempts=max_attempts),
        listeners=[listener] if listener else [],
        verify_delays=(0.0,),
    )


def _run(scenario: str, incident: Incident, settings: Settings) -> Outcome:
    playbook = SCENARIOS[scenario]
    params = {**PLAYBOOK_PARAMS.get(playbook, {}), **SCENARIO_PARAMS.get(scenario, {})}
    return start_run(playbook, params, incident.key(playbook), dry_run=False, confirm=None, settings=settings)


# ---- the account, read back from the upstream (never through the proxy)


def account_state(incident: Incident) -> State:
    """The account as the emulator holds it, read in this process (no request: a cell reads it four times, and
    twenty requests a read were a third of a cell's time). What AWS would answer is what these objects serialize
    to: `test_account_state_is_what_aws_answers` checks the two agree on every scenario's account."""
    iam = iam_backends[ACCOUNT]["aws"]
    state: State = {}
    for cred in service_credentials_of(iam).creds.values():
        if cred.user_name in incident.users:
            state[f"credential {cred.id}"] = cred.metadata()["Status"]
    for user in incident.users:
        found = iam.get_user(user)
        for name, document in found.policies.items():
            state[f"user-policy {user} {name}"] = json.loads(document)
        state[f"user-attached {user}"] = sorted(found.managed_policies)
        for key in found.access_keys:
            state[f"access-key {key.access_key_id}"] = key.status
    state["login-profile"] = bool(iam.get_user(incident.user).password)  # the key's user's
    role = iam.get_role(LEAKED_ROLE)
    for name, document in role.policies.items():
        state[f"role-policy {name}"] = json.loads(document)
    state["role-attached"] = sorted(role.managed_policies)
    state["role-trust"] = json.loads(role.assume_role_policy_document)
    for arn, policy in iam.managed_policies.items():
        if arn.startswith(f"arn:aws:iam::{ACCOUNT}:"):
            default = next(v for v in policy.versions if v.is_default)
            state[f"managed-policy {arn}"] = json.loads(default.document)
    for region in (SANDBOX_REGION, TOKEN_REGION):
        logging = bedrock_backends[ACCOUNT][region].get_model_invocation_logging_configuration()
        state[f"invocation-logging {region}"] = logging or None
    bedrock = bedrock_backends[ACCOUNT][SANDBOX_REGION]
    for job in bedrock.model_customization_jobs.values():
        state[f"job {job.job_arn}"] = job.status
    for attr in (_INVOCATION_JOBS, _EVALUATION_JOBS):  # batch inference and evaluation jobs (the sandbox adds them)
        state |= {f"job {job['jobArn']}": job["status"] for job in bedrock_kept(bedrock, attr)}
    state |= {f"throughput {t['provisionedModelArn']}": t["status"] for t in bedrock_kept(bedrock, _THROUGHPUTS)}
    return state


def account_state_answered(incident: Incident) -> State:
    """account_state as AWS's API answers it, through the emulator's wire (the slow way, to check the fast)."""
    iam = incident.iam()
    state: State = {}
    for user in incident.users:
        for cred in iam.list_service_specific_credentials(UserName=user)["ServiceSpecificCredentials"]:
            state[f"credential {cred['ServiceSpecificCredentialId']}"] = cred["Status"]
        for name, document in inline_policies(iam, user).items():
            state[f"user-policy {user} {name}"] = document
        attached = iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
        state[f"user-attached {user}"] = sorted(p["PolicyArn"] for p in attached)
        for key in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
            state[f"access-key {key['AccessKeyId']}"] = key["Status"]
    try:  # its existence: AWS never gives a password back, rollback makes a new one
        iam.get_login_profile(UserName=incident.user)
        state["login-profile"] = True
    except iam.exceptions.NoSuchEntityException:
        state["login-profile"] = False
    for name in iam.list_role_policies(RoleName=LEAKED_ROLE)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=LEAKED_ROLE, PolicyName=name)["PolicyDocument"]
        state[f"role-policy {name}"] = document
    attached = iam.list_attached_role_policies(RoleName=LEAKED_ROLE)["AttachedPolicies"]
    state["role-attached"] = sorted(p["PolicyArn"] for p in attached)
    state["role-trust"] = iam.get_role(RoleName=LEAKED_ROLE)["Role"]["AssumeRolePolicyDocument"]
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
        state[f"managed-policy {policy['Arn']}"] = version["PolicyVersion"]["Document"]
    for region in (SANDBOX_REGION, TOKEN_REGION):
        logging = incident.client("bedrock", region).get_model_invocation_logging_configuration()
        state[f"invocation-logging {region}"] = logging.get("loggingConfig") or None
    bedrock = incident.client("bedrock")
    for job in bedrock.list_model_customization_jobs()["modelCustomizationJobSummaries"]:
        state[f"job {job['jobArn']}"] = job["status"]
    state |= {f"job {j['jobArn']}": j["status"] for j in bedrock.list_model_invocation_jobs()["invocationJobSummaries"]}
    state |= {f"job {j['jobArn']}": j["status"] for j in bedrock.list_evaluation_jobs()["jobSummaries"]}
    throughputs = bedrock.list_provisioned_model_throughputs()["provisionedModelSummaries"]
    state |= {f"throughput {t['provisionedModelArn']}": t["status"] for t in throughputs}
    return state


@functools.cache
def bedrock_operations() -> frozenset[str]:
    """Bedrock's operation names (botocore's model): a refusal names its permission with the service's prefix."""
    return frozenset(botocore.session.get_session().get_service_model("bedrock").operation_names)


def managed_arn() -> str:
    return f"arn:aws:iam::{ACCOUNT}:policy/{MANAGED}"


def footprint(step: str, incident: Incident) -> tuple[str, ...]:
    """The keys of the account state a step may change."""
    user, jobs = incident.user, incident.window_jobs
    signing = incident.user_signed.signed.signing_key_id if incident.user_signed else None
    user_grants = (f"user-attached {user}", f"user-policy {user} {BACKDOOR_INLINE[0]}")
    return {
        "deactivate": (f"credential {incident.long.credential_id}",),
        "deny-bearer-tokens": (
            f"user-policy {LEAKED_USER} {DEFAULT_POLICY_NAME}",
            f"user-attached {LEAKED_USER}",
            f"managed-policy {managed_arn()}",
        ),
        "deny-role-bearer-tokens": (f"role-policy {DEFAULT_POLICY_NAME}", "role-attached"),
        "revoke-role-sessions": (f"role-policy {REVOKE_POLICY_NAME}",),
        "put-guardrails": (f"user-policy {LEAKED_USER} {GUARDRAIL_POLICY_NAME}",),
        "deny-user-bearer-tokens": (f"user-policy {user} {DEFAULT_POLICY_NAME}", f"user-attached {user}"),
        "deactivate-access-key": (f"access-key {signing}",),
        "footholds": tuple(f"access-key {k}" for k in incident.closed_keys),
        "policies": user_grants
        if incident.footholds is None or incident.footholds.kind == "user"
        else ("role-attached", f"role-policy {BACKDOOR_INLINE[0]}"),
        "grants": user_grants,  # the short-term playbook's name for the user's
        "credentials": (f"credential {incident.other_credential}", "login-profile"),
        "logging": (f"invocation-logging {incident.logging_region}",),
        "trust": ("role-trust",),
        "stop": tuple(f"job {arn}" for arn in jobs.principal.values()) if jobs else (f"job {incident.job_arn}",),
        "throughput": (f"throughput {jobs.hourly_throughput}", f"throughput {jobs.committed_throughput}")
        if jobs
        else (),
        "quarantine": (
            f"user-policy {LEAKED_USER} {QUARANTINE_POLICY_NAME}",
            f"access-key {incident.team_key}",
            "login-profile",
        ),
    }[step]


def in_place(step: str, state: State, incident: Incident) -> bool:
    """The step's goal holds in the account."""
    if step == "deactivate":
        return bool(state.get(f"credential {incident.long.credential_id}") == "Inactive")
    if step == "deny-bearer-tokens":
        managed = managed_arn() in state[f"user-attached {LEAKED_USER}"] and call_done("CreatePolicy", state, incident)
        return managed or bool(state.get(f"user-policy {LEAKED_USER} {DEFAULT_POLICY_NAME}") == DENY_BEARER_TOKENS)
    if step == "deny-role-bearer-tokens":
        return bool(state.get(f"role-policy {DEFAULT_POLICY_NAME}") == DENY_BEARER_TOKENS)
    if step == "deny-user-bearer-tokens":
        return bool(state.get(f"user-policy {incident.user} {DEFAULT_POLICY_NAME}") == DENY_BEARER_TOKENS)
    if step == "deactivate-access-key":
        assert incident.user_signed is not None
        return bool(state.get(f"access-key {incident.user_signed.signed.signing_key_id}") == "Inactive")
    if step == "put-guardrails":
        return f"user-policy {LEAKED_USER} {GUARDRAIL_POLICY_NAME}" in state
    if step == "footholds":
        return all(state.get(f"access-key {k}") == "Inactive" for k in incident.closed_keys)
    if step in ("policies", "grants"):
        kind = "User" if incident.footholds is None or incident.footholds.kind == "user" else "Role"
        return call_done(f"Detach{kind}Policy", state, incident) and call_done(f"Delete{kind}Policy", state, incident)
    if step == "credentials":
        done = call_done("UpdateServiceSpecificCredential", state, incident)
        return done and call_done("DeleteLoginProfile", state, incident)
    if step == "trust":
        return bool(state.get("role-trust") == ROLE_TRUST)
    if step == "logging":
        return bool(state.get(f"invocation-logging {incident.logging_region}") == TEAM_LOGGING)
    if step == "stop":
        stopped = incident.window_jobs.principal.values() if incident.window_jobs else [incident.job_arn]
        return all(state.get(f"job {arn}") not in (None, "InProgress") for arn in stopped)
    if step == "throughput":  # the hourly one deleted; the one under a commitment term left (AWS would refuse)
        assert incident.window_jobs is not None
        hourly, committed = incident.window_jobs.hourly_throughput, incident.window_jobs.committed_throughput
        return f"throughput {hourly}" not in state and f"throughput {committed}" in state
    if step == "quarantine":
        quarantined = state.get(f"user-policy {LEAKED_USER} {QUARANTINE_POLICY_NAME}") == DENY_ALL
        return quarantined and call_done("UpdateAccessKey", state, incident) and state["login-profile"] is False
    assert step == "revoke-role-sessions", step
    return revoked_before(state.get(f"role-policy {REVOKE_POLICY_NAME}")) is not None


def call_done(cell: Cell | str, state: State, incident: Incident) -> bool:
    """What the faulted request itself changes is in the account (a step may make several requests)."""
    operation = cell if isinstance(cell, str) else cell.operation
    if operation == "CreatePolicy":
        return bool(state.get(f"managed-policy {managed_arn()}") == DENY_BEARER_TOKENS)
    if operation == "AttachUserPolicy":
        return managed_arn() in state[f"user-attached {LEAKED_USER}"]
    if operation == "DetachUserPolicy":
        assert incident.footholds is not None
        return incident.footholds.managed_arn not in state[f"user-attached {incident.user}"]
    if operation == "DeleteUserPolicy":
        return f"user-policy {incident.user} {BACKDOOR_INLINE[0]}" not in state
    if operation in STOPS:  # one job of the stop step's
        assert incident.window_jobs is not None
        return state.get(f"job {incident.window_jobs.principal[STOPS[operation]]}") not in (None, "InProgress")
    if operation == "DetachRolePolicy":
        assert incident.footholds is not None
        return incident.footholds.managed_arn not in state["role-attached"]
    if operation == "DeleteRolePolicy":
        return f"role-policy {BACKDOOR_INLINE[0]}" not in state
    if operation == "UpdateServiceSpecificCredential" and incident.other_credential:
        return bool(state.get(f"credential {incident.other_credential}") == "Inactive")
    if operation == "UpdateAccessKey" and incident.scenario == ASKED:  # the quarantine's: the team's key
        return bool(state.get(f"access-key {incident.team_key}") == "Inactive")
    if operation == "PutUserPolicy" and incident.scenario == ASKED and getattr(cell, "step", "") == "quarantine":
        return bool(state.get(f"user-policy {LEAKED_USER} {QUARANTINE_POLICY_NAME}") == DENY_ALL)
    if operation == "DeleteLoginProfile":
        return state["login-profile"] is False
    assert isinstance(cell, Cell), cell
    return in_place(cell.step, state, incident)  # the step's only request


def unchanged(keys: tuple[str, ...], state: State, seeded: State) -> dict[str, tuple[Any, Any]]:
    """The keys whose value differs from the seeded account: (seeded, now)."""
    return {k: (seeded.get(k), state.get(k)) for k in keys if seeded.get(k) != state.get(k)}


def assert_contained(scenario: str, incident: Incident) -> None:
    state = account_state(incident)
    missing = [step for _, step in MATRIX_CALLS[scenario] if not in_place(step, state, incident)]
    assert missing == [], f"not contained: {missing}"


def lost_for_good(incident: Incident) -> State:
    """What no rollback gives back, as it stands after one: the jobs the stop ended (AWS cannot resume one: moto's
    customization job is Stopped at once, the sandbox's batch and evaluation jobs Stopping as AWS first answers),
    the hourly throughput deleted (AWS cannot restore one) and the console password the quarantine removed (AWS
    never returns a password: its undo names the command)."""
    if incident.scenario != ASKED:
        return {}
    assert incident.window_jobs is not None
    jobs = incident.window_jobs.principal
    stopped = {f"job {arn}": "Stopped" if kind == "customization" else "Stopping" for kind, arn in jobs.items()}
    return {**stopped, f"throughput {incident.window_jobs.hourly_throughput}": None, "login-profile": False}


def assert_as_seeded(state: State, seeded: State, incident: Incident) -> None:
    lost = lost_for_good(incident)
    assert {k: state.get(k) for k in lost} == lost  # what holds instead
    assert {k: v for k, v in state.items() if k not in lost} == {k: v for k, v in seeded.items() if k not in lost}
    # and, spelled out, what "as seeded" means
    if incident.team_key:  # the team's own ways in: open again, and the quarantine lifted
        assert state[f"access-key {incident.team_key}"] == "Active"
        assert f"user-policy {LEAKED_USER} {QUARANTINE_POLICY_NAME}" not in state
    if incident.older_credential:  # close_older's: the password back (a new one), the older key active
        assert state[f"credential {incident.older_credential}"] == "Active"
        assert state["login-profile"] is True
    assert state[f"credential {incident.long.credential_id}"] == "Active"
    assert state[f"credential {incident.long.bystander_credential_id}"] == "Active"
    assert state[f"user-policy {LEAKED_USER} {EXISTING_POLICY[0]}"] == EXISTING_POLICY[1]
    assert f"user-policy {LEAKED_USER} {DEFAULT_POLICY_NAME}" not in state
    planted = incident.footholds
    if incident.user_signed:  # the signing key active again, the user's footholds back as the attacker left them
        signed, user = incident.user_signed, incident.user
        assert state[f"access-key {signed.signed.signing_key_id}"] == state[f"access-key {signed.planted_key_id}"]
        assert state[f"access-key {signed.planted_key_id}"] == "Active"
        assert state[f"user-attached {user}"] == [signed.policies.managed_arn]
        assert state[f"user-policy {user} {BACKDOOR_INLINE[0]}"] == BACKDOOR_INLINE[1]
        assert f"user-policy {user} {DEFAULT_POLICY_NAME}" not in state
        assert state[f"credential {signed.window_credential_id}"] == "Active"
        assert state["login-profile"] is True
        assert state[f"invocation-logging {TOKEN_REGION}"] is None
        return
    if planted is None:
        assert [k for k in state if k.startswith(("role-policy ", "managed-policy "))] == []
        assert state[f"user-attached {LEAKED_USER}"] == state["role-attached"] == []
        return
    if planted.kind == "role":  # the role's footholds are back exactly as the attacker left them
        assert state["role-attached"] == [planted.managed_arn]
        assert state[f"role-policy {BACKDOOR_INLINE[0]}"] == BACKDOOR_INLINE[1]
        assert state["role-trust"] != ROLE_TRUST  # widened, as the attacker left it
        assert state[f"invocation-logging {TOKEN_REGION}"] is None  # deleted, as the attacker left it
        return
    assert state["role-attached"] == []
    # the footholds are back exactly as the attacker left them
    assert state[f"user-attached {LEAKED_USER}"] == [planted.managed_arn]
    assert state[f"user-policy {LEAKED_USER} {BACKDOOR_INLINE[0]}"] == BACKDOOR_INLINE[1]
    assert state[f"access-key {incident.planted_key}"] == "Active"
    assert state[f"invocation-logging {SANDBOX_REGION}"] is None
    assert state[f"credential {incident.window_credential}"] == "Active"
    assert state["login-profile"] is True


def goes_on_with(cell: Cell) -> set[str]:
    """The changes the cell's refusal does not hold back: the containment changes due with it (each alone stops the
    key) or, for a foothold step, every other foothold step of the scenario that does not wait for it."""
    if cell.step in FOOTHOLD_STEPS:
        calls = MATRIX_CALLS[cell.scenario]
        return {s for _, s in calls if s in FOOTHOLD_STEPS - {cell.step} and cell.step not in WAITS_FOR.get(s, ())}
    due = DUE_TOGETHER[cell.scenario]
    return due - {cell.step} if cell.step in due else set()


def base(step_id: str) -> str:
    """A group's step without its key: `deactivate[USER/ACCA...]` -> `deactivate` (one key per group here)."""
    return step_id.split("[", 1)[0]


def applying(run: RunState, step: str) -> list[dict[str, Any]]:
    return [r for r in run.records if r.get("event") == j.APPLYING and base(str(r.get("step"))) == step]


# ---- the matrix


def test_matrix_covers_every_shipped_playbook() -> None:
    assert sorted(set(SCENARIOS.values())) == sorted(shipped_playbooks())
    assert sorted(MATRIX_CALLS) == sorted(SCENARIOS)


def step_of(scenario: str, operation: str, form: dict[str, str], incident: Incident) -> str | None:
    """The matrix step that sends this mutating request (steps due together send at once: arrival order tells
    nothing)."""
    steps = [step for op, step in MATRIX_CALLS[scenario] if op == operation]
    found = [s for s in steps if all(form.get(k) == v for k, v in (incident.match(s, operation) or {}).items())]
    return found[0] if len(set(found)) == 1 else None


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_matrix_covers_every_mutating_call(
    scenario: str, incident: Incident, proxy: FaultProxy, tmp_path: Path
) -> None:
    """A clean run's mutating requests, each with the step that sent it, are exactly the matrix's calls: each
    step's in its order, the steps due together in any order."""
    applying: list[str] = []

    def listen(event: str, fields: dict[str, Any]) -> None:
        if event == j.APPLYING:
            applying.append(base(str(fields.get("step"))))

    incident.shape(scenario)
    outcome = _run(scenario, incident, _settings(tmp_path, proxy, listen))
    assert outcome.status == "completed", outcome.message
    sent = [(op, form) for op, form in zip(proxy.seen, proxy.forms, strict=True) if not is_read_only(op)]
    calls = [(op, step_of(scenario, op, form, incident)) for op, form in sent]
    for step in dict.fromkeys(s for _, s in MATRIX_CALLS[scenario]):
        assert [c for c in calls if c[1] == step] == [c for c in MATRIX_CALLS[scenario] if c[1] == step]
    assert sorted(calls, key=str) == sorted(MATRIX_CALLS[scenario], key=str)
    assert sorted(applying) == sorted(dict.fromkeys(s for _, s in MATRIX_CALLS[scenario]))


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_account_state_is_what_aws_answers(scenario: str, incident: Incident) -> None:
    incident.shape(scenario)
    assert account_state(incident) == account_state_answered(incident)


def test_refused_foothold_step_holds_back_only_what_waits_for_it(
    incident: Incident, proxy: FaultProxy, tmp_path: Path
) -> None:
    """The stop refused while the footholds step, which the quarantine waits for, is still reading: the quarantine,
    not yet due when the refusal came, still runs once the footholds step is done (it does not wait for the stop).
    The +asked stop cells leave that order to timing; this one fixes it."""
    incident.shape(ASKED)
    proxy.arm("GetAccessKeyLastUsed", "hold")  # only the footholds step asks (the team key's last use)
    proxy.arm("StopModelCustomizationJob", "deny")

    def release_once_refused() -> None:
        deadline = time.monotonic() + 30
        while ("StopModelCustomizationJob", "deny") not in proxy.faulted and time.monotonic() < deadline:
            time.sleep(0.01)
        proxy.release(forward=True)

    releaser = threading.Thread(target=release_once_refused, daemon=True)
    releaser.start()
    outcome = _run(ASKED, incident, _settings(tmp_path, proxy, max_attempts=PERSISTENT_MAX_ATTEMPTS))
    releaser.join()
    assert proxy.held == ["GetAccessKeyLastUsed"]
    statuses = {base(s): step.status for s, step in load_run(outcome.paths.audit_log).steps.items()}
    assert (outcome.exit_code, statuses["stop"]) == (1, "failed"), outcome.message
    assert [statuses[s] for s in ("deactivate", "deny-bearer-tokens", "quarantine")] == ["verified"] * 3
    state = account_state(incident)
    assert all(in_place(s, state, incident) for s in ("deactivate", "deny-bearer-tokens", "quarantine"))
    assert state[f"job {incident.job_arn}"] == "InProgress"


@pytest.mark.parametrize("cell", _params())
def test_fault(cell: Cell, incident: Incident, proxy: FaultProxy, tmp_path: Path) -> None:
    incident.shape(cell.scenario)
    seeded = account_state(incident)
    throttle = cell.fault == "throttle"
    settings = _settings(tmp_path, proxy, max_attempts=MAX_ATTEMPTS if throttle else PERSISTENT_MAX_ATTEMPTS)
    match = incident.match(cell.step, cell.operation)
    proxy.arm(cell.operation, cell.fault, THROTTLES if throttle else PERSISTENT, match=match)
    outcome = _run(cell.scenario, incident, settings)
    faulted = len(proxy.faulted)
    proxy.disarm()
    check_claims(incident.iam(), outcome.paths.directory)  # every claim of its outputs, against AWS read now
    run = load_run(outcome.paths.audit_log)
    assert run.warnings == []
    run.steps = {base(step_id): step for step_id, step in run.steps.items()}
    steps = list(run.steps)
    together = goes_on_with(cell)
    before = steps[: steps.index(cell.step)]
    after = [s for s in steps[steps.index(cell.step) + 1 :] if s not in together]

    if cell.fault == "throttle":
        assert (outcome.exit_code, outcome.status) == (0, "completed"), outcome.message
        assert faulted == THROTTLES
        assert run.steps[cell.step].status == "verified"
        assert_contained(cell.scenario, incident)
        roll_back(cell, outcome, settings, incident, seeded)
        return

    # the run stops at the faulted step and says how to go on
    assert (outcome.exit_code, outcome.status) == (1, "failed"), outcome.message
    assert faulted == (1 if cell.fault == "deny" else ATTEMPTS)
    assert f"responder resume {outcome.run_id}" in outcome.message
    assert all(run.steps[s].done for s in before), {s: run.steps[s].status for s in before}
    # the changes before it, and those due together with it (not held back by its refusal), are in place
    mutating_before = [s for _, s in MATRIX_CALLS[cell.scenario] if s in before or s in together]
    assert all(run.steps[s].status == "verified" for s in mutating_before), {s: run.steps[s].status for s in steps}
    # a foothold step's fault leaves containment applied (verified here, in the account below and after resume)
    contained = CONTAINMENT.get(cell.scenario, CONTAINMENT[cell.playbook]) if cell.step in FOOTHOLD_STEPS else ()
    assert [run.steps[s].status for s in contained] == ["verified"] * len(contained)
    failed = run.steps[cell.step]
    assert failed.status == "failed"
    service = "bedrock" if cell.operation in bedrock_operations() else "iam"
    unavailable = "ServiceUnavailableException" if service == "bedrock" else "ServiceUnavailable"  # as each names it
    expected_error = {
        "deny": f"{service}:{cell.operation}",
        "unavailable": f"{unavailable} on {cell.operation}",
        "reset-after": "Connection was closed",
    }[cell.fault]
    assert expected_error in (failed.error or ""), failed.error
    assert expected_error in outcome.message
    assert all(applying(run, s) == [] for s in after)

    # the account matches the journal
    state = account_state(incident)
    touched = [s for s in steps if applying(run, s)]
    explained = {key for s in touched for key in footprint(s, incident)}
    assert unchanged(tuple((set(state) | set(seeded)) - explained), state, seeded) == {}, "changed, never journaled"
    assert all(in_place(s, state, incident) for s in [*mutating_before, *contained])
    if cell.fault == "reset-after":  # the change went through; the write-ahead record lets rollback undo it
        assert call_done(cell, state, incident)
        assert [r["snapshot"] is not None for r in applying(run, cell.step)] == [True]
    elif cell.step in SEVERAL_REQUESTS:  # a request per change: the refused one changed nothing
        assert not call_done(cell, state, incident)
    else:  # the request never reached the account, and the step left nothing behind (e.g. a created policy)
        assert unchanged(footprint(cell.step, incident), state, seeded) == {}

    # resume finishes the job; rollback restores the account exactly, save what AWS cannot undo, which it names
    resumed = resume_run(outcome.run_id, settings)
    assert (resumed.exit_code, resumed.status) == (0, "completed"), resumed.message
    assert_contained(cell.scenario, incident)
    check_claims(incident.iam(), outcome.paths.directory)
    roll_back(cell, outcome, settings, incident, seeded)


def roll_back(cell: Cell, outcome: Outcome, settings: Settings, incident: Incident, seeded: State) -> None:
    """Rollback restores the account exactly, save what AWS cannot undo: that it reports, and it holds."""
    back = rollback_run(outcome.run_id, reactivate_keys=True, settings=settings)
    assert (back.exit_code, back.status) == (0, "rolled-back"), back.message
    assert_as_seeded(account_state(incident), seeded, incident)
    check_claims(incident.iam(), outcome.paths.directory)
    undone = load_run(outcome.paths.audit_log).steps
    lost = sorted(base(s) for s, step in undone.items() if step.undo_status == "irreversible")
    assert lost == sorted(IRREVERSIBLE & {s for _, s in MATRIX_CALLS[cell.scenario]})
    assert all((undone[s].undo_message or "") in back.message for s in undone if base(s) in lost), back.message

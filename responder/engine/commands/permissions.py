"""The least-privilege IAM policies an operator needs to run some playbooks, and to roll them back, from the actions'
declarations: policies that cannot be turned into administrator rights.

What makes them so (each a statement a test checks over every playbook):
- IAM writes reach only users and roles (`user/*`, `role/*` of the holder's own account: IAM has no resource
  policies, so no other account's), never `*`;
- attach and detach only responder's own managed policies (`iam:PolicyARN` on the `Responder` name prefix), and
  create, read and delete only those (`policy/Responder*`);
- an explicit Deny of every IAM write on the principal running responder (the user `${aws:username}`, the role
  given as --operator-arn, the machines' own roles), on the
  `aws-reserved/*` roles (IAM Identity Center's), on the member-access role, and on any user or role tagged
  `responder-protected=true`;
- the rights only a rollback uses (delete and detach) are in a separate policy (`--rollback`), so the identity that
  contains cannot undo its own containment. IAM has no condition on a key's new status: the containment identity
  deactivates keys with the same action that reactivates them, and the rollback's policy holds it too.
- Two exceptions, for a playbook that takes away what the attacker gave the principal (a foothold step): its
  containment policy may detach any policy but responder's own (`ArnNotLike` on the `Responder` prefix: detaching
  grants nothing), and may delete inline policies, which IAM cannot limit by name (so that identity could delete
  responder's inline deny: the price of removing an attacker's inline policy). Re-attaching an attacker's managed
  policy on rollback needs attach rights on any policy, and recreating a removed console password lets its maker
  sign in as the user: escalations no emitted policy grants. With the rollback policy those undos are refused by
  IAM and the report names the command (`RESTORED_BY_AN_ADMINISTRATOR`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from responder.actions.registry import get_action
from responder.errors import UserError
from responder.playbook.model import Playbook

# Every run starts by asking who the operator is (recorded in the audit log, checked against the key's account).
ALWAYS = ("sts:GetCallerIdentity",)

# A fan-out's own calls, from the operator's account: the organization's accounts (--org), and a session in each.
ORGANIZATION = ("organizations:ListAccounts",)
ORGANIZATIONAL_UNITS = ("organizations:ListAccountsForParent", "organizations:ListOrganizationalUnitsForParent")  # --ou
ASSUME = "sts:AssumeRole"

# The role the member-role template creates in every account, and a fan-out's default --role-name.
MEMBER_ROLE = "ResponderMemberRole"
# Users and roles carrying this tag (value "true") are never changed by responder, whatever its policy allows.
PROTECTED_TAG = "responder-protected"
# Every managed policy responder creates is named so (ResponderDenyBedrockBearerTokens-<principal>).
MANAGED_PREFIX = "Responder"
# What only a rollback calls: taking away what containment added.
ROLLBACK_ONLY = frozenset(
    {"iam:DeleteUserPolicy", "iam:DeleteRolePolicy", "iam:DetachUserPolicy", "iam:DetachRolePolicy", "iam:DeletePolicy"}
)
# What a rollback never calls: creating, attaching, deleting keys (irreversible: nothing to undo).
CONTAINMENT_ONLY = frozenset(
    {"iam:CreatePolicy", "iam:AttachUserPolicy", "iam:AttachRolePolicy", "iam:DeleteServiceSpecificCredential"}
)
# What a foothold step (an action `after_containment`) removes in containment: the attacker's policies.
FOOTHOLD_REMOVALS = frozenset(
    {"iam:DeleteUserPolicy", "iam:DeleteRolePolicy", "iam:DetachUserPolicy", "iam:DetachRolePolicy"}
)
# What rollback calls to give back a managed policy a foothold step detached: granted by no emitted policy, since
# attaching any policy is an escalation (the rollback policy attaches responder's own only).
# Recreating a console password removed as a foothold: whoever may create one can sign in as the user, so neither
# phase's policy grants it.
NEVER_GRANTED = frozenset({"iam:CreateLoginProfile"})
RESTORED_BY_AN_ADMINISTRATOR = frozenset({"iam:AttachUserPolicy", "iam:AttachRolePolicy", *NEVER_GRANTED})
_WRITES = ("Put", "Delete", "Attach", "Detach", "Update", "Create")
# Calls IAM authorises on something other than one user, role or policy: the caller, or every user at once
# (ListServiceSpecificCredentials with AllUsers, GetAccountAuthorizationDetails), or another service.
_ANY_RESOURCE = frozenset({"iam:ListServiceSpecificCredentials", "iam:GetAccountAuthorizationDetails"})
# CloudTrail reads authorised on one trail: on trails only (any account's: an organization trail is the management
# account's).
_TRAIL_READS = frozenset({"cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus"})
# CloudTrail reads authorised on one Lake event data store: on stores only.
_EVENT_DATA_STORE_READS = frozenset({"cloudtrail:GetEventDataStore"})
# Writes to a per-region account setting (Bedrock's invocation logging): the service authorization reference names
# no resource type for them, so `*` is the only resource IAM accepts; listed by name, never by prefix.
_ACCOUNT_SETTING_WRITES = frozenset(
    {"bedrock:PutModelInvocationLoggingConfiguration", "bedrock:DeleteModelInvocationLoggingConfiguration"}
)
# Writes to one Bedrock job or provisioned throughput, each on its own resource type only (service authorization
# reference, "Actions, resources, and condition keys for Amazon Bedrock"): the ARNs of this account, any region.
_JOB_WRITES = {
    "bedrock:StopModelCustomizationJob": "model-customization-job",
    "bedrock:StopModelInvocationJob": "model-invocation-job",
    "bedrock:StopEvaluationJob": "evaluation-job",
    "bedrock:DeleteProvisionedModelThroughput": "provisioned-model",
}
# One statement per resource type, so each write reaches only its own kind of ARN.
_JOB_SIDS = {
    "model-customization-job": "ResponderBedrockJobs",
    "model-invocation-job": "ResponderBedrockBatchJobs",
    "evaluation-job": "ResponderBedrockEvaluationJobs",
    "provisioned-model": "ResponderBedrockProvisionedThroughput",
}


@dataclass(frozen=True)
class Account:
    """Where the policy's resource ARNs point: literal values, or IAM policy variables / CloudFormation ones."""

    partition: str = "aws"
    # Any account in the ARN is the holder's own: IAM has no resource policies, so an identity's IAM rights never
    # reach another account's users or roles (only an assumed role in that account does).
    account_id: str = "*"
    member_role: str = MEMBER_ROLE
    # The principal running responder: an IAM user is named by IAM's documented policy variable; a role must be
    # named (--operator-arn), or carry the protected tag, which the template's and the member role's do.
    own_arns: tuple[str, ...] = ("arn:aws:iam::*:user/${aws:username}",)

    def arn(self, resource: str) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:{resource}"


OPERATOR_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:(?:role|user)/[\w+=,.@/-]{1,512}")


def operator_account(operator_arn: str | None, fan_out_role: str | None = None) -> Account:
    """The operator's view: its own user by IAM's variable, and the role or user it names, denied."""
    if operator_arn is not None and not OPERATOR_ARN.fullmatch(operator_arn):
        raise UserError(f"--operator-arn {operator_arn!r} is not the ARN of an IAM role or user")
    named = () if operator_arn is None else (operator_arn,)
    return Account(member_role=fan_out_role or MEMBER_ROLE, own_arns=(*Account().own_arns, *named))


def required_permissions(playbooks: list[Playbook], sweep: bool = False) -> list[str]:
    """Every IAM action any step of these playbooks may call: to plan, apply, verify and undo (and a sweep's)."""
    from responder.actions.key_inventory import SWEEP_PERMISSIONS

    needed = set(ALWAYS) | (set(SWEEP_PERMISSIONS) if sweep else set())
    for playbook in playbooks:
        for step in playbook.actions():
            action = get_action(step.action or "")
            if action is not None:
                needed.update(action.permissions)
    return sorted(needed)


def removes_footholds(playbooks: list[Playbook]) -> set[str]:
    """The removals (FOOTHOLD_REMOVALS) a foothold step of these playbooks makes in containment."""
    found: set[str] = set()
    for playbook in playbooks:
        for step in playbook.actions():
            action = get_action(step.action or "")
            if action is not None and action.mutating and action.after_containment:
                found.update(FOOTHOLD_REMOVALS & set(action.permissions))
    return found


def phase_permissions(playbooks: list[Playbook], sweep: bool = False, rollback: bool = False) -> list[str]:
    """What containment calls (rollback=False), or what its rollback calls: never both sets in one policy, but for
    the attacker's policies a foothold step removes in containment."""
    every = required_permissions(playbooks, sweep)
    left_out = CONTAINMENT_ONLY if rollback else ROLLBACK_ONLY - removes_footholds(playbooks)
    return [action for action in every if action not in left_out | NEVER_GRANTED]


def is_write(action: str) -> bool:
    service, _, name = action.partition(":")
    return service == "iam" and name.startswith(_WRITES)


def _resource_kind(action: str) -> str:
    service, _, name = action.partition(":")
    if action in _TRAIL_READS:
        return "trail"
    if action in _EVENT_DATA_STORE_READS:
        return "event-data-store"
    if action in _ACCOUNT_SETTING_WRITES:
        return "setting"
    if action in _JOB_WRITES:
        return _JOB_WRITES[action]
    if service != "iam" or action in _ANY_RESOURCE:
        return "any"
    if name in ("GetPolicy", "GetPolicyVersion", "CreatePolicy", "DeletePolicy"):
        return "policy"
    if "Role" in name:
        return "role"
    return "user"  # users' policies, keys, access keys, service-specific credentials


def statements(actions: list[str], account: Account, rollback: bool = False) -> list[dict[str, Any]]:
    """Allow `actions`, each on the narrowest resource it is authorised on, and the Deny that keeps them off
    responder's own principal and the protected ones. In containment, a Detach is a foothold's removal: of any policy
    but responder's own."""
    users, roles = account.arn("user/*"), account.arn("role/*")
    own_policies = account.arn(f"policy/{MANAGED_PREFIX}*")
    trails = f"arn:{account.partition}:cloudtrail:*:*:trail/*"
    stores = f"arn:{account.partition}:cloudtrail:*:*:eventdatastore/*"
    where = {
        **{kind: [f"arn:{account.partition}:bedrock:*:{account.account_id}:{kind}/*"] for kind in _JOB_SIDS},
        "user": [users],
        "role": [roles],
        "policy": [own_policies],
        "any": ["*"],
        "trail": [trails],
        "event-data-store": [stores],
        "setting": ["*"],
    }
    grouped: dict[str, list[str]] = {k: [] for k in where}
    attaching: list[str] = []
    detaching_others: list[str] = []
    for action in sorted(set(actions)):
        if not rollback and action.partition(":")[2].startswith("Detach"):
            detaching_others.append(action)
        elif action.partition(":")[2].startswith(("Attach", "Detach")):
            attaching.append(action)
        else:
            grouped[_resource_kind(action)].append(action)
    sids = {
        "any": "ResponderRead",
        "user": "ResponderUsers",
        "role": "ResponderRoles",
        "policy": "ResponderPolicies",
        "trail": "ResponderTrails",
        "event-data-store": "ResponderLakeEventDataStores",
        "setting": "ResponderBedrockInvocationLogging",
        **_JOB_SIDS,
    }
    out: list[dict[str, Any]] = [
        {"Sid": sids[kind], "Effect": "Allow", "Action": found, "Resource": where[kind]}
        for kind, found in grouped.items()
        if found
    ]
    if attaching:
        out.append(
            {
                "Sid": "ResponderOwnManagedPoliciesOnly",
                "Effect": "Allow",
                "Action": attaching,
                "Resource": [users, roles],
                "Condition": {"ArnLike": {"iam:PolicyARN": own_policies}},
            }
        )
    if detaching_others:
        out.append(
            {
                "Sid": "ResponderDetachFootholdsNotOwnPolicies",
                "Effect": "Allow",
                "Action": detaching_others,
                "Resource": [users, roles],
                "Condition": {"ArnNotLike": {"iam:PolicyARN": own_policies}},
            }
        )
    writes = sorted(a for a in set(actions) if is_write(a) and _resource_kind(a) in ("user", "role"))
    if writes:
        never = [*account.own_arns, account.arn("role/aws-reserved/*"), account.arn(f"role/{account.member_role}")]
        out += [
            {"Sid": "ResponderNeverItselfOrReserved", "Effect": "Deny", "Action": writes, "Resource": never},
            {
                "Sid": "ResponderNeverProtected",
                "Effect": "Deny",
                "Action": writes,
                "Resource": [users, roles],
                "Condition": {"StringEquals": {f"aws:ResourceTag/{PROTECTED_TAG}": "true"}},
            },
        ]
    return out


def fan_out_statements(role_name: str) -> list[dict[str, Any]]:
    """The operator's rights to reach the other accounts: list the organization; assume `role_name` in an account
    of its own organization, or in another organization's only with an external id."""
    role = f"arn:*:iam::*:role/{role_name}"  # any partition: aws, aws-us-gov, aws-cn
    return [
        {
            "Sid": "ResponderListOrganization",
            "Effect": "Allow",
            "Action": [*ORGANIZATION, *ORGANIZATIONAL_UNITS],
            "Resource": "*",
        },
        {
            "Sid": "ResponderFanOut",
            "Effect": "Allow",
            "Action": ASSUME,
            "Resource": role,
            "Condition": {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}},
        },
        {
            "Sid": "ResponderFanOutOtherOrganizations",
            "Effect": "Allow",
            "Action": ASSUME,
            "Resource": role,
            "Condition": {"Null": {"sts:ExternalId": "false"}},
        },
    ]


def policy_document(
    playbooks: list[Playbook],
    sweep: bool = False,
    fan_out_role: str | None = None,
    rollback: bool = False,
    account: Account | None = None,
) -> dict[str, Any]:
    """A policy IAM accepts as it is (no extra keys: IAM rejects them).

    With fan_out_role, the operator's policy for a fan-out: the same grants for its own account (reached with its
    own credentials), plus listing the organization and assuming that role in every other account, where the
    role needs the policy printed without fan_out_role (the member-role template carries it).
    """
    account = account or Account(member_role=fan_out_role or MEMBER_ROLE)
    found = statements(phase_permissions(playbooks, sweep, rollback), account, rollback)
    if fan_out_role is not None:
        found += fan_out_statements(fan_out_role)
    return {"Version": "2012-10-17", "Statement": found}

"""What a change changes: a part of a principal, one credential, an account-region setting, or a resource by ARN.

The locks, the order of steps, the report's claims, the operator's own-principal check and the journal ask a target
these questions and never branch on its kind: a new kind is a class here, a line in TARGET_KINDS, and the contract
test over TARGET_KINDS covers it. `Target` keeps its name from when a part of a user or role was the only kind, so
the actions that declare one did not change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

# Two changes whose scopes meet run in playbook order; changes with disjoint scopes may run at once.
Scope = tuple[str, ...]


@dataclass(frozen=True)
class Target:
    """A part of an IAM user or role: its service credentials, an inline policy, its attached policies, its keys."""

    kind: ClassVar[str] = "principal"
    principal: str  # "user/NAME" or "role/NAME"
    part: str  # "service-credentials", "inline-policy/NAME", "attached-policies", "access-keys"

    @property
    def lock(self) -> str:  # one responder per principal, whichever part it changes
        return self.principal

    @property
    def scope(self) -> Scope:
        return ("principal", self.principal, self.part)

    @property
    def owner(self) -> str | None:
        return self.principal

    def describe(self) -> str:
        return f"{self.part} of {self.principal}"


@dataclass(frozen=True)
class CredentialTarget:
    """One credential of a principal (an access key, a service-specific credential), by id."""

    kind: ClassVar[str] = "credential"
    principal: str  # the owner, "user/NAME"
    part: str  # "access-keys" or "service-credentials": the owner's part this credential belongs to
    credential_id: str

    @property
    def lock(self) -> str:  # a credential is changed under its owner's lock: containment changes the same user
        return self.principal

    @property
    def scope(self) -> Scope:  # one key waits for a change to all the owner's keys of that kind, and the reverse
        return ("principal", self.principal, self.part)

    @property
    def owner(self) -> str | None:
        return self.principal

    def describe(self) -> str:
        return f"credential {self.credential_id} of {self.principal}"


@dataclass(frozen=True)
class SettingTarget:
    """A per-region setting of the account (Bedrock's model invocation logging), which no principal owns."""

    kind: ClassVar[str] = "setting"
    region: str
    setting: str  # "bedrock/model-invocation-logging"

    @property
    def lock(self) -> str:
        return f"setting/{self.region}/{self.setting}"

    @property
    def scope(self) -> Scope:
        return ("setting", self.region, self.setting)

    @property
    def owner(self) -> str | None:
        return None

    def describe(self) -> str:
        return f"{self.setting} in {self.region}"


@dataclass(frozen=True)
class ResourceTarget:
    """A resource named by its ARN (a customization job, a provisioned throughput)."""

    kind: ClassVar[str] = "resource"
    arn: str

    @property
    def lock(self) -> str:
        return f"resource/{self.arn}"

    @property
    def scope(self) -> Scope:
        return ("resource", self.arn)

    @property
    def owner(self) -> str | None:
        return None

    def describe(self) -> str:
        return self.arn


ChangeTarget = Target | CredentialTarget | SettingTarget | ResourceTarget

TARGET_KINDS: dict[str, type[ChangeTarget]] = {
    Target.kind: Target,
    CredentialTarget.kind: CredentialTarget,
    SettingTarget.kind: SettingTarget,
    ResourceTarget.kind: ResourceTarget,
}


def target_to_journal(target: ChangeTarget) -> dict[str, Any]:
    """A target as the journal keeps it: its kind and its fields."""
    return {"kind": target.kind, **asdict(target)}


def target_from_journal(journaled: dict[str, Any]) -> ChangeTarget:
    """A journaled target read back; ValueError for a kind or fields this version does not know."""
    kind = TARGET_KINDS.get(str(journaled.get("kind")))
    if kind is None:
        raise ValueError(f"unknown change target kind {journaled.get('kind')!r}")
    names = {f.name for f in fields(kind)}
    values = {k: v for k, v in journaled.items() if k != "kind"}
    if set(values) != names or not all(isinstance(v, str) and v for v in values.values()):
        raise ValueError(f"a {kind.kind} target needs {', '.join(sorted(names))}, got {sorted(values)}")
    return kind(**values)

"""What an alert source is: the typed contract every module in responder/alerts/sources/ fills in.

An alert source reads one report format (a scanner's report, a cloud detector's finding, a file of keys) into
findings. A finding holds the whole key when the alert does; otherwise it says where the key is (file, line,
column, commit) and what the alert recorded of it (its start, its hash) so the key read there can be confirmed.
Nothing outside a source's module knows its format's field names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

Holds = Literal["whole key", "whole or part of the key", "principal"]


@dataclass(frozen=True)
class Principal:
    """Who a cloud detector's finding is about (GuardDuty names a principal, never a key)."""

    kind: Literal["user", "role"]
    name: str
    account_id: str
    access_key_id: str | None
    finding_type: str


@dataclass(frozen=True)
class Finding:
    """One alert, as the source recorded it. `secret` is the whole key the alert holds, if any; `prefix` and
    `sha1` are what it recorded of a key it does not hold whole. `where` names the finding in messages (never
    its content)."""

    where: str
    rule: str = ""
    secret: str | None = None
    prefix: str | None = None
    sha1: str | None = None
    path: str | None = None
    line: int | None = None
    column: int | None = None
    commit: str | None = None
    exposed_at: datetime | None = None
    principal: Principal | None = None

    @property
    def partial(self) -> bool:
        return self.prefix is not None or self.sha1 is not None


class AlertSource(Protocol):
    """A report format responder reads. `name` is the --from value."""

    @property
    def name(self) -> str: ...

    @property
    def title(self) -> str: ...  # what a person calls the format: "gitleaks JSON report"

    @property
    def holds(self) -> Holds: ...  # what its findings carry

    @property
    def exposure(self) -> str: ...  # what it says about when the key was exposed, in words ("" when nothing)

    @property
    def documented_by(self) -> str: ...  # where its field names were read

    def findings(self, text: str) -> list[Finding]:
        """The findings of a report's text. Raises UserError, in one line, at the first thing that is not
        this format (never quoting it: an alert file is full of secrets)."""
        ...

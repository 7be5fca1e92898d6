"""What a leaked key tells offline, of any family. The secret itself is deliberately never kept."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import ClassVar, Literal


def fingerprint(secret: str) -> str:
    """A short, stable name for a key that reveals nothing of it."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class LongTermKey:
    """A long-term key: an IAM service-specific credential's alias, `<user>[+N]-at-<account>[suffix]`.

    `user_name` is the alias's user part without a trailing `+N` marker, which AWS's examples and two
    independent decoders read as "the user's N+1th credential"; `marker` keeps it. IAM user names may contain
    `+`, so the user may also be literally `user_name + marker`: resolution decides by the alias IAM lists.
    `family` is None when the prefix names no family offline (AWS documents none): the alias is then looked up
    in every family's listing."""

    alias: str
    user_name: str
    account_id: str
    fingerprint: str
    family: str | None = "bedrock"  # journals written before families existed hold only Bedrock keys
    marker: str = ""  # "+1" for a user's second credential's alias, or part of a user name ending in "+1"

    kind: ClassVar[Literal["long-term"]] = "long-term"

    @property
    def alias_user(self) -> str:
        """The user part exactly as the alias spells it."""
        return self.user_name + self.marker

    @property
    def candidate_users(self) -> tuple[str, ...]:
        """Who the alias may name: the user, and with a marker also a user whose name ends in it."""
        return (self.user_name, self.alias_user) if self.marker else (self.user_name,)

    @property
    def alive_until(self) -> datetime | None:
        """The latest moment the key works by itself: none is written in a long-term key (its expiry is IAM's)."""
        return None

    def expired(self, now: datetime | None = None) -> bool:
        return False


@dataclass(frozen=True)
class ShortTermKey:
    """What a short-term key tells offline: who signed it, where, and when it dies. No signature, no token."""

    access_key_id: str
    region: str
    issued_at: datetime
    expires_at: datetime
    fingerprint: str
    family: str = "bedrock"

    kind: ClassVar[Literal["short-term"]] = "short-term"

    @property
    def signer(self) -> str:
        """ASIA: temporary credentials of a role session (or federated user); AKIA: an IAM user's access key."""
        return {"ASIA": "role-session", "AKIA": "iam-user"}.get(self.access_key_id[:4], "unknown")

    @property
    def alive_until(self) -> datetime | None:
        """The latest moment the key works: its decoded expiry (the session that signed it may end first)."""
        return self.expires_at

    def expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(timezone.utc)) >= self.expires_at


LeakedKey = LongTermKey | ShortTermKey

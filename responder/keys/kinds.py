"""What is said of each kind of key, long-term or short-term: the one place that tells their words apart.

A report, a follow-up and `identify` hold a key's public facts as a dict (the journal's, or identify's); they look
its kind up here (`said_of(facts)`) and never compare the kind themselves. A kind of key AWS adds is a class here
and a line in KINDS_SAID. How moments are written is the caller's (`when`): this layer formats no time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from responder.keys.family import KeyKind
from responder.keys.model import LongTermKey, ShortTermKey

When = Callable[[Any], str]  # a journaled moment (ISO 8601 text or None) as the report writes it
SIGNERS = {
    "role-session": "temporary credentials: a role session or a federated user",
    "iam-user": "an IAM user's long-term access key",
    "unknown": "an access key of unknown kind",
}


class LongTermSaid:
    """An IAM service-specific credential's key: it works until deactivated, deleted or expired."""

    kind: KeyKind = LongTermKey.kind

    def what_leaked(self, facts: dict[str, Any], family: str, owner: str, account: str, when: When) -> str:
        return (
            f"A long-term {family} API key (alias `{facts.get('alias')}`, fingerprint "
            f"`{facts.get('fingerprint')}`) of {owner} in account {account} leaked."
        )

    def described(self, facts: dict[str, Any], when: When) -> str:
        return f"long-term key, alias `{facts.get('alias')}`, fingerprint `{facts.get('fingerprint')}`"

    def lift_deny(self, facts: dict[str, Any], run_id: str, when: When) -> str:
        return (
            f"- Lift the deny once the workloads have new keys and the leaked one is inactive or deleted: "
            f"`responder rollback {run_id}` (keeps the leaked key inactive)."
        )

    def identify_lines(self, facts: dict[str, Any]) -> list[str]:
        user = facts["user_name"]
        marker = facts.get("second_key_marker")
        if marker:
            user += (
                f" (the alias reads {user}{marker}: the user's second key, or the first key of a user named "
                f"{user}{marker}; IAM's listing tells)"
            )
        unnamed = "Family:       not named by its prefix (AWS documents none for some services): IAM's listing tells"
        return [
            f"Kind:         long-term {facts['family_title']} API key (an IAM service-specific credential)",
            f"User:         {user}",
            f"Account:      {facts['account_id']}",
            *([unnamed] if facts.get("family") is None else []),
            f"Alias:        {facts['alias']}",
        ]


class ShortTermSaid:
    """A presigned request's key: it cannot be revoked by itself and dies by its expiry at the latest."""

    kind: KeyKind = ShortTermKey.kind

    def what_leaked(self, facts: dict[str, Any], family: str, owner: str, account: str, when: When) -> str:
        return (
            f"A short-term {family} API key (fingerprint `{facts.get('fingerprint')}`), signed by access key "
            f"`{facts.get('access_key_id')}` of {owner} in account {account}, leaked; it is valid until "
            f"{when(facts.get('expires_at'))} at the latest."
        )

    def described(self, facts: dict[str, Any], when: When) -> str:
        return (
            f"short-term key signed by `{facts.get('access_key_id')}` ({facts.get('signer')}) in "
            f"{facts.get('region')}, issued {when(facts.get('issued_at'))}, expires {when(facts.get('expires_at'))} "
            f"at the latest (earlier if the session that signed it ends first), fingerprint "
            f"`{facts.get('fingerprint')}`"
        )

    def lift_deny(self, facts: dict[str, Any], run_id: str, when: When) -> str:
        return (
            f"- Lift the deny after the key has expired, {when(facts.get('expires_at'))} at the latest: "
            f"`responder rollback {run_id}` (before then it refuses, unless --reactivate-keys)."
        )

    def identify_lines(self, facts: dict[str, Any]) -> list[str]:
        left = facts["seconds_left"]
        state = (
            "EXPIRED (the session that signed it may still be alive)"
            if facts["expired"]
            else f"in {left // 3600}h {left % 3600 // 60}m"
        )
        return [
            f"Kind:         short-term {facts['family_title']} API key (a presigned request: it cannot be revoked by "
            "itself)",
            f"Signed by:    {facts['access_key_id']} ({SIGNERS[facts['signer']]})",
            f"Region:       {facts['region']}",
            f"Issued:       {facts['issued_at']}",
            f"Expires:      {facts['expires_at']} ({state})",
        ]


KindSaid = LongTermSaid | ShortTermSaid
KINDS_SAID: dict[str, KindSaid] = {said.kind: said for said in (LongTermSaid(), ShortTermSaid())}


def said_of(facts: dict[str, Any]) -> KindSaid:
    """The words of the key's kind; a journal written before kinds were recorded held a long-term key."""
    return KINDS_SAID[str(facts.get("kind") or LongTermKey.kind)]

"""`identify --from` and `run --from`: the keys and principals an alert file names, each identified, and the
command that contains each. The secret stays in memory (registered for redaction) only to start a run."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from responder.alerts.collected import AlertKey, AlertPrincipal, Collected, collect
from responder.alerts.reading import read_alert_file
from responder.alerts.registry import source_named
from responder.engine.commands.identify import find_owner, offline_facts
from responder.errors import UserError
from responder.keys import playbook_for


@dataclass(frozen=True)
class AlertFile:
    """What `--from FORMAT FILE` names, and the repository its paths are relative to (`--repo`)."""

    source: str
    path: str
    repo: Path

    def command(self, playbook: str, fingerprint: str | None = None) -> str:
        words = ["responder", "run", playbook, "--from", self.source, self.path]
        if self.repo != Path("."):
            words += ["--repo", str(self.repo)]
        if fingerprint is not None:
            words += ["--key", fingerprint]
        return shlex.join(words)


def read_alerts(alert: AlertFile) -> Collected:
    source = source_named(alert.source)
    collected = collect(read_alert_file(alert.path, source), alert.repo)
    if not collected.keys and not collected.principals:
        raise UserError(
            f"{alert.path}: its {collected.findings} finding(s) name no AWS API key responder knows and no principal"
        )
    return collected


def _exposed(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _key_entry(alert: AlertFile, found: AlertKey, online: bool, settings: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        **offline_facts(found.key),
        "exposed_at": _exposed(found.exposed_at),
        "alerts": found.where,
    }
    if online:
        entry["owner"] = find_owner(found.key, settings)
    command = alert.command(playbook_for(found.key), found.key.fingerprint)
    entry["next"] = {"command": command, "dry_run": command + " --dry-run"}
    return entry


def principal_commands(found: AlertPrincipal) -> list[str]:
    """How to contain a principal a detector names: its long-term keys by user, its bearer tokens by principal."""
    p = found.principal
    if p.kind == "role":
        return [shlex.join(["responder", "run", "leaked-short-term-key", "-p", f"role_name={p.name}", "--dry-run"])]
    return [
        shlex.join(["responder", "run", "contain-bedrock-keys", "-p", f"filter=user={p.name}", "--dry-run"]),
        shlex.join(["responder", "run", "leaked-short-term-key", "-p", f"user_name={p.name}", "--dry-run"]),
    ]


def identify_alerts(alert: AlertFile, online: bool, settings: Any) -> dict[str, Any]:
    collected = read_alerts(alert)
    return {
        "source": alert.source,
        "findings": collected.findings,
        "other_secrets": collected.other,
        "keys": [_key_entry(alert, k, online, settings) for k in collected.keys],
        "principals": [
            {
                "kind": p.principal.kind,
                "name": p.principal.name,
                "account_id": p.principal.account_id,
                "access_key_id": p.principal.access_key_id,
                "finding_type": p.principal.finding_type,
                "exposed_at": _exposed(p.exposed_at),
                "alerts": p.where,
                "next": principal_commands(p),
            }
            for p in collected.principals
        ],
    }


def key_to_run(alert: AlertFile, fingerprint: str | None) -> AlertKey:
    """The one key a `run --from` contains: the only key, or the one `--key FINGERPRINT` names. Several keys
    are refused with the command for each (one run per key: a playbook contains one key)."""
    collected = read_alerts(alert)
    if collected.principals:
        commands = "; ".join(c for p in collected.principals for c in principal_commands(p))
        raise UserError(f"{alert.path} names principals, not keys: contain them with {commands}")
    if fingerprint is not None:
        chosen = [k for k in collected.keys if k.key.fingerprint == fingerprint]
        if not chosen:
            raise UserError(f"{alert.path} holds no key with fingerprint {fingerprint}: see responder identify --from")
        return chosen[0]
    if len(collected.keys) > 1:
        commands = "; ".join(alert.command(playbook_for(k.key), k.key.fingerprint) for k in collected.keys)
        raise UserError(f"{alert.path} holds {len(collected.keys)} keys: contain each with its own run: {commands}")
    return collected.keys[0]


def render_alerts_text(result: dict[str, Any]) -> list[str]:
    from responder.engine.commands.identify import render_text

    lines = [
        f"{result['findings']} finding(s): {len(result['keys'])} distinct key(s), {len(result['principals'])} "
        f"principal(s), {result['other_secrets']} other secret(s) responder does not contain"
    ]
    for number, key in enumerate(result["keys"], 1):
        lines += ["", f"Key {number} ({len(key['alerts'])} alert(s): {', '.join(key['alerts'][:5])})"]
        if key["exposed_at"]:
            lines.append(f"Exposed:      {key['exposed_at']} (earliest the alerts record)")
        lines += render_text({"key": key, "owner": key.get("owner"), "next": key["next"]})
    for principal in result["principals"]:
        lines += [
            "",
            f"Principal:    {principal['kind']} {principal['name']} in {principal['account_id']} "
            f"({principal['finding_type']})",
        ]
        if principal["exposed_at"]:
            lines.append(f"First seen:   {principal['exposed_at']}")
        lines += [f"{'Next:' if i == 0 else '':<14}{c}" for i, c in enumerate(principal["next"])]
    return lines

"""`identify --from` and `run --from`: the keys and principals an alert file names, each identified, and the
command that contains each. The secret stays in memory (registered for redaction) only to start a run."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from responder.actions.named_keys import names_text
from responder.alerts.collected import AlertKey, AlertPrincipal, Collected, collect
from responder.alerts.reading import read_alert_file
from responder.alerts.registry import source_named
from responder.engine.commands.identify import find_owner, offline_facts
from responder.errors import UserError
from responder.keys import LongTermKey, ShortTermKey, playbook_for

MANY_KEYS_PLAYBOOK = "contain-bedrock-keys"  # one group per key, every family's long-term keys


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
    long_term = [k.key for k in collected.keys if isinstance(k.key, LongTermKey)]
    many = len(collected.keys) > 1 and len(long_term) == len(collected.keys)
    accounts = sorted({k.account_id for k in long_term})
    one_run = alert.command(MANY_KEYS_PLAYBOOK)
    return {
        "contain_all": None
        if not many
        else fan_out_command(one_run, accounts)
        if len(accounts) > 1
        else one_run + " --dry-run",
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


def _keys_of(alert: AlertFile, fingerprint: str | None) -> list[AlertKey]:
    """The alert's keys (the one `--key FINGERPRINT` names); principals are refused with their commands."""
    collected = read_alerts(alert)
    if collected.principals:
        commands = "; ".join(c for p in collected.principals for c in principal_commands(p))
        raise UserError(f"{alert.path} names principals, not keys: contain them with {commands}")
    if fingerprint is None:
        return collected.keys
    chosen = [k for k in collected.keys if k.key.fingerprint == fingerprint]
    if not chosen:
        raise UserError(f"{alert.path} holds no key with fingerprint {fingerprint}: see responder identify --from")
    return chosen


def key_to_run(alert: AlertFile, fingerprint: str | None) -> AlertKey:
    """The one key a `run PLAYBOOK --from` contains with a one-key playbook: the only key, or the one `--key
    FINGERPRINT` names. Several long-term keys are refused with the one run that contains them all."""
    keys = _keys_of(alert, fingerprint)
    if len(keys) > 1:
        short = [k for k in keys if isinstance(k.key, ShortTermKey)]
        if not short:
            raise UserError(
                f"{alert.path} holds {len(keys)} keys: contain them all in one run: {alert.command(MANY_KEYS_PLAYBOOK)}"
            )
        commands = "; ".join(alert.command(playbook_for(k.key), k.key.fingerprint) for k in keys)
        raise UserError(f"{alert.path} holds {len(keys)} keys: contain each with its own run: {commands}")
    return keys[0]


def fan_out_command(command: str, accounts: list[str]) -> str:
    """The one fan-out that contains keys of several accounts, each in its own (--accounts takes a file)."""
    return (
        f"printf '%s\\n' {' '.join(accounts)} > alert-accounts.txt && {command} --accounts alert-accounts.txt "
        "--dry-run (or --org)"
    )


@dataclass(frozen=True)
class KeysToRun:
    """What a many-key run (`run contain-bedrock-keys --from FORMAT FILE`) contains: its -p keys= value (family
    and alias of each distinct key, never the key), the accounts they name, and what the report keeps."""

    keys: str
    accounts: list[str]
    origin: dict[str, Any]
    command: str  # the run that contains them (its fan-out adds --accounts)


def keys_to_run(alert: AlertFile, fingerprint: str | None) -> KeysToRun:
    """Every distinct long-term key of the alert, by family and alias, for one run with a group per key. A
    short-term key has no alias to select by: such keys are refused with the run that contains each."""
    keys = _keys_of(alert, fingerprint)
    short = [k for k in keys if isinstance(k.key, ShortTermKey)]
    if short:
        commands = "; ".join(alert.command(playbook_for(k.key), k.key.fingerprint) for k in short)
        raise UserError(
            f"{alert.path} holds {len(short)} short-term key(s), which {MANY_KEYS_PLAYBOOK} does not contain: "
            f"contain each with its own run: {commands}"
            + (
                ""
                if len(short) == len(keys)
                else f"; the long-term ones with {alert.command(MANY_KEYS_PLAYBOOK)} --key FINGERPRINT each"
            )
        )
    long_term = [k.key for k in keys if isinstance(k.key, LongTermKey)]
    exposed = [k.exposed_at for k in keys if k.exposed_at is not None]
    origin = {
        "source": alert.source,
        "findings": [where for k in keys for where in k.where],
        "exposed_at": min(exposed).isoformat() if exposed else None,
        "keys": [k.fingerprint for k in long_term],
    }
    return KeysToRun(
        keys=names_text([(k.family, k.alias) for k in long_term]),
        accounts=sorted({k.account_id for k in long_term}),
        origin=origin,
        command=alert.command(MANY_KEYS_PLAYBOOK),
    )


def render_alerts_text(result: dict[str, Any]) -> list[str]:
    from responder.engine.commands.identify import render_text

    lines = [
        f"{result['findings']} finding(s): {len(result['keys'])} distinct key(s), {len(result['principals'])} "
        f"principal(s), {result['other_secrets']} other secret(s) responder does not contain"
    ]
    if result.get("contain_all"):
        lines.append(f"All in one run: {result['contain_all']}")
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


@dataclass(frozen=True)
class PrincipalToRun:
    """What `run PLAYBOOK --from guardduty FINDING` contains: the principal the finding names, as the playbook's
    parameter (user_name, role_name, or a sweep filter of the user's keys), and the account it must run in."""

    params: dict[str, str]
    account_id: str
    origin: dict[str, Any]


def principal_to_run(alert: AlertFile, parameters: Any, playbook: str) -> PrincipalToRun:
    """The one principal of a detector's finding, as parameters of `playbook`; several, or a principal the
    playbook cannot take, are refused with the commands that contain each."""
    collected = read_alerts(alert)
    if collected.keys or len(collected.principals) != 1:
        commands = "; ".join(c for p in collected.principals for c in principal_commands(p))
        raise UserError(
            f"{alert.path} names {len(collected.principals)} principal(s) and {len(collected.keys)} key(s): "
            f"contain one principal a run: {commands}"
        )
    [found] = collected.principals
    p = found.principal
    if p.kind == "role" and "role_name" in parameters:
        params = {"role_name": p.name}
    elif p.kind == "user" and "user_name" in parameters:
        params = {"user_name": p.name}
    elif p.kind == "user" and "filter" in parameters:
        params = {"filter": f"user={p.name}"}
    else:
        raise UserError(f"{playbook} does not contain a {p.kind}'s access: {'; '.join(principal_commands(found))}")
    origin = {
        "source": alert.source,
        "findings": found.where,
        "exposed_at": _exposed(found.exposed_at),
        "principal": {"kind": p.kind, "name": p.name, "account_id": p.account_id, "finding_type": p.finding_type},
    }
    return PrincipalToRun(params, p.account_id, origin)

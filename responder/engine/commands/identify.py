"""`responder identify`: what a pasted key is (offline), who owns it (online), and which playbook to run."""

from __future__ import annotations

import shlex
from datetime import datetime, timezone
from typing import Any

from responder.errors import ResponderError
from responder.keys import LeakedKey, LongTermKey, ShortTermKey, family_named, family_of, parse_key, playbook_for
from responder.keys.kinds import said_of


def offline_facts(key: LeakedKey, now: datetime | None = None) -> dict[str, Any]:
    family = family_of(key)
    named = {"family": None if family is None else family.name, "family_title": family_title(key)}
    if isinstance(key, LongTermKey):
        return {
            "kind": key.kind,
            **named,
            "alias": key.alias,
            "user_name": key.user_name,
            "second_key_marker": key.marker or None,
            "account_id": key.account_id,
            "fingerprint": key.fingerprint,
        }
    now = now or datetime.now(timezone.utc)
    return {
        "kind": key.kind,
        **named,
        "access_key_id": key.access_key_id,
        "signer": key.signer,
        "region": key.region,
        "issued_at": key.issued_at.isoformat(),
        "expires_at": key.expires_at.isoformat(),
        "expired": key.expired(now),
        "seconds_left": max(0, int((key.expires_at - now).total_seconds())),
        "fingerprint": key.fingerprint,
    }


def family_title(key: LeakedKey) -> str:
    family = family_of(key)
    return "AWS" if family is None else family.short_title


def find_owner(key: LeakedKey, settings: Any) -> dict[str, Any]:
    """Ask AWS who owns the key, with the playbooks' own read-only resolve actions. Never raises: an owner that
    cannot be found is an answer too, with the reason."""
    from responder.actions.cloudtrail import ResolveShortParams, ResolveShortTermKey
    from responder.actions.iam_credentials import ResolveLongTermKey, ResolveParams
    from responder.engine.running.context import open_context
    from responder.engine.running.failures import describe_failure

    try:
        ctx = open_context(settings, read_only=True)
        operator = ctx.identity.arn
        if isinstance(key, LongTermKey):
            resolve_long = ResolveLongTermKey()
            snapshot = resolve_long.snapshot(ctx, ResolveParams(key=key))
            creds = snapshot.credentials
            return {
                "found": True,
                "principal": f"user {creds[0].user_name}",
                "user_name": creds[0].user_name,
                "family": snapshot.family,
                "credentials": [c.model_dump(include={"credential_id", "status", "created", "expires"}) for c in creds],
                "operator": operator,
            }
        resolve_short = ResolveShortTermKey()
        found = resolve_short.snapshot(ctx, ResolveShortParams(key=key))
        return {
            "found": True,
            "principal": f"{found.kind} {found.name}",
            "principal_kind": found.kind,
            "principal_name": found.name,
            "operator": operator,
        }
    except ResponderError as exc:
        return {"found": False, "reason": exc.message}
    except Exception as exc:
        return {"found": False, "reason": describe_failure(exc)}


def identify(key_text: str, key_file: str, online: bool, settings: Any) -> dict[str, Any]:
    key = parse_key(key_text)
    result: dict[str, Any] = {"key": offline_facts(key)}
    if online:
        result["owner"] = find_owner(key, settings)
    # A key read from stdin must be saved before the run can read it again: name the file to save it to.
    shown = shlex.quote(key_file if key_file != "-" else "leaked.txt")  # a path may hold spaces, `$(...)`, quotes
    command = f"responder run {playbook_for(key)} --key-file {shown}"
    result["next"] = {"playbook": playbook_for(key), "command": command, "dry_run": command + " --dry-run"}
    if key_file == "-":
        result["next"]["save_key_first"] = "umask 077; cat > leaked.txt   # paste the key, then Ctrl-D"
    owner = result.get("owner") or {}
    result["execution_input"] = execution_input(key, owner)
    if isinstance(key, ShortTermKey) and online and not owner.get("found"):
        result["next"]["hint"] = (
            "if CloudTrail does not name the principal yet, add -p role_name=ROLE or -p user_name=USER"
        )
    return result


def execution_input(key: LeakedKey, owner: dict[str, Any]) -> dict[str, Any]:
    """The input of the playbook's Step Functions machine (`responder export stepfunctions`), from what the key
    says offline and, for a short-term key, the principal found online: never a secret part. The team adds its
    `journal_bucket`."""
    if isinstance(key, LongTermKey):
        # The key's family, where it is not the machine's default (Bedrock): the machine lists its service name.
        family = key.family or owner.get("family")
        other = {"family": family} if family is not None and family != family_named(None).name else {}
        if not owner.get("found"):
            return {"user_name": key.user_name, **other}
        # The user IAM lists the alias under (a `+1` alias names the user without it, or a user named with it),
        # and for a second key its one credential: the machine otherwise contains every key of the user.
        named: dict[str, Any] = {"user_name": owner["user_name"], **other}
        if key.marker:
            named["credential_ids"] = [c["credential_id"] for c in owner.get("credentials", [])]
        return named
    given: dict[str, Any] = {}
    if owner.get("principal_kind") == "role":
        given["role_name"] = owner["principal_name"]
    elif owner.get("principal_kind") == "user":
        given |= {"user_name": owner["principal_name"], "access_key_id": key.access_key_id}
    return given


def render_text(result: dict[str, Any]) -> list[str]:
    key = result["key"]
    lines = said_of(key).identify_lines(key)
    lines.append(f"Fingerprint:  {key['fingerprint']}")
    owner = result.get("owner")
    if owner is not None:
        if owner["found"]:
            lines.append(f"Owner:        {owner['principal']}")
            if owner.get("family"):
                lines.append(f"Family:       {owner['family']} (found by the key's alias in IAM's listing)")
            for cred in owner.get("credentials", []):
                lines.append(f"              credential {cred['credential_id']}: {cred['status']}")
        else:
            lines.append(f"Owner:        not found: {owner['reason']}")
    steps = [result["next"].get(s) for s in ("save_key_first", "dry_run", "command", "hint")]
    lines += [f"{'Next:' if i == 0 else '':<14}{step}" for i, step in enumerate(s for s in steps if s)]
    return lines

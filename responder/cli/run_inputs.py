"""What `responder run` reads besides its playbook and parameters: the key(s) or principal of an alert file
(`--from FORMAT FILE`), and whom to tell (`--notify`, RESPONDER_NOTIFY, the notify file). Each is checked before
anything runs (bad input: one line, exit 2), and nothing here is imported on the way to the first request unless
the command asked for it."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from responder.errors import UserError

if TYPE_CHECKING:
    from responder.engine.commands.alerts import KeysToRun, PrincipalToRun
    from responder.engine.commands.notify import Channel
    from responder.engine.running.context import Settings


def webhooks(urls: list[str] | None) -> list[Channel]:
    """--notify (or RESPONDER_NOTIFY); else the notify config file, when there is one."""
    urls = urls or configured_urls()
    if not urls:
        return []
    from responder.engine.commands.notify import webhooks

    return webhooks(urls)


def names_principals(from_format: str | None) -> bool:
    """A detector's finding (GuardDuty) names a principal, not a key."""
    if from_format is None:
        return False
    from responder.alerts.registry import source_named

    return source_named(from_format).holds == "principal"


def principal_from_alert(
    playbook: str, from_format: str | None, alert_file: str | None, repo: Path, fingerprint: str | None
) -> PrincipalToRun:
    from responder.engine.commands.alerts import AlertFile, principal_to_run
    from responder.playbook.checks import find_playbook, load_playbook

    if alert_file is None or from_format is None or fingerprint is not None:
        raise UserError("--from FORMAT needs the alert file (--from FORMAT FILE); a finding has no --key")
    book = load_playbook(find_playbook(playbook))
    return principal_to_run(AlertFile(from_format, alert_file, repo), book.parameters, book.name)


def same_account(account_id: str, settings: Settings) -> None:
    """A finding names its principal by name: run only in the finding's account, asked of AWS before anything
    (one request: a user of the same name elsewhere must never be contained instead)."""
    from responder.aws.clients import Clients

    mine = str(Clients(settings.aws).client("sts").get_caller_identity()["Account"])
    if mine != account_id:
        raise UserError(
            f"the finding is about account {account_id}, your credentials are for account {mine}: nothing was "
            f"contained; use a profile in {account_id}"
        )


def takes_many_keys(playbook: str) -> bool:
    """A playbook that contains many keys, named by -p keys= (contain-bedrock-keys), rather than one --key-file key."""
    from responder.playbook.checks import find_playbook, load_playbook

    book = load_playbook(find_playbook(playbook))
    return book.key is None and "keys" in book.parameters


def keys_from_alert(from_format: str | None, alert_file: str | None, repo: Path, fingerprint: str | None) -> KeysToRun:
    from responder.engine.commands.alerts import AlertFile, keys_to_run

    if from_format is None or alert_file is None:
        raise UserError("--from FORMAT needs the alert file (--from FORMAT FILE), and --key needs --from")
    return keys_to_run(AlertFile(from_format, alert_file, repo), fingerprint)


def many_keys_params(given: dict[str, str], many: KeysToRun, fanned_out: bool) -> None:
    """The alert's keys as -p keys= (and filter=all unless given); keys of several accounts need the fan-out."""
    from responder.engine.commands.alerts import fan_out_command

    if "keys" in given:
        raise UserError("give the keys once: --from FORMAT FILE or -p keys=, not both")
    if len(many.accounts) > 1 and not fanned_out:
        raise UserError(
            f"the alert holds keys of {len(many.accounts)} accounts ({', '.join(many.accounts)}): contain them in "
            f"one fan-out, a run per account: {fan_out_command(many.command, many.accounts)}"
        )
    given["keys"] = many.keys
    given.setdefault("filter", "all")


NOTIFY_CONFIG = "RESPONDER_NOTIFY_CONFIG"  # the notify file's path, instead of ~/.config/responder/notify


def configured_urls() -> list[str]:
    """The notify file's lines (# comments, blank lines ignored): URLs hold tokens, so a file others may read is
    refused, as ssh refuses a private key others may read. Read here, without importing anything: a run that
    notifies no one loads nothing of notifications before its first request."""
    import os

    named = os.environ.get(NOTIFY_CONFIG)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    path = Path(named) if named else Path(base) / "responder" / "notify"
    try:
        if path.stat().st_mode & 0o077:
            raise UserError(
                f"{path}: others may read it, and it holds webhook tokens: chmod 600 {shlex.quote(str(path))}"
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if named:
            raise UserError(f"{NOTIFY_CONFIG}={named}: no such file") from None
        return []
    except (OSError, UnicodeDecodeError):
        raise UserError(f"{path}: cannot be read as text") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def key_from_alert(
    from_format: str | None, alert_file: str | None, repo: Path, fingerprint: str | None
) -> tuple[str, dict[str, Any]]:
    """The key `--from FORMAT FILE` holds (the one `--key` names when it holds several), and what the run's
    report keeps of the alert: the format, the findings and when the key was exposed, never the key."""
    from responder.engine.commands.alerts import AlertFile, key_to_run

    if from_format is None or alert_file is None:
        raise UserError("--from FORMAT needs the alert file (--from FORMAT FILE), and --key needs --from")
    found = key_to_run(AlertFile(from_format, alert_file, repo), fingerprint)
    exposed = found.exposed_at.isoformat() if found.exposed_at is not None else None
    return found.secret, {"source": from_format, "findings": found.where, "exposed_at": exposed}

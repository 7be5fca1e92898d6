"""The report's opening paragraph (what leaked, whose, contained when, what it did, what remains) and its
follow-ups: what the incident commander reads first, built from the journal's facts alone."""

from __future__ import annotations

from typing import Any

from responder.engine.report.cost import cost_sentence
from responder.engine.report.model import Report
from responder.engine.report.visibility import unsearched_sentence, visibility_sentence
from responder.engine.report.words import clock, recheck_after, second
from responder.inert import code
from responder.keys.journaled import data_event_follow_up, key_words
from responder.keys.kinds import said_of

_ENDPOINT_NAMES = {"bedrock.amazonaws.com": "Bedrock", "bedrock-mantle.amazonaws.com": "Bedrock Mantle"}


def _what_leaked(report: Report) -> str:
    key = report.key or {}
    whose = report.principal
    owner = f"{whose['type']} {whose['name']}" if whose else "an unnamed principal"
    account = report.account or "?"
    if key:
        return said_of(key).what_leaked(key, key_words(key), owner, account, second)
    credentials = deactivated_credentials(report)
    if credentials:
        users = ", ".join(sorted({str(u) for u in credentials.values()}))
        return f"{len(credentials)} API key(s) in account {account} were selected, of users {users}."
    return f"API keys of {owner} in account {account} were selected."


def deactivated_credentials(report: Report) -> dict[str, str]:
    """Each Bedrock credential the run set Inactive and that is still so by its doing, with its user: what a
    sweep's run contained."""
    found: dict[str, str] = {}
    claims = report.claims
    in_force = {c["step"] for c in claims["in_force"]} if claims else None
    for step in report.steps:
        if in_force is not None and step.get("id") not in in_force:
            continue  # refused, unanswered or undone since: AWS does not hold it inactive by this run
        for change in step.get("changes", []):
            parameters = change.get("parameters") or {}
            credential = parameters.get("ServiceSpecificCredentialId")
            if change.get("call") == "iam:UpdateServiceSpecificCredential" and credential:
                found[str(credential)] = str(parameters.get("UserName"))
    return found


def _contained(report: Report) -> str:
    """What holds now, from the run's claims (claims.py) alone: never the plan, never one milestone for another."""
    if report.dry_run:
        return "This was a dry run: nothing was changed, and the key is not contained."
    claims = report.claims
    if not claims:
        return f"Nothing was contained by this run ({report.status})."
    unknown = _unknown(claims)
    if claims["nothing_contained"]:
        if claims["rolled_back"]:
            return "Nothing of this run holds now: it was rolled back."
        return f"Nothing was contained by this run ({report.status})."
    parts = []
    for label, name in (("key inactive", "key_inactive"), ("principal denied", "principal_denied")):
        claim = claims[name]
        if not claim["holds"]:
            continue
        if claim["already"]:
            parts.append(f"{label} already before this run")
        elif claim["seconds_after_start"] is not None and claim["at"]:
            # The seconds count from the start of the process that made the change; the time is AWS's answer.
            seconds = claim["seconds_after_start"]
            parts.append(f"{label} {seconds:.1f} s after {_origin(claims, name)}, {clock(claim['at'])}")
        else:  # made by this run, its answer lost, then found in place by a resume's read
            parts.append(f"{label} (found in place by a later read, {clock(claim['at'])})")
    principals = sorted({p for c in claims["in_force"] for p in c["principals"]})
    changed = f" Changes in force on: {', '.join(principals)}." if principals else ""
    if claims["contained"]["holds"]:
        text = f"Contained: {'; '.join(parts)}."
    else:
        wanting = (
            ("the key is not inactive", "whether the key is inactive is unknown", "key_inactive", "key"),
            (
                "the principal is not denied",
                "whether the principal is denied is unknown",
                "principal_denied",
                "principal",
            ),
        )
        in_doubt = {u.get("stops") for u in claims["unknown"]}
        missing = [
            doubt if stops in in_doubt else label  # an unanswered change may be in AWS: never say it is not
            for label, doubt, name, stops in wanting
            if not claims[name]["holds"] and claims[name]["expected"]
        ]
        held = f" ({'; '.join(parts)})" if parts else ""
        text = f"NOT contained: {', '.join(missing) or 'a containment change does not hold'}{held}."
    rolled = " The run has since been rolled back; what still holds is said above." if claims["rolled_back"] else ""
    return text + changed + unknown + rolled


def _unknown(claims: dict[str, Any]) -> str:
    if not claims["unknown"]:
        return ""
    steps = ", ".join(u["step"] for u in claims["unknown"])
    return (
        f" Unknown: the answer to {steps} never came (the process stopped mid-call); "
        f"`{claims['unknown'][0]['settle']}` reads AWS and settles it."
    )


def made_by(claims: dict[str, Any], name: str) -> list[str]:
    """Which processes made the changes a claim rests on: ["run"], or a resume's ("resume 1") when it made some."""
    stops = {"key_inactive": "key", "principal_denied": "principal"}[name]
    processes = sorted({c["process"] for c in claims["in_force"] if c["stops"] == stops and not c["already"]})
    return [] if processes == ["run"] else processes


def _origin(claims: dict[str, Any], name: str) -> str:
    """Whose start a figure counts from: the run's process, or the resume that made the change."""
    processes = made_by(claims, name)
    return f"its process started ({', '.join(processes)})" if processes else "the run started"


def _what_it_did(report: Report) -> str:
    evidence = report.evidence or {}
    if not evidence.get("queries"):
        return "What it did was not investigated."
    calls = evidence["bearer_token_calls"]
    if not calls:
        return f"CloudTrail shows no call made with a bearer token ({evidence['events_read']} events read)."
    split = " and ".join(f"{n} on {_ENDPOINT_NAMES.get(s) or code(s)}" for s, n in evidence["by_source"] if n)
    after = evidence["after_containment"]
    tail = (
        f" **{len(after)} came after containment.**"
        if after
        else (" None came after containment." if report.contained_at else "")
    )
    return (
        f"It made {calls} call(s) with a bearer token ({split}), first {second(evidence['first_seen'])}, last "
        f"{second(evidence['last_seen'])}.{tail}"
    )


def _what_remains(report: Report) -> str:
    investigated = bool((report.evidence or {}).get("queries"))
    if not investigated:
        return "What remains: what the keys did was not read; search CloudTrail by each key's user."
    remains = ["Mantle inference (a data event `LookupEvents` cannot see) is checked only by the query below"]
    if (report.evidence or {}).get("after_containment"):
        remains.insert(0, "the calls after containment (listed below): find where the key still works")
    if not report.dry_run and report.contained_at:
        rechecked = (report.evidence or {}).get("rechecks") or []
        after = recheck_after(report.contained_at)
        if not rechecked:
            remains.append(f"CloudTrail may still deliver calls up to {clock(after)}: re-check then")
        elif not (report.evidence or {}).get("after_containment"):
            remains.append(f"re-checked {second(rechecked[-1]['at'])}: no bearer-token call since containment")
    return "What remains: " + "; ".join(remains) + "."


def opening(report: Report) -> str:
    parts = [
        _what_leaked(report),
        _contained(report),
        _what_it_did(report),
        *_reach(report),
        _stages(report),
        _what_remains(report),
    ]
    return " ".join(p for p in parts if p)


def _reach(report: Report) -> list[str]:
    """Where CloudTrail could not search, what the account could not see, and the account-wide bill."""
    evidence = report.evidence or {}
    if not evidence.get("queries"):
        return []
    return [unsearched_sentence(evidence), visibility_sentence(evidence), cost_sentence(evidence)]


def _stages(report: Report) -> str:
    """Which stages of an LLMjacking attack CloudTrail shows (the investigated events only)."""
    evidence = report.evidence or {}
    stages = evidence.get("stages")
    if not evidence.get("queries") or not stages:
        return ""
    counts = dict((name, n) for name, n in stages["counts"])
    unmatched = f"{stages['unclassified']} event(s) read matched no stage"
    if not stages["reached"] and not stages["attempted"]:
        return f"No event read belongs to a stage of an LLMjacking attack ({unmatched})."
    said = []
    if stages["reached"]:
        reached = ", ".join(f"**{s}** ({counts[s]})" for s in stages["reached"])
        said.append(f"Attack stages reached: {reached}")
    if stages["attempted"]:
        said.append(f"attempted, every call refused: {', '.join(f'{s} ({counts[s]})' for s in stages['attempted'])}")
    return f"{'; '.join(said)} (findings listed below; {unmatched})."


def follow_ups(report: Report) -> list[str]:
    run_id = report.run_id
    if report.dry_run:
        return [f"- Contain for real: the same command without `--dry-run` (this run, `{run_id}`, changed nothing)."]
    whose = report.principal
    owner = f"{whose['type']} {whose['name']}" if whose else "the key's principal"
    key = report.key or {}
    claims = report.claims or {}
    held = bool(claims.get("in_force"))
    lines = []
    if claims.get("unknown"):
        lines.append(f"- Settle what is unknown: `{claims['unknown'][0]['settle']}` reads AWS first.")
    if (claims.get("principal_denied") or {}).get("holds"):
        lines.append(
            f"- Give the workloads that used the key a new one: every {key_words(key)} API key of {owner} is "
            "denied now."
        )
    elif not held:
        lines.append("- Nothing of this run holds in AWS now: if the key is still a risk, contain it again.")
    after = recheck_after(report.contained_at)
    investigated = bool((report.evidence or {}).get("queries"))
    if after is not None and investigated:
        lines.append(
            f"- After {second(after)} (CloudTrail's 15-minute delay past containment), check that the calls "
            f"stopped: `responder investigate {run_id}`."
        )
    if investigated:
        lines.append(data_event_follow_up(key))
    if not held:
        return lines
    if report.execution:
        lines.append(
            "- What the key did is not in the machine's record: read it with `responder run "
            f"{report.playbook} --dry-run` (CloudTrail, in every region the key may have been used)."
        )
        lines.append("- Lift the deny once the workloads have new keys: start the rollback machine (below).")
    else:
        lines.append(said_of(key).lift_deny(key, run_id, second))
    return lines

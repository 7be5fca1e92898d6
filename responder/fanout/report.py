"""The merged report of a fan-out: which account ended how, then each account's own report in full."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from responder.engine.journal import events as j
from responder.engine.report.build import render_markdown

if TYPE_CHECKING:  # the report's layer loads after containment; only its type is named here
    from responder.engine.report.model import Report

HEADING = re.compile(r"^(#{1,4}) ", re.MULTILINE)


def render_fanout_markdown(report: Report) -> str:
    fanout = report.fanout or {}
    accounts = report.accounts or []
    failed = [a for a in accounts if a["exit_code"] != 0]
    lines = [
        f"# Bedrock API key response across accounts: {report.playbook}",
        "",
        f"**{report.status.upper()}**: {report.outcome}.",
        "",
        "| | |",
        "|---|---|",
        f"| Run | `{report.run_id}`{' (dry run)' if report.dry_run else ''} |",
        f"| Operator | {report.operator or '?'} (account {report.account or '?'}) |",
        f"| Accounts | {len(accounts)} of {len(fanout.get('accounts', []))} reached or tried; {len(failed)} failed |",
        f"| Role assumed | `{fanout.get('role_name')}` (unless a line of --accounts named another) |",
        f"| Concurrency | {fanout.get('concurrency')} |",
        f"| Parameters | {_params(report.params)} |",
        f"| Started | {report.started_at} |",
        f"| Last record | {report.finished_at} |",
        f"| Audit log | `{report.audit_log}` ({report.audit_records} records, head `{report.audit_head}`) |",
        "",
        "## Accounts",
        "",
        "| Account | Result | Changes | Run | Detail |",
        "|---|---|---|---|---|",
    ]
    for account in accounts:
        run = f"`{account['run_id']}`" if account["run_id"] else "none started"
        detail = account["message"].replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {account['account_id']} | {account['status']} | {_changes(account)} | {run} | {detail} |")
    lines += ["", "## What next", ""]
    run_id = report.run_id
    if report.dry_run:
        lines.append("Dry run: nothing was changed in any account. Apply with the same command and `--yes`.")
    elif report.status in ("rolled-back", "rollback-incomplete") or any(
        t.get("event") == j.ROLLBACK_STARTED for t in report.timeline
    ):
        lines.append(f"- `responder rollback {run_id}` again finishes what a rollback could not; it is idempotent.")
        lines.append("- To contain again, start a new run: a rolled-back run is not resumed.")
    else:
        if failed:
            lines.append(f"- `responder resume {run_id}`: retries the failed accounts, keeping what is done.")
        lines.append(f"- `responder rollback {run_id}`: undoes every account's changes (keys stay inactive).")
        lines.append("- One account alone: `responder resume ACCOUNT_RUN_ID` or `responder rollback ACCOUNT_RUN_ID`.")
    for account in accounts:
        if "report" not in account:
            continue
        lines += ["", f"## Account {account['account_id']}", ""]
        # Each account's report, its headings pushed two levels down so they nest under the account's.
        lines.append(HEADING.sub(lambda m: "#" * (len(m.group(1)) + 2) + " ", render_markdown(account["report"])))
    return "\n".join(lines) + "\n"


def _changes(account: dict[str, Any]) -> str:
    """How many AWS changes the account's run planned (a dry run) or made: the number to review before --yes."""
    report: Report | None = account.get("report")
    if report is None:
        return "-"
    changes = sum(len(s["changes"]) for s in report.steps if s["status"] != "unchanged")
    return f"{changes} planned" if report.dry_run else str(changes)


def _params(params: dict[str, Any]) -> str:
    shown = {k: v for k, v in params.items() if v is not None}
    return ", ".join(f"{k}={v}" for k, v in shown.items()).replace("|", "\\|") or "none"

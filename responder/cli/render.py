"""How runs look on a terminal: progress lines, the plan to confirm, and the final summary."""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING, Any

import typer

from responder.cli.terminal import ProgressLine, clear_progress, paint
from responder.engine.journal import events as j
from responder.inert import MAX_PROSE, plain, terminal
from responder.redaction import SECRETS

if TYPE_CHECKING:  # the report's layer loads after containment: only its type is named here
    from responder.engine.commands.outcome import Outcome
    from responder.engine.journal.run_state import RunState
    from responder.engine.report.model import Report


def say(text: str = "", err: bool = False) -> None:
    clear_progress()  # a progress line on the terminal gives way to the text
    typer.echo(terminal(SECRETS.redact(text)), err=err)


def _change_line(change: dict[str, Any]) -> str:
    def short(value: Any) -> str:
        if value is None:
            return "none"
        if isinstance(value, dict):
            return "policy document" if "Statement" in value else json.dumps(value)
        return str(value)

    mark = "" if change.get("reversible", True) else "  [IRREVERSIBLE]"
    line = f"{change['call']} on {change['target']}: {short(change['before'])} -> {short(change['after'])}"
    return plain(line, MAX_PROSE) + mark


def _policy_diff(change: dict[str, Any]) -> list[str]:
    """The policy document a change will put, as a diff against what is there: approved with it in view."""
    from responder.engine.running.policy_diff import policy_diff  # difflib stays out of `responder --help`

    return [f"    {line}" for line in policy_diff(change.get("before"), change.get("after"))]


_PHASES: dict[str, str] = {
    j.PLANNED: "plan",
    j.APPLYING: "apply",
    j.APPLIED: "apply",
    j.VERIFIED: "apply",
    j.UNDOING: "undo",
}
_PHASE_TITLES = {
    "plan": "Plan (nothing changed yet):",
    "apply": "Apply:",
    "undo": "Undo (newest change first):",
}
_DONE = frozenset({j.PLANNED, j.VERIFIED, j.UNCHANGED, j.READ, j.SKIPPED, j.FAILED})  # a step's last record


class Progress:
    """A journal listener printing one line per meaningful record (to stderr under --output json), the plan, the
    applying and the undoing each under its own title, step ids in a column as wide as the playbook's longest; and,
    on a terminal, a progress line on stderr while a fan-out's accounts or a group's steps run."""

    def __init__(self, err: bool) -> None:
        self.err = err
        self.width = 20
        self.phase: str | None = None
        self.line: ProgressLine | None = None
        self._group_steps: set[str] = set()

    def __call__(self, event: str, fields: dict[str, Any]) -> None:
        self._show(event, fields)  # say() clears the progress line first; it is drawn again below the record
        self._count(event, fields)
        if self.line is not None:
            self.line.draw()

    def _count(self, event: str, fields: dict[str, Any]) -> None:
        if event == j.RUN_STARTED and self.line is None:
            from responder.engine.journal.opening import Opening  # a run has loaded it; `responder --help` need not

            opening = Opening.from_record(fields)
            if opening.is_fanout:
                self.line = ProgressLine("accounts", len(opening.fanout["accounts"]))
        elif event == j.ACCOUNT_FINISHED and self.line is not None:
            self.line.advance(failed=fields["exit_code"] != 0)
        elif event == j.EXPANDED and self.line is None:
            self._group_steps = {s["id"] for s in fields["steps"]}
            self.line = ProgressLine(f"{fields['group']}: steps", len(self._group_steps))
        elif event in _DONE and fields.get("step") in self._group_steps and self.line is not None:
            self._group_steps.discard(fields["step"])
            self.line.advance(failed=event == j.FAILED)
        if self.line is not None and self.line.done >= self.line.total:
            self.line.close()
            self.line = None

    def _title(self, event: str) -> None:
        """Titles go forward only (plan, apply, undo): where steps are planned and applied in turn (--yes, a
        group's items), each line's verb says which it is, and the titles do not flip back and forth."""
        phase = _PHASES.get(event)
        order = list(_PHASE_TITLES)
        if phase is not None and (self.phase is None or order.index(phase) > order.index(self.phase)):
            if self.phase is not None:
                say("", self.err)
            say(_PHASE_TITLES[phase], self.err)
            self.phase = phase

    def _show(self, event: str, fields: dict[str, Any]) -> None:
        if event == j.RUN_STARTED:
            ids = _step_ids((fields.get("playbook_document") or {}).get("steps", []))
            self.width = max([self.width, *map(len, ids)])
            return
        self._title(event)
        if "step" in fields:
            self.width = max(self.width, len(str(fields["step"])))
        step = f"  {fields.get('step', ''):<{self.width}}"
        if event == j.PLANNED:
            lines = [line for c in fields["changes"] for line in [_change_line(c), *_policy_diff(c)]]
            if not lines and not fields["notes"]:
                lines = ["no change needed"]
            for line in lines + [f"note: {n}" for n in fields["notes"]]:
                say(f"{step} plan      {_inert(line)}", self.err)
        elif event == j.ACCOUNT_FINISHED:
            run = f"run {fields['run_id']}" if fields["run_id"] else "no run"
            status = paint(f"{fields['status'].upper():<12}", fields["status"], self.err)
            say(f"  account {fields['account_id']}  {status} {run}: {_inert(fields['message'])}", self.err)
        elif event == j.EXPANDED:
            self.width = max([self.width, *(len(s["id"]) for s in fields["steps"])])
            say(f"  {fields['group']:<{self.width}} expanded  {len(fields['items'])} group(s), one per item", self.err)
        elif event == j.SKIPPED:
            say(f"{step} skipped   {_inert(fields.get('words') or fields['reason'])}", self.err)
        elif event == j.READ:
            for note in fields["notes"]:
                say(f"{step} read      {_inert(note)}", self.err)
        elif event == j.UNCHANGED:
            say(f"{step} unchanged {_inert('; '.join(fields['notes']) or 'already in place')}", self.err)
        elif event == j.APPLYING:
            for change in fields["changes"]:
                say(f"{step} applying  {_change_line(change)}", self.err)
        elif event == j.APPLIED and "changes" in fields:  # not what was planned (a fallback): say what was done
            for note in fields["notes"][-1:]:
                say(f"{step} instead   {_inert(note)}", self.err)
            for change in fields["changes"]:
                say(f"{step} applied   {_change_line(change)}", self.err)
        elif event == j.VERIFIED:
            say(f"{step} {paint('verified', err=self.err)}", self.err)
        elif event == j.FAILED:
            say(f"{step} {paint('FAILED', 'failed', self.err)}    {_inert(fields['error'])}", self.err)
        elif event == j.UNDONE:
            say(f"{step} {fields['status']:<9} {_inert(fields['message'])}", self.err)
        elif event == j.UNDO_FAILED:
            say(f"{step} {paint('UNDO FAILED', 'failed', self.err)} {_inert(fields['error'])}", self.err)


def _inert(text: object) -> str:
    """A journaled sentence that may quote AWS (an error, a note): no control character reaches the terminal."""
    return plain(text, MAX_PROSE)


def _step_ids(steps: list[dict[str, Any]]) -> list[str]:
    """Every step id of a playbook document, a group's steps included."""
    return [str(s.get("id", "")) for s in steps] + [i for s in steps for i in _step_ids(s.get("steps") or [])]


def irreversible_changes(state: RunState) -> list[dict[str, Any]]:
    return [
        c for s in state.steps.values() if s.status == "planned" for c in s.changes if not c.get("reversible", True)
    ]


def outcome_dict(outcome: Outcome) -> dict[str, Any]:
    steps = [
        {"id": s.id, "action": s.action, "status": s.status, "undo": s.undo_status, "error": s.error}
        for s in outcome.state.steps.values()
    ]
    return {
        "run_id": outcome.run_id,
        "status": outcome.status,
        "exit_code": outcome.exit_code,
        "message": outcome.message,
        "steps": steps,
        "containment": {k: v for k, v in outcome.report.containment.items() if k != "milestones"},
        # what holds now, each claim as report.json defines it (claims.py): holds or not, and when
        "claims": {
            k: v["holds"] if isinstance(v, dict) else v
            for k, v in (outcome.report.claims or {}).items()
            if k not in ("in_force", "unknown")
        },
        "unknown": [u["step"] for u in (outcome.report.claims or {}).get("unknown", [])],
        "audit_log": str(outcome.paths.audit_log),
        "audit_head": outcome.report.audit_head,
        "report": str(outcome.paths.report_md),
        "report_json": str(outcome.paths.report_json),
        "stages": _stages(outcome.report),
        **_accounts(outcome),
    }


def _stages(report: Report) -> dict[str, Any] | None:
    """The attack stages the run's CloudTrail events reach, each finding's CloudTrail values made inert."""
    stages = (report.evidence or {}).get("stages")
    if not stages:
        return None
    findings = [{k: v if v is None else plain(v) for k, v in f.items()} for f in stages["findings"]]
    return {**stages, "findings": findings}


def _accounts(outcome: Outcome) -> dict[str, Any]:
    """A fan-out's accounts: how each ended, and its own run."""
    if outcome.report.accounts is None:
        return {}
    keep = ("account_id", "role_arn", "run_id", "status", "exit_code", "message")
    return {"accounts": [{k: a[k] for k in keep} for a in outcome.report.accounts]}


def outcome_text(outcome: Outcome, then: str | None = None) -> None:
    """The end of a run for people; `then`: after a dry run, the command that applies what it planned."""
    err = outcome.exit_code != 0
    say()
    say(f"run {outcome.run_id}: {paint(outcome.status.upper(), outcome.status, err)}: {outcome.message}", err=err)
    from responder.engine.report.build import containment_line  # the report stays out of `responder --help`

    if line := containment_line(outcome.report):
        say(f"contained: {line}")
    say(f"report:    {outcome.paths.report_md}")
    say(f"audit log: {outcome.paths.audit_log}")
    if broken := outcome.report.audit_chain_broken:
        say(f"audit chain: BROKEN at {plain(broken, MAX_PROSE)}: no head to give the ticket", err=True)
    else:
        head = outcome.report.audit_head
        verify = f"responder audit verify {shlex.quote(outcome.run_id)} --head {shlex.quote(str(head))}"
        say(f"audit head: {head} (for the ticket: `{verify}`)")
    if then is not None and outcome.exit_code == 0:
        say(f"apply it: {then}")

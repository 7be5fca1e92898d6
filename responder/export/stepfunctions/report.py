"""`responder report --execution ARN`: an exported machine's execution rendered as a local run's report."""

from __future__ import annotations

from responder.aws.clients import AwsOptions, Clients
from responder.engine.journal.run_state import state_from_records
from responder.engine.report.build import build_report
from responder.engine.report.model import Report
from responder.export.stepfunctions.execution import journal_of, read_execution
from responder.playbook.checks import find_playbook, load_playbook


def execution_report(options: AwsOptions, arn: str) -> Report:
    """Read the execution (read-only: the clients refuse any change) and build the report a local run of the
    same playbook would have."""
    execution = read_execution(Clients(options, read_only=True), arn)
    playbook = load_playbook(find_playbook(execution.playbook_name))
    state = state_from_records(journal_of(execution, playbook), [])
    return build_report(state, None)

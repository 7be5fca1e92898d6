"""Every parameter is checked against the actions it feeds before the first AWS request (param_checks.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from responder.cli.main import app
from responder.engine.commands import operations
from responder.engine.running import context
from responder.errors import UserError
from responder.playbook.checks import PlaybookInvalid, find_playbook, load_playbook
from responder.playbook.model import Playbook
from responder.playbook.param_checks import check_parameters
from responder.playbook.params import bind_parameters
from responder.sandbox.seed import Seeded

runner = CliRunner()

INVESTIGATE = """\
name: custom
description: read what a user did
parameters:
  user_name:
    type: string
    description: who
  cap:
    type: integer
    description: how many events
{default}  regions:
    type: string
    default: ''
    description: where, with no pattern of its own
  look:
    type: boolean
    default: true
    description: read CloudTrail at all
steps:
  - id: investigate
    action: cloudtrail.investigate-key-activity
    when: ${{params.look}}
    with:
      user_name: ${{params.user_name}}
      regions: ${{params.regions}}
      max_events: {max_events}
"""


def custom(tmp_path: Path, default: str = "", max_events: str = "${params.cap}") -> Playbook:
    path = tmp_path / "custom.yaml"
    path.write_text(INVESTIGATE.format(default=default, max_events=max_events))
    return load_playbook(path)


def refusal(playbook: Playbook, **given: str) -> str:
    with pytest.raises(UserError) as caught:
        check_parameters(playbook, bind_parameters(playbook, given))
    return str(caught.value)


AGE = "-p max_key_age_days"


def shipped(name: str) -> Playbook:
    return load_playbook(find_playbook(name))


@pytest.mark.parametrize(
    ("playbook", "given", "message"),
    [
        ("leaked-long-term-key", {"max_events": "0"}, "-p max_events=0: must be at least 1"),
        ("leaked-short-term-key", {"max_events": "0"}, "-p max_events=0: must be at least 1"),
        ("leaked-long-term-key", {"max_events": "100001"}, "-p max_events=100001: must be at most 100000"),
        (
            "leaked-long-term-key",
            {"max_events": "9" * 4000},
            f"-p max_events={'9' * 60}... (4,000 digits): must be at most 100000",
        ),
        (
            "bedrock-key-guardrails",
            {"principal_name": "a", "max_key_age_days": "0"},
            "-p max_key_age_days=0: must be at least 1",
        ),
        (
            "bedrock-key-guardrails",
            {"principal_name": "a", "max_key_age_days": "36601"},
            "-p max_key_age_days=36601: must be at most 36600",
        ),
    ],
)
def test_a_value_the_action_refuses_is_named_as_the_operator_gave_it(
    playbook: str, given: dict[str, str], message: str
) -> None:
    assert refusal(shipped(playbook), **given) == message


@pytest.mark.parametrize(
    ("playbook", "given"),
    [
        ("leaked-long-term-key", {}),
        ("leaked-long-term-key", {"max_events": "1", "regions": "us-east-1,eu-west-1"}),
        ("leaked-short-term-key", {"max_events": "100000"}),
        ("contain-bedrock-keys", {"filter": "user=ci-*,older-than=90"}),
        ("bedrock-key-guardrails", {"scope": "scp"}),  # principal_name not given: the step it feeds is not checked
        ("bedrock-key-guardrails", {"principal_name": "alice", "deny_bearer": "all", "model_arns": "arn:aws:x"}),
    ],
)
def test_what_the_actions_accept_passes(playbook: str, given: dict[str, str]) -> None:
    book = shipped(playbook)
    check_parameters(book, bind_parameters(book, given))


def test_regions_are_checked_by_the_action_even_without_a_pattern_on_the_parameter(tmp_path: Path) -> None:
    book = custom(tmp_path)
    assert refusal(book, regions="us-east-1,xx-nowhere-1") == (
        "-p regions='us-east-1,xx-nowhere-1': not AWS region names: 'xx-nowhere-1' (e.g. us-east-1)"
    )
    check_parameters(book, bind_parameters(book, {"regions": "eusc-de-east-1,cn-north-1"}))


def test_a_bad_default_is_the_playbooks_fault_and_said_so(tmp_path: Path) -> None:
    book = custom(tmp_path, default="    default: 0\n")
    assert refusal(book) == "parameter cap: its default 0 in playbook custom: must be at least 1"
    assert refusal(book, cap="-5") == "-p cap=-5: must be at least 1"


def test_a_literal_argument_is_checked_with_every_constraint_of_its_field(tmp_path: Path) -> None:
    """`responder validate` checks a literal with its field's constraints, as the step will (0 is an int, and too
    few); so does the run, for a playbook that got past no validate."""
    with pytest.raises(PlaybookInvalid, match="max_events: Input should be greater than or equal to 1"):
        custom(tmp_path, max_events="0")
    book = custom(tmp_path)
    book.steps[0].with_["max_events"] = 0
    assert refusal(book) == "playbook custom, step investigate: max_events=0: must be at least 1"


def test_a_step_switched_off_by_a_parameter_is_not_checked(tmp_path: Path) -> None:
    book = custom(tmp_path)
    check_parameters(book, bind_parameters(book, {"cap": "0", "look": "false"}))
    assert refusal(book, cap="0", look="true") == "-p cap=0: must be at least 1"


def test_a_long_reason_of_the_actions_own_is_bounded(tmp_path: Path) -> None:
    message = refusal(custom(tmp_path), regions=",".join(f"xx-{n}-1" for n in range(5000)))
    assert len(message) < 300 and message.endswith("...")


# Through the CLI: the run refuses before any AWS request once start_run calls check_parameters after
# bind_parameters. The corpus in test_bad_input.py runs the real start_run; this runs it with that one call added.


@pytest.fixture
def integrated(monkeypatch: pytest.MonkeyPatch) -> None:
    def bind_then_check(playbook: Playbook, given: dict[str, str]) -> dict[str, Any]:
        params = bind_parameters(playbook, given)
        check_parameters(playbook, params)
        return params

    monkeypatch.setattr(operations, "bind_parameters", bind_then_check)


def test_the_cli_refuses_before_any_aws_request(
    integrated: None, account: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []
    original = context.Clients.__init__

    def watched(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.on_request(lambda model, **_: sent.append(model.name))

    monkeypatch.setattr(context.Clients, "__init__", watched)
    (tmp_path / "key.txt").write_text(account.key)
    args = ["run", "leaked-long-term-key", "--key-file", str(tmp_path / "key.txt"), "-p", "max_events=0"]
    result = runner.invoke(app, [*args, "--dry-run", "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == "error: -p max_events=0: must be at least 1"
    assert sent == []
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # no run was started

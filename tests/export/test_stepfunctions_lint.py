"""Every export validates with AWS's own kinds of validators: statelint for the machines, cfn-lint for the template."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from responder.actions.registry import all_actions
from responder.export.stepfunctions import write
from responder.export.stepfunctions.registry import FORMS, REFUSED
from responder.playbook.checks import find_playbook, load_playbook

EXPORTS = [
    ("leaked-long-term-key", {}, False),
    ("leaked-short-term-key", {}, False),
    ("contain-bedrock-keys", {"filter": "user=ci-*,no-expiry"}, False),
    ("contain-bedrock-keys", {"filter": "all"}, True),
]
# statelint 3.1 predates Distributed Map's ReaderConfig.InputType, which AWS requires for a JSON item list
# (Step Functions developer guide, "ItemReader"); moto, like AWS, reads no item list without it.
KNOWN_STATELINT_GAP = 'Field "InputType" not allowed in State Machine.States.Each account.ItemReader.ReaderConfig'


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]' installs it")
    return found


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    files: list[Path] = []
    for playbook, fixed, organization in EXPORTS:
        out = tmp_path_factory.mktemp(f"{playbook}-{'org' if organization else 'one'}")
        files += write(load_playbook(find_playbook(playbook)), fixed, out, organization)
    from responder.export.member_role import member_role_template

    member = tmp_path_factory.mktemp("member-role") / "member-role.template.yaml"
    books = [load_playbook(find_playbook(name)) for name in ("contain-bedrock-keys", "leaked-long-term-key")]
    member.write_text(json.dumps(member_role_template(books, sweep=True)), encoding="utf-8")
    return [*files, member]


def test_every_machine_passes_statelint(exported: list[Path]) -> None:
    machines = [str(p) for p in exported if p.name.endswith(".asl.json")]
    result = subprocess.run([_tool("statelint"), *machines], capture_output=True, text=True, check=False)
    # statelint names each file with problems, then says how many, then lists them indented
    problems = [line.strip() for line in result.stdout.splitlines() if line.startswith(" ")]
    assert all(p == KNOWN_STATELINT_GAP for p in problems), result.stdout
    assert result.returncode == 0 or problems, result.stdout + result.stderr


def test_every_template_passes_cfn_lint(exported: list[Path]) -> None:
    templates = [str(p) for p in exported if p.name.endswith(".template.yaml")]
    result = subprocess.run([_tool("cfn-lint"), *templates], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_machine_role_carries_its_own_phase_and_the_bucket_takes_tls_only(exported: list[Path]) -> None:
    import yaml

    from responder.engine.commands.permissions import phase_permissions
    from responder.export.stepfunctions.template import MACHINE_READS

    template = yaml.safe_load(next(p for p in exported if p.name == "leaked-long-term-key.template.yaml").read_text())
    book = [load_playbook(find_playbook("leaked-long-term-key"))]
    for role, rollback in (("ExecutionRole", False), ("RollbackRole", True)):
        policy = template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        iam_and_sts = {
            a
            for s in policy
            if "Effect" in s and s["Effect"] == "Allow"
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
            if a.startswith(("iam:", "sts:", "cloudtrail:")) and a not in MACHINE_READS
        }
        assert iam_and_sts == set(phase_permissions(book, rollback=rollback)), role
    assert template["Resources"]["RollbackMachine"]["Properties"]["RoleArn"] == {"Fn::GetAtt": ["RollbackRole", "Arn"]}
    bucket = template["Resources"]["JournalBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["ObjectLockConfiguration"]["Fn::If"][0] == "ObjectLock"
    (tls,) = template["Resources"]["JournalBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_every_action_has_a_step_functions_form_or_says_why_not() -> None:
    for name, action in all_actions().items():
        assert (name in FORMS) != (name in REFUSED), (
            f"{name}: register a form (states_form) or a reason (no_states_form)"
        )
        if name in FORMS and action.mutating and action.reversible:
            assert FORMS[name].undo is not None, f"{name} is reversible: its rollback needs an undo form"


def test_no_state_name_is_longer_than_aws_allows(exported: list[Path]) -> None:
    def names(states: dict[str, dict[str, object]]) -> list[str]:
        found = list(states)
        for state in states.values():
            processor = state.get("ItemProcessor")
            if isinstance(processor, dict):
                found += names(processor["States"])
        return found

    for path in (p for p in exported if p.name.endswith(".asl.json")):
        too_long = [n for n in names(json.loads(path.read_text())["States"]) if len(n) > 80]
        assert not too_long, f"{path.name}: {too_long}"

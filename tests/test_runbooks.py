"""Every shipped playbook has a human runbook whose steps match the playbook, and whose deny policies are whole."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import responder
from responder.keys import FAMILIES, KeyFamily
from responder.keys.registry import DEFAULT_FAMILY
from responder.playbook.checks import load_playbook
from responder.playbook.shipped import shipped_playbooks

RUNBOOKS = Path(responder.__file__).parent / "runbooks"  # a link to the repository's runbooks/ folder
# A step heading: "### 3. `deny-bearer-tokens` — Deny the user every Bedrock bearer-token call"
STEP_HEADING = re.compile(r"^###\s+(\d+)\.\s+`([^`]+)`\s+—\s+\S.*$", re.MULTILINE)
JSON_BLOCK = re.compile(r"^[ \t]*```json[ \t]*\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)  # also inside lists
BEARER_ACTIONS = {"bedrock:CallWithBearerToken", "bedrock-mantle:CallWithBearerToken"}


def runbook_step_ids(text: str) -> list[str]:
    """The step ids of a runbook's step headings, in order; raises if they are not numbered 1..n."""
    found = STEP_HEADING.findall(text)
    numbers = [int(number) for number, _ in found]
    if numbers != list(range(1, len(found) + 1)):
        raise ValueError(f"step headings are numbered {numbers}, not 1..{len(found)}")
    return [step_id for _, step_id in found]


def json_blocks(text: str) -> list[Any]:
    """Every fenced ```json block that parses; blocks that are not JSON (placeholders, fragments) are skipped."""
    parsed = []
    for body in JSON_BLOCK.findall(text):
        try:
            parsed.append(json.loads(body))
        except json.JSONDecodeError:
            continue
    return parsed


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def bearer_token_denials(policy: Any) -> list[set[str]]:
    """For each Deny statement of an IAM policy that names a CallWithBearerToken action, the actions it names."""
    if not isinstance(policy, dict) or "Statement" not in policy:
        return []
    denials = []
    for statement in _as_list(policy["Statement"]):
        if not isinstance(statement, dict) or statement.get("Effect") != "Deny":
            continue
        actions = {str(a) for a in _as_list(statement.get("Action", []))}
        if any(a.endswith(":CallWithBearerToken") for a in actions):
            denials.append(actions)
    return denials


def _runbook(name: str) -> str:
    path = RUNBOOKS / f"{name}.md"
    assert path.is_file(), f"playbook {name} has no runbook at {path}"
    return path.read_text(encoding="utf-8")


PLAYBOOKS = sorted(shipped_playbooks().items())


def test_there_are_shipped_playbooks() -> None:
    assert PLAYBOOKS, "no shipped playbooks found: the test would check nothing"


@pytest.mark.parametrize(("name", "path"), PLAYBOOKS, ids=[name for name, _ in PLAYBOOKS])
def test_runbook_steps_match_the_playbook(name: str, path: Path) -> None:
    playbook = load_playbook(path)
    assert runbook_step_ids(_runbook(name)) == [step.id for step in playbook.actions()]


@pytest.mark.parametrize(("name", "path"), PLAYBOOKS, ids=[name for name, _ in PLAYBOOKS])
def test_runbook_bearer_token_denials_cover_both_endpoints(name: str, path: Path) -> None:
    denials = [d for policy in json_blocks(_runbook(name)) for d in bearer_token_denials(policy)]
    for actions in denials:
        missing = BEARER_ACTIONS - actions
        assert not missing, f"runbook {name}: a deny of bearer tokens lacks {sorted(missing)}"


def test_the_long_term_runbook_shows_the_deny_policy() -> None:
    # Guards the check above against passing vacuously: the runbook must show the policy it asks for.
    denials = [d for policy in json_blocks(_runbook("leaked-long-term-key")) for d in bearer_token_denials(policy)]
    assert denials
    assert all(BEARER_ACTIONS.issubset(actions) for actions in denials)


GOOD = """\
## Steps
### 1. `resolve` — Find the user
text
### 2. `deactivate` — Set it Inactive
### 3. `deny-bearer-tokens` — Deny bearer tokens
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD, ["resolve", "deactivate", "deny-bearer-tokens"]),
        ("### 1. `resolve` — Find the user\n### 2. `deny-bearer-tokens` — Deny\n", ["resolve", "deny-bearer-tokens"]),
        ("### 1. `deactivate` — Set it Inactive\n### 2. `resolve` — Find the user\n", ["deactivate", "resolve"]),
        # not step headings: wrong level, no backticks, no title, an ASCII dash
        ("## 1. `resolve` — Find\n### 1. resolve — Find\n### 1. `resolve`\n### 1. `resolve` - Find\n", []),
    ],
    ids=["in-order", "missing", "reordered", "not-headings"],
)
def test_runbook_step_ids(text: str, expected: list[str]) -> None:
    assert runbook_step_ids(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "### 1. `resolve` — Find\n### 3. `deactivate` — Set\n",  # a gap
        "### 2. `resolve` — Find\n",  # not starting at 1
        "### 1. `resolve` — Find\n### 1. `deactivate` — Set\n",  # a repeated number
    ],
    ids=["gap", "starts-at-2", "repeated"],
)
def test_runbook_step_ids_rejects_bad_numbering(text: str) -> None:
    with pytest.raises(ValueError, match="numbered"):
        runbook_step_ids(text)


def _headings(text: str) -> list[str]:
    return [m.group(0) for m in STEP_HEADING.finditer(text)]


@pytest.mark.parametrize("change", ["drop-a-step", "swap-two-steps"])
def test_the_step_check_catches_a_broken_runbook(change: str) -> None:
    """The real runbook, broken the way an edit could break it, no longer matches its playbook."""
    name = "leaked-long-term-key"
    text = _runbook(name)
    expected = [step.id for step in load_playbook(shipped_playbooks()[name]).actions()]
    first, second = _headings(text)[1:3]
    if change == "drop-a-step":
        # drop step 2, renumbering the rest so only the missing step is wrong
        broken = text.replace(first + "\n", "")
        for number in range(3, len(expected) + 1):
            broken = broken.replace(f"### {number}. `", f"### {number - 1}. `")
    else:
        # swap the ids of steps 2 and 3, keeping their numbers
        id_of = STEP_HEADING.match(first), STEP_HEADING.match(second)
        assert id_of[0] is not None and id_of[1] is not None
        a, b = f"`{id_of[0].group(2)}`", f"`{id_of[1].group(2)}`"
        broken = text.replace(first, first.replace(a, b)).replace(second, second.replace(b, a))
    assert runbook_step_ids(text) == expected
    assert runbook_step_ids(broken) != expected


BEDROCK_ONLY = {
    "Version": "2012-10-17",
    "Statement": {"Effect": "Deny", "Action": "bedrock:CallWithBearerToken", "Resource": "*"},
}
BOTH = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": sorted(BEARER_ACTIONS), "Resource": "*"}],
}


def test_json_blocks_skip_what_is_not_json() -> None:
    text = "\n".join(
        [
            "```json",
            json.dumps(BOTH, indent=2),
            "```",
            "```json",
            "{ not json: a placeholder }",
            "```",
            "```sh",  # not a json block: never parsed
            json.dumps(BEDROCK_ONLY),
            "```",
        ]
    )
    assert json_blocks(text) == [BOTH]


@pytest.mark.parametrize(
    ("policy", "complete"),
    [
        (BOTH, True),
        (BEDROCK_ONLY, False),  # the older blog posts' deny: leaves Bedrock Mantle open
        ({"Statement": {"Effect": "Allow", "Action": "bedrock:CallWithBearerToken", "Resource": "*"}}, True),
        ({"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}, True),
        (["not", "a", "policy"], True),
    ],
    ids=["both", "bedrock-only", "allow-is-ignored", "unrelated-deny", "not-a-policy"],
)
def test_bearer_token_denials(policy: Any, complete: bool) -> None:
    assert all(BEARER_ACTIONS.issubset(actions) for actions in bearer_token_denials(policy)) is complete


OTHER_FAMILIES = [f for f in FAMILIES.values() if f is not DEFAULT_FAMILY]  # the default's are the playbooks'


@pytest.mark.parametrize("family", OTHER_FAMILIES, ids=[f.name for f in OTHER_FAMILIES])
def test_every_other_family_has_a_runbook_true_to_its_module(family: KeyFamily) -> None:
    text = _runbook(f"family-{family.name}")
    assert family.deny_document() in json_blocks(text), "its deny, exactly the family's bearer actions"
    commands = (f"-p family={family.name}", f"filter=family={family.name}")
    for fact in (family.service_name, family.deny_policy_name, *commands):
        assert fact in text, fact
    for source in family.data_event_sources:
        assert f"`{source.source}`" in text and str(source.data_resource_type) in text
    if family.short_term is not None:
        assert family.short_term.prefix in text and "leaked-short-term-key.md" in text

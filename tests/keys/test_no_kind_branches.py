"""No module outside the families branches on a key's kind, a family's name or a playbook's name (issue 22): each
such decision is the family's (KeyFamily), the kind's (keys/kinds.py, the key classes) or the registry's.

Read from the source: a comparison, a lookup, a `.get`/`.startswith`, a `case` or a dict key naming a kind
(`"long-term"`), a family (`"bedrock"`), a shipped playbook (`"leaked-long-term-key"`) or starting with a key
prefix (`"ABSK"`). Mentions that are not decisions (help text, docstrings, printed commands, type declarations)
are not branches and pass; the few modules that define the names are listed below with why."""

from __future__ import annotations

import ast
from pathlib import Path

from responder.keys import FAMILIES
from responder.keys.family import KINDS
from responder.keys.registry import prefixes
from responder.playbook.shipped import ALIASES, shipped_playbooks

PACKAGE = Path(__file__).resolve().parents[2] / "responder"
NAMES = frozenset({*KINDS, *FAMILIES, *shipped_playbooks(), *ALIASES})
PREFIXES = tuple(prefixes())
# Where the names are defined, not branched on.
DEFINED = {
    "keys/family.py": "the contract: defines the kinds and maps each to its format",
    "keys/journaled.py": "reads a journal back: the recorded kind picks the key's class",
    "playbook/shipped.py": "the table of playbook aliases",
    "sandbox/rehearsal.py": "the emulator's rehearsal scenario of each shipped playbook",
    # Bedrock the AWS service (its bill, its data-event types), not the Bedrock key family:
    "actions/bedrock_usage.py": "Cost Explorer's service names of Bedrock's bill",
    "actions/trail_coverage.py": "which of Bedrock's and Mantle's data-event types a trail logs",
    "engine/report/visibility.py": "reads trail_coverage's table by service",
}


def _names_one(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value in NAMES or node.value.startswith(PREFIXES)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_names_one(e) for e in node.elts)
    return False


def branches(source: str) -> list[str]:
    """Each place the source decides on one of the names, as `line: code`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            hit = any(_names_one(n) for n in [node.left, *node.comparators])
        elif isinstance(node, ast.Subscript):  # FAMILIES["bedrock"]; a Literal[...] type declares, it decides nothing
            hit = _names_one(node.slice) and not (isinstance(node.value, ast.Name) and node.value.id == "Literal")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            hit = node.func.attr in ("get", "pop", "startswith", "endswith") and bool(node.args)
            hit = hit and _names_one(node.args[0])
        elif isinstance(node, ast.MatchValue):
            hit = _names_one(node.value)
        elif isinstance(node, ast.Dict):
            hit = any(k is not None and _names_one(k) for k in node.keys)
        else:
            continue
        if hit:
            found.append(f"{getattr(node, 'lineno', '?')}: {ast.unparse(node)[:80]}")
    return found


def test_no_module_outside_the_families_branches_on_a_kind_family_or_playbook_name() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE).as_posix()}:{where}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if not path.is_relative_to(PACKAGE / "keys" / "families")
        and path.relative_to(PACKAGE).as_posix() not in DEFINED
        for where in branches(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_check_finds_each_form_of_branch_and_passes_mentions() -> None:
    caught = [
        'if key["kind"] == "short-term": pass',
        'family = FAMILIES["bedrock"]',
        'if playbook in ("leaked-long-term-key", "other"): pass',
        'if text.startswith("ABSK"): pass',
        'words = {"long-term": 1}',
        'x = facts.get("cloudwatch-logs")',
        'match kind:\n    case "short-term": pass',
    ]
    for source in caught:
        assert branches(source), source
    passed = [
        '"""Run leaked-long-term-key for an ABSK key."""',
        'say("contain them: responder run contain-bedrock-keys")',
        'kind: Literal["long-term", "short-term"]',
        "if key.kind == ShortTermKey.kind: pass",  # asks the class: still a kind branch, but not by name
    ]
    for source in passed:
        assert not branches(source), source


def test_the_allowed_modules_exist_and_still_name_what_they_define() -> None:
    for module, why in DEFINED.items():
        path = PACKAGE / module
        assert path.is_file(), f"{module} ({why}) is gone: drop it from DEFINED"
        assert branches(path.read_text(encoding="utf-8")), f"{module} no longer needs its place in DEFINED"

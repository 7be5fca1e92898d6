from __future__ import annotations

from pathlib import Path

import pytest

from responder.errors import UserError
from responder.playbook.checks import PlaybookInvalid, find_playbook, load_playbook
from responder.playbook.model import Step, playbook_schema
from responder.playbook.params import bind_parameters, parse_assignments
from responder.playbook.refs import resolve
from responder.playbook.shipped import shipped_playbooks

GOOD = """\
name: demo
description: a demo
key:
  kind: long-term
parameters:
  user_name:
    type: string
    description: who
    pattern: '[a-z]+'
  delete_key:
    type: boolean
    default: false
    description: delete?
steps:
  - id: resolve
    action: iam.resolve-long-term-key
    with:
      key: ${key}
      user_name: ${params.user_name}
  - id: deactivate
    action: iam.deactivate-service-credentials
    with:
      user_name: ${steps.resolve.user_name}
      credential_ids: ${steps.resolve.credential_ids}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "book.yaml"
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(UserError) as caught:
        load_playbook(write(tmp_path, text))
    err = caught.value
    return err.problems if isinstance(err, PlaybookInvalid) else [str(err)]


def test_shipped_playbooks_load() -> None:
    assert "leaked-long-term-key" in shipped_playbooks()
    for path in shipped_playbooks().values():
        assert load_playbook(path).steps


def test_good_playbook_loads(tmp_path: Path) -> None:
    book = load_playbook(write(tmp_path, GOOD))
    assert [s.id for s in book.steps] == ["resolve", "deactivate"]


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("action: iam.deactivate-service-credentials", "action: iam.nope", 21, "unknown action 'iam.nope'"),
        ("${params.user_name}", "${params.who}", 19, "unknown parameter 'who'"),
        ("${steps.resolve.user_name}", "${steps.later.user_name}", 23, "does not come before"),
        ("${steps.resolve.credential_ids}", "${steps.resolve.secret}", 24, "has no output 'secret'"),
        ("${steps.resolve.user_name}", "${nonsense}", 23, "bad reference"),
        ("  - id: deactivate", "  - id: resolve", 20, "duplicate step id 'resolve'"),
        ("    type: boolean", "    type: flag", 11, "parameters.delete_key.type"),
        ("    default: false", "    default: maybe", 12, "expected true or false"),
        ("      credential_ids: ${steps.resolve.credential_ids}\n", "", 20, "missing argument 'credential_ids'"),
        ("      user_name: ${params.user_name}", "      user: bob", 19, "has no argument 'user'"),
        ("name: demo", "name: Demo Book", 1, "name"),
        ("description: a demo\n", "description: a demo\nextra: 1\n", 3, "unknown field"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, old: str, new: str, line: int, message: str) -> None:
    assert old in GOOD
    found = problems(tmp_path, GOOD.replace(old, new, 1))
    assert any(p.startswith(f"{tmp_path / 'book.yaml'}:{line}:") and message in p for p in found), found


def test_literal_argument_of_wrong_type(tmp_path: Path) -> None:
    text = GOOD.replace("credential_ids: ${steps.resolve.credential_ids}", "credential_ids: 7")
    assert any("credential_ids" in p and ":24:" in p for p in problems(tmp_path, text))


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, "name: demo\nsteps: [\n")
    assert ":3:" in found and "invalid YAML" in found


def test_yaml_aliases_are_refused(tmp_path: Path) -> None:
    bomb = 'a: &a ["x","x"]\nb: &b [*a,*a]\nc: [*b,*b]\n'
    (found,) = problems(tmp_path, bomb)
    assert "aliases" in found and ":2:" in found


def test_non_utf8_and_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(UserError, match="not UTF-8"):
        load_playbook(path)
    with pytest.raises(UserError, match="no such file"):
        load_playbook(tmp_path / "absent.yaml")
    with pytest.raises(UserError, match="no playbook named"):
        find_playbook("no-such-book")


def test_parameters_are_typed_and_checked(tmp_path: Path) -> None:
    book = load_playbook(write(tmp_path, GOOD))
    assert bind_parameters(book, {"delete_key": "yes"}) == {"user_name": None, "delete_key": True}
    with pytest.raises(UserError, match="does not match"):
        bind_parameters(book, {"user_name": "Robert'); DROP TABLE"})
    with pytest.raises(UserError, match="unknown parameter 'colour'"):
        bind_parameters(book, {"colour": "red"})
    with pytest.raises(UserError, match="--key-file"):
        bind_parameters(book, {"key": "ABSK..."})


def test_assignments() -> None:
    assert parse_assignments(["a=1", "b=x=y"]) == {"a": "1", "b": "x=y"}
    for bad in (["novalue"], ["=1"], ["a=1", "a=2"]):
        with pytest.raises(UserError):
            parse_assignments(bad)


def test_resolve_keeps_types_of_whole_references() -> None:
    scope = {"params": {"n": 3, "flag": False}, "steps": {"s": {"ids": ["a", "b"]}}}
    assert resolve("${steps.s.ids}", scope) == ["a", "b"]
    assert resolve("${params.flag}", scope) is False
    assert resolve("n is ${params.n}", scope) == "n is 3"


def test_schema_describes_steps() -> None:
    schema = playbook_schema()
    assert "steps" in schema["properties"] and "Step" in schema["$defs"]
    assert "with" in schema["$defs"]["Step"]["properties"]


GROUP = """\
name: many
description: one group per key
parameters:
  filter:
    type: string
    default: all
    description: which keys
steps:
  - id: select
    action: iam.select-bedrock-keys
    with:
      filter: ${params.filter}
  - id: contain
    for_each: ${steps.select.keys}
    steps:
      - id: deactivate
        action: iam.deactivate-service-credentials
        with:
          user_name: ${item.user_name}
          credential_ids: ['${item.credential_id}']
      - id: deny
        action: iam.deny-bearer-tokens-for-user
        with:
          user_name: ${item.user_name}
"""


def test_a_group_loads_and_expands_per_item(tmp_path: Path) -> None:
    from responder.playbook.model import expand_group

    book = load_playbook(write(tmp_path, GROUP))
    assert [s.id for s in book.actions()] == ["select", "deactivate", "deny"]
    items = [{"label": "a.b/ID1", "user_name": "a.b", "credential_id": "ID1"}, {"label": "c/ID2", "user_name": "c"}]
    steps = expand_group(book.steps[1], items)
    assert [s.id for s in steps] == ["deactivate[a.b/ID1]", "deny[a.b/ID1]", "deactivate[c/ID2]", "deny[c/ID2]"]
    assert steps[0].with_ == {"user_name": "a.b", "credential_ids": ["ID1"]}
    assert steps[3].with_ == {"user_name": "c"}
    group = Step.model_validate(
        {"id": "g", "for_each": "${steps.s.keys}", "steps": [{"id": "a", "action": "x"}, {"id": "b", "action": "y"}]}
    )
    group.steps[1].with_ = {"u": "${steps.a.out}", "p": "${params.p}", "both": "${item.user_name}-${steps.a.out}"}
    (_, bound) = expand_group(group, items[1:])
    assert bound.with_ == {"u": "${steps.a[c/ID2].out}", "p": "${params.p}", "both": "c-${steps.a[c/ID2].out}"}
    # a label with dots still resolves: the step id is everything between `steps.` and the last dot
    scope = {"steps": {"deactivate[a.b/ID1]": {"user_name": "a.b"}}}
    assert resolve("${steps.deactivate[a.b/ID1].user_name}", scope) == "a.b"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    for_each: ${steps.select.keys}\n", "", "for_each and steps"),
        ("    for_each: ${steps.select.keys}\n", "    for_each: ${steps.select.count}x\n", "for_each takes one"),
        ("    for_each: ${steps.select.keys}\n", "    for_each: ${steps.later.keys}\n", "does not come before"),
        ("  - id: contain\n", "  - id: contain\n    action: iam.select-bedrock-keys\n", "no action"),
        ("      filter: ${params.filter}\n", "      filter: ${item.user_name}\n", "only for the steps of a for_each"),
        (
            "bearer-tokens-for-user\n        with:\n          user_name: ${item.user_name}",
            "bearer-tokens-for-user\n        with:\n          user_name: ${steps.deactivate.nothing}",
            "has no output 'nothing'",
        ),
        ("      - id: deny\n", "      - id: deactivate\n", "duplicate step id"),
    ],
    ids=["no-for-each", "not-one-reference", "forward-reference", "action-and-group", "item-outside", "output", "dup"],
)
def test_group_mistakes_are_named(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = GROUP.replace(old, new)
    assert text != GROUP
    assert any(message in p for p in problems(tmp_path, text)), problems(tmp_path, text)


def test_groups_do_not_nest(tmp_path: Path) -> None:
    nested = (
        GROUP
        + "      - id: inner\n        for_each: ${steps.select.keys}\n        steps:\n"
        + ("          - id: x\n            action: iam.select-bedrock-keys\n            with: {filter: all}\n")
    )
    assert any("groups do not nest" in p for p in problems(tmp_path, nested))


def test_step_ids_are_unique_across_groups(tmp_path: Path) -> None:
    second = GROUP + (
        "  - id: again\n    for_each: ${steps.select.keys}\n    steps:\n      - id: deactivate\n"
        "        action: iam.deactivate-service-credentials\n        with:\n          user_name: ${item.user_name}\n"
        "          credential_ids: ['${item.credential_id}']\n"
    )
    assert any("duplicate step id 'deactivate'" in p for p in problems(tmp_path, second))

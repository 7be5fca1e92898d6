"""load_yaml parses a playbook once and composes it from the checked events: the outcome must be what SafeLoader's
own compose-and-construct gives, data, lines and errors alike."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from responder.errors import UserError
from responder.playbook.shipped import shipped_playbooks
from responder.playbook.source import Path_, _index_lines, load_yaml


def composed_by_safe_loader(text: str) -> tuple[Any, dict[Path_, int]]:
    """What load_yaml built before it parsed once: yaml.compose, then a fresh SafeLoader's constructor."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    assert node is not None
    lines: dict[Path_, int] = {}
    _index_lines(node, (), lines)
    return yaml.SafeLoader(text).construct_document(node), lines


SHIPPED = [path.read_text(encoding="utf-8") for path in shipped_playbooks().values()]
OTHER = [
    "a: 1\nb: [x, {c: d}]\nc: |\n  literal\n   indented\nd: >-\n  folded\n\n  again\n",
    "<<: {a: 1}\nb: 2\n",  # a merge key: the constructor flattens it
    "a: 2001-12-14t21:59:43.10-05:00\nb: 0x1F\nc: .inf\nd: ~\ne: 1_000\n",
    "? complex key\n: value\n",
]


@pytest.mark.parametrize("text", SHIPPED + OTHER)
def test_the_same_data_and_lines(text: str) -> None:
    doc = load_yaml(text, "f.yaml")
    assert (doc.data, doc.lines) == composed_by_safe_loader(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\n---\nb: 2\n", "f.yaml:2: invalid YAML: but found another document"),  # the composer's
        ("{a: 1, [b]: 2}\n", "f.yaml:1: invalid YAML: found unhashable key"),  # the constructor's
        ("a: [1, 2\n", "f.yaml:2: invalid YAML: expected ',' or ']', but got '<stream end>'"),  # the parser's
        ("", "f.yaml:1: the file is empty"),
    ],
)
def test_the_same_errors(text: str, message: str) -> None:
    with pytest.raises(UserError) as caught:
        load_yaml(text, "f.yaml")
    assert str(caught.value) == message

"""Load YAML safely and remember the line of every value, so errors can say FILE:LINE."""

from __future__ import annotations

import collections
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from responder.errors import UserError

MAX_BYTES = 1024 * 1024  # a playbook is a page of YAML; anything near this is a mistake or an attack
MAX_DEPTH = 32
Path_ = tuple[str | int, ...]


@dataclass
class YamlDocument:
    data: Any
    lines: dict[Path_, int]
    source: str

    def line_of(self, path: Path_) -> int:
        """The line of the deepest known node on `path` (1-based)."""
        for depth in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:depth]))
            if line is not None:
                return line
        return 1

    def where(self, path: Path_) -> str:
        return f"{self.source}:{self.line_of(path)}"


def read_text(path: Path) -> str:
    if path.is_dir():
        raise UserError(f"{path}: is a directory, not a playbook file")
    try:
        if path.stat().st_size > MAX_BYTES:
            raise UserError(f"{path}: is larger than {MAX_BYTES // 1024} KiB; a playbook is far smaller")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except PermissionError:
        raise UserError(f"{path}: permission denied") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def load_yaml(text: str, source: str) -> YamlDocument:
    try:
        composer = _Composer(_check_events(text, source))
        node = composer.get_single_node()
        if node is None:
            raise UserError("the file is empty", f"{source}:1")
        lines: dict[Path_, int] = {}
        _index_lines(node, (), lines)
        data = composer.construct_document(node)
    except yaml.MarkedYAMLError as exc:  # syntax errors, and constructor errors such as !!python/object tags
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise UserError(f"invalid YAML: {exc.problem or exc.context}", f"{source}:{line}") from None
    except yaml.YAMLError as exc:
        raise UserError(f"invalid YAML: {exc}", source) from None
    except (TypeError, ValueError, AttributeError) as exc:  # a list as a mapping key, `!!int ten`, `!!timestamp x`
        raise UserError(f"invalid YAML: {type(exc).__name__}: {exc}", source) from None
    return YamlDocument(data=data, lines=lines, source=source)


def _check_events(text: str, source: str) -> list[yaml.Event]:
    """Refuse what a playbook never needs and an attacker would use, before building anything from it:
    aliases ("billion laughs"), explicit tags, and nesting deep enough to exhaust the YAML composer.
    Returns the events, for the composer: the text is parsed once."""
    events = []
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        events.append(event)
        line = event.start_mark.line + 1 if event.start_mark else 1
        if isinstance(event, yaml.AliasEvent):
            raise UserError("YAML aliases (*name) are not allowed in playbooks", f"{source}:{line}")
        tag = getattr(event, "tag", None)
        if tag is not None:  # !!int, !!timestamp, !!python/...: a playbook needs none
            raise UserError(f"YAML tags ({tag}) are not allowed in playbooks", f"{source}:{line}")
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise UserError(
                    f"nested more than {MAX_DEPTH} levels deep; a playbook needs far fewer", f"{source}:{line}"
                )
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
    return events


class _Composer(yaml.composer.Composer, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
    """yaml.SafeLoader's composer and constructor, fed the events _check_events parsed: parsing the text a second
    time in pure Python cost a run ~8 ms of CPU before its first request. Errors, nodes and their lines are the
    same: the composer and constructor are SafeLoader's, and only the parser's event interface is replaced."""

    def __init__(self, events: list[yaml.Event]) -> None:
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self._events = collections.deque(events)

    # yaml.parser.Parser's interface: the next event, or None past the end of the stream.
    def check_event(self, *choices: type[yaml.Event]) -> bool:
        return bool(self._events) and (not choices or isinstance(self._events[0], choices))

    def peek_event(self) -> yaml.Event | None:
        return self._events[0] if self._events else None

    def get_event(self) -> yaml.Event | None:
        return self._events.popleft() if self._events else None


def _index_lines(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            child = (*path, key)
            _index_lines(value_node, child, lines)
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, (*path, index), lines)

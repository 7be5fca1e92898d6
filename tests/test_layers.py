"""The folders are layers: a module imports only its own layer and those below it, and no module imports
itself back through others. Read from the source, imports inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "responder"
# Lowest first. A module may import its own layer and the ones before it.
LAYERS = [
    (
        "base",
        (
            "responder",
            "responder.errors",
            "responder.redaction",
            "responder.keys",
            "responder.alerts",
            "responder.names",
            "responder.clock",
        ),
    ),
    ("aws", ("responder.aws",)),
    ("actions", ("responder.actions",)),
    ("playbook", ("responder.playbook",)),
    # The engine's own layers: the journal, running a playbook, the ticket, the commands that compose them. Nothing
    # of the report is on the way to the first request because nothing below it (the journal, the running layer)
    # may import it; the commands reach it only once a run has contained the key (tests/test_first_request.py).
    ("engine", ("responder.engine",)),
    ("engine.journal", ("responder.engine.journal",)),
    ("engine.running", ("responder.engine.running",)),
    ("engine.report", ("responder.engine.report",)),
    ("engine.commands", ("responder.engine.commands",)),
    ("fanout", ("responder.fanout",)),
    ("export", ("responder.export",)),
    ("sandbox", ("responder.sandbox",)),
    ("cli", ("responder.cli", "responder.__main__")),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    best, found = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), index
    assert found >= 0, f"{module} belongs to no layer: add it to LAYERS"
    return found


def imports(path: Path) -> set[str]:
    """The responder modules a file imports (a `from package import module` names the module)."""
    known = {module_name(p) for p in PACKAGE.rglob("*.py")}
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("responder")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("responder"):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in known}
    return {m for m in found if m in known}


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports(p) - {module_name(p)} for p in PACKAGE.rglob("*.py")}


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = [
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for module, targets in graph().items()
        for target in targets
        if layer_of(target) > layer_of(module)
    ]
    assert upward == []


def test_no_import_cycle() -> None:
    edges = graph()
    # A package's __init__ importing nothing of its own children is what makes a package edge harmless; any
    # strongly connected group of two or more modules is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    assert cycles == []


def test_the_checks_can_fail() -> None:
    assert layer_of("responder.engine.commands.operations") > layer_of("responder.actions.base")
    assert layer_of("responder.engine.report.build") > layer_of("responder.engine.running.executor")
    assert layer_of("responder.engine.running.executor") > layer_of("responder.engine.journal.writer")
    assert "responder.engine.journal.writer" in imports(PACKAGE / "engine" / "running" / "executor.py")

"""The sandbox's modules read top-down, like moto's: every import points at a lower layer, so nothing is circular.

``LAYERS`` is the one statement of the order (README's Layout table follows it). A module may import only modules of
lower layers: not its own layer, not a higher one, not even under ``TYPE_CHECKING`` or inside a function (every
``import`` statement of the file counts).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
README = PACKAGE / "README.md"

#: Top to bottom. Modules of one layer do not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__init__", "__main__", "testing"),  # entry points: the public API, the CLI, the pytest plugin
    ("server",),  # SandboxServer: the app on a socket, in a thread
    ("app",),  # SandboxApp: dispatch to the control plane or the routing table; faults, auth, limits, log
    ("control", "routes"),  # the control plane (/_sandbox/); the routing table
    ("handlers", "state", "mutations"),  # thin HTTP handlers; runtime state (store, auth, config); random changes
    ("store", "datagen", "loader"),  # the model: the account; where datasets come from
    ("reports",),  # report rows as model functions
    ("resources",),  # resource specs, filters, value types (Record, Scope, Change, Dataset)
    ("auth", "pagination", "faults", "ratelimit", "http"),  # permissions and tokens, envelopes, schedules, limits
    ("errors", "clock"),  # typed errors, timestamps
)
LAYER_OF = {module: depth for depth, layer in enumerate(LAYERS) for module in layer}


def _modules() -> list[str]:
    return sorted(path.stem for path in PACKAGE.glob("*.py"))


def _imports(module: str) -> set[str]:
    """The package modules ``module`` imports, anywhere in the file."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    known = set(_modules())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == PACKAGE.name and len(parts) > 1:
                    found.add(parts[1])
        elif isinstance(node, ast.ImportFrom):
            dotted = (node.module or "").split(".")
            if node.level == 1:
                path = dotted
            elif node.level == 0 and dotted[0] == PACKAGE.name:
                path = dotted[1:]
            else:  # outside the package
                continue
            if path and path[0]:
                found.add(path[0])
            else:  # ``from . import x`` / ``from harvest_sandbox import x``: x may be a module
                found.update(alias.name for alias in node.names if alias.name in known)
    return found & known


def _graph() -> dict[str, set[str]]:
    return {module: _imports(module) - {module} for module in _modules()}


def test_given_layer_table_then_every_module_is_in_exactly_one_layer() -> None:
    placed = [module for layer in LAYERS for module in layer]

    assert sorted(placed) == _modules()


def test_given_every_module_when_reading_its_imports_then_each_points_at_a_lower_layer() -> None:
    wrong = [
        f"{module} (layer {LAYER_OF[module]}) imports {target} (layer {LAYER_OF[target]})"
        for module, targets in _graph().items()
        for target in sorted(targets)
        if LAYER_OF[target] <= LAYER_OF[module]
    ]

    assert wrong == []


def test_given_every_module_when_following_imports_then_there_is_no_cycle() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in graph:
        if module not in state:
            visit(module, [module])

    assert cycles == []


def test_given_readme_layout_table_then_it_lists_every_module_top_down() -> None:
    section = README.read_text().split("## Layout")[1].split("\n#")[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    listed = [name for row in rows for name in re.findall(r"`(\w+)\.py`", row.split("|")[1])]

    assert sorted(listed) == _modules()
    assert [LAYER_OF[m] for m in listed] == sorted(LAYER_OF[m] for m in listed)

"""The house rules of the layout: data flows one way, and what runs in the worker does not lean on what people run."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(folder: str) -> dict[str, set[str]]:
    """Each module under `folder` → the modules it imports (at any depth, lazy imports included)."""
    found = {}
    for path in (ROOT / folder).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names |= {f"{node.module}.{alias.name}" for alias in node.names}
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("folder, forbidden", [
    ("models", ("streams", "faust", "kafka", "aiokafka", "clickhouse_connect", "chdb")),  # detection stays pure
    ("streams/worker", ("streams.ops",)),  # the worker never imports the CLI, the demo or the evaluation
    ("streams/store", ("streams.ops", "streams.worker", "faust")),
    ("streams/sources", ("streams.ops", "streams.worker", "faust")),
    ("streams/access", ("streams.ops", "streams.worker", "faust", "aiohttp")),  # who may: no web framework
])
def test_no_module_imports_against_the_flow(folder, forbidden):
    offending = {module: sorted(n for n in names if n.split(".")[0] in forbidden or n.startswith(forbidden))
                 for module, names in imported_modules(folder).items()}
    assert {m: n for m, n in offending.items() if n} == {}

"""The import rule of docs/architecture.md, checked: arrows point down its list of layers only, and
no modules import each other in a circle. Every import counts, lazy ones and those only for the
type checker included: each is an arrow of the design."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.support.paths import ROOT

PACKAGE = ROOT / "layer" / "asgi_lambda"
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")

# docs/architecture.md's list ("## Layers"), top to bottom. A module belongs to the layer of its longest
# prefix; `asgi_lambda.local` (the developer tools, and `python -m asgi_lambda`) stands apart, above all.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("asgi_lambda.local", "asgi_lambda.__main__"),
    ("asgi_lambda", "asgi_lambda.bootstrap", "asgi_lambda.runtime_client"),
    ("asgi_lambda.runtime",),
    ("asgi_lambda.adapter",),
    ("asgi_lambda.snapstart",),
    ("asgi_lambda.websocket",),
    ("asgi_lambda.protocols",),
    ("asgi_lambda.sources",),
    ("asgi_lambda.settings", "asgi_lambda.importer"),
    ("asgi_lambda.stores",),
    ("asgi_lambda.exceptions", "asgi_lambda.types", "asgi_lambda.docs"),
)


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports() -> dict[str, set[str]]:
    """Each module's arrows: the package's modules it imports, parents of its own excepted."""
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            else:
                continue
            for target in targets:
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(f"{target}."):
                    graph[name].add(target)
    return graph


def layer(name: str) -> int:
    matches = [
        (len(prefix), index) for index, names in enumerate(LAYERS) for prefix in names if name == prefix or name.startswith(f"{prefix}.")
    ]
    assert matches, f"{name} is in no layer of docs/architecture.md"
    return max(matches)[1]


def test_every_arrow_points_down_the_layers() -> None:
    upward = [f"{name} -> {target}" for name, targets in imports().items() for target in sorted(targets) if layer(target) < layer(name)]

    assert upward == []


def test_no_modules_import_each_other_in_a_circle() -> None:
    graph = imports()

    def reaches(start: str, goal: str) -> bool:
        seen, stack = set(), [start]
        while stack:
            name = stack.pop()
            if name == goal:
                return True
            if name not in seen:
                seen.add(name)
                stack.extend(graph[name])
        return False

    circles = [
        f"{name} <-> {target}" for name in sorted(graph) for target in sorted(graph[name]) if name < target and reaches(target, name)
    ]

    assert circles == []


def test_the_runtime_apis_connection_imports_nothing_of_the_loop_above_it() -> None:
    assert imports()["asgi_lambda.runtime.api"] == set()


def test_the_streaming_code_imports_neither_the_adapter_nor_a_source() -> None:
    arrows = imports()["asgi_lambda.runtime.stream"]

    assert "asgi_lambda.adapter" not in arrows
    assert not {arrow for arrow in arrows if arrow.startswith("asgi_lambda.sources.") and arrow != "asgi_lambda.sources.common"}


def test_the_architecture_page_lists_these_layers_in_this_order() -> None:
    section = DOC.split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]

    assert [tuple(re.findall(r"`([\w.]+)`", cell)) for cell in rows] == list(LAYERS)

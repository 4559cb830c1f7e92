"""No import cycles among prtkg's modules, and the layers kept apart (issue #19.3): data flows loaders
-> store -> shapes + rules -> findings -> api/cli, so no module may reach itself through its imports,
and no layer imports one above it.

The graph is read from the source with `ast`, imports inside functions included: a function-level
import is how a cycle is usually hidden, and it still ties the two modules together.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Folder -> installed package name (pyproject's package-dir).
PACKAGES = {"prtkg": "prtkg", "shapes": "prtkg.shapes", "rules": "prtkg.rules",
            "loaders": "prtkg.loaders", "api": "prtkg.api", "app": "prtkg.app"}

# The layers: package -> layer (the longest matching package names a module's layer), and what each
# layer may import besides itself. The core (prtkg/: store, records, findings, calendar, codes ...) is
# under everything; loaders and the checks (shapes/, rules/) each stand on the core alone; the
# application (app/: pipeline, ingest, reports, CLI; api/: the HTTP service) is on top, and its two
# packages call each other (serve starts the API, the API's record routes ingest).
LAYER_OF = {"prtkg": "core", "prtkg.loaders": "loaders", "prtkg.shapes": "checks",
            "prtkg.rules": "checks", "prtkg.app": "application", "prtkg.api": "application"}
MAY_IMPORT = {"core": set(), "loaders": {"core"}, "checks": {"core"},
              "application": {"core", "loaders", "checks"}}


def _modules() -> dict[str, Path]:
    out = {}
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join([package, *parts])] = path
    return out


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def import_graph() -> dict[str, set[str]]:
    """Module -> the prtkg modules it imports (a name imported from a package that is a submodule
    counts as that submodule; a submodule's implicit import of its own parent package does not)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if _is_package(path) else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                subs = [f"{source}.{alias.name}" for alias in node.names]
                found = [s for s in subs if s in modules]
                targets.update(found)
                if len(found) < len(subs):   # names defined in `source` itself
                    targets.add(source)
        graph[name] = {_owner(t, modules) for t in targets if _owner(t, modules)} - {name}
    return graph


def _owner(target: str, modules: dict[str, Path]) -> str | None:
    """The prtkg module `target` names (itself or the nearest enclosing one), None if outside prtkg."""
    while target:
        if target in modules:
            return target
        target = target.rpartition(".")[0]
    return None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def _path(graph: dict[str, set[str]], component: list[str]) -> str:
    """One concrete cycle through the component's first module, for the failure message."""
    start, members = component[0], set(component)
    trail, seen = [start], {start}
    while True:
        nxt = sorted(graph[trail[-1]] & members)
        if start in nxt and len(trail) > 1:
            return " -> ".join(trail + [start])
        step = next((n for n in nxt if n not in seen), None)
        if step is None:
            return " <-> ".join(component)
        trail.append(step)
        seen.add(step)


def test_no_import_cycles():
    graph = import_graph()
    assert "prtkg.store.embedded" in graph and "prtkg.shapes.validate" in graph  # the walk found the tree
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(_path(graph, c) for c in found)


def layer(module: str, layer_of: dict[str, str]) -> str:
    """The layer of `module`: that of the longest package in `layer_of` it is or lies in."""
    owners = [p for p in layer_of if module == p or module.startswith(p + ".")]
    if not owners:
        raise KeyError(f"{module} is in no layer of LAYER_OF")
    return layer_of[max(owners, key=len)]


def layer_violations(graph: dict[str, set[str]], layer_of: dict[str, str],
                     may_import: dict[str, set[str]]) -> list[str]:
    """Every import that reaches a layer its module's layer may not import, as 'a (layer) -> b (layer)'."""
    out = []
    for module, targets in sorted(graph.items()):
        own = layer(module, layer_of)
        for target in sorted(targets):
            theirs = layer(target, layer_of)
            if theirs != own and theirs not in may_import[own]:
                out.append(f"{module} ({own}) -> {target} ({theirs})")
    return out


def test_layers_are_kept_apart():
    graph = import_graph()
    assert {"prtkg.app.cli", "prtkg.api.app", "prtkg.rules.risk", "prtkg.store"} <= set(graph)
    assert set(LAYER_OF.values()) == set(MAY_IMPORT)
    found = layer_violations(graph, LAYER_OF, MAY_IMPORT)
    assert not found, "imports against the layers:\n" + "\n".join(found)


def test_layer_violations_are_found():
    layer_of = {"p": "core", "p.rules": "checks", "p.app": "application", "p.api": "application"}
    may_import = {"core": set(), "checks": {"core"}, "application": {"core", "checks"}}
    graph = {"p.records": {"p.rules.risk"},          # core reaching up to the checks
             "p.applicability": {"p.records"},        # within the core: fine (not the app package)
             "p.rules.risk": {"p.records", "p.api.app"},   # checks reaching the API
             "p.app.cli": {"p.rules.risk", "p.api.app"},   # the application on what is below it
             "p.api.app": {"p.app.cli"}}
    assert layer_violations(graph, layer_of, may_import) == [
        "p.records (core) -> p.rules.risk (checks)",
        "p.rules.risk (checks) -> p.api.app (application)",
    ]
    with pytest.raises(KeyError, match="q.x is in no layer"):
        layer_violations({"q.x": set()}, layer_of, may_import)


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}, [["a", "b", "c"]]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
])
def test_cycles_are_found(graph, expected):
    assert cycles(graph) == expected


def test_relative_and_lazy_imports_are_edges(tmp_path, monkeypatch):
    """A function-level `from . import x` and an `import prtkg.y` both count."""
    pkg = tmp_path / "prtkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "x.py").write_text("def f():\n    from . import y\n")
    (pkg / "y.py").write_text("import prtkg.x\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    monkeypatch.setitem(globals(), "PACKAGES", {"prtkg": "prtkg"})
    graph = import_graph()
    assert graph["prtkg.x"] == {"prtkg.y"} and graph["prtkg.y"] == {"prtkg.x"}
    assert cycles(graph) == [["prtkg.x", "prtkg.y"]]

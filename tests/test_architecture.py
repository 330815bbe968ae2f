"""The layering of the code, checked on its import graph (an AST reading of every module; no import runs).

The packages ``nianbao``, ``schemas`` and ``flows`` are read file by file; every ``import`` and
``from … import`` — at module level, inside functions and under ``TYPE_CHECKING`` alike — is an edge
from the importing module to the module it names.  Three rules:

(a) no import cycle between modules (a function-local import that dodges a cycle is still a cycle);
(b) dependencies point one way, down the layers
    domain ← catalogue ← io ← read ← rules (schemas + rule families) ← localise ← validate ← run ← report ← cli
    (``flows`` and the review desk sit with the cli at the top): a module imports only modules of
    its own layer or a lower one;
(c) no private name (``_x``) is imported from another module: a helper shared between modules is
    public in the module that owns it.

``LAYER_OF`` places today's modules (the longest matching dotted prefix wins); a new module must be
placed there — the test names it.  ``ALLOWED_*`` list today's known exceptions, each with the reason
it waits; they may only shrink: an entry that no longer occurs fails the test (delete it).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("nianbao", "schemas", "flows")

LAYERS = ("domain", "catalogue", "io", "read", "rules", "localise", "validate", "run", "report", "cli")

# module (or package prefix) → layer; the longest matching prefix wins
LAYER_OF: dict[str, str] = {
    "nianbao": "domain",  # the package itself (empty __init__)
    "nianbao.domain": "domain",  # the statutory format, the report model, normalisation, the registry, time
    "nianbao.catalogue": "catalogue",  # the rule records (catalogue.toml) and their loader
    "nianbao.io": "io",  # bytes → lines of cells; limits, the guarded worker, atomic writes
    "nianbao.read": "read",  # lines of cells → a parsed report
    "nianbao.rules": "rules",  # frames, the rule families, failing rows → findings
    "nianbao.outcome": "rules",  # Finding, FileOutcome, RunOutcome
    "schemas": "rules",  # the pandera declarations
    "nianbao.localise": "localise",  # Fellegi–Holt
    "nianbao.validate": "validate",  # a batch through every family, then localisation
    "nianbao.run": "run",  # inputs, steps, memo, store, run folders, stop handling, Prefect settings
    "nianbao.report": "report",  # views of one outcome
    "nianbao.testing": "report",  # the synthetic generator and document renderers
    "nianbao.cli": "cli",
    "nianbao.desk": "cli",  # the review desk
    "flows": "cli",
}

# (importer, imported) edges that close a cycle today, with what they wait for.  May only shrink.
ALLOWED_CYCLE_EDGES: dict[tuple[str, str], str] = {}

# (importer, imported) edges pointing up the layers today, with what they wait for.  May only shrink.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {}

# (importer, owner, name): private names imported across modules today.  May only shrink.
ALLOWED_PRIVATE: dict[tuple[str, str, str], str] = {}


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _owner(name: str) -> str | None:
    """The project module a dotted name belongs to (None: outside the project)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str) -> Iterator[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) of every import statement of ``module``."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = module.split(".")
                if path.name != "__init__.py":
                    base_parts.pop()
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if _owner(sub) == sub:  # `from package import module`
                    yield sub, None, node.lineno
                else:
                    yield base, alias.name, node.lineno


def _graph() -> dict[str, dict[str, int]]:
    """importer → {imported project module: first line}."""
    graph: dict[str, dict[str, int]] = {m: {} for m in MODULES}
    for m in MODULES:
        for target, _name, line in _imports(m):
            owner = _owner(target)
            if owner is not None and owner != m:
                graph[m].setdefault(owner, line)
    return graph


GRAPH = _graph()


def layer_of(module: str) -> str | None:
    name = module
    while name:
        if name in LAYER_OF:
            return LAYER_OF[name]
        name = name.rpartition(".")[0]
    return None


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, successors = work[-1]
            for w in successors:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(graph[w])))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp: list[str] = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_every_module_has_a_layer() -> None:
    unplaced = sorted(m for m in MODULES if layer_of(m) is None)
    assert not unplaced, f"place these modules in LAYER_OF of tests/test_architecture.py: {unplaced}"
    assert set(LAYER_OF.values()) <= set(LAYERS)


def test_no_import_cycle() -> None:
    for edge in ALLOWED_CYCLE_EDGES:
        assert edge[1] in GRAPH[edge[0]], f"{edge} no longer imported: delete it from ALLOWED_CYCLE_EDGES"
    graph = {m: {t: ln for t, ln in ts.items() if (m, t) not in ALLOWED_CYCLE_EDGES} for m, ts in GRAPH.items()}
    found = cycles(graph)
    detail = [
        " ↔ ".join(c) + ": " + "; ".join(f"{a} → {b} (line {graph[a][b]})" for a in c for b in graph[a] if b in c)
        for c in found
    ]
    assert not found, "import cycles:\n" + "\n".join(detail)
    # each allowed edge must still close a cycle (else it is not an exception any more)
    for edge in ALLOWED_CYCLE_EDGES:
        closes = any(edge[0] in c and edge[1] in c for c in cycles(GRAPH))
        assert closes, f"{edge} closes no cycle any more: delete it from ALLOWED_CYCLE_EDGES"


def test_dependencies_point_down_the_layers() -> None:
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward: dict[tuple[str, str], str] = {}
    for m, targets in GRAPH.items():
        lm = layer_of(m)
        for t, line in targets.items():
            lt = layer_of(t)
            if lm is not None and lt is not None and rank[lt] > rank[lm]:
                upward[(m, t)] = f"{m} ({lm}) imports {t} ({lt}) at line {line}"
    unexpected = sorted(v for k, v in upward.items() if k not in ALLOWED_UPWARD)
    assert not unexpected, "imports up the layers:\n" + "\n".join(unexpected)
    stale = sorted(k for k in ALLOWED_UPWARD if k not in upward)
    assert not stale, f"no longer upward: delete from ALLOWED_UPWARD: {stale}"


def test_no_private_name_imported_across_modules() -> None:
    found: dict[tuple[str, str, str], int] = {}
    for m in MODULES:
        for target, name, line in _imports(m):
            owner = _owner(target)
            if owner is None or owner == m or name is None:
                continue
            if name.startswith("_") and not name.startswith("__"):
                found[(m, owner, name)] = line
    unexpected = sorted(
        f"{m} imports {o}.{n} (line {ln})" for (m, o, n), ln in found.items() if (m, o, n) not in ALLOWED_PRIVATE
    )
    assert not unexpected, "private names imported across modules (make them public where they live):\n" + "\n".join(
        unexpected
    )
    stale = sorted(k for k in ALLOWED_PRIVATE if k not in found)
    assert not stale, f"no longer imported: delete from ALLOWED_PRIVATE: {stale}"


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b": 1}, "b": {}}) == []


def test_one_path_from_failing_rows_to_findings() -> None:
    """Only nianbao.rules.base runs a pandera validation and reads its failure cases: every rule
    family gets its failing rows from ``failing_rows`` (no copy of the join of failure cases)."""
    owner = "nianbao.rules.base"
    for m, path in MODULES.items():
        if m == owner:
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ("SchemaErrors", "failure_cases", 'with_row_index("index").join('):
            assert needle not in text, f"{m} reads pandera's failure cases itself ({needle}): use {owner}.failing_rows"

"""The layout of issue 18: every import (also the lazy ones inside functions) points down the layers
listed in the README's Layout section, so the tree reads in dependency order.

A unit is a top-level module (the spine) or a subpackage of ``neuromanifold``.  A unit may import
only units listed before it in LAYERS; the experiments (equivariant, flows, dynamics) do not import
each other.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "neuromanifold"
README = Path(__file__).resolve().parents[1] / "README.md"

# lowest first; a unit imports only from units before it
LAYERS = [
    "errors", "version", "result", "runtime", "arithmetic", "architectures", "context", "parametrization",
    "homotopy", "invariants", "landscape", "slices", "exports", "analysis", "atlas", "report",
    "equivariant", "flows", "dynamics", "cli", "__init__", "__main__",
]
TOP_MODULES = {"errors", "version", "result", "context", "analysis", "__init__", "__main__"}


def _unit(mod: str) -> str:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports() -> list[tuple[str, str, str]]:
    """(importing module, imported module, where) for every neuromanifold import in src/."""
    out = []
    for p in sorted(SRC.rglob("*.py")):
        rel = p.relative_to(SRC).with_suffix("").parts
        is_init = rel[-1] == "__init__"
        mod = ".".join(("neuromanifold",) + (rel[:-1] if is_init else rel))
        pkg = mod.split(".") if is_init else mod.split(".")[:-1]
        for node in ast.walk(ast.parse(p.read_text(), str(p))):
            where = f"{p.relative_to(SRC.parent)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg[: len(pkg) - (node.level - 1)]
                    tgt = ".".join(base + ([node.module] if node.module else []))
                else:
                    tgt = node.module or ""
                if tgt == "neuromanifold":
                    out += [(mod, f"neuromanifold.{a.name}", where) for a in node.names]
                elif tgt.startswith("neuromanifold."):
                    out.append((mod, tgt, where))
            elif isinstance(node, ast.Import):
                out += [(mod, a.name, where) for a in node.names if a.name.startswith("neuromanifold.")]
    return out


def test_every_unit_is_a_known_layer():
    units = {p.stem if p.is_file() else p.name for p in SRC.iterdir()
             if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))}
    assert units - set(LAYERS) == set(), "add new packages to LAYERS and to the README's Layout section"
    assert {u for u in units if (SRC / f"{u}.py").exists()} <= TOP_MODULES, "only the spine sits at the top"


def test_no_import_points_upward():
    rank = {u: i for i, u in enumerate(LAYERS)}
    experiments = {"equivariant", "flows", "dynamics"}
    bad = []
    for mod, tgt, where in _imports():
        a, b = _unit(mod), _unit(tgt)
        if a == b:
            continue
        if rank[b] > rank[a] or (a in experiments and b in experiments):
            bad.append(f"{where}: {a} imports {tgt}")
    assert not bad, "imports pointing up the layers:\n" + "\n".join(bad)


def test_readme_layout_lists_every_package_in_order():
    text = README.read_text()
    section = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    named = re.findall(r"^\s*([a-z_]+)(?:/|\.py)", section, flags=re.M)
    packages = [u for u in LAYERS if (SRC / u).is_dir()]
    listed = [u for u in named if u in packages]
    assert listed == packages, f"README Layout lists {listed}, the tree has {packages} (in layer order)"



def _import_graph(inside_functions: bool = False) -> dict[str, set[str]]:
    """module -> the neuromanifold modules it imports when it is executed: import statements outside
    function bodies (also inside them with ``inside_functions``) and outside ``if TYPE_CHECKING:``.
    ``from P import n`` counts as importing the module P.n where that is a module of src/, else P."""
    modules = {}
    for p in sorted(SRC.rglob("*.py")):
        parts = ("neuromanifold",) + p.relative_to(SRC).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = (p, parts[-1] == "__init__")

    def executed(body: list[ast.stmt]):
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                yield from executed(node.orelse)
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not inside_functions:
                continue
            yield node
            for field in ("body", "orelse", "finalbody", "handlers"):
                yield from executed(getattr(node, field, []))

    graph: dict[str, set[str]] = {}
    for mod, (p, is_pkg) in modules.items():
        package = mod.split(".") if is_pkg else mod.split(".")[:-1]
        targets = set()
        for node in executed(ast.parse(p.read_text(), str(p)).body):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                src = ".".join(base + (node.module.split(".") if node.module else []))
                targets |= {f"{src}.{a.name}" if f"{src}.{a.name}" in modules else src for a in node.names}
        graph[mod] = {t for t in targets if t in modules and t != mod}
    return graph


def _cycles(graph: dict[str, set[str]]) -> str:
    """The strongly connected components with more than one module (Tarjan), with their edges."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return "\n".join(" <-> ".join(c) + "".join(f"\n    {m} imports {sorted(graph[m] & set(c))}" for m in c)
                     for c in cycles)


def test_no_module_takes_part_in_an_import_cycle():
    """Module-level imports form no cycle: every module can be imported first."""
    cycles = _cycles(_import_graph())
    assert not cycles, "module-level import cycles:\n" + cycles


def test_spec_parser_and_families_import_no_cycle_even_lazily():
    """architectures/: the families do not import the parser or the registry, not even inside functions
    (spec -> registry -> families -> params, base)."""
    graph = _import_graph(inside_functions=True)
    arch = {m: graph[m] & {n for n in graph if n.startswith("neuromanifold.architectures")}
            for m in graph if m.startswith("neuromanifold.architectures")}
    cycles = _cycles(arch)
    assert not cycles, "import cycles in architectures/ (also through imports inside functions):\n" + cycles

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
    "homotopy", "invariants", "landscape", "slices", "analysis", "atlas", "report",
    "equivariant", "flows", "dynamics", "cli", "__init__",
]
TOP_MODULES = {"errors", "version", "result", "context", "analysis", "__init__"}


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

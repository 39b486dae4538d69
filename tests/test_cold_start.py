"""Cold start (issue 21, part 5): a fresh process pays only for the libraries it uses.

Structural, not timed: in a fresh interpreter, ``import neuromanifold`` and ``import neuromanifold.cli``
(and building the command line's parser, which every command does) must not import the heavy optional
stacks -- torch, e3nn, Dask's distributed, matplotlib, numba -- nor the ones only some invariants use
(scipy, sympy).  Those are imported inside the functions that use them.
"""

from __future__ import annotations

import sys

import pytest
from fresh import fresh_json

HEAVY = ("torch", "e3nn", "distributed", "dask", "matplotlib", "numba", "llvmlite")
ON_DEMAND = ("scipy", "sympy", "sklearn")  # used by some invariants only, imported when they run


def _loaded_after(code: str) -> set[str]:
    """The top-level packages in sys.modules after running ``code`` in a fresh interpreter."""
    return set(fresh_json(code + "\nimport json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"))


def _assert_light(code: str) -> None:
    """After ``code`` in a fresh interpreter neither numpy nor a heavy or on-demand stack is loaded."""
    loaded = _loaded_after(code)
    assert "numpy" not in loaded and not loaded & set(HEAVY + ON_DEMAND), sorted(loaded)


@pytest.mark.parametrize(
    "code",
    [
        "import neuromanifold",
        "import neuromanifold.cli",
        "from neuromanifold.cli import build_parser; build_parser()",
    ],
)
def test_import_pulls_no_heavy_library(code: str) -> None:
    loaded = _loaded_after(code)
    assert not loaded & set(HEAVY + ON_DEMAND), f"{code!r} imports {sorted(loaded & set(HEAVY + ON_DEMAND))}"


def test_dimension_alone_loads_only_numpy_and_flint() -> None:
    """``analyze(..., only="dimension")`` uses numpy and python-flint only: the homotopy modules it imports
    (through ``analysis``) must not pull scipy in at module level, nor anything heavier."""
    loaded = _loaded_after('import neuromanifold as nm\nnm.analyze("mlp(widths=(2,2,1), r=2)", only="dimension")')
    assert not loaded & set(HEAVY + ON_DEMAND), sorted(loaded & set(HEAVY + ON_DEMAND))


def test_import_neuromanifold_loads_no_submodule_but_resolves_every_public_name() -> None:
    """The package's names are lazy (PEP 562): importing it loads none of them, and each one resolves on use
    (``nm.analyze``, ``nm.parse_spec``, ...) without pulling in torch or the other heavy stacks."""
    code = (
        "import sys, neuromanifold as nm\n"
        "before = sorted(m for m in sys.modules if m.startswith('neuromanifold.'))\n"
        "names = {n: type(getattr(nm, n)).__name__ for n in nm.__all__}\n"
        "import json\n"
        "print(json.dumps({'before': before, 'names': names, 'version': nm.__version__,\n"
        "                  'loaded': sorted({m.split('.')[0] for m in sys.modules})}))\n"
    )
    info = fresh_json(code)
    assert info["before"] == [], f"import neuromanifold loaded {info['before']}"
    assert set(info["names"]) == set(__import__("neuromanifold").__all__)
    assert info["version"]
    assert not set(info["loaded"]) & set(HEAVY), sorted(set(info["loaded"]) & set(HEAVY))


def test_unknown_attribute_is_an_attribute_error() -> None:
    import neuromanifold as nm

    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        nm.no_such_name  # noqa: B018
    assert nm.analysis.DEFAULT_INVARIANTS  # a submodule is reachable as an attribute


def test_homotopy_names_resolve_lazily() -> None:
    import neuromanifold.homotopy as H

    for name in H.__all__:
        assert getattr(H, name) is not None
    with pytest.raises(AttributeError):
        H.no_such_name  # noqa: B018


def test_analyze_parser_loads_neither_analysis_nor_numpy() -> None:
    """``analyze``'s parser takes its help text and choices from ``cli.names``, not from ``analysis`` (which
    imports numpy and every invariant module)."""
    code = (
        "import argparse, sys\n"
        "from neuromanifold.cli import analyze\n"
        "analyze.add_parser(argparse.ArgumentParser().add_subparsers())\n"
        "assert 'neuromanifold.analysis' not in sys.modules\n"
        "assert 'neuromanifold.parametrization.coefficients' not in sys.modules\n"
    )
    _assert_light(code)


def test_help_loads_neither_analysis_nor_numpy() -> None:
    """``neuromanifold --help`` builds every parser and prints; it needs no numpy and no invariant module."""
    code = (
        "import contextlib, io, sys\n"
        "from neuromanifold.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "assert 'neuromanifold.analysis' not in sys.modules\n"
    )
    _assert_light(code)


def test_cli_names_match_their_sources() -> None:
    """The light copies in ``cli.names`` (help text and choices) are exactly the names the library uses."""
    from neuromanifold import analysis, context
    from neuromanifold.atlas import ranges, tables
    from neuromanifold.cli import names
    from neuromanifold.parametrization import coefficients

    assert names.INVARIANT_NAMES == tuple(analysis.INVARIANTS)
    assert names.DEFAULT_INVARIANTS == tuple(analysis.DEFAULT_INVARIANTS)
    assert names.METRICS == tuple(context.METRICS) == tuple(coefficients.METRICS)
    assert names.ATLAS_MAX_SPECS == ranges.MAX_SPECS
    assert names.ATLAS_PRESETS == {k: v[1] for k, v in tables.PRESETS.items()}

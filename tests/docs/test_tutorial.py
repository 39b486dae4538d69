"""Issue 22: the tutorial notebook ``docs/tutorial.ipynb`` is committed clean and, executed fresh in a kernel, shows
the seed talk's numbers: dim 5 for attention(d=2, dout=1, a=2, t=2), 4 complex / 2 or 4 real critical points of the
conic's loss, a 2-dimensional Voronoi cell at the cusp, 4 conservation laws, ...  Nothing is read from stored
outputs: the notebook has none.
"""

from __future__ import annotations

import ast
import os
import re
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (pip install nbformat)")
nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (pip install nbclient)")
pytest.importorskip("ipykernel", reason="ipykernel is not installed (pip install ipykernel)")

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "tutorial.ipynb"


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    assert nb.metadata.kernelspec.name == "python3"
    assert "$" not in "".join(c.source for c in nb.cells if c.cell_type == "markdown")  # no MathJax needed


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook run top to bottom in a fresh kernel (this interpreter's ipykernel), in a scratch directory."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cwd = tmp_path_factory.mktemp("tutorial")
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))  # one BLAS thread, as the docs build
        t0 = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - t0
    assert list(cwd.iterdir()) == []  # the tutorial writes no files
    return nb, seconds


def _cell(nb, tag: str):
    (cell,) = [c for c in nb.cells if tag in c.metadata.get("tags", [])]
    return cell


def _text(nb, tag: str) -> str:
    """The text/plain of the cell's result."""
    out = [o for o in _cell(nb, tag).outputs if o.output_type == "execute_result"]
    assert out, f"cell {tag!r} has no result"
    return out[-1].data["text/plain"]


def _value(nb, tag: str):
    return ast.literal_eval(_text(nb, tag))


def _html(nb, tag: str) -> str:
    return "".join(o.data.get("text/html", "") for o in _cell(nb, tag).outputs if "data" in o)


def test_every_cell_ran_without_error(executed):
    nb, seconds = executed
    for c in nb.cells:
        if c.cell_type == "code":
            assert c.execution_count is not None
            assert not [o for o in c.outputs if o.output_type == "error"], c.source
            assert not [o for o in c.outputs if o.output_type == "stream" and o.name == "stderr"
                        and "Traceback" in o.text], c.source
    print(f"tutorial executed in {seconds:.1f} s")


def test_dimension_and_fibers_of_attention(executed):
    nb, _ = executed
    assert _value(nb, "dimension") == (5, "certified", 5, 5)  # value, status, exact lower bound, symmetry upper bound
    assert _value(nb, "fibers") == (5, 0, "certified")  # generic fiber 10 - 5, no hidden symmetry
    html = _html(nb, "report")  # the full report: sections, figures, statuses
    assert "nm-full" in html and "attention(d=2, dout=1, a=2, t=2)" in html
    assert re.search(r"dimension: <span class='value'>5</span> <span class=\"status\"[^>]*>certified<", html)
    assert "data:image/png;base64," in html


def test_degree_singularities_and_covering(executed):
    nb, _ = executed
    html = _html(nb, "degree")
    assert re.search(r"degree: <span class='value'>4</span> <span class=\"status\"[^>]*>certified<", html)
    html = _html(nb, "singularities")
    assert "attention rank 1 of 2" in html and "zero function" in html and "data:image/png;base64," in html
    assert re.search(r"log_covering_number: <span class='value'>[\d.]+</span> <span class=\"status\"[^>]*>upper_bound<",
                     _html(nb, "covering"))


def test_the_cusp_has_a_two_dimensional_voronoi_cell_the_node_not(executed):
    nb, _ = executed
    fr = _value(nb, "cell-fractions")
    assert fr["cusp"] > 0.2 and fr["node"] < 0.02
    html = _html(nb, "cusp")
    assert "2-dimensional" in html and "data:image/png;base64," in html
    html = _html(nb, "voronoi")  # the boundary of the linear CNN's M attracts mass ~0.35
    m = re.search(r"critical of mu \(rank 2\)</td><td[^>]*>\d+</td><td[^>]*>([\d.]+)</td>", html)
    assert m and 0.25 < float(m.group(1)) < 0.45


def test_four_complex_critical_points_four_or_two_real(executed):
    nb, _ = executed
    counts = _value(nb, "critical-counts")
    assert {k: v["complex"] for k, v in counts.items()} == {"Y0": 4, "Y0 + 2 Y1": 4}
    assert {k: v["real"] for k, v in counts.items()} == {"Y0": 2, "Y0 + 2 Y1": 4}
    assert {k: v["certified real"] for k, v in counts.items()} == {"Y0": 2, "Y0 + 2 Y1": 4}  # interval arithmetic
    for tag in ("critical-a", "critical-b"):
        html = _html(nb, tag)
        assert "global minimum" in html and "data:image/png;base64," in html
    cells = _value(nb, "discriminant")
    assert set(cells["complex pure (cells)"]) >= {"4"} and {"2", "4"} <= set(cells["real pure (cells)"])
    assert any(o.output_type == "display_data" and "image/png" in o.data for o in _cell(nb, "discriminant").outputs)


def test_conservation_laws_and_the_atlas(executed):
    nb, _ = executed
    value, status, formulas = _value(nb, "conservation-formulas")
    assert (value, status, len(formulas)) == (4, "certified", 4)
    assert "certified" in _html(nb, "conservation")
    html = _html(nb, "atlas")
    assert "3 architectures" in html and html.count('data-status="certified"') == 3
    for w in (1, 2, 3):
        assert f"mlp(widths=(2, {w}, 1), r=2, bias=False)" in html


def test_runs_in_reasonable_time(executed):
    _, seconds = executed
    assert seconds < 120, f"the tutorial took {seconds:.0f} s (target ~40 s on 2 shared cores)"


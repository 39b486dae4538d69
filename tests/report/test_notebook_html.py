"""Issue 22 (notebooks): every result type renders as HTML in Jupyter.

Each type has its own ``_repr_html_`` (value, status, evidence; user-derived text escaped); with IPython running,
``import neuromanifold`` registers the full rendering of ``report.notebook`` (figures embedded as PNG).  A page
assembled from the reprs is loaded in headless Chromium, like the one-page report.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
import pytest

import neuromanifold as nm
from neuromanifold.atlas import Atlas, Row, Rows, sweep
from neuromanifold.landscape.plane_curves import CurveVoronoi, curve_voronoi
from neuromanifold.landscape.voronoi import VoronoiCell, voronoi_masses
from neuromanifold.report import notebook

from browser import needs_chromium, open_page
from fresh import fresh_json

EVIL = "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\">"


class _Tags(HTMLParser):
    """Tags and text of an HTML fragment (fails on nothing: collects)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(fragment: str) -> _Tags:
    p = _Tags()
    p.feed(fragment)
    p.close()
    return p


def _assert_safe(fragment: str) -> None:
    """No script, no event handler, no external resource: only data: images."""
    p = _parse(fragment)
    assert not [t for t, _ in p.tags if t in ("script", "iframe", "object", "embed")], fragment[:500]
    for tag, attrs in p.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        if tag == "img":
            assert attrs["src"].startswith("data:image/png;base64,")


@pytest.fixture(scope="module")
def objects(tmp_path_factory):
    """One object of every type, computed fresh (a few seconds in all)."""
    rep = nm.analyze("attention(d=2, dout=1, a=2, t=2)", only="dimension,singularities")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 2))
    Y0 = rng.standard_normal((8, 1))
    crit = nm.critical_points("mlp(widths=(2, 1, 1), r=2)", X, Y0)
    cv = curve_voronoi("y**2 - x**3", grid=11)
    vm = voronoi_masses("cnn(k=(2,2), s=(1,1), r=1)", n_samples=60)
    from neuromanifold.context import Context
    from neuromanifold.invariants.critical_system import solve_critical
    from neuromanifold.invariants.ed_degree import ed_critical_system

    cs = ed_critical_system(Context("mlp(widths=(2, 1, 1), r=2)", seed=0), "euclidean")
    cp = solve_critical(cs, cs.parameters(np.random.default_rng(1).standard_normal(cs.cmap.dimension)), seed=0)
    db = tmp_path_factory.mktemp("atlas") / "a.sqlite"
    sweep("mlp(widths=(2, 1..2, 1), r=2)", only="dimension", db=db)
    with Atlas(db) as a:
        rows = a.rows()
    return {"report": rep, "result": rep["dimension"], "critical_points": crit, "curve_voronoi": cv, "voronoi": vm,
            "critical_system": cp, "atlas_rows": rows}


def test_every_type_has_a_repr_html_with_value_status_and_evidence(objects):
    rep = objects["report"]
    h = rep._repr_html_()
    assert "attention(d=2, dout=1, a=2, t=2)" in h
    for name, r in rep.invariants.items():  # one row per invariant: name, value, status
        assert re.search(rf"<td[^>]*>{name}</td><td[^>]*>{re.escape(str(r.value))}</td>.*?data-status=\"{r.status}\"",
                         h), name
    assert h.count("nm-evidence") == len(rep.invariants)

    res = objects["result"]
    h = res._repr_html_()
    assert res.value == 5 and ">5<" in h and 'data-status="certified"' in h
    assert "evidence" in h and "&quot;numerical&quot;" in h  # the evidence's JSON, escaped

    crit = objects["critical_points"]
    h = crit._repr_html_()
    assert crit.counts["complex_pure"] == 4 and crit.counts["real_pure"] == 2
    counts = re.search(r"<tbody><tr>(.*?)</tr>", h).group(1)
    assert re.findall(r">(\d+)</td>", counts)[:3] == ["6", "4", "2"]  # complex, pure, spurious
    assert h.count("local minimum") >= 2 and "global minimum" in h and f'data-status="{crit.status}"' in h
    assert "nm-evidence" in h

    vm = objects["voronoi"]
    h = vm._repr_html_()
    for stratum, s in vm.strata.items():
        assert html_escape(stratum) in h and f"{s['mass']:.4f}" in h
    assert 'data-status="numerical"' in h and "nm-evidence" in h

    cv = objects["curve_voronoi"]
    h = cv._repr_html_()
    assert f"{cv.cell_fraction(0):.4f}" in h and "2-dimensional" in h and "(0, 0)" in h and "nm-evidence" in h

    cp = objects["critical_system"]
    h = cp._repr_html_()
    assert re.search(r"the ED count\)</td><td[^>]*>4<", h) and "nm-evidence" in h

    rows = objects["atlas_rows"]
    assert isinstance(rows, Rows) and isinstance(rows, list) and len(rows) == 2
    h = rows._repr_html_()
    assert h.count('data-status="certified"') == 2 and "mlp(widths=(2, 2, 1), r=2, bias=False)" in h
    assert rows[0]._repr_html_().count("<tr>") == 2 and Rows()._repr_html_().count("no results") == 1

    cell = VoronoiCell(np.array([1.0, 0.0, 0.0]), False, 1, (0, 50), (25, 50), {"radius": 0.01})
    h = cell._repr_html_()
    assert "cell dimension: <span class='nm-value'>1</span>" in h and "25 of 50" in h and 'data-status="numerical"' in h

    for name, obj in objects.items():
        _assert_safe(obj._repr_html_())


def html_escape(s: str) -> str:
    import html

    return html.escape(s)


def test_user_derived_text_is_escaped(objects):
    res = nm.Result("dimension", EVIL, "certified", {"reason": EVIL, EVIL: [EVIL]})
    row = Row(EVIL, "mlp", 3, EVIL, 0, {}, EVIL, "certified", {"x": EVIL}, 0.0, "0", "now")
    cv = CurveVoronoi(EVIL, np.zeros((1, 2)), np.linspace(-1, 1, 3), np.linspace(-1, 1, 3), np.zeros((3, 3), int),
                      np.zeros((3, 3, 2)), {"note": EVIL})
    rep = objects["report"]
    rep_evil = type(rep)(rep.architecture, rep.seed, rep.prime, {"dimension": res}, budget={"seconds": EVIL})
    pieces = [res._repr_html_(), row._repr_html_(), Rows([row])._repr_html_(), cv._repr_html_(), rep_evil._repr_html_(),
              notebook.to_html(res), notebook.to_html(rep_evil), notebook.to_html(Rows([row]))]
    for h in pieces:
        assert "<script>" not in h and "<img src=x" not in h, h[:300]
        assert EVIL in "".join(_parse(h).text)  # shown as text
        _assert_safe(h)


def test_full_rendering_embeds_figures(objects):
    rep = objects["report"]
    h = notebook.to_html(rep)
    p = _parse(h)
    imgs = [a for t, a in p.tags if t == "img"]
    assert len(imgs) >= 2  # singular values of d mu, subnetwork strata
    sections = [a.get("data-section") for t, a in p.tags if t == "section"]
    assert sections == ["dimension", "singularities"]
    assert "Not computed here" in h and "Curvature: degree" in h
    assert 'id="inv-dimension"' in h and re.search(r"dimension: <span class='value'>5</span>", h)
    assert "<style>" in h and ".nm-full " in h and "body{" not in h  # scoped: the notebook keeps its styles
    for name in ("critical_points", "curve_voronoi", "voronoi", "result"):
        h = notebook.to_html(objects[name])
        assert "data:image/png;base64," in h, name
        assert objects[name]._repr_html_() in h or name == "result"  # the summary, then the figure
    h = notebook.to_html(objects["atlas_rows"])
    assert "2 architectures" in h and "2 (certified)" in h and "3 (certified)" in h
    assert notebook.to_html(object()) is None


def test_a_failing_figure_or_renderer_falls_back_to_the_summary(objects, monkeypatch):
    from neuromanifold.report import plots

    def broken(*a, **k):
        raise RuntimeError("no plotting today")

    monkeypatch.setattr(plots, "fig_voronoi_masses", broken)
    h = notebook.to_html(objects["voronoi"])
    assert "figure unavailable: RuntimeError: no plotting today" in h and "95% interval" in h
    monkeypatch.setitem(notebook.RENDERERS, ("neuromanifold.analysis", "Report"), broken)
    h = notebook.to_html(objects["report"])
    assert "full rendering failed (RuntimeError: no plotting today)" in h and objects["report"]._repr_html_() in h


def test_ipython_formatter_gives_the_full_rendering(objects):
    InteractiveShell = pytest.importorskip("IPython.core.interactiveshell").InteractiveShell
    shell = InteractiveShell.instance()
    try:
        fmt = shell.display_formatter
        assert notebook.register(shell) is True
        data, _ = fmt.format(objects["report"])
        assert "nm-full" in data["text/html"] and "data:image/png;base64," in data["text/html"]
        data, _ = fmt.format(objects["atlas_rows"])
        assert "2 architectures" in data["text/html"]
        data, _ = fmt.format(objects["atlas_rows"][0])
        assert "atlas row" in data["text/html"]
    finally:
        InteractiveShell.clear_instance()
    assert set(nm.NOTEBOOK_TYPES) == set(notebook.RENDERERS)


def test_import_registers_the_formatter_lazily_when_ipython_runs():
    """In a kernel (an IPython shell before ``import neuromanifold``), importing the package registers the full
    rendering by class name: no submodule is loaded until an object is shown; without IPython nothing happens."""
    pytest.importorskip("IPython")
    code = (
        "import json, sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "import neuromanifold as nm\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('neuromanifold.'))\n"
        "numpy = 'numpy' in sys.modules\n"
        "deferred = sorted(k for k in shell.display_formatter.formatters['text/html'].deferred_printers\n"
        "                  if k[0].startswith('neuromanifold'))\n"
        "r = nm.Result('dimension', 5, 'certified', {'how': 'x'})\n"
        "html = shell.display_formatter.format(r)[0]['text/html']\n"
        "print(json.dumps({'loaded': loaded, 'numpy': numpy, 'deferred': deferred, 'full': 'nm-full' in html}))\n"
    )
    info = fresh_json(code)
    assert info["loaded"] == [] and info["numpy"] is False
    assert sorted(map(tuple, info["deferred"])) == sorted(nm.NOTEBOOK_TYPES)
    assert info["full"] is True
    plain = subprocess.run([sys.executable, "-c", "import sys, neuromanifold; print('IPython' in sys.modules)"],
                           capture_output=True, text=True, timeout=120, check=True)
    assert plain.stdout.strip() == "False"  # importing the package never imports IPython


@needs_chromium
def test_reprs_render_in_headless_chromium(objects, tmp_path):
    evil = nm.Result("evil", EVIL, "failed", {"reason": EVIL})
    cells = [obj._repr_html_() for obj in objects.values()] + [notebook.to_html(obj) for obj in objects.values()]
    cells += [evil._repr_html_(), notebook.to_html(evil)]
    # like a notebook page: each output in its own cell
    page = ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>notebook outputs</title></head><body>"
            + "".join(f"<div class='cell' id='cell-{i}'>{c}</div>" for i, c in enumerate(cells)) + "</body></html>")
    path = tmp_path / "outputs.html"
    path.write_text(page, encoding="utf-8")
    with open_page(path) as (pg, messages):
        heights = pg.evaluate("Array.from(document.querySelectorAll('.cell')).map(c => c.getBoundingClientRect().height)")
        images = pg.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
        text = pg.evaluate("document.body.innerText")
        pwned = pg.evaluate("window.__pwned === undefined ? null : window.__pwned")
        pg.click("#cell-0 details summary")  # evidence opens
        opened = pg.evaluate("document.querySelector('#cell-0 details').open")
        pg.screenshot(path=str(tmp_path / "outputs.png"), full_page=True)
    assert [m for m in messages if m[0] in ("error", "pageerror", "warning", "requestfailed")] == []
    assert pwned is None  # no injected script or handler ran
    assert all(h > 20 for h in heights)  # every output is shown
    assert len(images) >= 6 and all(ok and w > 100 for ok, w in images)  # every figure decoded
    crit = objects["critical_points"]
    for needle in ("attention(d=2, dout=1, a=2, t=2)", "certified", "global minimum", "2-dimensional",
                   "critical of mu (rank 2)", "atlas query: 2 stored results", EVIL):
        assert needle in text, needle
    assert re.search(r"dimension\s*5\s*certified", text)
    assert re.search(rf"complex\s+complex_pure.*\n?.*\b{crit.counts['complex']}\s+4\s+2\b", text)
    assert opened is True
    assert (tmp_path / "outputs.png").stat().st_size > 10_000

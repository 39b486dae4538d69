"""The HTML report (every section, statuses, embedded JSON), the time budget, and a headless-Chromium check."""

from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser

import pytest

import neuromanifold as nm
from neuromanifold.cli import main
from neuromanifold.report.html import SECTIONS, dictionary_invariants, render_html

from browser import needs_chromium, open_page


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.imgs = 0
        self.json_text = ""
        self._in_json = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "img":
            self.imgs += 1
            assert a["src"].startswith("data:image/png;base64,")  # nothing external
        self._in_json = tag == "script" and a.get("id") == "report-json"
        if tag == "script":
            assert a.get("type") == "application/json"  # the page runs no code

    def handle_data(self, data):
        if self._in_json:
            self.json_text += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_json = False


@pytest.fixture(scope="module")
def report():
    names = dictionary_invariants(list(nm.INVARIANTS))
    return nm.analyze("linear(widths=(2,2,2))", only=names)


def test_every_section_status_figure_and_the_json(report):
    page = render_html(report)
    c = _Collect()
    c.feed(page)
    assert [a for a, _, _ in SECTIONS] + ["json"] == [i for i in c.ids if not i.startswith("inv-") and i != "report-json"]
    for name, res in report.invariants.items():
        assert f'id="inv-{name}"' in page
        block = page.split(f'id="inv-{name}"')[1].split('class="invariant"')[0]
        assert re.search(rf">{res.status}</span>", block), name  # the value is printed with its status
    assert all(any(n in report.invariants for n in names) for _, _, names in SECTIONS)  # no empty section
    assert c.imgs >= 2  # singular-value spectrum, monodromy growth, strata
    assert "greedy eps-net" in page and report.invariants["epsilon_net"].status == "numerical"
    assert json.loads(c.json_text.replace("<\\/", "</")) == json.loads(json.dumps(report.to_dict()))


def test_budget_keeps_partial_results_labelled():
    t0 = time.perf_counter()
    rep = nm.analyze("cnn(k=(2,2,2,2), s=(1,1,1,1), r=2)", only="dimension,degree,ed_degree", budget=6)
    assert time.perf_counter() - t0 < 6 + 3
    assert rep["dimension"].status == "certified" and rep["dimension"].value == 5  # sum k_i - L + 1
    deg = rep["degree"]
    assert deg.status in ("lower_bound", "not_computed")  # the degree is 1536: never reached in 6 s
    if deg.status == "lower_bound":
        assert deg.evidence["monodromy"]["stopping_rule"] == "budget" and 0 < deg.value < 1536
    assert rep["ed_degree"].status == "not_computed" and "budget" in rep["ed_degree"].evidence["reason"]
    assert rep.to_dict()["budget"] == {"seconds": 6.0, "exhausted": True}
    with pytest.raises(nm.InputError, match="budget"):
        nm.analyze("linear(widths=(2,2))", budget=-1)


def test_cli_html(tmp_path, capsys):
    out = tmp_path / "r" / "report.html"
    assert main(["analyze", "linear(widths=(2,1,2))", "--only", "dimension,degree", "--html", str(out)]) == 0
    assert "HTML report written" in capsys.readouterr().out
    text = out.read_text()
    assert 'id="inv-degree"' in text and "not computed in this report" in text  # ED degree etc. not asked
    assert main(["analyze", "linear(widths=(2,1,2))", "--html", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


@needs_chromium
def test_report_renders_in_headless_chromium(report, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    with open_page(path) as (page, messages):
        sections = page.evaluate(
            "Array.from(document.querySelectorAll('section')).map(s => [s.id, s.getBoundingClientRect().height])")
        images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
        embedded = page.evaluate("JSON.parse(document.getElementById('report-json').textContent)")
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert [m for m in messages if m[0] in ("error", "pageerror", "warning", "requestfailed")] == []
    assert [s for s, _ in sections] == [a for a, _, _ in SECTIONS] + ["json"]
    assert all(h > 0 for _, h in sections)  # every section is shown
    assert images and all(ok and w > 100 for ok, w in images)  # every figure decoded
    assert embedded["architecture"] == report.architecture.spec()
    assert (tmp_path / "report.png").stat().st_size > 10_000

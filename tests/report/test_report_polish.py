"""Output polish (issue 17 item 8): human values in text and HTML, plurals, labelled values, markdown
tables that parse with the header's number of cells, figure labels."""

from __future__ import annotations

import pytest

import neuromanifold as nm
from neuromanifold.report.markdown import markdown_table
from neuromanifold.report.text import fmt_value, plural, render_text

markdown_it = pytest.importorskip("markdown_it")


def parse_tables(text: str) -> list[list[list[str]]]:
    """Every table of a markdown text as rows of cell texts (header first), by markdown-it-py (GFM tables)."""
    tokens = markdown_it.MarkdownIt("commonmark").enable("table").parse(text)
    tables, row, cell = [], None, None
    for t in tokens:
        if t.type == "table_open":
            tables.append([])
        elif t.type == "tr_open":
            row = []
        elif t.type == "tr_close":
            tables[-1].append(row)
        elif t.type in ("th_open", "td_open"):
            cell = ""
        elif t.type == "inline" and cell is not None:
            cell = t.content
        elif t.type in ("th_close", "td_close"):
            row.append(cell)
            cell = None
    return tables


def test_fmt_value_and_plural():
    assert fmt_value(True) == "yes" and fmt_value(False) == "no" and fmt_value(None) == "-"
    assert fmt_value({"1": 47, "2": 3}) == "1: 47, 2: 3"
    assert fmt_value([1, 2]) == "1, 2" and fmt_value(3) == "3"
    assert plural(1, "generator") == "1 generator" and plural(2, "generator") == "2 generators"
    assert plural(1, "family", "families") == "1 family" and plural(0, "family", "families") == "0 families"


def test_markdown_table_escapes_pipes_and_parses():
    lines = markdown_table([["C5", 5, "a|b", None]], ["group", "|G|", "x", "y"])
    (table,) = parse_tables("\n".join(lines) + "\n")
    assert table[0] == ["group", "|G|", "x", "y"]
    assert table[1] == ["C5", "5", "a|b", "-"]
    with pytest.raises(ValueError):
        markdown_table([[1, 2]], ["a", "b", "c"])


def _harmonics_dict():
    run = {"group": "C5", "order": 5, "irrep_dims": [1, 1, 1, 1, 1], "seed": 0, "init_accuracy": 0.2, "accuracy": 1.0,
           "accuracy_relabelled": None, "margin": 0.7, "irrep_residual": [1e-6, 2e-6], "fourier_bijective": True,
           "homomorphism_residual": 1e-7, "invariance_loss": 1e-9, "unitarity_defect": 1e-8}
    return {"config": {"loss": "expected", "reg": 3.0, "lr": 0.01, "steps": 100}, "status": "numerical",
            "seconds": 1.0, "runs": [run, dict(run, group="D3", order=6, fourier_bijective=False)]}


def _dynamics_dict():
    run = {"support": "cross", "seed": 0, "commutator": {"value": 0.0, "status": "certified"}, "dim_L": 10,
           "dim_EL": 4, "restricted_grad_norm": 1e-9, "aug_grad_norm": 2e-9, "aug_grad_off_E": 0.0,
           "lambda_min_EL": 0.1, "lambda_min_perp": None, "hessian_offdiag": 1e-12, "predicted_factor": 0.99,
           "measured_factor": 0.98, "distance": [1e-6, 1e-7], "verdict": "stays in E"}
    return {"config": {"n_train": 80, "fields": 2, "reps": "regular", "weight_decay": 1e-3, "aug_steps": 500,
                       "perturbation": 1e-6}, "status": "numerical", "seconds": 2.0, "runs": [run]}


@pytest.mark.parametrize("which", ["harmonics", "dynamics"])
def test_experiment_markdown_tables_have_the_header_cell_count(which):
    from neuromanifold.dynamics.report import dynamics_markdown, harmonics_markdown

    text = harmonics_markdown(_harmonics_dict()) if which == "harmonics" else dynamics_markdown(_dynamics_dict())
    tables = parse_tables(text)
    assert tables, text
    for table in tables:
        n = len(table[0])
        assert n >= 13 and all(len(r) == n for r in table)
        assert all(c.strip() for r in table[1:] for c in r)  # no cell swallowed by a stray '|'
    if which == "harmonics":
        assert tables[0][0][1] == "|G|" and tables[0][1][9] == "yes" and tables[0][2][9] == "no"


@pytest.fixture(scope="module")
def report():
    return nm.analyze("linear(widths=(2,1,2))", only="dimension,expected_dimension,fiber_points,degree,singularities")


def test_text_report_has_no_python_literals(report):
    text = render_text(report)
    for bad in ("True", "False", "None", "{'", "1 generators", "stopped by"):
        assert bad not in text, (bad, text)
    assert "stopped: trace test" in text
    assert "1 generator" in text  # GL(1) at the hidden layer
    sing = next(ln for ln in text.splitlines() if ln.strip().startswith("singularities"))
    assert "value = subnetwork strata with singular image" in sing
    fp = next(ln for ln in text.splitlines() if ln.strip().startswith("fiber_points"))
    assert "points per image point 1: " in fp


def test_html_values_are_human(report):
    import re

    from neuromanifold.report.html import render_html

    page = render_html(report)
    body = page.split("<section id=\"json\">")[0]  # the JSON section is JSON on purpose
    body = re.sub(r"<pre>.*?</pre>", "", body, flags=re.S)  # evidence is shown as JSON
    for bad in (">True", ">False", ">None", "{'", "True (", "None ("):
        assert bad not in body, bad
    assert "value: number of subnetwork strata with singular image" in body


def test_strata_chart_zero_bar_visible_and_pushes_label():
    from neuromanifold.report import plots

    fams = [{"family": "zero function", "dimension": 0, "singular": True},
            {"family": "layer 1 collapsed", "dimension": 2, "singular": False}]
    fig = plots.fig_strata(fams, 3)
    ax = fig.axes[0]
    widths = [p.get_width() for p in ax.patches]
    assert len(widths) == 2 and min(widths) > 0
    fig.canvas.draw()
    label = ax.xaxis.label.get_window_extent()
    assert label.x0 >= 0 and label.x1 <= fig.bbox.width  # the label fits the figure
    g = plots.fig_monodromy_growth([[0, 1], [10, 2]], "degree")
    assert "pushes" in g.axes[0].get_xlabel()

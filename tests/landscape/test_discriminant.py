"""Maps of real critical points over a plane of data sets (discriminants).

The worked example of the docs: f(x) = a (w . x)^2, whose neuromanifold is the cone over a conic;
for data in general position there are always 4 complex critical points on M (the generic ED degree
of a conic, DHOST 2016), and 2 or 4 real ones.  The map's counts are checked cell by cell against
independent complete solves (``critical_points`` at the same data: total-degree homotopy).
"""

import json

import numpy as np
import pytest

import neuromanifold as nm
from neuromanifold.landscape.discriminant import critical_point_map
from neuromanifold.errors import InputError

SPEC = "mlp(widths=(2, 1, 1), r=2)"


@pytest.fixture(scope="module")
def conic_map():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 2))
    Y0, Y1, Y2 = (rng.standard_normal((8, 1)) for _ in range(3))
    m = critical_point_map(SPEC, X, Y0, Y1, Y2, s_range=(-3, 3), t_range=(-3, 3), grid=13)
    return m, (X, Y0, Y1, Y2)


def test_complex_count_is_constant_and_real_count_is_four_or_two(conic_map):
    m, _ = conic_map
    ok = m.counts["uncertain"] == 0
    assert ok.mean() > 0.8
    assert set(np.unique(m.counts["complex_pure"][ok]).tolist()) == {4}
    assert set(np.unique(m.counts["real_pure"][ok]).tolist()) == {2, 4}  # both regions occur
    assert np.all(m.counts["real"] <= m.counts["complex"])
    assert np.all(m.counts["real_pure"] % 2 == 0)  # non-real critical points come in conjugate pairs
    assert len(m.discriminant_edges()) > 0


def test_map_agrees_with_independent_solves(conic_map):
    m, (X, Y0, Y1, Y2) = conic_map
    rng = np.random.default_rng(1)
    ok = np.argwhere(m.counts["uncertain"] == 0)
    for j, i in ok[rng.choice(len(ok), 6, replace=False)]:
        res = nm.critical_points(SPEC, X, Y0 + m.s[i] * Y1 + m.t[j] * Y2)
        c = res.counts
        assert c["real_pure"] == m.counts["real_pure"][j, i]
        assert c["real"] == m.counts["real"][j, i]
        assert c["real_local_minimum"] == m.counts["local_minimum"][j, i]


def test_save_and_plot(conic_map, tmp_path):
    from neuromanifold.report.plots import plot_critical_point_map

    m, _ = conic_map
    png = plot_critical_point_map(m, tmp_path / "map.png")
    svg = plot_critical_point_map(m, tmp_path / "map.svg")
    assert png.stat().st_size > 10_000 and svg.read_text().lstrip().startswith("<?xml")
    path = m.save(tmp_path / "map.npz")
    data = np.load(path)
    np.testing.assert_array_equal(data["count_real_pure"], m.counts["real_pure"])
    summary = json.loads(path.with_suffix(".json").read_text())
    assert summary["status"].startswith("numerical") and "trace-certified" in summary["status"]
    assert summary["complex_pure_values"] == {"4": int((m.counts["uncertain"] == 0).sum())}


def test_bad_family_is_a_clear_error():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((8, 2)), rng.standard_normal((8, 1))
    with pytest.raises(InputError, match="Y1 must have the shape of Y0"):
        critical_point_map(SPEC, X, Y, Y[:5], Y)
    with pytest.raises(InputError, match="s_range"):
        critical_point_map(SPEC, X, Y, Y, Y, s_range=(1, -1))


def test_cli_writes_figure_and_data(tmp_path, capsys):
    from neuromanifold.cli import main

    rng = np.random.default_rng(0)
    files = []
    for name, shape in (("X", (8, 2)), ("Y0", (8, 1)), ("Y1", (8, 1)), ("Y2", (8, 1))):
        np.save(tmp_path / f"{name}.npy", rng.standard_normal(shape))
        files.append(str(tmp_path / f"{name}.npy"))
    out = tmp_path / "fig.png"
    assert main(["discriminant", SPEC, *files, "--grid", "5", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert out.exists() and (tmp_path / "fig.npz").exists() and summary["grid"] == [5, 5]
    assert main(["discriminant", SPEC, *files, "--out", str(tmp_path / "fig.jpg")]) == 2


def _planted_map(monkeypatch, plant):
    """The conic map on a 5 x 5 grid, with ``classify_points`` replaced by a wrapper that lets
    ``plant(row, kinds, n_sol)`` alter the decisions of one grid row (cells are blocks of n_sol points)."""
    import dataclasses

    from neuromanifold.landscape import discriminant as D

    real_classify, calls = D.classify_points, []

    def planted(cs, z):
        kinds = real_classify(cs, z)
        calls.append(len(z))
        return plant(len(calls) - 1, dataclasses.replace(kinds, **{f: getattr(kinds, f).copy() for f in
                                                                   ("smooth", "spurious", "vertex", "undecided")}),
                     len(z) // 5)

    monkeypatch.setattr(D, "classify_points", planted)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 2))
    Y0, Y1, Y2 = (rng.standard_normal((8, 1)) for _ in range(3))
    return critical_point_map(SPEC, X, Y0, Y1, Y2, s_range=(-3, 3), t_range=(-3, 3), grid=5)


def test_planted_undecided_and_rank_deficient_points_are_never_counted_pure(monkeypatch):
    """A point the scale-free classifier cannot decide (near a vertex or the singular locus) flags its
    cell uncertain, which drops out of the edges and the reliable counts; a rank-deficient real endpoint
    is counted spurious, not pure."""
    clean = _planted_map(monkeypatch, lambda row, kinds, n_sol: kinds)
    assert clean.counts["uncertain"][2, 1] == 0 and clean.counts["uncertain"][3, 3] == 0

    def plant(row, kinds, n_sol):
        if row == 2:  # cell (2, 1): its first point becomes undecided (too close to call)
            i = 1 * n_sol
            kinds.smooth[i], kinds.undecided[i] = False, True
            kinds.gap[i] = 1e-13  # below RANK_GAP: the fallback ratio cannot rescue it either
        if row == 3:  # cell (3, 3): every point rank deficient (spurious)
            sl = slice(3 * n_sol, 4 * n_sol)
            kinds.smooth[sl], kinds.spurious[sl] = False, True
        return kinds

    m = _planted_map(monkeypatch, plant)
    assert m.counts["uncertain"][2, 1] == 1
    edges = m.discriminant_edges()  # midpoints of grid edges; none may touch the uncertain cell
    step = min(m.s[1] - m.s[0], m.t[1] - m.t[0])
    assert len(edges) and not np.any(np.hypot(edges[:, 0] - m.s[1], edges[:, 1] - m.t[2]) < 0.6 * step)
    assert m.counts["real_pure"][3, 3] == 0 and m.counts["complex_pure"][3, 3] == 0
    assert m.counts["real_spurious"][3, 3] == clean.counts["real"][3, 3] > 0
    # every other cell is unchanged
    same = np.ones_like(m.counts["real_pure"], dtype=bool)
    same[2, 1] = same[3, 3] = False
    assert np.array_equal(m.counts["real_pure"][same], clean.counts["real_pure"][same])

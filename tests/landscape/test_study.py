"""The regularization study (issue 19, ``neuromanifold experiment landscape``): a tiny run writes a consistent
report, its probabilities agree with an independent closed-form / multi-start computation, an interrupted
run resumes from the cache with the same numbers, and bad configurations are one-line InputErrors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.optimize import minimize

from neuromanifold.context import as_context
from neuromanifold.errors import InputError
from neuromanifold.invariants.critical_system import choose_slice
from neuromanifold.landscape import study as st
from neuromanifold.landscape.voronoi import wilson_interval
from neuromanifold.parametrization.coefficients import coefficient_map
from neuromanifold.report.landscape_study import _ci, _f, write_study_report

TINY = "mlp(widths=(2,1,1), r=2)"  # f(x) = v (a x0 + b x1)^2: params (a, b, v) = (W1[0,0], W1[0,1], W2[0,0])


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("landscape")
    cfg = st.StudyConfig(architectures=(TINY, "cnn(k=(2,2), r=2)"), data_sets=2)
    res = st.run_study(cfg, cache_dir=out / "cache")
    return res, write_study_report(res, out)


def test_tiny_run_writes_a_consistent_report(tiny_run):
    res, paths = tiny_run
    for key in ("markdown", "json", "counts", "probabilities"):
        assert paths[key].exists() and paths[key].stat().st_size > 0
    d = json.loads(paths["json"].read_text())
    md = paths["markdown"].read_text()
    assert [a["spec"] for a in d["architectures"]] == [TINY, "cnn(k=(2,2), r=2)"]
    for a in d["architectures"]:
        g = a["aggregate"]
        assert g["data_sets"] == 2 and len(a["data_sets"]) == 2
        assert g["complete"] + g["incomplete"] + g["errors"] == 2
        done = [r for r in a["data_sets"] if r["complete"]]
        if done:  # the means are those of the complete records, and the table shows them
            assert g["mean_real_pure"] == pytest.approx(np.mean([r["real_pure"] for r in done]))
            assert g["mean_real_spurious"] == pytest.approx(np.mean([r["real_spurious"] for r in done]))
        row = next(line for line in md.splitlines() if line.startswith(f"| {a['spec']} | {g['complete']}/2"))
        assert f"| {_f(g['mean_real_pure'])} | {_f(g['mean_real_spurious'])} |" in row
        assert _ci(g["data_sets_with_spurious_local_minimum"]) in row
        assert _ci(g["spurious_is_local_minimum_pooled"]) in row
        assert a["invariants"]["dimension"]["status"] == "certified"
    for q in ("**(a)", "**(b)", "**(c)", "**(d)"):
        assert q in md
    assert "![critical points by type](counts.png)" in md


# --- an independent check: f = v (a x0 + b x1)^2 on the slice a = frozen ---------------------------------
def _slice(spec: str, solve_seed: int):
    arch = as_context(spec).arch
    free, frozen, _ = choose_slice(arch, coefficient_map(arch), 2, as_context(spec, seed=solve_seed).rng("critical-slice-data"))
    return free, frozen


def _has_real_spurious(X: np.ndarray, y: np.ndarray) -> bool:
    """Spurious critical points on the slice (b, v), a fixed: v = 0 and q(b) = mean((a x0 + b x1)^2 y) = 0, a
    quadratic in b with real roots iff m01^2 > m00 m11 (m_ij = mean(x_i x_j y)), whatever a != 0."""
    m = lambda i, j: float(np.mean(X[:, i] * X[:, j] * y))  # noqa: E731
    return m(0, 1) ** 2 > m(0, 0) * m(1, 1)


def _spurious_local_min_by_multistart(X: np.ndarray, y: np.ndarray, a: float, rng: np.random.Generator) -> bool:
    """Minimize L(b, v) = mean((v (a x0 + b x1)^2 - y)^2) from 12 random starts (BFGS); a local minimum found
    at v = 0 (where J_c has rank 1 < 2) is spurious.  Its Hessian there is [[0, h], [h, 2 mean g^4]], so
    none is expected."""

    def loss(z: np.ndarray) -> float:
        g = a * X[:, 0] + z[0] * X[:, 1]
        return float(np.mean((z[1] * g**2 - y) ** 2))

    for _ in range(12):
        r = minimize(loss, rng.standard_normal(2) * 2, method="BFGS", options={"gtol": 1e-10})
        if abs(r.x[1]) < 1e-5 * (1 + abs(r.x[0])):
            # a local minimum on v = 0 would need L(b, v) >= L(b, 0) nearby: probe
            probes = [loss(r.x + 1e-3 * np.array([np.cos(t), np.sin(t)])) for t in np.linspace(0, 2 * np.pi, 32)]
            if min(probes) >= loss(r.x) - 1e-12:
                return True
    return False


def test_study_probabilities_agree_with_an_independent_computation():
    cfg = st.StudyConfig(architectures=(TINY,), data_sets=10, seed=3)
    res = st.run_study(cfg)
    a = res.architectures[0]
    arch = as_context(TINY).arch
    rng = np.random.default_rng(0)
    found = 0
    for rec in a.data_sets:
        X, Y = st.study_data(arch, a.n_samples, cfg.seed, rec["index"])
        free, frozen = _slice(TINY, rec["solve_seed"])
        assert list(free) == [1, 2]  # the slice keeps (b, v) free, a frozen
        if rec["complete"]:  # per data set: the study's real spurious points are the closed-form ones
            assert rec["real_spurious"] == 2 * _has_real_spurious(X, Y[:, 0])
            assert rec["real_by_type"]["spurious"]["local minimum"] == 0
        found += _spurious_local_min_by_multistart(X, Y[:, 0], float(frozen[0]), rng)
    g = a.aggregate
    assert g["complete"] >= 6

    def overlap(p: tuple[float, float], q: list[float]) -> bool:
        return p[0] <= q[1] and q[0] <= p[1]

    # P(data set has a spurious local minimum): multi-start minimization on the same data sets
    assert overlap(wilson_interval(found, len(a.data_sets)), g["data_sets_with_spurious_local_minimum"]["wilson95"])
    # P(data set has a real spurious critical point): closed form on 4000 fresh data sets of the same law
    mc = np.random.default_rng(1)
    hits = sum(_has_real_spurious(mc.standard_normal((a.n_samples, 2)), mc.standard_normal(a.n_samples))
               for _ in range(4000))
    p_mc = wilson_interval(hits, 4000)
    assert 0.05 < hits / 4000 < 0.95  # a nontrivial probability
    assert overlap(p_mc, g["data_sets_with_real_spurious"]["wilson95"])


# --- resume ------------------------------------------------------------------------------------------------
def test_interrupted_run_resumes_from_the_cache(tmp_path, monkeypatch):
    from neuromanifold.landscape import critical_points as cp
    from neuromanifold.runtime.budget import record_cut

    cfg = st.StudyConfig(architectures=(TINY,), data_sets=4, seed=1)
    full = st.run_study(cfg, cache_dir=tmp_path / "full")
    real = cp.critical_points
    calls = {"n": 0}

    def cut_on_third(*args, **kw):  # Ctrl-C swallowed inside the solve (as monodromy does): recorded as a cut
        calls["n"] += 1
        out = real(*args, **kw)
        if calls["n"] == 3:
            record_cut("interrupted")
        return out

    monkeypatch.setattr(cp, "critical_points", cut_on_third)
    with pytest.raises(KeyboardInterrupt):
        st.run_study(cfg, cache_dir=tmp_path / "cut")
    cached = json.loads(next((tmp_path / "cut").glob("*.json")).read_text())
    assert sorted(cached["data_sets"]) == ["0", "1"]  # the interrupted data set 2 was not stored

    def counting(*args, **kw):
        calls["n"] += 1
        return real(*args, **kw)

    calls["n"] = 0
    monkeypatch.setattr(cp, "critical_points", counting)
    resumed = st.run_study(cfg, cache_dir=tmp_path / "cut")
    assert calls["n"] == 2 and resumed.reused_data_sets == 2
    strip_s = lambda r: {k: v for k, v in r.items() if k != "seconds"}  # noqa: E731
    strip = lambda agg: {k: v for k, v in agg.items() if k != "median_seconds"}  # noqa: E731 (timings differ)
    assert strip(resumed.architectures[0].aggregate) == strip(full.architectures[0].aggregate)
    assert [strip_s(r) for r in resumed.architectures[0].data_sets] == [strip_s(r) for r in full.architectures[0].data_sets]
    assert {k: strip_s(v) for k, v in resumed.architectures[0].invariants.items()} == \
        {k: strip_s(v) for k, v in full.architectures[0].invariants.items()}
    # a changed configuration (other samples) does not reuse the cache
    calls["n"] = 0
    st.run_study(st.StudyConfig(architectures=(TINY,), data_sets=1, seed=1, n_samples=12), cache_dir=tmp_path / "cut")
    assert calls["n"] == 1


# --- bad input ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, words", [
    ({"architectures": ("nonsense(k=2)",)}, "bad architecture"),
    ({"architectures": ("mlp(widths=(2,1,1)",)}, "bad architecture"),
    ({"data_sets": 0}, "data_sets must be an integer >= 1"),
    ({"data_sets": -3}, "data_sets must be an integer >= 1"),
    ({"n_samples": 0}, "n_samples must be"),
    ({"architectures": ()}, "at least one spec"),
    ({"architectures": (TINY, TINY)}, "twice"),
    ({"architectures": "mlp(widths=(2,1,1), r=2)"}, "tuple of spec strings"),
    ({"architectures": ("relu(widths=(2,2,1))",)}, "not a polynomial network"),
])
def test_bad_config_is_one_line_input_error(kw, words):
    with pytest.raises(InputError) as ei:
        st.StudyConfig(**kw)
    assert words in str(ei.value) and "\n" not in str(ei.value)


def test_too_few_samples_is_an_input_error():
    with pytest.raises(InputError, match="too few"):
        st.run_study(st.StudyConfig(architectures=("cnn(k=(2,2), r=2, bias=True)",), n_samples=2))


def test_cli_bad_input_exits_2(tmp_path, capsys):
    from neuromanifold.cli import main

    assert main(["experiment", "landscape", "--data-sets", "0", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("neuromanifold: error:") and "data_sets" in err and "\n" not in err

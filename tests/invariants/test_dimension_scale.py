"""Dimension at scale (issue 21 part 1): the blocked exact rank and the backpropagated Jacobian give the certified
dimension of the closed formula; the float SVD is computed only when small or requested, and says so."""

import pytest

from neuromanifold import analyze
from neuromanifold.arithmetic import modular
from neuromanifold.context import AnalysisOptions, Context
from neuromanifold.invariants import dimension as dim_mod


def _edim(widths):
    """Kileel-Trager-Bruna: d_h + sum_i (d_i - 1) d_{i+1}, parameters minus one rescaling per hidden neuron."""
    return widths[-1] + sum((widths[i] - 1) * widths[i + 1] for i in range(len(widths) - 1))


@pytest.mark.parametrize("widths", [(6, 10, 10, 4), (5, 9, 7, 3)])
def test_blocked_rank_certifies_the_expected_dimension(widths, monkeypatch):
    monkeypatch.setattr(modular, "FLINT_RANK_ENTRIES", 1000)  # force the blocked elimination
    spec = f"mlp(widths={widths}, r=2)"
    r = analyze(spec, only=["dimension"], seed=3)["dimension"]
    assert (r.value, r.status) == (_edim(widths), "certified")
    lb = r.evidence["lower_bound"]
    assert lb["sample_rounds"][-1]["rank"] == r.value and lb["samples"] * widths[-1] == lb["jacobian_shape"][0]


def test_float_svd_only_when_small_or_requested(monkeypatch):
    monkeypatch.setattr(dim_mod, "SVD_AUTO_LIMIT", 10)
    spec = "mlp(widths=(3,3,3), r=2)"  # 18 parameters > 10
    ctx = Context(spec, seed=1)
    r = analyze(ctx, only=["dimension", "fiber_dimension"])
    ev = r["dimension"].evidence
    assert (r["dimension"].value, r["dimension"].status) == (15, "certified")
    assert ev["numerical"]["computed"] is False and "svd=True" in ev["numerical"]["why"]
    assert ev["exact_and_numerical_agree"] is None
    assert "numerical_rank" not in ev["seconds_split"]
    assert r["fiber_dimension"].value == 3 and r["fiber_dimension"].evidence["numerical"] == "not computed"
    forced = analyze(spec, only=["dimension"], seed=1, options=AnalysisOptions(svd=True))["dimension"].evidence
    assert forced["numerical"]["rank"] == 15 and forced["exact_and_numerical_agree"] is True
    assert "requested" in forced["numerical"]["why"]
    # another invariant that needs the float rank computes it on demand
    d = dim_mod.dimension_data(ctx)
    assert not d.float_computed and d.numerical.rank == 15 and d.float_computed


def test_svd_option_is_checked():
    from neuromanifold.errors import InputError

    with pytest.raises(InputError, match="svd"):
        AnalysisOptions(svd="yes")

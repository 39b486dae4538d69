"""Dimension machinery: seed independence, exact vs numerical agreement, honest statuses."""

import pytest

import neuromanifold as nm
from assertions import assert_certified

SPECS = [
    "linear(widths=(3,2,4))",
    "mlp(widths=(3,3,3), r=2)",
    "mlp(widths=(2,3,2), r=2, bias=True)",
    "mlp(widths=(2,2,2,1), r=2)",
    "cnn(k=(3,2,2), s=(2,1,1), r=2)",
    "cnn(k=(2,3), s=(1,1), r=1)",
    "attention(d=3, dout=2, a=2, t=3)",
    "attention(widths=(3,3,2), a=(2,2), t=2)",
]


@pytest.mark.parametrize("spec", SPECS)
def test_dimension_does_not_depend_on_seed(spec):
    values = set()
    for seed in (0, 1, 7):
        rep = nm.analyze(spec, seed=seed, only=["dimension", "fiber_dimension"])
        values.add((rep["dimension"].value, rep["dimension"].status, rep["fiber_dimension"].value))
        assert rep["dimension"].seed == seed
    assert len(values) == 1


@pytest.mark.parametrize("spec", SPECS)
def test_exact_and_numerical_ranks_agree(spec):
    d = nm.analyze(spec, only="dimension")["dimension"]
    ev = d.evidence
    assert ev["numerical"]["rank"] == ev["lower_bound"]["value"] == d.value
    assert ev["exact_and_numerical_agree"] is True
    assert ev["numerical"]["clear_gap"]
    assert ev["lower_bound"]["value"] <= ev["upper_bound"]["value"]


def test_certified_only_when_bounds_meet():
    for spec in SPECS:
        d = nm.analyze(spec, only="dimension")["dimension"]
        lb, ub = d.evidence["lower_bound"]["value"], d.evidence["upper_bound"]["value"]
        assert (d.status == "certified") == (lb == ub)


def test_independent_prime_gives_same_certificate():
    a = nm.analyze("mlp(widths=(3,4,2), r=2)", only="dimension")
    b = nm.analyze("mlp(widths=(3,4,2), r=2)", only="dimension", prime=2147483587)
    assert a["dimension"].value == b["dimension"].value
    assert b["dimension"].evidence["lower_bound"]["prime"] == 2147483587


def test_tiny_prime_can_only_lower_the_lower_bound():
    # over Z/3 the Jacobian rank may drop: the result must then not be certified
    d = nm.analyze("mlp(widths=(3,3,3), r=2)", only="dimension", prime=3)["dimension"]
    assert d.value <= 15
    assert (d.status == "certified") == (d.value == 15)


def test_linear_cnn_is_filling():
    # stride-1 linear CNN: composite filter = product of polynomials; every polynomial factors over C
    rep = nm.analyze("cnn(k=(2,3), s=(1,1), r=1)")
    assert rep["dimension"].value == rep["ambient_dimension"].value == 4
    assert_certified(rep["dimension"])


@pytest.mark.parametrize("kwargs,fragment", [({"seed": -1}, "seed"), ({"prime": 10}, "prime"), ({"prime": 2**31 + 11}, "prime")])
def test_bad_arguments_raise_input_error(kwargs, fragment):
    with pytest.raises(nm.InputError, match=fragment):
        nm.analyze("mlp(widths=(2,2,1))", **kwargs)


def test_samples_grow_until_the_evaluation_cannot_cap_the_rank():
    """Issue 21: one input sample of a deep attention map spans fewer tangent directions than it has outputs, so
    (1.15 upper + 8) / outputs samples cap the exact rank (215 here, 287 after one doubling); the samples are doubled
    while the rank rises, until it meets the upper bound n_params - rank of the known symmetries."""
    import neuromanifold as nm

    rep = nm.analyze("attention(widths=(12,12,12), a=(6,6), t=2)", only="dimension,expected_dimension")
    dim = rep["dimension"]
    assert dim.status == "certified" and dim.value == rep["expected_dimension"].value == 358
    lb = dim.evidence["lower_bound"]
    ranks = [r["rank"] for r in lb["sample_rounds"]]
    samples = [r["samples"] for r in lb["sample_rounds"]]
    assert len(ranks) >= 3 and ranks == sorted(ranks) and ranks[0] < ranks[-1] == 358
    assert samples == [samples[0] * 2**i for i in range(len(samples))] and lb["samples"] == samples[-1]
    assert lb["samples_chosen_because"] == "the rank meets the upper bound"
    # a genuinely defective network stops after one doubling: the rank does not rise
    ah = nm.analyze("mlp(widths=(5, 7, 1), r=3)", only="dimension")["dimension"].evidence["lower_bound"]
    assert [r["rank"] for r in ah["sample_rounds"]] == [34, 34]
    assert ah["samples_chosen_because"] == "the rank stopped rising when the samples were doubled"

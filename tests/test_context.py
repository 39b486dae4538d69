"""Context and AnalysisOptions: typed, validated knobs; one Context shared by the entry points (its cache
is reused, its seed and prime are kept)."""

import dataclasses

import pytest

import neuromanifold as nm
from neuromanifold.context import AnalysisOptions, Context, as_context
from neuromanifold.invariants import dimension as dim_mod


@pytest.mark.parametrize("field, value, words", [
    ("max_degree", 0, "max_degree must be a positive integer"),
    ("max_degree", 2.5, "max_degree must be a positive integer"),
    ("loops_without_new", -1, "loops_without_new must be a positive integer"),
    ("law_degree", 9, "law_degree must be an integer from 0 to 4"),
    ("law_degree", True, "law_degree must be an integer from 0 to 4"),
    ("eps", 0.0, "eps must be a positive finite number"),
    ("radius", float("inf"), "radius must be a positive finite number"),
    ("starts", 0, "starts must be a positive integer"),
    ("metric", "manhattan", "unknown metric 'manhattan'"),
    ("checkpoint_dir", "", "checkpoint_dir must be a directory path"),
])
def test_bad_options_name_the_field_and_the_valid_form(field, value, words):
    with pytest.raises(nm.InputError, match=words):
        AnalysisOptions(**{field: value})
    with pytest.raises(nm.InputError, match=words):  # the same check through analyze
        nm.analyze("linear(widths=(2,2))", only="dimension", options={field: value})
    if field != "loops_without_new":  # analyze's keywords set the field of the same name
        with pytest.raises(nm.InputError, match=words):
            nm.analyze("linear(widths=(2,2))", only="dimension", **{field: value})


def test_options_are_frozen_typed_and_reject_unknown_names(tmp_path):
    o = AnalysisOptions(max_degree=7, checkpoint_dir=tmp_path)
    assert o.checkpoint_dir == str(tmp_path) and o.max_degree == 7
    with pytest.raises(dataclasses.FrozenInstanceError):
        o.max_degree = 3
    with pytest.raises(nm.InputError, match="unknown analysis option 'max_degre'; valid: .*max_degree"):
        Context("linear(widths=(2,2))", options={"max_degre": 3})
    assert Context("linear(widths=(2,2))", options={"law_degree": 0}).options.law_degree == 0
    with pytest.raises(TypeError):
        Context("linear(widths=(2,2))", 3)  # seed is keyword-only


def test_analyze_reuses_the_cache_of_a_given_context(monkeypatch):
    ctx = Context("mlp(widths=(2,2,1), r=2)", seed=3)
    first = nm.analyze(ctx, only="dimension,expected_dimension")
    assert first.seed == 3 and first["dimension"].status == "certified"

    def boom(_ctx):
        raise AssertionError("the dimension was computed again instead of read from the shared cache")

    monkeypatch.setattr(dim_mod, "_compute", boom)
    again = nm.analyze(ctx, only="dimension", max_degree=5)  # other options: a derived context, same cache
    assert again["dimension"].value == first["dimension"].value
    with pytest.raises(AssertionError, match="computed again"):  # a fresh context does compute it
        nm.analyze("mlp(widths=(2,2,1), r=2)", seed=3, only="dimension")


def test_a_given_context_keeps_its_seed_and_prime():
    ctx = Context("linear(widths=(2,2))", seed=4)
    with pytest.raises(nm.InputError, match="seed=5 differs from the given Context's seed 4"):
        nm.analyze(ctx, seed=5, only="dimension")
    with pytest.raises(nm.InputError, match="differs from the given Context's prime"):
        nm.analyze(ctx, prime=101, only="dimension")
    assert nm.analyze(ctx, seed=4, only="dimension").seed == 4
    res = nm.contains(ctx, ["x0", "x1"])
    assert res.seed == 4 and res.value is True


def test_derived_contexts_share_the_cache_but_not_option_dependent_entries():
    ctx = Context("linear(widths=(2,2))")
    sub = as_context(ctx, options={"max_degree": 3})
    assert sub is not ctx and sub.options.max_degree == 3 and ctx.options.max_degree is None
    assert sub._cache is ctx._cache and sub.seed == ctx.seed and sub.prime == ctx.prime
    assert as_context(ctx) is ctx and as_context(ctx, options={"max_degree": None}) is ctx
    from neuromanifold.invariants.witness_set import witness_set

    w_sub = witness_set(sub)
    assert witness_set(ctx) is not w_sub and witness_set(sub) is w_sub

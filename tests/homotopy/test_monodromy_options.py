"""MonodromyOptions: frozen, validated knobs of monodromy_solve; seed (integers) and rng (Generators) kept apart."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from neuromanifold.errors import InputError
from neuromanifold.homotopy import (
    MonodromyOptions,
    TrackerOptions,
    make_trace_test,
    monodromy_solve,
    solve_total_degree,
    trace_test,
)

from systems import katsura_family


@pytest.mark.parametrize(
    "field, value, form",
    [
        ("tol", 0.0, "a number > 0"),
        ("tol", float("nan"), "a number > 0"),
        ("loops_without_new", 0, "an integer >= 1"),
        ("loops_without_new", 2.5, "an integer >= 1"),
        ("target_count", 0, "an integer >= 1 or None"),
        ("max_loops", -1, "an integer >= 0"),
        ("max_tries", 0, "an integer >= 1"),
        ("loop_vertices", 3, "1 (out and back) or 2 (a triangle)"),
        ("loop_vertices", True, "1 (out and back) or 2 (a triangle)"),
        ("sample_batch", 0, "an integer >= 1"),
        ("sample_yield", -0.1, "a number >= 0"),
        ("sample_limit", -1, "an integer >= 0 or None"),
        ("trace_growth", "often", "a number >= 0 or None"),
        ("trace_growth_from", -3, "an integer >= 0"),
    ],
)
def test_bad_values_raise_naming_the_field_and_the_valid_form(field, value, form):
    with pytest.raises(InputError) as err:
        MonodromyOptions(**{field: value})
    msg = str(err.value)
    assert f"MonodromyOptions: {field} must be {form}" in msg


def test_defaults_are_valid_and_the_options_are_frozen():
    opts = MonodromyOptions()
    assert opts.tol == 1e-7 and opts.loops_without_new == 5 and opts.target_count is None
    assert opts.max_loops == 1000 and opts.max_tries == 2 and opts.loop_vertices == 2
    assert opts.sample_batch == 64 and opts.sample_yield == 0.25 and opts.sample_limit is None
    assert opts.trace_growth is None and opts.trace_growth_from == 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.tol = 1e-3  # type: ignore[misc]
    assert dataclasses.replace(opts, target_count=4).target_count == 4
    with pytest.raises(InputError, match="loop_vertices"):
        dataclasses.replace(opts, loop_vertices=0)


def test_a_generator_passed_as_seed_is_refused():
    F, c0, z0 = katsura_family(2, seed=0)
    gen = np.random.default_rng(0)
    with pytest.raises(InputError, match="rng="):
        monodromy_solve(F, c0, z0[None, :], seed=gen)
    with pytest.raises(InputError, match="rng="):
        make_trace_test(F, seed=gen)
    with pytest.raises(InputError, match="rng="):
        solve_total_degree(F, c0, degrees=[1, 2, 2], seed=gen)
    with pytest.raises(InputError, match="rng must be"):
        monodromy_solve(F, c0, z0[None, :], rng=3)
    with pytest.raises(InputError, match="seed must be an integer"):
        monodromy_solve(F, c0, z0[None, :], seed=1.5)
    with pytest.raises(InputError, match="tracker="):
        monodromy_solve(F, c0, z0[None, :], options=TrackerOptions())
    with pytest.raises(TypeError):  # the knobs live in options= now
        monodromy_solve(F, c0, z0[None, :], target_count=4)


def _same(a, b):
    assert a.n_solutions == b.n_solutions and a.stopping_rule == b.stopping_rule
    assert a.loops == b.loops and a.paths_tracked == b.paths_tracked and a.history == b.history
    np.testing.assert_array_equal(a.solutions, b.solutions)


def test_equal_options_give_the_same_result():
    F, c0, z0 = katsura_family(3, seed=5)
    default = monodromy_solve(F, c0, z0[None, :], seed=0)
    explicit = monodromy_solve(F, c0, z0[None, :], options=MonodromyOptions(), tracker=TrackerOptions(), seed=0)
    _same(default, explicit)
    assert default.n_solutions == 8 and default.stopping_rule == "stagnation"
    opts = MonodromyOptions(target_count=8, loops_without_new=3, loop_vertices=1)
    a = monodromy_solve(F, c0, z0[None, :], options=opts, seed=4)
    b = monodromy_solve(F, c0, z0[None, :], options=dataclasses.replace(opts), seed=4)
    _same(a, b)
    assert a.n_solutions == 8 and a.stopping_rule == "target_count"
    # rng= a Generator seeded like seed= draws the same random loops
    c = monodromy_solve(F, c0, z0[None, :], options=opts, rng=np.random.default_rng(4))
    _same(a, c)
    assert a.seed == 4 and c.seed is None


def test_trace_test_takes_seed_or_rng_and_tracker_options():
    F, c0, z0 = katsura_family(3, seed=5)
    W = monodromy_solve(F, c0, z0[None, :], options=MonodromyOptions(target_count=8), seed=0).solutions
    a = trace_test(F, c0, W, repeats=2, seed=3)
    b = trace_test(F, c0, W, repeats=2, rng=np.random.default_rng(3), tracker=TrackerOptions())
    assert a.passed and b.passed and a.residuals == b.residuals
    with pytest.raises(InputError, match="rng="):
        trace_test(F, c0, W, seed=np.random.default_rng(3))


def test_checkpoint_config_keeps_its_format(tmp_path):
    """Checkpoints record the same config as before the options object (version 1), so older files with
    equal options resume their loop state."""
    F, c0, z0 = katsura_family(2, seed=1)
    ckpt = tmp_path / "m.npz"
    monodromy_solve(F, c0, z0[None, :], options=MonodromyOptions(target_count=2), seed=0, checkpoint=ckpt)
    with np.load(ckpt, allow_pickle=False) as data:
        config = json.loads(str(data["meta"]))["config"]
    assert config["version"] == 1 and config["seed"] == 0 and config["target_count"] == 2
    assert set(config) == {
        "version", "seed", "starts", "tol", "loops_without_new", "target_count", "max_loops", "loop_vertices",
        "random_starts", "sample_batch", "sample_yield", "sample_limit", "trace_growth", "trace_growth_from",
        "trace_test", "max_tries", "accept",
    }
    res = monodromy_solve(F, c0, z0[None, :], options=MonodromyOptions(target_count=2), seed=0, resume=ckpt)
    assert res.resumed["mode"] == "finished"

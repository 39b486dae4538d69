"""Batched monodromy and witness-set machinery: per-path parameter homotopies, random starts,
broadcast tangents in forward mode."""

import numpy as np
import pytest

from neuromanifold.architectures import parse_spec
from neuromanifold.arithmetic import Complex128
from neuromanifold.homotopy import (
    ParameterHomotopy,
    ParameterHomotopyBatch,
    MonodromyOptions,
    make_trace_test,
    monodromy_solve,
    solve,
)
from neuromanifold.parametrization.evaluation import Parametrization, jacobian_batch

from systems import katsura_family


def test_batch_of_parameter_homotopies_matches_separate_ones():
    F, c0, z0 = katsura_family(3, seed=0)
    rng = np.random.default_rng(1)
    targets = [c0 + rng.standard_normal(4) + 1j * rng.standard_normal(4) for _ in range(3)]
    gammas = [np.exp(2j * np.pi * rng.random()) for _ in range(3)]
    one_by_one = [solve(ParameterHomotopy(F, c0, p, gamma=g), z0[None, :]).endpoints[0] for p, g in zip(targets, gammas)]
    hom = ParameterHomotopyBatch(F, np.tile(c0, (3, 1)), np.array(targets), np.array(gammas))
    together = solve(hom, np.tile(z0, (3, 1)))
    assert together.success.all()
    np.testing.assert_allclose(together.endpoints, np.array(one_by_one), atol=1e-9)


def test_monodromy_with_random_starts_finds_and_certifies_every_solution():
    F, c0, z0 = katsura_family(4, seed=3)

    def start_pairs(rng, B):  # F(z; c) = G(z) - c: any z solves the system at c = G(z)
        z = rng.standard_normal((B, 5)) + 1j * rng.standard_normal((B, 5))
        return z, F.evaluate(z, np.zeros((B, 5)))

    res = monodromy_solve(
        F, c0, z0[None, :], start_pairs=start_pairs, trace_test=make_trace_test(F, repeats=2), seed=2
    )
    assert res.n_solutions == 16 and res.trace_test_passed, res
    assert res.sampled > 0 and res.evidence()["paths_from_random_starts"] == res.sampled


@pytest.mark.parametrize("loop_vertices", [1, 2])
def test_monodromy_loop_shapes(loop_vertices):
    F, c0, z0 = katsura_family(3, seed=5)
    res = monodromy_solve(
        F, c0, z0[None, :], options=MonodromyOptions(target_count=8, loop_vertices=loop_vertices), seed=0
    )
    assert res.n_solutions == 8


@pytest.mark.parametrize(
    "spec", ["cnn(k=(2,2,2), s=(1,1,1), r=2)", "mlp(widths=(3,2,2), r=2, bias=True)", "attention(d=2, dout=1, a=2, t=2)"]
)
def test_batched_forward_mode_with_broadcast_tangents_matches_pointwise_jacobians(spec):
    arch = parse_spec(spec)
    rng = np.random.default_rng(0)
    par = Parametrization(arch, Complex128(), 5, rng)
    thetas = Complex128().random((4, arch.n_params), rng)
    U = rng.standard_normal((arch.n_params, 3)) + 1j * rng.standard_normal((arch.n_params, 3))
    values, tangents = jacobian_batch(par, thetas, directions=U, transposed=True)
    for b in range(4):
        J = par.jacobian(thetas[b])  # full seeds, one point
        np.testing.assert_allclose(values[b], np.asarray(par(thetas[b])).reshape(-1), rtol=1e-12)
        np.testing.assert_allclose(tangents[:, b, :].T, J @ U, rtol=1e-10, atol=1e-10)

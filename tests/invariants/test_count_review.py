"""Issue 16 item 4: the two failure modes of the ED count, looked for in the other counts.

(1) a point whose image is the zero function (the vertex of the cone M) counted as a solution;
(2) a rank-deficient (singular) solution counted beside the regular ones, so that a trace test over a
    set closed under monodromy passes on the wrong count.
For the degree and the fiber points, the witness points solve R mu_S(theta(z)) = b0 with b0 != 0, so
the zero function cannot be among them (|R y| = |b0|), and for a generic slice every solution is
regular (the critical values of mu o theta form a proper subvariety, which a generic slice of
complementary dimension misses).  These tests check both claims on the points actually counted.
"""

from __future__ import annotations

import numpy as np
import pytest

import neuromanifold as nm
from neuromanifold.context import Context
from neuromanifold.homotopy.linear_algebra import condition_numbers
from neuromanifold.invariants.witness_set import witness_set

CASES = [
    "linear(widths=(3, 2, 3))",
    "mlp(widths=(2, 2, 1), r=2)",
    "mlp(widths=(2, 3, 1, 1), r=2)",
    "cnn(k=(2, 2), s=(1, 1), r=2)",
]


def _check_points(ws) -> None:
    z = ws.result.solutions
    assert len(z) >= 1
    J = ws.system.jacobian(z, np.broadcast_to(ws.p0, (len(z), len(ws.p0))))
    cond = condition_numbers(J)
    # every counted point is a regular solution: rank-deficient points cannot enter the count
    assert np.all(cond < 1e8), f"ill-conditioned witness points: {np.sort(cond)[-3:]}"
    img = ws.system.image(z) @ ws.image_projection
    scale = np.linalg.norm(img, axis=1).max()
    # no image point is (near) the zero function: all have comparable size
    assert np.all(np.linalg.norm(img, axis=1) > 1e-6 * scale)
    # and they are distinct image points
    d = np.linalg.norm(img[:, None, :] - img[None, :, :], axis=2) + np.eye(len(img)) * scale
    if not ws.per_fiber:
        assert d.min() > 1e-6 * scale


@pytest.mark.parametrize("spec", CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_degree_witness_points_are_regular_and_away_from_the_vertex(spec: str, seed: int) -> None:
    ws = witness_set(Context(spec, seed=seed))
    assert ws.result.trace_test_passed
    _check_points(ws)


@pytest.mark.parametrize("spec", ["linear(widths=(2, 1, 2))", "mlp(widths=(2, 2, 1), r=2)", "mlp(widths=(2, 3, 1, 1), r=2)"])
def test_fiber_witness_points_are_regular(spec: str) -> None:
    ws = witness_set(Context(spec), per_fiber=True)
    _check_points(ws)
    f = nm.analyze(spec, only="fiber_points")["fiber_points"]
    # the reported count (when the gauge slice is complete) is the number of regular fiber points
    if f.status != "failed":
        assert f.value * f.evidence["image_points"] == ws.result.n_solutions

"""True ED degrees of small neuromanifolds, from closed formulas and independent computations
(never from neuromanifold's ED code).  Shared by tests/test_ed_certified.py and benchmarks/ed_stress.py.

References:
* [DHOST] Draisma, Horobet, Ottaviani, Sturmfels, Thomas, "The Euclidean distance degree of an
  algebraic variety", FoCM 16 (2016).
* Eckart-Young: m x n matrices of rank <= r, Frobenius norm: binom(min(m, n), r) [DHOST Ex. 2.3].
  For linear networks every coefficient is a degree-1 monomial, whose Bombieri-Weyl weight is
  1/multinomial(1; e_i) = 1 (coefficients.metric_matrix), so bombieri_weyl == euclidean there.
* Generic ED degree of the Segre cone P^{m-1} x P^{n-1} (rank-one matrices): 6 (2 x 2), 39 (3 x 3)
  [DHOST Sec. 8 / Ex. 7.?]; the 3 x 3 determinant hypersurface (rank <= 2) is the projective dual of
  the rank-one 3 x 3 Segre, and ED(X) = ED(X^dual) for the same (generic) quadric [DHOST Thm 5.2]: 39.
* Veronese cone v_d(P^{n-1}) = {a (w.x)^d} = mlp((n, 1, 1), r=d): generic ED ((2d-1)^n - (d-1)^n)/d
  [DHOST Cor. 8.7 / Prop. 7.10]; Bombieri-Weyl: number of eigenvectors of a symmetric tensor,
  ((d-1)^n - 1)/(d-2), and n for d = 2 (Cartwright-Sturmfels 2013; [DHOST Cor. 8.7]).
* Squares of binary quadratics {a q(x)^2} = mlp((2, 2, 1, 1), r=2) = mlp((2, 3, 1, 1), r=2) (a sum of
  >= 2 squares of linear forms in 2 variables is any binary quadratic over C): the cone over the
  projected Veronese surface in P^4, smooth, degree 4.  Generic ED = 7*4 - 3*6 + 3 = 13 (Chern-class
  formula for a smooth surface [DHOST Thm 5.8]); Euclidean 13 (issue 16: Macaulay2, implicit and
  parametric); Bombieri-Weyl 7 (Macaulay2 `edDegree` of tests/m2_networks.py, both on
  denseNet({2,2,1,1}, 2, false) and on the 3-parameter model {(th1 x1^2 + th2 x1 x2 + th3 x2^2)^2};
  64-72 s each, too slow to rerun in CI).
* A linear space: ED degree 1 in every metric.  gcnn(group="Cn", layers=2, r=2, output="invariant"),
  one channel: f(x) = (sum w2) * |C(w1) x|^2 with C(w1) circulant; C^T C runs over all symmetric
  circulants (Fourier eigenvalues a_0^2, a_k a_{-k}, ...: any values over C), a linear space.
  Likewise a network that fills its ambient space (mlp((2, 2, 1), r=2): all binary quadratics;
  linear((2, 2, 2)): all 2 x 2 matrices).
"""

from __future__ import annotations

from math import comb


def veronese_generic(n: int, d: int) -> int:
    return ((2 * d - 1) ** n - (d - 1) ** n) // d


def veronese_bw(n: int, d: int) -> int:
    return n if d == 2 else ((d - 1) ** n - 1) // (d - 2)


ALL = ("generic", "bombieri_weyl", "euclidean")


def _const(v: int) -> dict[str, int]:
    return {m: v for m in ALL}


def _linear(m: int, r: int, n: int, generic: int | None) -> dict[str, int]:
    t = {"euclidean": comb(min(m, n), r), "bombieri_weyl": comb(min(m, n), r)}
    if generic is not None:
        t["generic"] = generic
    return t


def _veronese(n: int, d: int) -> dict[str, int]:
    return {"generic": veronese_generic(n, d), "bombieri_weyl": veronese_bw(n, d)}


SQUARES_OF_BINARY_QUADRICS = {"generic": 13, "euclidean": 13, "bombieri_weyl": 7}

# spec -> {metric: true ED degree}; a metric missing: no independent truth known (not checked)
TRUTH: dict[str, dict[str, int]] = {
    "linear(widths=(2, 1, 2))": _linear(2, 1, 2, 6),
    "linear(widths=(3, 1, 3))": _linear(3, 1, 3, 39),
    "linear(widths=(3, 2, 3))": _linear(3, 2, 3, 39),
    "linear(widths=(2, 1, 3))": _linear(2, 1, 3, None),
    "linear(widths=(3, 1, 2))": _linear(3, 1, 2, None),
    "linear(widths=(2, 2, 2))": _const(1),
    "linear(widths=(2, 1, 1, 2))": _linear(2, 1, 2, 6),
    "mlp(widths=(2, 1, 1), r=2)": _veronese(2, 2),
    "mlp(widths=(2, 1, 1), r=3)": _veronese(2, 3),
    "mlp(widths=(2, 1, 1), r=4)": _veronese(2, 4),
    "mlp(widths=(3, 1, 1), r=2)": _veronese(3, 2),
    "mlp(widths=(3, 1, 1), r=3)": _veronese(3, 3),
    "mlp(widths=(2, 2, 1), r=2)": _const(1),
    "mlp(widths=(2, 3, 1, 1), r=2)": dict(SQUARES_OF_BINARY_QUADRICS),
    "mlp(widths=(2, 2, 1, 1), r=2)": dict(SQUARES_OF_BINARY_QUADRICS),
    'gcnn(group="C3", layers=2, r=2, output="invariant")': _const(1),
    'gcnn(group="C4", layers=2, r=2, output="invariant")': _const(1),
    'gcnn(group="C6", layers=2, r=2, output="invariant")': _const(1),
}


def truth(spec: str, metric: str) -> int | None:
    return TRUTH.get(spec, {}).get(metric)


# -- parametric Macaulay2 oracle for cones parametrised up to a finite symmetry ---------------------
# Critical points of 1/2 |c(w) - u|_Q^2 over the parameters w of a map with finite generic fibres
# {zeta w} (zeta^k = 1) that is immersive away from w = 0: the ideal J_c(w)^T Q (c(w) - u) saturated by
# (w), exactly over QQ at a random rational u; ED = degree / k.  Written from the definitions, not
# from our code: c lists the coefficients of the network function in the monomial basis, Q is the
# identity (euclidean), 1/multinomial (bombieri_weyl) or A^T A + I for a random rational A (generic).

PARAMETRIC_MODELS = {
    # squares of binary quadratics q = a x^2 + b x y + c y^2: q^2, symmetric under q -> -q
    "squares_of_binary_quadrics": ("QQ[a,b,c]", "{a^2, 2*a*b, b^2 + 2*a*c, 2*b*c, c^2}", "{1, 1/4, 1/6, 1/4, 1}", 2),
}


def veronese_model(d: int, n: int = 2) -> tuple[str, str, str, int]:
    """(w_1 x_1 + ... + w_n x_n)^d: coefficients multinomial(d; alpha) w^alpha, fibres {zeta w : zeta^d = 1}."""
    from itertools import combinations_with_replacement
    from math import factorial, prod

    terms, weights = [], []
    for combo in combinations_with_replacement(range(n), d):
        alpha = [combo.count(i) for i in range(n)]
        mult = factorial(d) // prod(factorial(a) for a in alpha)
        terms.append(f"{mult}*" + "*".join(f"w{i + 1}^{a}" for i, a in enumerate(alpha)))
        weights.append(f"1/{mult}")
    ring = "QQ[" + ",".join(f"w{i + 1}" for i in range(n)) + "]"
    return ring, "{" + ", ".join(terms) + "}", "{" + ", ".join(weights) + "}", d


def m2_parametric_ed(model: tuple[str, str, str, int], metric: str, seed: int = 7, timeout: float = 120.0) -> int | None:
    """The exact ED degree (None on a timeout); raises RuntimeError when Macaulay2 fails."""
    from m2_networks import _run_m2

    ring, cf, bw, k = model
    script = f"""
R = {ring};
cf = {cf};
D = #cf;
J = jacobian matrix{{cf}};
setRandomSeed {int(seed)};
u = random(QQ^D, QQ^1, Height => 7);
A = random(QQ^D, QQ^D, Height => 9);
Q = if "{metric}" == "euclidean" then id_(QQ^D) else if "{metric}" == "bombieri_weyl" then diagonalMatrix {bw} else transpose A * A + id_(QQ^D);
E = ideal(J * promote(Q, R) * (transpose matrix{{cf}} - promote(u, R)));
S = saturate(E, ideal gens R);
<< "PARAMED dim=" << dim S << " degree=" << degree S << endl;
"""
    import re

    out, timed_out, _ = _run_m2(script, timeout)
    if timed_out:
        return None
    m = re.search(r"PARAMED dim=(-?\d+) degree=(\d+)", out)
    if not m:
        raise RuntimeError(f"Macaulay2 failed:\n{out[-2000:]}")
    if int(m.group(1)) != 0 or int(m.group(2)) % k:
        raise RuntimeError(f"Macaulay2: unexpected critical set {m.group(0)} (symmetry order {k})")
    return int(m.group(2)) // k

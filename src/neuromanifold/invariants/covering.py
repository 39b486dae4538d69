"""Covering numbers of the neuromanifold M inside a ball, from its dimension and degree.

N_eps(A) is the least number of closed eps-balls covering A, P_eps(A) the largest number of points
of A pairwise more than eps apart (N_eps <= P_eps <= N_{eps/2}).  The seed talk (Kohn) states
log N_eps(M) = O(dim M * log(deg M / eps) + C).  We bound the packing number of M cap B_R (B_R the
ball of radius R about 0 in coefficient space, Euclidean norm of the coefficient vector in the
monomial basis; any other Euclidean norm is a linear change of coordinates and the same argument
applies) with explicit constants:

    P_eps(M cap B_R) <= deg(X) * (1 + 2 rho / eps)^(2k),      rho = min(R + |mu(0)|, 2R),      (1)

X the Zariski closure of M in C^n (complex dimension k = dim M, degree deg X = the ``degree``
invariant).  Proof: X is a complex algebraic set of pure dimension k, so for x in X the ratio
vol_2k(X cap B(x, s)) / (omega_2k s^2k) is non-decreasing in s (monotonicity, Lelong 1957), tends to
the multiplicity of X at x (>= 1) as s -> 0, and to deg X as s -> oo (Stoll 1964; Chirka, *Complex
Analytic Sets*, 1989).  Disjoint balls B(x_i, eps/2) about eps-separated points x_i of
M cap B_R subset X therefore carry volume >= omega_2k (eps/2)^2k each, and all lie in
B(x_0, rho + eps/2), whose volume on X is <= deg X omega_2k (rho + eps/2)^2k, for a point x_0 of X
within rho of every x_i: x_0 = mu(0) (rho = R + |mu(0)|) or x_0 = x_1 (rho = 2R).
Beside (1), M lies in its linear span (dimension a), and eps-separated points of a ball of R^a satisfy
P_eps <= (1 + 2R/eps)^a (volume).  Both are upper bounds for every eps, R > 0.

Every ingredient must itself be an upper bound: k is the certified upper bound of ``dimension``;
deg X the ``degree`` when it is certified in the same analysis, else the Bezout bound
deg X <= (deg_theta mu)^k (restrict mu to a generic k-dimensional affine slice of parameter space,
still dominant onto X; the preimage of a generic codimension-k linear space is cut out by k
equations of degree <= deg_theta mu in k unknowns); deg_theta mu is the exact degree of the coefficient
map (sympy) or an upper bound from a forward pass in degree arithmetic.

Zhang & Kileel ("Covering number of real algebraic varieties and beyond: improved bounds and
applications", arXiv:2311.05116, 2023) and Yomdin & Comte (*Tame geometry with application in smooth
analysis*, LNM 1834, 2004) bound covering numbers of real varieties with exponent dim M (instead of
2 dim M) in terms of the ambient dimension and the degrees of defining polynomials, not of deg M.

``epsilon_net`` (small cases) samples points of M cap B_R (when M is a cone -- some parameter array enters
homogeneously, ``CoefficientMap.homogeneous_block``, e.g. a last linear layer -- radial rescaling stays in M;
otherwise, as for skip connections, rejection) and grows an eps-separated subset greedily: its size
is a genuine eps-separated set of (floating-point) points of M cap B_R, so it is <= P_eps(M cap B_R),
an estimate from below of the packing/covering number at the scale of the sample.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from ..context import Context
from ..errors import InputError
from ..result import Result

NET_SAMPLES = 2000
NET_MAX_PARAMS = 40  # the estimate expands the coefficient map symbolically: small cases only
REFERENCES = [
    "K. Kohn, 'Neuromanifolds' (seed talk): log N_eps(M) = O(dim M log(deg M / eps) + C)",
    "P. Lelong, 'Integration sur un ensemble analytique complexe', Bull. SMF 85 (1957): monotonicity, Lelong number >= 1",
    "W. Stoll, 'The growth of the area of a transcendental analytic set', Math. Ann. 156 (1964): volume growth -> degree",
    "E. M. Chirka, Complex Analytic Sets, Kluwer 1989 (Lelong numbers, Stoll's theorem)",
    "Y. Zhang, J. Kileel, 'Covering number of real algebraic varieties and beyond', arXiv:2311.05116 (2023)",
    "Y. Yomdin, G. Comte, Tame Geometry with Application in Smooth Analysis, LNM 1834 (2004)",
]


def covering_parameters(ctx: Context) -> tuple[float, float]:
    """(eps, R) from the analysis options (validated there)."""
    return float(ctx.options.eps), float(ctx.options.radius)


# -- the degree of mu in theta -------------------------------------------------------------------


class _Deg:
    """Degree arithmetic: an upper bound on the degree in theta of every intermediate value
    (deg(a + b) <= max, deg(a b) = sum, deg(a^k) = k deg a)."""

    __slots__ = ("d",)

    def __init__(self, d: int):
        self.d = d

    @staticmethod
    def _of(x: Any) -> int:
        return x.d if isinstance(x, _Deg) else 0

    def __add__(self, o: Any) -> "_Deg":
        return _Deg(max(self.d, self._of(o)))

    __radd__ = __add__
    __sub__ = __add__
    __rsub__ = __add__

    def __neg__(self) -> "_Deg":
        return self

    def __mul__(self, o: Any) -> "_Deg":
        return _Deg(self.d + self._of(o))

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> "_Deg":
        if isinstance(o, _Deg) and o.d > 0:
            raise TypeError("division by a parameter-dependent value")
        return self

    def __pow__(self, k: int) -> "_Deg":
        return _Deg(self.d * int(k))


def parameter_degree(ctx: Context) -> tuple[int, str]:
    """deg_theta mu (an upper bound, exact when the coefficient map is expanded) and how it was found."""
    from ..parametrization.coefficients import coefficient_map

    arch = ctx.arch
    if "coefficient_map" in ctx._cache or arch.n_params <= NET_MAX_PARAMS:
        try:
            cmap = ctx.cached("coefficient_map", lambda: coefficient_map(arch))
            return int(cmap.polynomials.degrees.max(initial=0)), "exact: total degree of the coefficient map (sympy)"
        except InputError:
            pass
    return forward_degree(arch), "upper bound: forward pass in degree arithmetic"


def forward_degree(arch: Any) -> int:
    """An upper bound on deg_theta mu: the forward pass run in degree arithmetic (parameters of degree 1,
    inputs of degree 0)."""
    theta = np.empty(arch.n_params, dtype=object)
    theta[:] = [_Deg(1) for _ in range(arch.n_params)]
    X = np.empty(arch.input_shape(1), dtype=object)
    X.reshape(-1)[:] = [_Deg(0) for _ in range(X.size)]
    Y = np.asarray(arch.forward(arch.unflatten(theta), X), dtype=object)
    return int(max(_Deg._of(y) for y in Y.reshape(-1)))


def _degree_upper(ctx: Context, k: int) -> tuple[float, dict[str, Any]]:
    """An upper bound on deg X: the certified degree if computed in this analysis, else Bezout."""
    d_mu, how = parameter_degree(ctx)
    bezout = float(d_mu) ** k
    ev: dict[str, Any] = {
        "bezout": {"value": bezout, "formula": "deg X <= (deg_theta mu)^dim", "deg_theta_mu": d_mu, "how": how},
    }
    best, source = bezout, "Bezout bound (deg_theta mu)^dim"
    cached = [v for key, v in ctx._cache.items() if isinstance(key, str) and key.startswith("witness_image")]
    if cached:  # computed by ``degree`` earlier in this analysis (never started from here: it is expensive)
        ws = cached[0]
        certified = bool(ws.result.trace_test_passed and ws.injective)
        ev["witness_degree"] = {"value": ws.n_image_points, "certified": certified}
        if certified and ws.n_image_points < best:
            best, source = float(ws.n_image_points), "certified degree (witness set, trace test)"
    ev["used"] = source
    return best, ev


def _mu_zero_norm(ctx: Context) -> float | None:
    """|mu(0)| in coefficient space when it is known exactly (0 when the network vanishes at theta = 0)."""
    arch = ctx.arch
    X = np.random.default_rng(0).standard_normal(arch.input_shape(3))
    Y = np.asarray(arch.forward(arch.unflatten(np.zeros(arch.n_params)), X))
    if not np.any(Y):
        return 0.0  # every output vanishes at 3 random Gaussian inputs: mu(0) is the zero polynomial (a.s.)
    if "coefficient_map" in ctx._cache:
        cmap = ctx._cache["coefficient_map"]
        return float(np.linalg.norm(cmap.polynomials.evaluate(np.zeros((1, arch.n_params)))[0]))
    return None


def log_packing_bound(k: int, degree: float, ambient: int, eps: float, radius: float,
                      mu0_norm: float | None) -> dict[str, Any]:
    """The two upper bounds on log P_eps(M cap B_R) (natural log) and their minimum (see module doc)."""
    rho = 2 * radius if mu0_norm is None else min(radius + mu0_norm, 2 * radius)
    deg_bound = math.log(max(degree, 1.0)) + 2 * k * math.log1p(2 * rho / eps)
    span_bound = ambient * math.log1p(2 * radius / eps)
    return {"value": min(deg_bound, span_bound), "degree_bound": deg_bound, "span_bound": span_bound, "rho": rho}


def _ingredients(ctx: Context) -> dict[str, Any]:
    from .dimension import ambient_data, dimension_data

    d = dimension_data(ctx)
    k = int(d.upper)
    amb = ambient_data(ctx)
    a = int(amb["value"]) if amb["status"] in ("certified", "upper_bound") else int(d.ambient_upper)
    D, deg_ev = _degree_upper(ctx, k)
    return {"k": k, "k_certified": d.certified, "ambient": a, "ambient_status": amb["status"], "degree": D,
            "degree_evidence": deg_ev, "mu0_norm": _mu_zero_norm(ctx)}


def log_covering_number(ctx: Context) -> Result:
    """Upper bound on log N_eps(M cap B_R) (natural log), from dimension and degree (module doc, (1))."""
    t0 = time.perf_counter()
    eps, R = covering_parameters(ctx)
    ing = _ingredients(ctx)
    b = log_packing_bound(ing["k"], ing["degree"], ing["ambient"], eps, R, ing["mu0_norm"])
    grid = _eps_grid(eps, R)
    ev: dict[str, Any] = {
        "eps": eps,
        "radius": R,
        "meaning": "log N_eps(M cap B_R) <= log P_eps(M cap B_R) <= value (natural log); B_R = ball of radius R "
        "about 0 in coefficient space (Euclidean norm of the monomial coefficients)",
        "formula": "min( log deg X + 2 dim M log(1 + 2 rho/eps),  dim span(M) log(1 + 2R/eps) ), "
        "rho = min(R + |mu(0)|, 2R)",
        "proof": "monotonicity of vol(X cap B(x,s))/s^(2 dim) on the complex closure X, between the Lelong number "
        "(>= 1) and deg X (Stoll); volume packing in span(M) for the second term",
        "dimension_upper_bound": ing["k"],
        "dimension_certified": ing["k_certified"],
        "degree_upper_bound": ing["degree"],
        "degree": ing["degree_evidence"],
        "span_dimension_upper_bound": ing["ambient"],
        "mu0_norm": ing["mu0_norm"],
        "degree_term": b["degree_bound"],
        "span_term": b["span_bound"],
        "log10_value": b["value"] / math.log(10),
        "by_eps": [{"eps": e, "log_bound": log_packing_bound(ing["k"], ing["degree"], ing["ambient"], e, R,
                                                             ing["mu0_norm"])["value"]} for e in grid],
        "sample_complexity": "learning to accuracy eps with confidence 1-delta by a finite-class argument needs "
        "O((log N_eps + log(1/delta)) / eps^2) samples: the bound enters through log N_eps (seed talk)",
        "references": REFERENCES,
    }
    return Result("log_covering_number", round(b["value"], 6), "upper_bound", ev, time.perf_counter() - t0, ctx.seed)


# -- Monte-Carlo eps-net --------------------------------------------------------------------------


def _eps_grid(eps: float, radius: float, n: int = 8) -> list[float]:
    hi = max(2 * radius, eps)
    return [float(x) for x in np.geomspace(eps, hi, n)] if hi > eps else [eps]


def greedy_separated(points: np.ndarray, eps: float) -> np.ndarray:
    """Indices of a maximal (greedy, in the given order) subset of ``points`` pairwise > eps apart."""
    kept: list[int] = []
    centers = np.empty((0, points.shape[1]))
    for i, p in enumerate(points):
        if centers.shape[0] == 0 or np.min(np.sum((centers - p) ** 2, axis=1)) > eps * eps:
            kept.append(i)
            centers = np.vstack([centers, p])
    return np.asarray(kept, dtype=int)


def sample_ball(ctx: Context, n_samples: int, radius: float, dim: int) -> tuple[np.ndarray, dict[str, Any]]:
    """Points of M cap B_R in coefficient space (n, D) and how they were drawn."""
    from ..parametrization.coefficients import coefficient_map

    arch = ctx.arch
    if arch.n_params > NET_MAX_PARAMS:
        raise InputError(f"{arch.spec()}: the eps-net estimate is for small cases (at most {NET_MAX_PARAMS} "
                         f"parameters, this one has {arch.n_params}); the bound log_covering_number has no limit")
    cmap = ctx.cached("coefficient_map", lambda: coefficient_map(arch))
    rng = ctx.rng("epsilon-net")
    cone = cmap.homogeneous_block()
    if cone is not None:
        block = f"{cone[0]} (of degree {cone[1]})"
        F = cmap.polynomials.evaluate(rng.standard_normal((n_samples, arch.n_params))).real
        norms = np.linalg.norm(F, axis=1)
        F = F[norms > 0]
        radii = radius * rng.random(F.shape[0]) ** (1.0 / max(dim, 1))
        F = F * (radii / np.linalg.norm(F, axis=1))[:, None]
        how = (f"Gaussian parameters, images rescaled radially into B_R (M is a cone: every coefficient is homogeneous "
               f"in {block}, checked on the exact expansion); radius law R U^(1/dim)")
        return F, {"method": how, "accepted": int(F.shape[0]), "drawn": n_samples}
    kept, drawn = [], 0
    while sum(len(k) for k in kept) < n_samples and drawn < 50 * n_samples:
        scales = np.exp(rng.uniform(math.log(1e-2), math.log(1e1), size=(n_samples, 1)))
        F = cmap.polynomials.evaluate(scales * rng.standard_normal((n_samples, arch.n_params))).real
        drawn += n_samples
        kept.append(F[np.linalg.norm(F, axis=1) <= radius])
    F = np.concatenate(kept)[:n_samples]
    return F, {"method": "Gaussian parameters times log-uniform scales in [0.01, 10], images outside B_R rejected",
               "accepted": int(F.shape[0]), "drawn": drawn}


def epsilon_net(ctx: Context, *, n_samples: int | None = None) -> Result:
    """Size of a greedy eps-separated set among sampled points of M cap B_R (a lower estimate of
    P_eps(M cap B_R)), over a grid of eps, beside the upper bound ``log_covering_number``."""
    from .dimension import dimension_data

    t0 = time.perf_counter()
    eps, R = covering_parameters(ctx)
    n = int(n_samples or NET_SAMPLES)
    if n < 1:
        raise InputError(f"the number of samples must be positive, got {n}")
    k = int(dimension_data(ctx).lower)
    try:
        F, how = sample_ball(ctx, n, R, k)
    except InputError as exc:  # too large for the symbolic expansion: the bound still applies
        return Result("epsilon_net", None, "failed", {"reason": str(exc)}, time.perf_counter() - t0, ctx.seed)
    if F.shape[0] == 0:
        return Result("epsilon_net", None, "failed", {"reason": "no sampled point of M fell in B_R", **how},
                      time.perf_counter() - t0, ctx.seed)
    order = ctx.rng("epsilon-net-order").permutation(F.shape[0])
    F = F[order]
    ing = _ingredients(ctx)
    rows = []
    for e in _eps_grid(eps, R):
        size = len(greedy_separated(F, e))
        bound = log_packing_bound(ing["k"], ing["degree"], ing["ambient"], e, R, ing["mu0_norm"])["value"]
        rows.append({"eps": e, "net_size": size, "log_net_size": math.log(size), "log_bound": bound})
    value = rows[0]["net_size"]
    ev = {
        "eps": eps,
        "radius": R,
        "samples": int(F.shape[0]),
        "sampling": how,
        "meaning": "size of a greedy eps-separated subset of sampled points of M cap B_R: <= P_eps(M cap B_R) "
        "(a lower-bound-style estimate of the covering number at this sample size)",
        "by_eps": rows,
        "saturated": value >= F.shape[0],
    }
    return Result("epsilon_net", value, "numerical", ev, time.perf_counter() - t0, ctx.seed)

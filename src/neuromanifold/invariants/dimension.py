"""Dimension of the neuromanifold M = image(mu), certified by matching exact bounds.

* lower bound: rank over Z/p of the exact Jacobian of mu_S at a random integer point
  (rank mod p <= rank over Q <= generic rank = dim M);
* upper bound: N minus the rank over Z/p, at a point, of the known symmetry generators (and of
  polynomial kernel vector fields verified identically), which is at most the generic fiber
  dimension; the dimension of an explicit linear space containing M; and the (upper bound on
  the) dimension of a smaller architecture whose neuromanifold contains M;
* numerical: SVD of the float64 Jacobian at a Gaussian point, with the singular-value gap.
The status is ``certified`` when the bounds meet, ``lower_bound`` otherwise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from math import ceil
from typing import Any, Callable

import numpy as np

from ..arithmetic import Complex128, Float64, ModP, rank_mod_p
from ..arithmetic.modular import matmul_mod
from ..architectures.monomials import evaluation_injective
from ..context import Context
from ..errors import InputError
from ..parametrization.evaluation import Parametrization
from ..arithmetic.rank import NumericalRank, numerical_rank
from ..result import Result

MAX_JACOBIAN_ENTRIES = 1.5e8  # ~1.2 GB of int64 residues; beyond this we refuse with advice
AMBIENT_SAMPLE_LIMIT = 2500
SVD_AUTO_LIMIT = 2000  # above this many parameters the float SVD is computed only on request (option svd) or need
COMPLEX_NUMERICAL_LIMIT = 1200  # complex SVD costs ~6x real: beyond this use a real point  # largest containing space whose span we certify by sampling


@dataclass
class FloatCheck:
    """The supplementary float computation: the Jacobian of mu_S at a float point and its numerical rank."""

    rank: NumericalRank
    theta: np.ndarray
    jacobian: np.ndarray
    seconds: float


@dataclass
class DimensionData:
    n_params: int
    n_generators: int
    generator_rank_p: int
    generator_rank_numerical: int
    ambient_upper: int
    ambient_description: str
    lower: int
    upper: int
    upper_method: str
    n_samples: int
    theta_p: np.ndarray
    jacobian_p: np.ndarray
    theta_f: np.ndarray
    generators_f: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)
    sample_rounds: list[dict[str, int]] = field(default_factory=list)  # (samples, exact rank) per round
    samples_why: str = ""
    polynomial_fields: Any = None  # invariants.kernel_fields.KernelFields when searched
    containment: list[dict[str, Any]] | None = None  # containing architectures tried
    float_check: Callable[[], FloatCheck] | None = None  # computes the float check on first use
    float_reason: str = ""  # why the float check was (not) computed with the exact bounds
    _float: FloatCheck | None = None

    @property
    def certified(self) -> bool:
        return self.lower == self.upper

    @property
    def float_computed(self) -> bool:
        return self._float is not None

    def _float_check(self) -> FloatCheck:
        if self._float is None:
            assert self.float_check is not None
            self._float = self.float_check()
            self.timings["numerical_rank"] = self._float.seconds
        return self._float

    @property
    def numerical(self) -> NumericalRank:
        """Numerical rank of the float Jacobian (computed on first use: an SVD, the largest cost at scale)."""
        return self._float_check().rank

    @property
    def jacobian_f(self) -> np.ndarray:
        return self._float_check().jacobian


class SymmetryError(RuntimeError):
    """A declared symmetry generator is not in the kernel of the Jacobian (a bug)."""


MAX_SAMPLE_ROUNDS = 6  # doublings of the input samples while the exact rank keeps rising


def _modular_jacobian(ctx: Context, upper: int, theta_p: Any, G_p: np.ndarray, timings: dict) -> tuple:
    """The exact Jacobian of mu_S over Z/p at theta_p and its rank, with S grown until the evaluation at the inputs
    cannot cap the rank: from (1.15 upper + 8) / outputs samples, doubled while the rank is below the upper bound
    and still rising (every sample gives `outputs` rows, but they may be dependent: one sample of a cubic attention
    map spans fewer tangent directions than it has outputs).  Returns (rank, J, samples, rounds, why it stopped)."""
    arch, p = ctx.arch, ctx.prime
    field_p = ModP(p)
    out = arch.output_size()
    n_samples = max(1, ceil((1.15 * upper + 8) / out))
    rng = ctx.rng("modp-inputs")
    rounds: list[dict[str, int]] = []
    J: np.ndarray | None = None
    new = n_samples
    for attempt in range(MAX_SAMPLE_ROUNDS):
        # each doubling adds as many fresh samples as there are: the rows already built are kept
        P = Parametrization(arch, field_p, new, rng)
        t0 = time.perf_counter()
        J_new = P.jacobian(theta_p, progress=ctx.progress)
        if G_p.shape[1] and any(np.any(matmul_mod(J_new[r:r + 2048], G_p, p)) for r in range(0, len(J_new), 2048)):
            raise SymmetryError(f"{arch.spec()}: a declared symmetry generator is not tangent to the fibers")
        J = J_new if J is None else np.vstack([J, J_new])
        t1 = time.perf_counter()
        lower = rank_mod_p(J, p, progress=ctx.progress)
        t2 = time.perf_counter()
        timings["build_exact_jacobian"] = timings.get("build_exact_jacobian", 0.0) + t1 - t0
        timings["rank_exact_jacobian"] = timings.get("rank_exact_jacobian", 0.0) + t2 - t1
        rounds.append({"samples": n_samples, "rank": int(lower)})
        if lower >= upper:
            return lower, J, n_samples, rounds, "the rank meets the upper bound"
        if len(rounds) > 1 and lower <= rounds[-2]["rank"]:
            return lower, J, n_samples, rounds, "the rank stopped rising when the samples were doubled"
        if 2 * J.size > MAX_JACOBIAN_ENTRIES:
            return lower, J, n_samples, rounds, (f"twice the samples would exceed {MAX_JACOBIAN_ENTRIES:.1e} entries "
                                                 "of exact Jacobian")
        if attempt == MAX_SAMPLE_ROUNDS - 1:
            return lower, J, n_samples, rounds, f"{MAX_SAMPLE_ROUNDS} rounds of doubling"
        new = n_samples  # as many more samples: the evaluation points may not have separated the tangents
        n_samples *= 2
    raise AssertionError("unreachable")


def dimension_data(ctx: Context) -> DimensionData:
    return ctx.cached("dimension_data", lambda: _compute(ctx))


def _compute(ctx: Context) -> DimensionData:
    arch, p = ctx.arch, ctx.prime
    N = arch.n_params
    timings: dict[str, float] = {}
    gens = arch.symmetries()
    est = min(N - len(gens), arch.ambient_upper_bound()[0])
    rows = ceil((1.15 * est + 8) / arch.output_size()) * arch.output_size()
    if rows * N > MAX_JACOBIAN_ENTRIES:
        raise InputError(
            f"{arch.spec()} is too large for an exact Jacobian ({N} parameters x ~{rows} rows = "
            f"{rows * N:.2e} entries > {MAX_JACOBIAN_ENTRIES:.1e}); reduce the widths"
        )
    theta_p = ModP(p).random((N,), ctx.rng("modp-point"))
    G_p = arch.symmetry_matrix(theta_p.a) % p if gens else np.zeros((N, 0), dtype=np.int64)
    g_rank_p = rank_mod_p(G_p, p) if gens else 0
    amb_ub, amb_desc = arch.ambient_upper_bound()
    if N - g_rank_p <= amb_ub:
        upper, upper_method = N - g_rank_p, "n_params - rank of the known symmetry generators (exact, mod p)"
    else:
        upper, upper_method = amb_ub, f"dimension of a linear space containing M: {amb_desc}"
    lower, J_p, n_samples, rounds, why_samples = _modular_jacobian(ctx, upper, theta_p, G_p, timings)

    # numerical rank: on the complex unit torus (powers keep modulus 1, so high-degree maps stay
    # well conditioned) with extra samples when affordable, else at a real Gaussian point
    if N <= COMPLEX_NUMERICAL_LIMIT:
        field_f: Any = Complex128(unit_modulus=True)
        n_num = max(n_samples, ceil(2 * upper / arch.output_size()) + 2)
    else:
        field_f, n_num = Float64(), n_samples
    float_inputs = ctx.rng("float-inputs")
    theta_f = field_f.random((N,), ctx.rng("float-point"))
    G_f = arch.symmetry_matrix(theta_f) if gens else np.zeros((N, 0))
    g_rank_num = numerical_rank(G_f.T).rank if gens else 0

    def float_check() -> FloatCheck:
        t0 = time.perf_counter()
        P_f = Parametrization(arch, field_f, n_num, float_inputs)
        J_f = P_f.jacobian(theta_f, progress=ctx.progress)
        num = numerical_rank(J_f)
        num.point = "complex unit torus" if N <= COMPLEX_NUMERICAL_LIMIT else "real Gaussian"
        return FloatCheck(num, theta_f, J_f, time.perf_counter() - t0)

    data = DimensionData(
        n_params=N,
        n_generators=len(gens),
        generator_rank_p=g_rank_p,
        generator_rank_numerical=g_rank_num,
        ambient_upper=amb_ub,
        ambient_description=amb_desc,
        lower=lower,
        upper=upper,
        upper_method=upper_method,
        n_samples=n_samples,
        theta_p=theta_p.a,
        jacobian_p=J_p,
        theta_f=theta_f,
        generators_f=G_f,
        timings=timings,
        sample_rounds=rounds,
        samples_why=why_samples,
        float_check=float_check,
    )
    svd = ctx.options.svd
    if svd or (svd is None and N <= SVD_AUTO_LIMIT):
        data.float_reason = "requested (svd=True)" if svd else f"n_params = {N} <= {SVD_AUTO_LIMIT}"
        data._float_check()
    else:
        data.float_reason = ("not requested (svd=False)" if svd is False else
                             f"n_params = {N} > {SVD_AUTO_LIMIT}: computed only on request (svd=True, --svd)")
    if data.lower < data.upper:
        from .kernel_fields import certify_with_kernel_fields

        certify_with_kernel_fields(ctx, data, G_p)
    if data.lower < data.upper:
        eq = arch.equation_upper_bound()
        if eq is not None and eq[0] < data.upper:
            data.upper, data.upper_method = eq[0], f"equations of M: {eq[1]}"
    if data.lower < data.upper:
        _containment_bound(ctx, data)
    return data


CONTAINMENT_DEPTH = 3  # nesting of containing architectures (each is smaller)


def _same_function_space(a: Any, b: Any) -> bool:
    """Do two architectures produce functions of the same inputs with the same outputs (the same sample layout)?
    Degrees may differ: M in M' (or in a translate f0 + M', a residual block) is the architecture's claim."""
    return (
        type(a).output_to_matrix is type(b).output_to_matrix
        and a.input_shape(3) == b.input_shape(3)
        and a.output_size() == b.output_size()
        and a.n_inputs == b.n_inputs
    )


def _containment_bound(ctx: Context, data: DimensionData) -> None:
    """dim M <= dim M' <= upper(M') for every architecture M' whose neuromanifold contains M, or a translate
    f0 + M (``Architecture.containing_architectures``); M' is analysed with the same seed and prime."""
    depth = ctx.containment_depth
    if depth >= CONTAINMENT_DEPTH:
        return
    tried: list[dict[str, Any]] = []
    for sub, reason in ctx.arch.containing_architectures():
        entry: dict[str, Any] = {"architecture": sub.spec(), "reason": reason}
        tried.append(entry)
        if not _same_function_space(ctx.arch, sub):
            entry["used"] = "no: different function space"
            continue
        sub_ctx = Context(sub, seed=ctx.seed, prime=ctx.prime)
        sub_ctx.containment_depth = depth + 1
        t0 = time.perf_counter()
        try:
            d = dimension_data(sub_ctx)
        except InputError as exc:
            entry["used"] = f"no: {exc}"
            continue
        entry.update(
            {
                "dimension": d.lower if d.certified else {"lower": d.lower, "upper": d.upper},
                "status": "certified" if d.certified else "lower_bound",
                "upper_method": d.upper_method,
                "seconds": round(time.perf_counter() - t0, 3),
            }
        )
        if d.upper < data.upper:
            data.upper = d.upper
            data.upper_method = (
                f"M lies in M' = {sub.spec()} or a translate of it ({reason}), so dim M <= dim M' <= {d.upper} "
                f"({'certified' if d.certified else 'upper bound'} for M': {d.upper_method})"
            )
            entry["used"] = "yes"
        else:
            entry["used"] = "no: not smaller than the current upper bound"
        if data.certified:
            break
    data.containment = tried


def _bounds_evidence(ctx: Context, d: DimensionData) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "lower_bound": {
            "value": d.lower,
            "method": "rank over Z/p of the exact Jacobian of mu_S at a random integer point",
            "prime": ctx.prime,
            "samples": d.n_samples,
            "sample_rounds": d.sample_rounds,
            "samples_chosen_because": d.samples_why,
            "jacobian_shape": list(d.jacobian_p.shape),
        },
        "upper_bound": {"value": d.upper, "method": d.upper_method},
        "numerical": (dict(d.numerical.evidence(), why=d.float_reason) if d.float_computed
                      else {"computed": False, "why": d.float_reason}),
        "exact_and_numerical_agree": d.numerical.rank == d.lower if d.float_computed else None,
        "seconds_split": {k: round(v, 3) for k, v in d.timings.items()},
    }
    if d.polynomial_fields is not None:
        ev["polynomial_kernel_fields"] = d.polynomial_fields.evidence()
    if d.containment:
        ev["containing_architectures"] = d.containment
    return ev


def dimension(ctx: Context) -> Result:
    """dim M: certified when the exact lower and upper bounds meet, else an honest lower bound."""
    t0 = time.perf_counter()
    d = dimension_data(ctx)
    ev = _bounds_evidence(ctx, d)
    amb = ambient_data(ctx)
    exp = expected_data(ctx)
    ev["expected_dimension"] = exp["value"]
    if d.certified:
        ev["defect"] = exp["value"] - d.lower
        ev["filling"] = d.lower == amb["value"] if amb["certified"] else None
        status = "certified"
    else:
        ev["defect"] = {"at_least": max(0, exp["value"] - d.upper), "at_most": exp["value"] - d.lower}
        ev["filling"] = False if d.lower < d.upper and d.upper < amb["value"] else None
        status = "lower_bound"
    return Result("dimension", d.lower, status, ev, time.perf_counter() - t0, ctx.seed)


# -- ambient dimension ---------------------------------------------------------------------------


def ambient_data(ctx: Context) -> dict[str, Any]:
    return ctx.cached("ambient", lambda: _ambient(ctx))


def _ambient(ctx: Context) -> dict[str, Any]:
    """dim of the linear span of M: upper bound from an explicit containing space; lower bound
    from the rank mod p of function values at random parameters (span(M) contains them)."""
    arch, p = ctx.arch, ctx.prime
    d = dimension_data(ctx)
    ub, desc = d.ambient_upper, d.ambient_description
    lb, method = d.lower, "dim M <= dim span(M)"
    injective: bool | None = None
    inj_ev: dict[str, Any] = {"checked": False}
    if d.lower < ub <= AMBIENT_SAMPLE_LIMIT:
        out = arch.output_size()
        monos = arch.containing_monomials()
        n_samples = ceil((ub + 4) / out)
        if monos is not None:
            n_samples = max(n_samples, max(len(m) for m in monos) + 2)
        P = Parametrization(arch, ModP(p), n_samples, ctx.rng("ambient-inputs"))
        injective, inj_ev = evaluation_injective(arch, P.inputs.a, p=p)
        rows = [P.field.to_numpy(P(P.random_point())).reshape(-1) for _ in range(ub + 4)]
        r = rank_mod_p(np.array(rows), p)
        if r > lb:
            lb, method = r, f"rank mod {p} of mu_S at {ub + 4} random parameter points ({n_samples} samples)"
    ev = {
        "upper_bound": {"value": ub, "method": f"M lies in the {desc}"},
        "lower_bound": {"value": lb, "method": method},
        "evaluation_injective": inj_ev,
        "meaning": "dimension of the linear span of M (the smallest linear function space containing it)",
    }
    if lb == ub:
        return {"value": ub, "certified": True, "lower": lb, "status": "certified", "evidence": ev}
    if injective:
        # the samples separate the containing space, so the values of ub + 4 random parameter
        # points span (a copy of) span(M) unless the points were special: a numerical value
        ev["note"] = (
            "evaluation is injective on the containing space (exact), so the rank of the sampled values is "
            "dim span(M) for generic parameter points; the upper bound is not met"
        )
        return {"value": lb, "certified": False, "lower": lb, "status": "numerical", "evidence": ev}
    return {"value": ub, "certified": False, "lower": lb, "status": "upper_bound", "evidence": ev}


def ambient_dimension(ctx: Context) -> Result:
    t0 = time.perf_counter()
    a = ambient_data(ctx)
    status = a["status"]
    return Result("ambient_dimension", a["value"], status, a["evidence"], time.perf_counter() - t0, ctx.seed)


# -- expected dimension --------------------------------------------------------------------------


def generator_rank(ctx: Context) -> dict[str, Any]:
    """Generic rank g of the known symmetry generators, with exact bounds lo <= g <= hi."""
    d = dimension_data(ctx)
    lo = d.generator_rank_p
    hi = d.n_generators
    if d.certified:
        hi = min(hi, d.n_params - d.lower)  # the orbit lies in the fiber
    return {"lo": lo, "hi": hi, "numerical": d.generator_rank_numerical, "certified": lo == hi}


def expected_data(ctx: Context) -> dict[str, Any]:
    d = dimension_data(ctx)
    g = generator_rank(ctx)
    amb = ambient_data(ctx)
    g_val = g["lo"] if g["certified"] else g["numerical"]
    free = d.n_params - g_val
    value = min(free, amb["value"])
    certified = g["certified"] and (amb["certified"] or free <= amb["lower"])
    return {
        "value": value,
        "certified": certified,
        "evidence": {
            "n_params": d.n_params,
            "known_generators": d.n_generators,
            "generator_rank": {"exact_lower_bound_mod_p": g["lo"], "upper_bound": g["hi"], "numerical": g["numerical"]},
            "formula": "min(n_params - generic rank of the known symmetry generators, ambient dimension)",
            "ambient_dimension": amb["value"],
        },
    }


def expected_dimension(ctx: Context) -> Result:
    t0 = time.perf_counter()
    e = expected_data(ctx)
    status = "certified" if e["certified"] else "numerical"
    return Result("expected_dimension", e["value"], status, e["evidence"], time.perf_counter() - t0, ctx.seed)

"""Subnetworks, the critical locus of mu and singular points of M.

A subnetwork family is a linear subspace of parameter space, mostly a coordinate subspace: some
parameters set to zero (hidden neurons removed, filter taps dropped, attention rank lowered, rows of V
zeroed, layers collapsed).  Equivariant networks also have families cut out by linear constraints
C theta = 0: an isotypic (Fourier) component of a layer's weights zero, computed from the group's
permutation representation (``GroupDense.subnetworks``).  For those the exact ranks mod p are not
computed (the subspace has no integer coordinates here): dimension and criticality are numerical, with
the singular-value gap, and the row says so.  A layer is collapsed when its weights are diagonal (W_i[j, c] = 0 for j != c; a CNN filter
with one tap; an attention layer with diagonal Q_i, K_i, V_i): up to the rescaling symmetry the weight
is the identity, so the network is one of lower depth whose activation at that junction is the
composite (x^r)^r (for linear networks: the lower-depth network itself).  For each
family F, at a generic point theta of F:

* ``dimension``: the dimension of mu(F), the rank of d mu restricted to F (exact rank mod p at a
  random integer point of F, a certified lower bound; the numerical rank with its gap);
* ``critical``: is theta a critical point of mu (rank d mu(theta) < dim M)?  ``False`` is certified
  when the rank mod p reaches dim M (rank mod p <= rank over Q); ``True`` is numerical (SVD gap);
* ``singular``: is mu(theta) a singular point of M?  A tangent-cone test: tangent spaces of M at
  mu(theta + t v) for random directions v and t -> 0.  At a smooth point they all converge to
  T M, so the span of k-frames from several directions exceeds dim M only by O(t); at a singular
  point with several limiting tangent spaces (a cone, a node, a determinantal variety) the excess
  stays O(1).  The test compares t = 1e-3 and 1e-4: the excess singular value shrinking tenfold
  means smooth along this branch; staying put means singular.  A unibranch singularity (a cusp)
  has one limiting tangent space and is not seen by this test, so a second criterion decides when
  the tangent-cone test does not say singular: the multiplicity of the Zariski closure of M at
  mu(theta) (``multiplicity.network_multiplicity``, the local degree from the witness set):
  multiplicity 1 is a smooth point, >= 2 a singular one.  It also tests the images of families of
  regular points of mu whose image has lower dimension (a self-intersection of M is singular there).
  A family whose image is the zero function (exact mod p) is singular, certified, when M is a cone that is
  not a linear space: the vertex (``CoefficientMap.homogeneous_block``; the tangent-cone test sees one ruling
  only when the other parameters hardly move the image's direction, e.g. 1 x 1 layers).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from math import ceil
from typing import Any

import numpy as np

from ..architectures import Architecture
from ..architectures.attention import Attention
from ..architectures.conv import CNN
from ..architectures.dense import MLP
from ..architectures.equivariant import GroupDense
from ..architectures.residual import ResMLP
from ..arithmetic import Complex128, ModP, rank_mod_p
from ..context import Context
from ..errors import InputError
from ..parametrization.evaluation import Parametrization
from ..arithmetic.rank import numerical_rank
from ..result import Result
from .dimension import ambient_data, dimension_data

TANGENT_STEPS = (1e-3, 1e-4)
TANGENT_DIRECTIONS = 6


@dataclass
class SubnetworkFamily:
    """A linear subspace of parameter space: parameters ``zero`` set to 0 and, for a family that is not a
    coordinate subspace, the linear forms ``constraints`` (rows C, C theta = 0; e.g. an isotypic component of
    an equivariant layer zero).  ``name``: what was removed."""

    name: str
    description: str
    zero: list[int]
    constraints: np.ndarray | None = None

    @property
    def coordinate(self) -> bool:
        """A coordinate subspace (only zeroed parameters): exact ranks mod p apply."""
        return self.constraints is None or not len(self.constraints)

    def basis(self, n_params: int) -> np.ndarray:
        """An orthonormal basis (n_params x dim F) of the family's subspace."""
        free = np.setdiff1d(np.arange(n_params), self.zero)
        if self.coordinate:
            B = np.zeros((n_params, len(free)))
            B[free, np.arange(len(free))] = 1.0
            return B
        C = np.asarray(self.constraints, dtype=float)[:, free]
        _, s, Vt = np.linalg.svd(C, full_matrices=True)
        rank = int(np.sum(s > 1e-10 * s[0])) if s.size and s[0] > 0 else 0
        B = np.zeros((n_params, len(free) - rank))
        B[free] = Vt[rank:].T
        return B

    def codimension(self, n_params: int) -> int:
        return n_params - self.basis(n_params).shape[1]

    def project(self, theta: np.ndarray) -> np.ndarray:
        """The orthogonal projection of theta onto the family (zeroed entries exactly 0)."""
        theta = np.array(theta)
        if self.coordinate:
            theta[self.zero] = 0
            return theta
        B = self.basis(len(theta))
        return B @ (B.T @ theta)


def subnetwork_families(arch: Architecture) -> list[SubnetworkFamily]:
    """The subnetwork families of an architecture (one representative per symmetry class)."""
    fams: list[SubnetworkFamily] = []
    if isinstance(arch, MLP):
        w = arch.widths
        for i in range(1, arch.depth):  # hidden layer i: remove its last m neurons
            for m in range(1, w[i]):
                zero = []
                for j in range(w[i] - m, w[i]):
                    zero += [arch.index(f"W{i}", (j, c)) for c in range(w[i - 1])]
                    if arch.bias:
                        zero.append(arch.index(f"b{i}", (j, 0)))
                    zero += [arch.index(f"W{i + 1}", (o, j)) for o in range(w[i + 1])]
                fams.append(SubnetworkFamily(f"layer {i}: {w[i] - m} of {w[i]} neurons",
                                             f"{m} hidden neuron(s) of layer {i} removed", sorted(zero)))
        last = f"W{arch.depth}"
        zero = [arch.index(last, (o, c)) for o in range(w[-1]) for c in range(w[-2])]
        if arch.bias:
            zero.append(arch.index(f"b{arch.depth}", (0, 0)))
            zero = zero[:-1] + [arch.index(f"b{arch.depth}", (o, 0)) for o in range(w[-1])]
        fams.append(SubnetworkFamily("zero function", f"output layer W{arch.depth}{' and b' + str(arch.depth) if arch.bias else ''}"
                                     " zero (the vertex of M)", sorted(zero)))
        if arch.depth >= 2:
            for i in range(1, arch.depth + 1):  # layer i collapsed: W_i diagonal (the identity up to scaling)
                zero = [arch.index(f"W{i}", (j, c)) for j in range(w[i]) for c in range(w[i - 1]) if j != c]
                if zero:
                    if arch.act is not None:
                        what = f"W{i} diagonal: layer {i} acts neuron by neuron (s composed with s through it)"
                    else:
                        what = (f"W{i} diagonal (the identity up to rescaling): layer {i} removed"
                                + ("" if arch.r == 1 else ", its activation composed with the neighbouring x^r"))
                    fams.append(SubnetworkFamily(f"layer {i} collapsed", what, sorted(zero)))
    elif isinstance(arch, CNN):
        for i, ki in enumerate(arch.k):
            if ki < 2:
                continue
            for end, tap in (("last", ki - 1), ("first", 0)):
                fams.append(SubnetworkFamily(f"filter {i + 1}: {end} tap dropped",
                                             f"filter {i + 1} shortened to length {ki - 1} ({end} tap zero)",
                                             [arch.index(f"w{i + 1}", (tap,))]))
        L = arch.depth
        zero = [arch.index(f"w{L}", (j,)) for j in range(arch.k[-1])] + ([arch.index(f"b{L}", (0,))] if arch.bias else [])
        fams.append(SubnetworkFamily("zero function", f"filter {L}{' and bias b' + str(L) if arch.bias else ''} zero "
                                     "(the vertex of M)", zero))
        if L >= 2:
            for i, ki in enumerate(arch.k):  # layer i collapsed: a one-tap filter (k_i = 2: "last tap dropped")
                if ki >= 3:
                    fams.append(SubnetworkFamily(
                        f"layer {i + 1} collapsed", f"filter {i + 1} reduced to its first tap: the depth-{L - 1} "
                        "network without layer " + str(i + 1), [arch.index(f"w{i + 1}", (j,)) for j in range(1, ki)]))
    elif isinstance(arch, Attention):
        for i in range(arch.depth):
            a, d_in, d_out = arch.a[i], arch.widths[i], arch.widths[i + 1]
            for m in range(1, a):
                zero = [arch.index(f"{M}{i + 1}", (j, c)) for M in ("Q", "K") for j in range(a - m, a)
                        for c in range(d_in)]
                if arch.bias:
                    zero += [arch.index(f"b{M}{i + 1}", (j, 0)) for M in ("Q", "K") for j in range(a - m, a)]
                fams.append(SubnetworkFamily(f"layer {i + 1}: attention rank {a - m} of {a}",
                                             f"last {m} row(s) of Q{i + 1} and K{i + 1}{' (and their biases)' if arch.bias else ''}"
                                             " zero", sorted(zero)))
            for m in range(1, d_out):
                zero = [arch.index(f"V{i + 1}", (j, c)) for j in range(d_out - m, d_out) for c in range(d_in)]
                if arch.bias:
                    zero += [arch.index(f"bV{i + 1}", (j, 0)) for j in range(d_out - m, d_out)]
                fams.append(SubnetworkFamily(f"layer {i + 1}: {d_out - m} of {d_out} rows of V",
                                             f"last {m} row(s) of V{i + 1}{' (and of bV)' if arch.bias else ''} zero",
                                             sorted(zero)))
        L, dl, dp = arch.depth, arch.widths[-1], arch.widths[-2]
        zero = [arch.index(f"V{L}", (j, c)) for j in range(dl) for c in range(dp)]
        if arch.bias:
            zero += [arch.index(f"bV{L}", (j, 0)) for j in range(dl)]
        if arch.skip:  # H -> H + layer(H): V_L = 0 leaves the skip, the network without its last layer
            fams.append(SubnetworkFamily(f"layer {L} removed", f"V{L}{' and bV' + str(L) if arch.bias else ''} zero: "
                                         f"layer {L} is the identity (the skip alone)", sorted(zero)))
        else:
            fams.append(SubnetworkFamily("zero function", f"V{L}{' and bV' + str(L) if arch.bias else ''} zero (the vertex "
                                         "of M)", sorted(zero)))
        if L >= 2:
            for i in range(L):  # layer i collapsed: Q_i, K_i, V_i diagonal (X -> X X^T X up to scalings)
                zero = [arch.index(f"{M}{i + 1}", (j, c)) for M, rows in (("Q", arch.a[i]), ("K", arch.a[i]),
                                                                          ("V", arch.widths[i + 1]))
                        for j in range(rows) for c in range(arch.widths[i]) if j != c]
                if zero:
                    fams.append(SubnetworkFamily(
                        f"layer {i + 1} collapsed", f"Q{i + 1}, K{i + 1}, V{i + 1} diagonal: layer {i + 1} is the "
                        "parameter-free cubic X -> X X^T X up to scalings", sorted(zero)))
    elif isinstance(arch, (GroupDense, ResMLP)):  # hidden copies of the G-set / block neurons removed
        fams += [SubnetworkFamily(name, desc, zero, C) for name, desc, zero, C in arch.subnetworks()]
    return fams


def _tangent_test(par: Parametrization, theta: np.ndarray, k: int, rng: np.random.Generator) -> dict[str, Any]:
    """Excess singular value of the span of tangent k-frames at mu(theta + t v), several v, two t."""
    N = len(theta)
    excess = []
    V = rng.standard_normal((TANGENT_DIRECTIONS, N)) + 1j * rng.standard_normal((TANGENT_DIRECTIONS, N))
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    for t in TANGENT_STEPS:
        frames = []
        for v in V:
            J = np.asarray(par.jacobian(theta + t * v))
            U, s, _ = np.linalg.svd(J, full_matrices=False)
            frames.append(U[:, :k])
        s = np.linalg.svd(np.concatenate(frames, axis=1), compute_uv=False)
        excess.append(float(s[k] / s[0]) if len(s) > k else 0.0)
    big, small = excess
    if big > 1e-2 and small > 0.5 * big:
        verdict = "singular"
    elif small < 0.3 * big or big < 1e-8:
        verdict = "smooth along this branch"
    else:
        verdict = "inconclusive"
    return {"excess_singular_value": dict(zip([str(t) for t in TANGENT_STEPS], excess)), "verdict": verdict}


MULTIPLICITY_MAX_AMBIENT = 100  # witness sets of M in larger spans are too slow for a side test
MULTIPLICITY_MAX_DEGREE = 200  # the witness set used for multiplicities stops (inconclusive) beyond this


def _multiplicity(ctx: Context, theta: np.ndarray, rng: np.random.Generator, ambient: int) -> dict[str, Any]:
    """``network_multiplicity`` at theta from a witness set of degree <= MULTIPLICITY_MAX_DEGREE, or an
    inconclusive record (span too large, degree above the cap, witness set failed)."""
    from .multiplicity import network_multiplicity

    if ambient > MULTIPLICITY_MAX_AMBIENT:
        return {"multiplicity": None, "verdict": "not tested", "status": "inconclusive",
                "evidence": {"reason": f"span(M) has dimension {ambient} > {MULTIPLICITY_MAX_AMBIENT}: no witness set"}}
    cap = min(ctx.options.max_degree or MULTIPLICITY_MAX_DEGREE, MULTIPLICITY_MAX_DEGREE)
    sub = ctx.derive(options=ctx.options.with_(max_degree=cap))  # shares the cache
    try:
        return network_multiplicity(sub, theta, rng)
    except (InputError, RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
        return {"multiplicity": None, "verdict": "inconclusive", "status": "inconclusive",
                "evidence": {"reason": f"witness set failed: {exc}"}}


def _vertex(ctx: Context, d: Any, amb: dict[str, Any]) -> str | None:
    """Why 0 is a singular point of M, when it is the vertex of a cone that is not a linear space: some parameter
    array enters homogeneously (exact, on the coefficient map) and dim M < dim span(M) (exact ranks); else None."""
    from ..parametrization.coefficients import coefficient_map

    if not d.upper < amb["lower"]:
        return None
    try:
        cmap = ctx.cached("coefficient_map", lambda: coefficient_map(ctx.arch))
    except InputError:
        return None
    cone = cmap.homogeneous_block()
    if cone is None:
        return None
    return (f"certified: the vertex 0 of the cone M (every coefficient is homogeneous of degree {cone[1]} in "
            f"{cone[0]}, exact expansion), which is not a linear space (dim M <= {d.upper} < {amb['lower']} <= "
            "dim span(M), exact ranks)")


def singularities(ctx: Context) -> Result:
    t0 = time.perf_counter()
    arch = ctx.arch
    d = dimension_data(ctx)
    k = d.lower
    fams = subnetwork_families(arch)
    N = arch.n_params
    out = arch.output_size()
    n_samples = max(d.n_samples, ceil((2 * d.upper + 2) / out))
    rng = ctx.rng("singularities")
    par_f = Parametrization(arch, Complex128(), n_samples, ctx.rng("singularities-inputs"))
    par_p = Parametrization(arch, ModP(ctx.prime), n_samples, ctx.rng("singularities-inputs-p"))
    rows: list[dict[str, Any]] = []
    amb = ambient_data(ctx)
    filling = bool(amb["certified"] and amb["value"] == k and d.certified)
    use_mult = d.certified and not filling
    for fam in fams:
        theta = (rng.standard_normal(N) + 1j * rng.standard_normal(N)) / np.sqrt(2)
        if fam.coordinate:
            free = np.setdiff1d(np.arange(N), fam.zero)
            th_p = ModP(ctx.prime).random((N,), rng)
            th_p.a[fam.zero] = 0
            Jp = par_p.jacobian(th_p)  # exact, residues mod p
            rank_full_p: int | None = rank_mod_p(Jp, ctx.prime)
            dim_p: int | None = rank_mod_p(Jp[:, free], ctx.prime)
            theta[fam.zero] = 0
            J = np.asarray(par_f.jacobian(theta))
            nr_fam = numerical_rank(J[:, free])
        else:  # a linear subspace: a generic point theta = B z, the rank of d mu restricted to F is that of J B
            B = fam.basis(N)
            theta = B @ ((rng.standard_normal(B.shape[1]) + 1j * rng.standard_normal(B.shape[1])) / np.sqrt(2))
            rank_full_p = dim_p = None
            J = np.asarray(par_f.jacobian(theta))
            nr_fam = numerical_rank(J @ B)
        nr_full = numerical_rank(J)
        critical = (rank_full_p is None or rank_full_p < k) and nr_full.rank < k
        # the family maps to the zero function: exact at the random point mod p (coordinate families)
        zero_image = fam.coordinate and dim_p == 0 and not np.any(np.asarray(par_p(th_p).a) % ctx.prime)
        if dim_p is None:
            dim_status = (f"numerical (not a coordinate subspace: no exact rank mod p; rank of d mu on F at a generic "
                          f"point of F, singular-value gap {nr_fam.gap:.3g})")
        else:
            dim_status = "certified" if dim_p == nr_fam.rank and dim_p == k else (
                "numerical" if dim_p <= nr_fam.rank else "lower_bound")
        row: dict[str, Any] = {
            "family": fam.name,
            "description": fam.description,
            "zeroed_parameters": len(fam.zero),
            "linear_constraints": 0 if fam.coordinate else N - len(fam.zero) - (B.shape[1]),
            "subspace": "coordinate" if fam.coordinate else "linear",
            "family_dimension": N - len(fam.zero) if fam.coordinate else int(B.shape[1]),
            "dimension": nr_fam.rank,
            "dimension_gap": nr_fam.gap,
            "dimension_lower_bound_mod_p": dim_p,
            "dimension_status": dim_status,
            "rank_of_d_mu": {"mod_p": rank_full_p, "numerical": nr_full.rank, "gap": nr_full.gap},
            "critical": critical,
            "critical_status": "certified" if rank_full_p == k else "numerical",
        }
        if critical:
            tt = _tangent_test(par_f, theta, k, rng)
            row["tangent_cone_test"] = tt
            row["singular"] = {"singular": True, "smooth along this branch": False}.get(tt["verdict"])
            row["singular_status"] = {
                True: "numerical (tangent-cone test: several limiting tangent spaces)",
                False: "numerical (tangent-cone test: one limiting tangent space along the branch seen; a unibranch "
                "singularity is not excluded)",
                None: "inconclusive"}[row["singular"]]
        else:
            row["singular"] = False if nr_fam.rank == k else None
            row["singular_status"] = (
                "not a singular stratum: generic points of the family are regular points of mu"
                if nr_fam.rank == k else "not critical (a regular point of mu); singularity not tested"
            )
        vertex = _vertex(ctx, d, amb) if zero_image and critical else None
        if vertex is not None:  # the vertex of a cone that is not a linear space: singular, no test needed
            row["singular"], row["singular_status"] = True, vertex
        elif row["singular"] is not True and nr_fam.rank < k and use_mult:
            # a unibranch singularity (one limiting tangent space) or a self-intersection of M: the
            # multiplicity of the Zariski closure at mu(theta) decides (1: smooth, >= 2: singular)
            mult = _multiplicity(ctx, theta, rng, int(amb["value"]) if amb["certified"] else 10**9)
            row["multiplicity"] = mult
            if mult["multiplicity"] is not None:
                row["singular"] = mult["multiplicity"] >= 2
                row["singular_status"] = f"numerical (multiplicity {mult['multiplicity']}, local degree)"
        rows.append(row)
    if filling:
        for row in rows:  # the closure of M is a linear space: a smooth variety
            row["singular"] = False
            row["singular_status"] = "certified: M is dense in its linear span (dim M = ambient dimension)"
    n_sing = sum(1 for r in rows if r.get("singular") is True)
    ev = {
        "dim_M": k,
        "families": rows,
        "method": "subnetwork families (coordinate subspaces with zeros; linear subspaces C theta = 0 such as "
        "isotypic components of equivariant layers zero); ranks of d mu_S exactly mod p (coordinate families) and "
        "numerically at a generic point of each family; tangent-cone test at critical ones; multiplicity of the "
        "Zariski closure (local degree from the witness set) where that test does not say singular",
    }
    status = "numerical" if rows else "failed"
    if not rows:
        ev["reason"] = f"no subnetwork families are known for {arch.family}"
    return Result("singularities", n_sing, status, ev, time.perf_counter() - t0, ctx.seed)


__all__ = ["SubnetworkFamily", "subnetwork_families", "singularities"]

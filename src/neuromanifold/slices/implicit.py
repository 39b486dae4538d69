"""The implicit equation of a neuromanifold M that is a hypersurface in its span (dim M = e - 1).

Coordinates: e of the D coefficients of the network function on which the span of M projects
injectively (pivot columns of sampled integer images, exact row reduction over Q).  The Zariski
closure of M is {F = 0} for one form F of degree deg F = deg M (M is a cone): its coefficients span
the nullspace, over Q and exactly (python-flint), of the monomials of degree deg F evaluated at
images of random integer parameters; that nullspace is checked to be one-dimensional.  ``_Form``
evaluates F, grad F and the Hessian of F numerically; ``_symbolic_form`` writes F in sympy.
"""

from __future__ import annotations

from itertools import combinations_with_replacement
from typing import Any

import numpy as np

from ..architectures import Architecture
from ..context import Context, as_context
from ..errors import InputError


def _exact_rank_columns(Y: np.ndarray) -> list[int]:
    """Pivot columns of an integer matrix (exact row reduction over Q)."""
    import flint

    M = flint.fmpq_mat(Y.shape[0], Y.shape[1], [int(v) for v in Y.reshape(-1)])
    R, rank = M.rref()
    piv = []
    for i in range(rank):
        for j in range(Y.shape[1]):
            if R[i, j] != 0:
                piv.append(j)
                break
    return piv


def _implicit(spec: "str | Architecture | Context", seed: int | None, force: bool = False) -> dict[str, Any]:
    """Architecture, certified invariants, the exact implicit form and the seeded generator."""
    import flint

    from ..invariants.cost import check_cost
    from ..invariants.degree import degree
    from ..invariants.dimension import ambient_dimension, dimension
    from ..parametrization.coefficients import coefficient_map

    ctx = as_context(spec, seed=seed)
    arch = ctx.arch
    if not force:  # beyond COST_CAP the degree is refused (one line naming --force)
        check_cost(ctx, ["degree"], remedy="pass --force to run unbounded")
    rep = {"dimension": dimension(ctx), "ambient_dimension": ambient_dimension(ctx), "degree": degree(ctx)}
    k, e, deg = rep["dimension"].value, rep["ambient_dimension"].value, rep["degree"].value
    if any(rep[n].status != "certified" for n in ("dimension", "ambient_dimension", "degree")):
        raise InputError(f"{arch.spec()}: dimension, span and degree must be certified for an exact slice")
    if k != e - 1:
        raise InputError(f"{arch.spec()}: M has codimension {e - k} in its span; a plane slice is a curve only for "
                         "hypersurfaces (codimension 1)")
    if deg > 8:
        raise InputError(f"{arch.spec()}: the implicit equation has degree {deg}; plane slices are limited to degree 8")
    cmap = coefficient_map(arch)
    rng = np.random.default_rng(ctx.seed)
    N = arch.n_params
    P = cmap.polynomials

    def image(theta: np.ndarray) -> np.ndarray:
        return P.evaluate(np.asarray(theta, dtype=complex)[None, :])[0].real

    n_mono = len(list(combinations_with_replacement(range(e), deg)))
    thetas = rng.integers(-3, 4, size=(n_mono + 40, N))
    Y = np.rint(np.array([image(th) for th in thetas])).astype(object)
    coords = _exact_rank_columns(np.array(Y, dtype=object))
    if len(coords) != e:
        raise InputError(f"{arch.spec()}: sampled images span {len(coords)} dimensions, expected {e}")
    Yc = Y[:, coords]
    monos = list(combinations_with_replacement(range(e), deg))
    rows = [[int(np.prod([int(y[i]) for i in m], dtype=object)) for m in monos] for y in Yc]
    V = flint.fmpz_mat(rows)
    X, nullity = V.nullspace()
    if nullity != 1:
        raise InputError(f"{arch.spec()}: forms of degree {deg} vanishing on M: {nullity} (expected exactly 1)")
    vec = [int(X[i, 0]) for i in range(len(monos))]
    g = 0
    for v in vec:
        g = np.gcd(g, abs(v))
    form: dict[tuple[int, ...], int] = {}
    for m, v in zip(monos, vec):
        if v:
            ex = [0] * e
            for i in m:
                ex[i] += 1
            form[tuple(ex)] = v // int(g)
    return {"arch": arch, "seed": ctx.seed, "k": k, "e": e, "deg": deg, "form": form, "coords": coords, "rng": rng, "P": P,
            "image": image}


def _symbolic_form(form: dict[tuple[int, ...], int], e: int) -> tuple[Any, Any]:
    """The implicit form F as a sympy polynomial in the coordinates y0..y{e-1} (integer coefficients
    from the exact nullspace; no user text involved)."""
    import sympy

    ys = sympy.symbols(f"y0:{e}")
    return ys, sum(c * sympy.Mul(*[ys[i] ** p for i, p in enumerate(ex)]) for ex, c in form.items())


class _Form:
    """The implicit form F (integer coefficients) as a numerical function: value, gradient, Hessian."""

    def __init__(self, form: dict[tuple[int, ...], int], e: int):
        self.E = np.array(list(form.keys()), dtype=float).reshape(-1, e)
        self.c = np.array(list(form.values()), dtype=float)
        self.e = e
        self.deg = int(self.E.sum(axis=1).max()) if len(self.E) else 0
        eye = np.eye(e)
        self.G_exp = np.maximum(self.E[None] - eye[:, None, :], 0.0)  # (e, T, e)
        self.G_coef = self.c[None, :] * self.E.T  # (e, T)
        Eij = self.E[None, None] - eye[:, None, None, :] - eye[None, :, None, :]  # (e, e, T, e)
        self.H_coef = self.c[None, None, :] * self.E.T[:, None, :] * (self.E.T[None, :, :] - eye[:, :, None])
        self.H_exp = np.maximum(Eij, 0.0)
        self.norm1 = float(np.abs(self.c).sum())

    def value(self, y: np.ndarray) -> float:
        return float(self.c @ np.prod(y[None, :] ** self.E, axis=1))

    def grad(self, y: np.ndarray) -> np.ndarray:
        return np.sum(self.G_coef * np.prod(y[None, None, :] ** self.G_exp, axis=2), axis=1)

    def hess(self, y: np.ndarray) -> np.ndarray:
        return np.sum(self.H_coef * np.prod(y[None, None, None, :] ** self.H_exp, axis=3), axis=2)

    def scale(self, y: np.ndarray, order: int = 0) -> float:
        """Size of F (order 0) or of its gradient (order 1) at y: sum |c| max(1, |y|)^(deg - order)."""
        return self.norm1 * max(1.0, float(np.max(np.abs(y)))) ** (self.deg - order)

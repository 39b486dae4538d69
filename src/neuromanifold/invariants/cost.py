"""What a monodromy invariant may cost, and the guard that refuses unbounded work.

For degree, fiber points and ED degree the number of solutions a monodromy may have to gather is
bounded above (``degree.degree_cost_estimate``: (deg_theta mu)^dim and the like, a Bezout-type upper
bound); beyond ``COST_CAP`` the computation is refused with one line saying how to proceed (a budget
or force), unless the caller forces it.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..context import Context
from ..errors import InputError
from .degree import degree_cost_estimate

COST_CAP = 10**8  # solutions a monodromy may have to gather (upper bound) before analyze refuses without force
GUARDED = ("degree", "fiber_points", "ed_degree", "identifiability")


def cost_estimates(ctx: Context, names: Iterable[str]) -> list[dict[str, Any]]:
    """Upper bounds on the solutions each requested monodromy invariant gathers (``degree_cost_estimate``)."""
    out = []
    for name in names:
        if name in GUARDED and getattr(ctx.arch, "polynomial", True):
            if name == "identifiability":  # Kruskal-certified shallow networks gather m! points at most
                from .identifiability import identifiability_cost_estimate

                est = identifiability_cost_estimate(ctx)
            else:
                est = degree_cost_estimate(ctx, name=name)
            if est is not None:
                out.append(est)
    return out


BUDGET_OR_FORCE = "pass --budget SECONDS (a labelled lower bound when it runs out) or --force to run unbounded"


def check_cost(ctx: Context, names: Iterable[str], *, cap: int = COST_CAP,
               remedy: str = BUDGET_OR_FORCE) -> list[dict[str, Any]]:
    """The estimates of ``cost_estimates``; InputError (one line ending in ``remedy``, how to proceed, which
    names only the options the calling command has) when one exceeds ``cap``."""
    ests = cost_estimates(ctx, names)
    for e in ests:
        if e["bound"] > cap:
            raise InputError(
                f"{ctx.arch.spec()}: {e['invariant']} may have to gather up to {float(e['bound']):.2e} solutions "
                f"({e['formula']} with deg_theta mu = {e['deg_theta_mu']}, dim = {e['dim']}) > the cap {cap:.0e}; "
                + remedy
            )
    return ests

"""Activation threshold of a dense polynomial network: from which exponent r on it has the expected dimension.

For widths d = (d_0, ..., d_h) and the activation x^r (no biases) the neurovariety V_{d,r} has dimension at most

    edim(d, r) = min(d_h + sum_{i<h} (d_i - 1) d_{i+1},  d_h * C(d_0 + r^(h-1) - 1, r^(h-1)))

(parameters minus the hidden-neuron rescalings, capped by the forms of degree r^(h-1); Kileel, Trager, Bruna 2019,
Lemma 13).  ``activation_threshold`` is the smallest r >= 2 such that dim V_{d,r'} = edim(d, r') for every r' >= r
(the convention of this project, issue 20: "from which on").  Finkel, Rodriguez, Wu, Yahl (Algebraic Statistics 16
(2025), arXiv:2408.04569) introduced it and proved it exists without width-one bottlenecks; if their ActThr counts
the r' > r~ (their equi-width "threshold one" reads "expected dimension for all r > 1"), theirs is max(1, ours - 1).

Method: every r' from 2 up to a proven bound B (``proven_bound``: every r >= B is non-defective) is computed with
the dimension machinery (``dimension.dimension_data``).  Each check needs one direction only:

* dim = edim needs the exact lower bound (rank mod p of the exact Jacobian) to reach edim, as dim <= edim always;
* dim < edim needs a rigorous upper bound below edim (symmetry generators and verified kernel fields, equations of
  M such as the catalecticant of shallow networks of even degree, containing architectures); when only the float
  SVD sees the defect, the r' is *numerically* defective.

Then, with rows r' in [2, B - 1] (the row r' = B is computed too, as a cross-check of the theorem):
U = 1 + the largest r' not certified non-defective (else 2) is a certified upper bound on the threshold; L = 1 + the
largest r' certified defective (else 2) a certified lower bound; the value is 1 + the largest r' defective, certified
or numerically (else 2).  Status: ``certified`` when L = U, ``upper_bound`` when the value is U (the defect below it
is numerical only, e.g. the odd Alexander-Hirschowitz case (5, 7, 1), r = 3), ``lower_bound`` when it is L, else ``numerical``.  Without an
applicable theorem only r' up to NO_BOUND_SCAN are computed and the value is the certified lower bound L.
"""

from __future__ import annotations

import time
from math import comb
from typing import Any

from ..architectures import MLP
from ..context import Context
from ..errors import InputError
from ..result import Result
from .dimension import dimension_data

NO_BOUND_SCAN = 6  # largest r computed when no proven bound applies (the threshold is then only bounded below)
MAX_BOUND = 64  # a bound beyond this is not scanned (the Jacobians grow with r until they saturate)

USEVICH_2025 = ("K. Usevich, R. Borsoi, C. Derand, M. Clausel, 'Identifiability of deep polynomial neural networks', "
                "NeurIPS 2025 (arXiv:2506.17093)")
FINKEL_2025 = ("B. Finkel, J. I. Rodriguez, C. Wu, T. Yahl, 'Activation degree thresholds and expressiveness of "
               "polynomial neural networks', Algebraic Statistics 16(2) (2025) 113-130, arXiv:2408.04569")
AH_1995 = "J. Alexander, A. Hirschowitz, 'Polynomial interpolation in several variables', J. Algebraic Geom. 4 (1995)"

DEFINITION = ("smallest r >= 2 such that dim V_{d,r'} = edim(d, r') for every r' >= r, where edim(d, r) = "
              "min(d_h + sum_{i<h} (d_i - 1) d_{i+1}, d_h C(d_0 + r^(h-1) - 1, r^(h-1))) (activation x^r, no biases)")
CONVENTION = ("r = 1 (linear network, whose symmetries are GL(d_i), not rescalings) is left out; the threshold counts "
              "r' >= r (inclusive).  If Finkel et al. define ActThr with r' > r~ (their equi-width networks have "
              "'threshold one', i.e. the expected dimension for all r > 1), their value is max(1, this - 1)")


def expected_dimension_formula(widths: tuple[int, ...], r: int) -> int:
    """edim(d, r) = min(d_h + sum_{i<h} (d_i - 1) d_{i+1}, d_h C(d_0 + D - 1, D)), D = r^(h-1) (Kileel et al.)."""
    h = len(widths) - 1
    D = r ** (h - 1)
    free = widths[-1] + sum((widths[i] - 1) * widths[i + 1] for i in range(h))
    return min(free, widths[-1] * comb(widths[0] + D - 1, D))


def proven_bound(widths: tuple[int, ...]) -> dict[str, Any] | None:
    """The smallest proven B with V_{d,r} non-defective for every r >= B, among the theorems below (None if none
    applies).  Each is used as a bound only: every r below it (and B itself) is computed.

    * Usevich, Borsoi, Derand, Clausel (NeurIPS 2025), Corollary 17: if d_0, ..., d_{h-1} >= 2, the network with
      degrees r_l >= 2 d_l - 1 (l = 1..h-1) is finitely identifiable, i.e. dim V = sum d_l d_{l-1} - sum_{hidden} d_l
      = edim; with one r for all layers: B = 2 max(d_1..d_{h-1}) - 1.  (It sharpens the quadratic bound of Finkel
      et al., Theorem 18, whose exact constant is not used here.)
    * Same paper, Corollary 16 (pyramidal): d_0 >= d_1 >= ... >= d_{h-1} >= 2 is finitely identifiable for all
      r_l >= 2 when d_h >= 2, and for r_1..r_{h-2} >= 2, r_{h-1} >= 3 when d_h = 1: B = 2, resp. 3.
    * Alexander-Hirschowitz (1995): sums of m r-th powers of linear forms in n >= 2 variables (shallow (n, m, 1))
      have the expected dimension min(nm, C(n+r-1, r)) for every r >= 5 (all exceptions have r <= 4): B = 5.
    """
    h = len(widths) - 1
    hidden = widths[1:-1]
    found: list[dict[str, Any]] = []
    if h >= 2 and all(w >= 2 for w in widths[:-1]):
        found.append({"value": 2 * max(hidden) - 1, "theorem": f"{USEVICH_2025}, Corollary 17",
                      "statement": "d_0..d_{h-1} >= 2 and r >= 2 max(hidden widths) - 1 => finitely identifiable "
                                   "(dim = parameters - rescalings = edim)"})
        if all(widths[i] >= widths[i + 1] for i in range(h - 1)):
            found.append({"value": 2 if widths[-1] >= 2 else 3, "theorem": f"{USEVICH_2025}, Corollary 16",
                          "statement": "pyramidal d_0 >= ... >= d_{h-1} >= 2: finitely identifiable for r >= 2 "
                                       "(d_h >= 2), r >= 3 in the last layer (d_h = 1)"})
    if h == 2 and widths[-1] == 1 and widths[0] >= 2:
        found.append({"value": 5, "theorem": f"{AH_1995} (all exceptions have r <= 4)",
                      "statement": "m general r-th powers of linear forms in n >= 2 variables span a secant variety "
                                   "of the expected dimension min(nm, C(n+r-1, r)) for r >= 5"})
    if not found:
        return None
    best = min(found, key=lambda b: b["value"])
    return {**best, "value": max(2, best["value"]), "candidates": found}


def _check(ctx: Context) -> MLP:
    arch = ctx.arch
    example = "write e.g. 'mlp(widths=(3, 5, 1), r=2)'"
    if type(arch) is not MLP:
        raise InputError(f"activation_threshold is defined for dense networks mlp(widths=..., r=...) with the "
                         f"activation x^r; got {arch.spec()} ({arch.family}): {example}")
    if arch.act is not None or arch.bias:
        raise InputError(f"activation_threshold is defined for the activation x^r without biases; {arch.spec()} has "
                         f"{'act=' if arch.act is not None else 'bias=True'}: drop it, {example}")
    if len(arch.widths) < 3:
        raise InputError(f"{arch.spec()} has no hidden layer, so it is linear for every r: give at least three "
                         f"widths, {example}")
    return arch


def _row(ctx: Context, arch: MLP, r: int) -> dict[str, Any]:
    """dim V_{d,r} against edim(d, r): the verdict and the exact bounds it rests on."""
    t0 = time.perf_counter()
    sub = MLP(arch.widths, r)
    sub_ctx = ctx if sub.spec() == arch.spec() else Context(sub, seed=ctx.seed, prime=ctx.prime)
    edim = expected_dimension_formula(arch.widths, r)
    try:
        d = dimension_data(sub_ctx)
    except InputError as exc:
        return {"r": r, "expected_dimension": edim, "verdict": "not_computed", "reason": str(exc),
                "seconds": round(time.perf_counter() - t0, 3)}
    rescalings = d.n_params - sum(arch.widths[1:-1])
    if min(rescalings, d.ambient_upper) != edim or d.n_generators != sum(arch.widths[1:-1]):
        raise RuntimeError(f"{sub.spec()}: edim formula {edim} disagrees with the architecture's count "
                           f"min({rescalings}, {d.ambient_upper}) or generators {d.n_generators}")  # a bug
    num = d.numerical.rank if d.float_computed or d.upper >= edim > d.lower else None
    if d.lower >= edim:
        verdict = "non_defective"
    elif d.upper < edim:
        verdict = "defective"
    else:
        verdict = "defective_numerical" if num < edim else "non_defective_numerical"
    return {
        "r": r,
        "dimension": d.lower if d.certified else {"lower": d.lower, "upper": d.upper},
        "dimension_status": "certified" if d.certified else "lower_bound",
        "expected_dimension": edim,
        "numerical_rank": num,
        "verdict": verdict,
        "defective": {"non_defective": False, "defective": True, "defective_numerical": True,
                      "non_defective_numerical": False}[verdict],
        "how": {"non_defective": f"exact rank mod p = {d.lower} = edim (dim <= edim always)",
                "defective": f"certified upper bound {d.upper} < edim ({d.upper_method})",
                "defective_numerical": f"exact rank {d.lower} < edim, numerical rank {num} < edim; no certified "
                                       f"upper bound below edim (best {d.upper}: {d.upper_method})",
                "non_defective_numerical": f"numerical rank {num} = edim but exact rank mod p {d.lower} < edim"}[verdict],
        "seconds": round(time.perf_counter() - t0, 3),
    }


def _one_plus_last(rows: list[dict[str, Any]], pred: Any) -> int:
    hits = [row["r"] for row in rows if pred(row)]
    return 1 + max(hits) if hits else 2


def activation_threshold(ctx: Context) -> Result:
    """Smallest r >= 2 from which on every V_{d,r'} has the expected dimension, computed for every r' up to a
    proven bound (``proven_bound``); the exponent r of the spec itself is ignored."""
    t0 = time.perf_counter()
    arch = _check(ctx)
    bound = proven_bound(arch.widths)
    if bound is not None and bound["value"] > MAX_BOUND:
        raise InputError(f"{arch.spec()}: the proven bound r >= {bound['value']} is beyond the scanned range "
                         f"(<= {MAX_BOUND}); reduce the hidden widths")
    last = bound["value"] if bound is not None else NO_BOUND_SCAN
    rows: list[dict[str, Any]] = []
    for r in range(2, last + 1):
        rows.append(_row(ctx, arch, r))
        if rows[-1]["verdict"] == "not_computed":
            break  # the Jacobians only grow with r: the larger r are refused as well
    top = last if bound is None else last - 1  # the row r = B itself only cross-checks the theorem
    computed = [row for row in rows if row["r"] <= top and row["verdict"] != "not_computed"]
    missing = [r for r in range(2, top + 1) if r not in {x["r"] for x in computed}]
    if not computed and bound is None:
        raise InputError(rows[0]["reason"] if rows else f"{arch.spec()}: nothing to compute")
    lower = _one_plus_last(computed, lambda x: x["verdict"] == "defective")
    value = _one_plus_last(computed, lambda x: x["defective"])
    ev: dict[str, Any] = {
        "widths": list(arch.widths),
        "definition": DEFINITION,
        "convention": CONVENTION,
        "existence": f"{FINKEL_2025}: the threshold exists when no hidden width is 1 (Theorem 18, quadratic bound)",
        "bound": bound,
        "rows": rows,
        "certified_lower_bound": lower,
        "defective_r": {"certified": [x["r"] for x in computed if x["verdict"] == "defective"],
                        "numerical": [x["r"] for x in computed if x["verdict"] == "defective_numerical"]},
        "method": "dimension of V_{d,r} for each r (exact rank mod p vs. rigorous upper bounds, float SVD), "
                  "compared with edim(d, r); r beyond the bound by the theorem",
        "spec_r_ignored": arch.r,
    }
    if bound is None:
        ev["why_lower_bound"] = (f"no proven bound applies to widths {arch.widths} (a hidden width 1, or d_0 = 1): "
                                 f"r = 2..{NO_BOUND_SCAN} computed, larger r may be defective; the threshold may not "
                                 "exist with a width-one bottleneck")
        ev["numerical_value_on_range"] = value
        return Result("activation_threshold", lower, "lower_bound", ev, time.perf_counter() - t0, ctx.seed)
    upper = _one_plus_last(computed, lambda x: x["verdict"] != "non_defective")
    if missing:
        upper = max(upper, 1 + max(missing))
    ev["certified_upper_bound"] = upper
    ev["numerical_value"] = value if not missing else None
    check = next((x for x in rows if x["r"] == last), None)
    if check is not None and check["verdict"] != "non_defective":
        ev["cross_check"] = (f"the theorem says r = {last} is non-defective but the computation gives "
                             f"'{check['verdict']}' ({check.get('how', check.get('reason'))})")
    else:
        ev["cross_check"] = (f"r = {last} computed non-defective, as the theorem says" if check is not None
                             else "not computed")
    if missing:
        ev["why_bounds"] = (f"r = {', '.join(map(str, missing))} not computed (Jacobian too large); the threshold is "
                            f"between {lower} and {upper}")
        return Result("activation_threshold", upper, "upper_bound", ev, time.perf_counter() - t0, ctx.seed)
    if lower == upper:
        status = "certified"
        ev["certified_by"] = ((f"every r in [{upper}, {last - 1}] has exact rank = edim, " if upper < last else "")
                              + (f"r = {upper - 1} is certified defective, " if upper > 2 else "")
                              + f"every r >= {last} is non-defective by the theorem")
    elif value == upper:
        status = "upper_bound"
        ev["why_upper_bound"] = (f"every r >= {upper} is certified non-defective, but r = {upper - 1} is defective "
                                 f"only numerically (no certified upper bound on its dimension below edim): the "
                                 f"threshold is {value} numerically, at least {lower} certified")
    elif value == lower:
        status = "lower_bound"
        ev["why_lower_bound"] = (f"some r >= {value} is non-defective only numerically (the exact rank fell short): "
                                 f"certified between {lower} and {upper}")
    else:
        status = "numerical"
        ev["why_numerical"] = f"certified between {lower} and {upper}; {value} from the numerical verdicts"
    return Result("activation_threshold", value, status, ev, time.perf_counter() - t0, ctx.seed)

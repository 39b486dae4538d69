"""``analyze``: compute the requested invariants of an architecture into a Report."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from .architectures import Architecture
from .context import AnalysisOptions, Context, as_context
from .errors import InputError
from .invariants import degree as _deg
from .invariants import dimension as _dim
from .invariants import ed_degree as _ed
from .invariants import singularities as _sing
from .invariants import fibers as _fib
from .invariants import covering as _cov
from .invariants import conservation as _claws
from .invariants import critical_locus as _crit
from .invariants import identifiability as _ident
from .invariants import activation_threshold as _thr
from .result import Result, html_badge, html_card, html_evidence, html_table, html_text, html_value, jsonable
from .invariants.cost import COST_CAP, GUARDED, check_cost, cost_estimates  # noqa: F401 (re-exported)

INVARIANTS: dict[str, Callable[[Context], Result]] = {
    "dimension": _dim.dimension,
    "expected_dimension": _dim.expected_dimension,
    "ambient_dimension": _dim.ambient_dimension,
    "fiber_dimension": _fib.fiber_dimension,
    "hidden_symmetries": _fib.hidden_symmetries,
    "degree": _deg.degree,
    "fiber_points": _deg.fiber_points,
    "ed_degree": _ed.ed_degree,
    "singularities": _sing.singularities,
    "log_covering_number": _cov.log_covering_number,
    "epsilon_net": _cov.epsilon_net,
    "conservation_laws": _claws.conservation_laws,
    "subnetwork_conjecture": _crit.subnetwork_conjecture,
    "identifiability": _ident.identifiability,
    "activation_threshold": _thr.activation_threshold,
}
def invariant_function(name: str, arch: Architecture) -> Callable[[Context], Result]:
    """The implementation of invariant ``name`` for ``arch``: the registered one for polynomial families; for
    non-polynomial ones (``relu``) the numerical version, the generic one, or a one-line refusal.
    The returned function marks a result whose computation was cut short (Ctrl-C or budget; see
    ``mark_cut``), so callers (analyze, the atlas) can tell a partial value from a final one."""
    if getattr(arch, "polynomial", True):
        func = INVARIANTS[name]
    else:
        from .invariants import functional as _fun

        func = _fun.for_nonpolynomial(name, INVARIANTS[name])

    def run(ctx: Context) -> Result:
        from .runtime.budget import cut_mark, cuts_since

        mark = cut_mark()
        res = func(ctx)
        cuts = cuts_since(mark)
        return mark_cut(res, "interrupted" if "interrupted" in cuts else cuts[0]) if cuts else res

    run.__doc__ = func.__doc__
    return run


def mark_cut(res: Result, kind: str) -> Result:
    """Label a result whose computation was cut short (``kind``: "interrupted" by Ctrl-C or "budget"):
    ``evidence["interrupted"] = True`` and ``evidence["cut"] = kind`` (never store it as final); a
    ``numerical`` value of a cut search (points found so far) becomes a ``lower_bound``."""
    res.evidence["interrupted"] = True
    res.evidence["cut"] = kind
    if res.status == "numerical":
        res.status = "lower_bound"
        res.evidence["why_lower_bound"] = f"the computation was cut short ({kind}); the points found so far"
    return res


class AnalysisInterrupted(KeyboardInterrupt):
    """Ctrl-C ended ``analyze``: ``.report`` holds what was computed, labelled (``Report.interrupted``).
    A KeyboardInterrupt, so scripts and loops over architectures stop as they would on any Ctrl-C."""

    def __init__(self, report: Any) -> None:
        super().__init__("interrupted; the partial report is in .report")
        self.report = report


DEFAULT_INVARIANTS = ("dimension", "expected_dimension", "ambient_dimension", "fiber_dimension", "hidden_symmetries")


@dataclass
class Report:
    """The invariants of one architecture, each with status and evidence."""

    architecture: Architecture
    seed: int
    prime: int
    invariants: dict[str, Result] = field(default_factory=dict)
    seconds: float = 0.0
    budget: dict[str, Any] | None = None  # {"seconds": ..., "exhausted": ...} when a budget was set
    interrupted: bool = False  # Ctrl-C ended the run: the cut invariant is partial, later ones not_computed
    provenance: dict[str, Any] = field(default_factory=dict)  # versions, host, cores, time, seed (runtime.provenance)

    def __getitem__(self, name: str) -> Result:
        return self.invariants[name]

    def to_dict(self) -> dict[str, Any]:
        arch = self.architecture
        return jsonable(
            {
                "architecture": arch.spec(),
                "family": arch.family,
                "n_params": arch.n_params,
                "param_shapes": {k: list(v) for k, v in arch.param_shapes().items()},
                "symmetries": arch.symmetry_summary(),
                "seed": self.seed,
                "prime": self.prime,
                "seconds": round(self.seconds, 4),
                "budget": self.budget,
                "interrupted": self.interrupted,
                "invariants": {k: r.to_dict() for k, r in self.invariants.items()},
                "provenance": self.provenance,
            }
        )

    def _repr_html_(self) -> str:
        """Jupyter: one row per invariant (value, status, evidence), the interruption or budget noted.  With
        IPython running, ``import neuromanifold`` registers the full page of ``report.notebook`` instead (the
        dictionary's sections, figures)."""
        arch = self.architecture
        rows = [(name, html_value(r.value), html_badge(r.status), html_evidence(r.evidence, "show"))
                for name, r in self.invariants.items()]
        body = [f"<p>{arch.n_params} parameters; seed {self.seed}, prime {self.prime}; {self.seconds:.2f} s</p>",
                html_table(("invariant", "value", "status", "evidence"), rows)]
        if self.interrupted:
            body.append("<p class='nm-note'>interrupted: the cut invariant is partial, later ones not_computed</p>")
        if self.budget:
            body.append(f"<p class='nm-note'>time budget {html_text(self.budget.get('seconds'))} s"
                        f"{' (exhausted)' if self.budget.get('exhausted') else ''}</p>")
        return html_card(f"Neuromanifold of <code>{html_text(arch.spec())}</code>", body, kind="report")


def resolve_only(only: str | Iterable[str] | None) -> list[str]:
    if only is None:
        return list(DEFAULT_INVARIANTS)
    names = [s.strip() for s in only.split(",")] if isinstance(only, str) else [str(s).strip() for s in only]
    names = [n for n in names if n]
    unknown = [n for n in names if n not in INVARIANTS]
    if unknown or not names:
        raise InputError(
            f"unknown invariant {unknown[0]!r}; choose from: {', '.join(INVARIANTS)}"
            if unknown
            else f"--only needs at least one name from: {', '.join(INVARIANTS)}"
        )
    return names


def analyze(
    spec: str | Architecture | Context,
    *,
    only: str | Iterable[str] | None = None,
    seed: int | None = None,
    prime: int | None = None,
    progress: bool = False,
    options: AnalysisOptions | Mapping[str, Any] | None = None,
    checkpoint_dir: str | None = None,
    max_degree: int | None = None,
    metric: str | None = None,
    eps: float | None = None,
    radius: float | None = None,
    law_degree: int | None = None,
    starts: int | None = None,
    budget: float | None = None,
    force: bool = False,
    certify: bool | None = None,
    ed_exact: bool | None = None,
) -> Report:
    """Compute invariants of the neuromanifold of ``spec``: ``only`` (names or a comma-separated string),
    by default the five basic ones (DEFAULT_INVARIANTS: dimension, expected, ambient and fiber dimension,
    hidden symmetries); INVARIANTS lists them all.

    ``spec``: a spec string, an Architecture, or a ``Context`` (its cache, seed and prime are then used:
    invariants already computed through it, e.g. by the landscape functions, are not recomputed).
    Every generic point derives from ``seed`` (default 0); exact computations run over Z/``prime``.
    ``options`` (``AnalysisOptions``, or a mapping of its fields) holds the knobs of the invariants;
    the keywords ``checkpoint_dir``, ``max_degree``, ``metric``, ``eps``, ``radius``, ``law_degree``,
    ``starts``, ``certify`` and ``ed_exact`` set the field of the same name (see ``AnalysisOptions`` for their
    meaning and defaults).
    ``budget`` (seconds): past it the running invariant stops (monodromy keeps its points as a labelled
    lower bound) and the remaining ones are reported ``not_computed``.
    Cost guard: before degree, fiber_points or ed_degree, an upper bound on the solutions to gather is
    estimated (``cost_estimates``); beyond COST_CAP an InputError refuses, unless ``force``, a ``budget`` or
    ``max_degree`` bounds the work.
    Non-polynomial families (``relu``) get numerical versions of the dimension invariants; the others are
    reported ``not_computed`` with the reason (InputError when every requested one is undefined).
    Ctrl-C ends the whole run promptly: the cut invariant keeps what it found as a labelled partial result
    (``lower_bound``, ``evidence["interrupted"]``), the ones not started are ``not_computed``, and
    ``AnalysisInterrupted`` (a KeyboardInterrupt) is raised with the labelled Report as ``.report``
    (``Report.interrupted`` True).  A result cut by Ctrl-C or the budget always has
    ``evidence["interrupted"] = True`` and ``evidence["cut"]`` ("interrupted" | "budget").
    ``progress``: progress on stderr (a bar on a terminal, else a plain line every few seconds).
    """
    from .runtime.budget import Budget, cut_kind, cut_mark, cuts_since
    from .errors import BudgetExceeded
    from .runtime.progress import Progress

    names = resolve_only(only)
    clock = Budget(budget)
    t0 = time.perf_counter()
    ctx = as_context(spec, seed=seed, prime=prime, progress=progress, options=options)
    ctx = as_context(ctx, options=dict(checkpoint_dir=checkpoint_dir, max_degree=max_degree, metric=metric, eps=eps,
                                       radius=radius, law_degree=law_degree, starts=starts,
                                       certify=certify, ed_exact=ed_exact))
    polynomial = getattr(ctx.arch, "polynomial", True)
    if not polynomial:
        from .invariants import functional as _fun

        reasons = [_fun.undefined_reason(n, ctx.arch, available=True) for n in names]
        if all(reasons):
            raise InputError(reasons[0])
    if not force and budget is None and ctx.options.max_degree is None:
        check_cost(ctx, names)
    report = Report(ctx.arch, ctx.seed, ctx.prime)
    bar = Progress(f"analyze {ctx.arch.spec()}", total=len(names), unit="invariants", enabled=progress)
    try:
        for i, name in enumerate(names):
            if report.interrupted:
                report.invariants[name] = Result(name, None, "not_computed", {
                    "reason": "not started: the run was interrupted (Ctrl-C)", "interrupted": True,
                    "cut": "interrupted"})
                continue
            if clock.exhausted:
                report.invariants[name] = Result(name, None, "not_computed",
                                                 {"reason": f"the budget of {budget} s ran out before it started"})
                continue
            bar.update(count=i, invariant=name)
            t1 = time.perf_counter()
            mark = cut_mark()
            try:
                with clock.enforced():
                    report.invariants[name] = invariant_function(name, ctx.arch)(ctx)
                report.interrupted = "interrupted" in cuts_since(mark)
            except KeyboardInterrupt as exc:
                kind = cut_kind(exc)
                report.interrupted = kind == "interrupted"
                why = (f"the budget of {budget} s ran out" if kind == "budget" else "interrupted (Ctrl-C)")
                report.invariants[name] = Result(
                    name, None, "not_computed",
                    {"reason": f"{why} during this computation, before any bound was found", "interrupted": True,
                     "cut": kind},
                    time.perf_counter() - t1, ctx.seed,
                )
    except KeyboardInterrupt as exc:  # between invariants: label the rest
        if isinstance(exc, BudgetExceeded):
            raise
        report.interrupted = True
        for name in names:
            report.invariants.setdefault(name, Result(name, None, "not_computed", {
                "reason": "not started: the run was interrupted (Ctrl-C)", "interrupted": True, "cut": "interrupted"}))
    finally:
        bar.close("interrupted" if report.interrupted else None)
    if budget is not None:
        report.budget = {"seconds": float(budget), "exhausted": clock.exhausted}
    report.seconds = time.perf_counter() - t0
    from .runtime.provenance import provenance

    report.provenance = provenance(seed=ctx.seed, prime=ctx.prime, wall_seconds=round(report.seconds, 4),
                                   options={k: v for k, v in vars(ctx.options).items() if v is not None})
    if report.interrupted:
        raise AnalysisInterrupted(report)
    return report

"""What imposing equivariance does to a neuromanifold: invariants of an equivariant family beside
those of its unconstrained counterpart.

The counterpart of ``gcnn(...)`` and of ``mlp(..., equivariant=G)`` is the dense ``mlp`` with the
same neuron widths (|G| c_i for group convolutions; the last width c_L for a group-summed output)
and unconstrained weights (``GroupDense.unconstrained_counterpart``).  The equivariant
neuromanifold M_G is a subset of the counterpart's M, so dim M_G <= dim M; both are computed (not
assumed), each invariant with its own status and evidence, by ``analyze`` with the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from ..analysis import AnalysisInterrupted, Report, analyze, resolve_only
from ..runtime.progress import note
from ..result import Result
from ..architectures import Architecture, parse_spec
from ..architectures.equivariant import GroupDense
from ..errors import InputError
from ..result import jsonable

DEFAULT_COMPARISON = ("dimension", "degree", "ed_degree")


@dataclass
class EquivariantComparison:
    """Reports of the equivariant family and of its unconstrained counterpart."""

    equivariant: Report
    unconstrained: Report
    reason: str
    invariants: list[str] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        """One row per invariant: values and statuses side by side."""
        out = []
        for name in self.invariants:
            e, u = self.equivariant[name], self.unconstrained[name]
            out.append({"invariant": name, "equivariant": {"value": e.value, "status": e.status},
                        "unconstrained": {"value": u.value, "status": u.status}})
        return out

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "equivariant": self.equivariant.to_dict(),
                "unconstrained": self.unconstrained.to_dict(),
                "containment": self.reason,
                "table": [
                    {"invariant": "n_params",
                     "equivariant": {"value": self.equivariant.architecture.n_params, "status": "certified"},
                     "unconstrained": {"value": self.unconstrained.architecture.n_params, "status": "certified"}}
                ] + self.rows(),
            }
        )


def counterpart(spec: str | Architecture) -> tuple[GroupDense, Architecture, str]:
    """(equivariant architecture, unconstrained counterpart, why it contains it); InputError for a
    family without a group."""
    arch = parse_spec(spec)
    if not isinstance(arch, GroupDense):
        raise InputError(
            f"{arch.spec()} has no group: give an equivariant family, e.g. 'gcnn(group=\"C5\", layers=2, r=2)' or "
            "'mlp(widths=(3,3,3), r=2, equivariant=\"C3\")'"
        )
    other, reason = arch.unconstrained_counterpart()
    return arch, other, reason


def compare_equivariant(
    spec: str | Architecture,
    *,
    only: str | Iterable[str] | None = None,
    seed: int = 0,
    metric: str = "generic",
    budget: float | None = None,
    progress: bool = False,
    force: bool = False,
) -> EquivariantComparison:
    """Invariants (default dimension, degree, ed_degree) of an equivariant family and of its
    unconstrained counterpart, each computed by ``analyze`` (``budget``: seconds per side).
    ``force``: past analyze's cost guard (see ``analyze``).
    ``progress``: a line per model on stderr and the progress of each analysis.  Ctrl-C raises
    ``AnalysisInterrupted`` whose ``.report`` is the partial, labelled EquivariantComparison."""
    names = resolve_only(only if only is not None else DEFAULT_COMPARISON)
    arch, other, reason = counterpart(spec)
    reports: list[Report] = []
    for i, (side, a) in enumerate((("equivariant", arch), ("unconstrained", other))):
        note(f"compare-equivariant: model {i + 1}/2, {side} {a.spec()}: {', '.join(names)}", progress)
        try:
            reports.append(analyze(a, only=names, seed=seed, metric=metric, budget=budget, progress=progress,
                                   force=force))
        except AnalysisInterrupted as exc:  # Ctrl-C: the partial comparison, the other side not started
            reports.append(exc.report)
            if len(reports) == 1:
                rest = Report(other, exc.report.seed, exc.report.prime, interrupted=True)
                for name in names:
                    rest.invariants[name] = Result(name, None, "not_computed", {
                        "reason": "not started: the run was interrupted (Ctrl-C)", "interrupted": True,
                        "cut": "interrupted"})
                reports.append(rest)
            raise AnalysisInterrupted(EquivariantComparison(reports[0], reports[1], reason, names)) from None
    return EquivariantComparison(reports[0], reports[1], reason, names)


__all__ = ["DEFAULT_COMPARISON", "EquivariantComparison", "compare_equivariant", "counterpart"]

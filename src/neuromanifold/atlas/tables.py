"""Published tables regenerated from the atlas: dimensions of polynomial MLPs and their defects, and their
activation thresholds (``threshold_rows``: invariant ``activation_threshold``, text ``report.atlas.thresholds_text``).

The defect of an architecture is edim - dim, where edim = min(params - hidden rescalings, ambient)
(Kileel, Trager, Bruna, NeurIPS 2019).  It is reported only when both numbers are certified;
otherwise the row says which one is not.  The text table is ``report.atlas.defects_text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .store import Atlas, Row, pivot

PRESETS: dict[str, tuple[str, str]] = {
    "mlp-dimensions": (
        "mlp(widths=(2..4, 1..4, 1..3), r=2..3)",
        "dimensions of shallow polynomial MLPs, x^2 and x^3 (Kileel-Trager-Bruna 2019); defects: "
        "Alexander-Hirschowitz (quadrics of rank <= d1, 2 <= d1 < d0) and width-one bottlenecks",
    ),
    "mlp-deep": (
        "mlp(widths=(2..3, 1..3, 1..3, 1..2), r=2)",
        "dimensions of depth-3 quadratic MLPs (Kileel-Trager-Bruna 2019, Section 5)",
    ),
}
PRESETS.update({
    "mlp-thresholds": (
        "mlp(widths=(2..4, 1..5, 1), r=2)",
        "activation thresholds of shallow single-output MLPs (smallest r from which on dim = edim; Finkel, "
        "Rodriguez, Wu, Yahl 2025); computed up to a proven bound, the r of the spec is ignored",
    ),
    "mlp-thresholds-deep": (
        "mlp(widths=(2..3, 2..3, 2..3, 1), r=2)",
        "activation thresholds of depth-3 single-output MLPs (computed up to the bound of Usevich et al. 2025)",
    ),
})
TABLE_INVARIANTS = ("dimension", "expected_dimension", "ambient_dimension")
THRESHOLD_PRESETS = ("mlp-thresholds", "mlp-thresholds-deep")
THRESHOLD_INVARIANTS = ("activation_threshold",)


def preset_invariants(preset: str) -> tuple[str, ...]:
    """The invariants a preset table is made of."""
    return THRESHOLD_INVARIANTS if preset in THRESHOLD_PRESETS else TABLE_INVARIANTS


@dataclass
class DefectRow:
    spec: str
    n_params: int
    dimension: Row | None
    expected: Row | None
    ambient: Row | None

    @property
    def defect(self) -> int | None:
        """edim - dim when both are certified, else None."""
        if self.dimension is None or self.expected is None:
            return None
        if self.dimension.status != "certified" or self.expected.status != "certified":
            return None
        return int(self.expected.value) - int(self.dimension.value)

    @property
    def filling(self) -> bool | None:
        if self.dimension is None or self.ambient is None:
            return None
        if self.dimension.status != "certified" or self.ambient.status != "certified":
            return None
        return int(self.dimension.value) == int(self.ambient.value)

    def to_dict(self) -> dict[str, Any]:
        def cell(r: Row | None) -> Any:
            return None if r is None else {"value": r.value, "status": r.status}

        return {"spec": self.spec, "n_params": self.n_params, "dimension": cell(self.dimension),
                "expected_dimension": cell(self.expected), "ambient_dimension": cell(self.ambient),
                "defect": self.defect, "filling": self.filling}


def defect_rows(atlas: Atlas, specs: list[str], *, seed: int = 0) -> list[DefectRow]:
    """The table rows of ``specs`` (in that order) from the atlas, seed ``seed``."""
    rows = [r for r in atlas.rows(invariant=list(TABLE_INVARIANTS)) if r.seed == seed]
    _, table = pivot(rows)
    by_spec = dict(table)
    out = []
    for s in specs:
        cells = by_spec.get(s, {})
        any_row = next(iter(cells.values()), None)
        out.append(DefectRow(s, any_row.n_params if any_row else -1, cells.get("dimension"),
                             cells.get("expected_dimension"), cells.get("ambient_dimension")))
    return out



@dataclass
class ThresholdRow:
    """One architecture of a threshold table: the stored ``activation_threshold`` result (None if missing)."""

    spec: str
    result: Row | None

    def _ev(self, key: str) -> Any:
        return None if self.result is None else (self.result.evidence or {}).get(key)

    @property
    def widths(self) -> tuple[int, ...] | None:
        w = self._ev("widths")
        return None if w is None else tuple(w)

    @property
    def value(self) -> Any:
        return None if self.result is None else self.result.value

    @property
    def status(self) -> str | None:
        return None if self.result is None else self.result.status

    @property
    def lower(self) -> int | None:
        """Certified lower bound on the threshold."""
        return self._ev("certified_lower_bound")

    @property
    def upper(self) -> int | None:
        """Certified upper bound (None when no proven bound applies)."""
        return self._ev("certified_upper_bound")

    @property
    def bound(self) -> int | None:
        b = self._ev("bound")
        return None if not b else b.get("value")

    @property
    def defective(self) -> dict[str, list[int]]:
        """The exponents r found defective: certified and numerically only."""
        return self._ev("defective_r") or {"certified": [], "numerical": []}

    def to_dict(self) -> dict[str, Any]:
        return {"spec": self.spec, "widths": None if self.widths is None else list(self.widths),
                "threshold": None if self.result is None else {"value": self.value, "status": self.status},
                "certified_lower_bound": self.lower, "certified_upper_bound": self.upper,
                "proven_bound": self.bound, "defective_r": self.defective}


def threshold_rows(atlas: Atlas, specs: list[str], *, seed: int = 0) -> list[ThresholdRow]:
    """The activation-threshold rows of ``specs`` (in that order) from the atlas, seed ``seed``."""
    rows = [r for r in atlas.rows(invariant=list(THRESHOLD_INVARIANTS)) if r.seed == seed]
    by_spec = {r.spec: r for r in rows}
    return [ThresholdRow(s, by_spec.get(s)) for s in specs]

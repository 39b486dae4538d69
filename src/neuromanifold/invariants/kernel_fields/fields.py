"""Polynomial vector fields v(theta) = sum_k v_k(theta) e_k with integer coefficients, and the record of a
kernel-field search (fields found, ranks, the certified bound) as JSON-ready evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

PROBABILISTIC_POINTS = 3  # random points mod p at which unverifiable fields are checked
MAX_REPORTED_FIELDS = 40
MAX_REPORTED_GRADINGS = 12


@dataclass
class PolynomialField:
    """v(theta) = sum coef * prod(theta[i] for i in mono) * e_k over ``terms`` (k, coef, mono).

    Coefficients are integers; ``mono`` is a sorted tuple of parameter indices (with repetition).
    """

    terms: list[tuple[int, int, tuple[int, ...]]]

    @classmethod
    def from_affine(cls, g: Any) -> "PolynomialField":
        """The polynomial field of an ``AffineField`` (a declared symmetry generator)."""
        return cls([(t, c, (s,)) for t, s, c in g.linear] + [(t, c, ()) for t, c in g.constant])

    @property
    def degree(self) -> int:
        return max((len(m) for _, _, m in self.terms), default=0)

    def evaluate_mod(self, theta: np.ndarray, p: int) -> np.ndarray:
        """v(theta) mod p at an integer point (exact)."""
        out = np.zeros(len(theta), dtype=np.int64)
        for k, c, mono in self.terms:
            val = c % p
            for i in mono:
                val = val * int(theta[i]) % p
            out[k] = (int(out[k]) + val) % p
        return out

    def formulas(self, labels: list[str]) -> list[str]:
        """Human-readable components, e.g. ``dW1[0,1] = W2[0,1]*W1[1,1]``."""
        by_k: dict[int, list[tuple[int, tuple[int, ...]]]] = {}
        for k, c, mono in self.terms:
            by_k.setdefault(k, []).append((c, mono))
        lines = []
        for k in sorted(by_k):
            s = ""
            for c, mono in by_k[k]:
                # collapse repeated factors into powers
                factors: list[str] = []
                for i in sorted(set(mono), key=mono.index):
                    e = mono.count(i)
                    factors.append(labels[i] + (f"^{e}" if e > 1 else ""))
                body = "*".join(factors)
                mag = abs(c)
                term = body if mag == 1 and body else (f"{mag}*{body}" if body else str(mag))
                sign = "-" if c < 0 else "+"
                s = (f"-{term}" if sign == "-" else term) if not s else f"{s} {sign} {term}"
            lines.append(f"d{labels[k]} = {s}")
        return lines


@dataclass
class KernelFields:
    """Outcome of the kernel-field search (JSON-ready through ``evidence``)."""

    target_rank: int
    generator_rank: int
    rank: int = 0
    degrees_searched: list[int] = field(default_factory=list)
    gradings: list[str] = field(default_factory=list)
    classes_solved: int = 0
    classes_too_large: int = 0
    unknowns: int = 0
    largest_system: tuple[int, int] = (0, 0)
    fields: list[PolynomialField] = field(default_factory=list)
    formulas: list[list[str]] = field(default_factory=list)
    probabilistic: list[list[str]] = field(default_factory=list)
    probabilistic_rank: int = 0
    rejected: int = 0
    verification: str = "exact polynomial identity d mu(theta) . v(theta) = 0 in Z[theta, x] (sympy sparse polynomials)"
    verification_note: str = ""
    stopped: str = ""
    certified_upper: int | None = None
    seconds: float = 0.0

    @property
    def verified(self) -> bool:
        return bool(self.fields)

    def evidence(self) -> dict[str, Any]:
        ev: dict[str, Any] = {
            "method": "search for polynomial vector fields v with d mu(theta) v(theta) = 0: linear algebra mod p over "
            "monomials of bounded degree, split by the gradings of f; lifted to integer coefficients and verified "
            "identically",
            "degrees_searched": self.degrees_searched,
            "gradings": self.gradings[:MAX_REPORTED_GRADINGS]
            + ([f"(+{len(self.gradings) - MAX_REPORTED_GRADINGS} more)"] if len(self.gradings) > MAX_REPORTED_GRADINGS else []),
            "weight_classes_solved": self.classes_solved,
            "weight_classes_too_large": self.classes_too_large,
            "unknowns": self.unknowns,
            "largest_system": list(self.largest_system),
            "rank_known_generators": self.generator_rank,
            "rank_with_verified_fields": self.rank,
            "rank_needed": self.target_rank,
            "verified_fields": len(self.fields),
            "fields": self.formulas[:MAX_REPORTED_FIELDS],
            "verification": self.verification,
            "rejected_candidates": self.rejected,
            "seconds": round(self.seconds, 3),
        }
        if len(self.formulas) > MAX_REPORTED_FIELDS:
            ev["fields_omitted"] = len(self.formulas) - MAX_REPORTED_FIELDS
        if self.certified_upper is not None:
            ev["upper_bound"] = {
                "value": self.certified_upper,
                "method": "n_params - rank mod p of [known generators | verified fields] at the certification point "
                "(rank at a point <= generic rank <= generic fiber dimension)",
            }
        if self.probabilistic:
            ev["probabilistic_fields"] = {
                "status": f"verified at {PROBABILISTIC_POINTS} random points mod p only (probabilistic); "
                "not used for certification",
                "rank_with_them": self.probabilistic_rank,
                "fields": self.probabilistic[:MAX_REPORTED_FIELDS],
            }
        if self.verification_note:
            ev["verification_note"] = self.verification_note
        if self.stopped:
            ev["stopped"] = self.stopped
        return ev


__all__ = ["KernelFields", "PolynomialField"]

"""Counting what another solver found on an exported system, in the toolkit's terms.

A solver returns solutions z of the exported system; the invariants count points of M: the distinct images
c(z) (``distinct_images``), for the ED and loss systems only those where J_c(z) has full rank k and c(z) != 0
(the scale-free decisions of ``invariants.critical_system.classify_points``: critical points on the smooth
locus of M).  ``read_phc_solutions`` reads the solution list PHCpack writes (``phc -b``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from ..homotopy.solutions import deduplicate
from .systems import ExportedSystem

IMAGE_TOL = 1e-6  # relative distance below which two functions c(z) are one (as the toolkit's)
FULL_RANK_GAP = 1e-7  # sigma_k(J_c) / |J_abs|: full rank above
NONZERO_IMAGE = 1e-8  # |c| / |c_abs|: c(z) != 0 above


@dataclass
class SolutionCounts:
    """Counts of solutions z of an exported system: all given, their distinct images c(z), and the distinct images
    of the smooth ones (rank J_c(z) = k, c(z) != 0)."""

    solutions: int
    distinct_images: int
    smooth_solutions: int
    distinct_smooth_images: int

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def count_images(es: ExportedSystem, Z: Any) -> SolutionCounts:
    """Distinct points c(z) of M among solutions Z (B, k), all and smooth (J_c of full rank, c(z) != 0)."""
    Z = np.atleast_2d(np.asarray(Z, dtype=complex))
    if Z.size == 0:
        return SolutionCounts(0, 0, 0, 0)
    if Z.shape[1] != len(es.unknowns):
        raise InputError(f"solutions have {Z.shape[1]} coordinates; the system has {len(es.unknowns)} unknowns")
    P = es.image_map()
    Pabs = type(P)(P.exponents, np.abs(P.coefficients).astype(complex))
    za = np.abs(Z).astype(complex)
    images = P.evaluate(Z)
    size = np.linalg.norm(images, axis=1) / np.maximum(np.linalg.norm(Pabs.evaluate(za).real, axis=1), 1e-300)
    sv = np.linalg.svd(P.jacobian(Z), compute_uv=False)
    jabs = np.linalg.norm(Pabs.jacobian(za).real, ord=2, axis=(1, 2))
    smooth = (sv[:, -1] / np.maximum(jabs, 1e-300) > FULL_RANK_GAP) & (size > NONZERO_IMAGE)

    def distinct(mask: np.ndarray) -> int:
        if not mask.any():
            return 0
        lab = deduplicate(images[mask], tol=IMAGE_TOL, return_labels=True)
        return int(len(set(lab[lab >= 0].tolist())))

    return SolutionCounts(int(len(Z)), distinct(np.ones(len(Z), dtype=bool)), int(smooth.sum()), distinct(smooth))


_NUMBER = r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?"


PHC_SINGULAR_RCO = 1e-8  # PHCpack's default tolerance on the inverse condition number (rco) for "singular"


def read_phc_solutions(text: str, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """The solutions of the last solution list in a PHCpack output file: (Z (B, n) in the order of ``names``,
    PHCpack's verdict of each: 'real regular', 'complex regular', 'real singular', ..., 'no solution').
    PHCpack's blackbox solver (polyhedral homotopies) finds the solutions with all coordinates nonzero; its
    'singular' is a condition-number threshold (badly conditioned regular roots are called singular).  A linear
    system is solved directly and its solution carries no verdict: 'regular' or 'singular' by its rco."""
    start = text.rfind("THE SOLUTIONS")
    if start < 0:
        raise InputError("no solution list ('THE SOLUTIONS') in the PHCpack output")
    blocks = re.split(r"\nsolution \d+ :", text[start:])[1:]
    rows, regular = [], []
    coord = re.compile(rf"^\s*(\w+)\s*:\s*({_NUMBER})\s+({_NUMBER})\s*$", re.M)
    for block in blocks:
        values = {m.group(1): complex(float(m.group(2)), float(m.group(3))) for m in coord.finditer(block)}
        if not all(n in values for n in names):
            continue
        rows.append([values[n] for n in names])
        verdict = re.search(r"== err.*?=\s*([a-z][a-z ]*?)\s*==", block)
        if verdict:
            regular.append(verdict.group(1))
            continue
        # a linear system is solved directly: the block ends '== err : . = rco : . = res : . ==' without a word;
        # the same rule as the blackbox's verdicts (regular when the inverse condition number is not tiny)
        rco = re.search(rf"rco\s*:\s*({_NUMBER})", block)
        regular.append("" if rco is None else ("regular" if float(rco.group(1)) > PHC_SINGULAR_RCO else "singular"))
    return np.array(rows, dtype=complex).reshape(len(rows), len(names)), regular


__all__ = ["SolutionCounts", "count_images", "read_phc_solutions"]

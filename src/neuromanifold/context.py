"""Shared state of one analysis: the architecture, the seed, the prime, the typed options
(``AnalysisOptions``) and a cache, so that invariants that rest on the same Jacobians compute them once.
Pass one ``Context`` to several entry points (``analyze``, the landscape and slice functions) to share
that cache."""

from __future__ import annotations

import copy
import math
import zlib
from dataclasses import dataclass, fields, replace
from typing import Any, Callable, Mapping

import numpy as np

from .architectures import Architecture, parse_spec
from .arithmetic import DEFAULT_PRIME
from .arithmetic.modular import is_prime
from .errors import COUNT, InputError, Rule, check_fields, within

# metrics on function space (coordinates: coefficients of the output polynomials; see
# parametrization.coefficients.metric_matrix)
METRICS = ("generic", "bombieri_weyl", "euclidean")
MAX_LAW_DEGREE = 4  # explicit polynomial conservation laws are searched up to this degree


def _positive_finite(x: Any) -> bool:
    return within(0, open_low=True)(x) and math.isfinite(x)


_OPTION_RULES: dict[str, Rule] = {
    "checkpoint_dir": ("a directory path (text) or None", lambda x: x is None or (isinstance(x, str) and x != "")),
    "max_degree": ("a positive integer or None", within(1, integer=True, none=True)),
    "loops_without_new": ("a positive integer or None", within(1, integer=True, none=True)),
    "law_degree": (f"an integer from 0 to {MAX_LAW_DEGREE} (0: count the laws only)",
                   within(0, MAX_LAW_DEGREE, integer=True)),
    "eps": ("a positive finite number", _positive_finite),
    "radius": ("a positive finite number", _positive_finite),
    "starts": ("a positive integer (random starts of subnetwork_conjecture)", COUNT[1]),
    "certify": ("True or False", lambda x: isinstance(x, bool)),
    "ed_exact": ("True or False", lambda x: isinstance(x, bool)),
    "svd": ("True, False or None (automatic)", lambda x: x is None or isinstance(x, bool)),
}


@dataclass(frozen=True, kw_only=True)
class AnalysisOptions:
    """The knobs of the invariants, one name and one meaning each (the names of ``analyze``'s keywords
    and of the CLI flags); frozen, checked on construction (InputError naming the field and the valid
    form); derive variants with ``dataclasses.replace`` or ``with_``.

    metric: the metric on function space of ``ed_degree`` (generic | bombieri_weyl | euclidean).
    checkpoint_dir: where monodromy runs (degree, fiber_points, ed_degree) save and resume their state.
    max_degree: the most points one monodromy run gathers (degree, fiber_points, ed_degree, the witness
        set of the multiplicity test) before it stops with a labelled lower bound; None: each
        invariant's own cap.
    loops_without_new: stagnation rule of those monodromy runs (stop after this many loops found
        nothing new); None: each invariant's own rule.
    law_degree: largest degree of the explicit polynomial ``conservation_laws`` (0: count only).
    eps, radius: scale and ball of ``log_covering_number`` and ``epsilon_net``.
    starts: random starts of each search of ``subnetwork_conjecture``.
    certify: certify every solution that ``degree``, ``fiber_points`` and ``ed_degree`` report with interval
        arithmetic (Krawczyk boxes: existence, uniqueness, real / non-real, distinct; ``homotopy.certification``).
    ed_exact: also count the ED degree exactly over two primes (Groebner basis of the critical ideal over GF(p),
        ``invariants.ed_exact``; small cases only, refused with a reason beyond its cost limits).
    svd: the supplementary float check of ``dimension`` (SVD of a float Jacobian, its singular-value gap): True
        always, False never, None (default) when n_params <= ``invariants.dimension.SVD_AUTO_LIMIT`` or when another
        invariant needs it; the certified value never rests on it.
    """

    metric: str = "generic"
    checkpoint_dir: str | None = None
    max_degree: int | None = None
    loops_without_new: int | None = None
    law_degree: int = 2
    eps: float = 0.1
    radius: float = 1.0
    starts: int = 16
    certify: bool = False
    ed_exact: bool = False
    svd: bool | None = None

    def __post_init__(self) -> None:
        if hasattr(self.checkpoint_dir, "__fspath__"):
            object.__setattr__(self, "checkpoint_dir", str(self.checkpoint_dir))
        if not isinstance(self.metric, str) or self.metric not in METRICS:
            raise InputError(f"unknown metric {self.metric!r}; choose from: {', '.join(METRICS)}")
        check_fields(self, _OPTION_RULES, prefix="")

    @classmethod
    def of(cls, options: "AnalysisOptions | Mapping[str, Any] | None") -> "AnalysisOptions":
        """``options`` as AnalysisOptions: itself, the defaults (None), or built from a mapping of field
        names (an unknown name raises InputError listing the valid ones)."""
        if options is None:
            return cls()
        if isinstance(options, cls):
            return options
        if not isinstance(options, Mapping):
            raise InputError(f"options must be an AnalysisOptions or a mapping of its fields, got {type(options).__name__}")
        return cls().with_(**options)

    def with_(self, **changes: Any) -> "AnalysisOptions":
        """A copy with ``changes`` (None values leave a field as it is)."""
        names = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise InputError(f"unknown analysis option {unknown[0]!r}; valid: {', '.join(sorted(names))}")
        changes = {k: v for k, v in changes.items() if v is not None}
        return replace(self, **changes) if changes else self


class Context:
    """One analysis of one architecture with one seed (every generic point derives from it)."""

    def __init__(
        self,
        spec: str | Architecture,
        *,
        seed: int = 0,
        prime: int = DEFAULT_PRIME,
        progress: bool = False,
        options: AnalysisOptions | Mapping[str, Any] | None = None,
    ):
        self.arch = parse_spec(spec)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise InputError(f"seed must be a non-negative integer, got {seed!r}")
        if not isinstance(prime, (int, np.integer)) or not is_prime(int(prime)) or not 2 < prime < (1 << 31):
            raise InputError(f"prime must be an odd prime below 2^31, got {prime!r} (default {DEFAULT_PRIME})")
        self.seed = int(seed)
        self.prime = int(prime)
        self.progress = progress
        self.options: AnalysisOptions = AnalysisOptions.of(options)
        self._cache: dict[str, Any] = {}
        self.containment_depth = 0  # > 0 when analysing an architecture containing another one

    def rng(self, purpose: str) -> np.random.Generator:
        """An independent generator for one purpose, determined by (seed, purpose) within this Context's spec.

        Every random choice of an analysis comes from such a generator, drawn in the process that owns the Context:
        work handed to threads or Dask workers (chunks of paths, whole invariants of an atlas sweep) carries its
        random data with it and draws none, so the values, statuses and evidence do not depend on where or in how
        many pieces the work runs (``tests/runtime/test_reproducible.py``)."""
        return np.random.default_rng([self.seed, zlib.crc32(purpose.encode())])

    def derive(self, *, options: AnalysisOptions | None = None, progress: bool | None = None) -> "Context":
        """The same analysis with other options or progress, sharing this context's cache (cache entries
        never depend on the options: keys that do carry them in the key)."""
        new = copy.copy(self)  # shallow: the cache dict is the same object
        if options is not None:
            new.options = options
        if progress is not None:
            new.progress = progress
        return new

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]


def as_context(
    spec: "str | Architecture | Context",
    *,
    seed: int | None = None,
    prime: int | None = None,
    progress: bool | None = None,
    options: AnalysisOptions | Mapping[str, Any] | None = None,
) -> Context:
    """The Context of an entry point: a new one for a spec (seed default 0), or ``spec`` itself when it is
    a Context (its cache is then shared with every other entry point given it).  For a given Context,
    ``seed`` and ``prime`` must be None or equal to its own; ``options`` (an AnalysisOptions replaces its
    options, a mapping changes the fields it names to the values that are not None) and ``progress``
    apply to a copy that shares the cache."""
    if not isinstance(spec, Context):
        return Context(spec, seed=0 if seed is None else seed, prime=DEFAULT_PRIME if prime is None else prime,
                       progress=bool(progress), options=options)
    for name, value in (("seed", seed), ("prime", prime)):
        if value is not None and int(value) != getattr(spec, name):
            raise InputError(f"{name}={value} differs from the given Context's {name} {getattr(spec, name)}; "
                             "pass one of them")
    new = spec.options if options is None else (
        options if isinstance(options, AnalysisOptions) else spec.options.with_(**dict(options)))
    progress = spec.progress if progress is None else bool(progress)
    if new == spec.options and progress == spec.progress:
        return spec
    return spec.derive(options=new, progress=progress)

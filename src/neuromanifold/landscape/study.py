"""The regularization study of issue 19 (``neuromanifold experiment landscape``): how skip connections, biases
and inhomogeneous (generic) activations change the loss landscape of small polynomial networks.

For every architecture: the invariants dim M, the fiber dimension n_params - dim M, the singular subnetwork
strata (``invariants.singularities``) and the ED degree; then, over ``data_sets`` random data sets (inputs
and targets i.i.d. standard Gaussian, seeded), every isolated critical point of the mean-squared loss
L(theta) = (1/n) sum_i |f_theta(x_i) - y_i|^2 on a coordinate slice of parameter space
(``critical_points``), with its kind (pure: rank d mu = dim M; spurious: a critical point of mu) and its
real type (local minimum, strict saddle, ...).  Aggregates over the complete solves: mean counts, the
fraction of data sets with a spurious real local minimum, and P(local minimum | spurious real critical
point), pooled over points and per data set, with 95% Wilson intervals.

Every architecture's results are cached in ``cache_dir`` (one JSON file each, rewritten after every data
set), so an interrupted run resumes: finished data sets are reused, an interrupted one is never stored.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..context import as_context
from ..errors import COUNT, InputError, NeuromanifoldError, check_fields, within
from ..result import jsonable
from .voronoi import wilson_interval

# matched triples (base, generic activation, skip or bias) whose critical solves take at most ~15 s on one core
# (measured).  The generic activation is x^2 + x + 1 (every coefficient nonzero): act="generic" draws integer
# coefficients up to 9, with which the total-degree solves of the MLP failed on ~100 of 625 paths on every data
# set tried (never complete), while x^2 + x + 1 solved completely.
DEFAULT_ARCHITECTURES: tuple[str, ...] = (
    "mlp(widths=(2,1,2), r=2)",
    'mlp(widths=(2,1,2), act="x**2 + x + 1")',
    "resmlp(d=2, hidden=1, r=2)",
    "cnn(k=(2,2), r=2)",
    'cnn(k=(2,2), act="x**2 + x + 1")',
    "cnn(k=(2,2), r=2, bias=True)",
    "attention(d=1, a=1, t=2)",
    "attention(d=1, a=1, t=2, bias=True)",
    "attention(d=1, a=1, t=2, skip=True)",
)
TYPES = ("local minimum", "strict saddle", "local maximum", "degenerate")
CACHE_VERSION = 1


@dataclass(frozen=True)
class StudyConfig:
    """architectures: specs (polynomial families mlp, cnn, resmlp, attention); data_sets: random data sets per
    architecture; n_samples: samples per data set (None: max(10, 2 ceil(D / outputs)) with D the number of
    coefficients of the network function); seed: of the data and of every solve."""

    architectures: tuple[str, ...] = DEFAULT_ARCHITECTURES
    data_sets: int = 72
    n_samples: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.architectures, str) or not isinstance(self.architectures, (tuple, list)):
            raise InputError(f"StudyConfig: architectures must be a tuple of spec strings; got {self.architectures!r}")
        object.__setattr__(self, "architectures", tuple(self.architectures))
        check_fields(self, {"data_sets": COUNT, "n_samples": ("an integer >= 1 or None", within(1, integer=True, none=True)),
                            "seed": ("an integer >= 0", within(0, integer=True))})
        object.__setattr__(self, "data_sets", int(self.data_sets))
        object.__setattr__(self, "seed", int(self.seed))
        if self.n_samples is not None:
            object.__setattr__(self, "n_samples", int(self.n_samples))
        if not self.architectures:
            raise InputError("StudyConfig: architectures must name at least one spec")
        if len(set(self.architectures)) != len(self.architectures):
            raise InputError("StudyConfig: architectures lists a spec twice; give each once")
        for spec in self.architectures:
            arch = parse_spec(spec)
            if not getattr(arch, "polynomial", True):
                raise InputError(f"StudyConfig: {spec} is not a polynomial network; critical points need mlp, cnn, "
                                 "resmlp or attention with polynomial activations")


def parse_spec(spec: Any) -> Any:
    """The Architecture of a spec string; a bad spec is one InputError line."""
    if not isinstance(spec, str):
        raise InputError(f"StudyConfig: architectures must be spec strings; got {spec!r}")
    try:
        return as_context(spec).arch
    except NeuromanifoldError as exc:
        raise InputError(f"StudyConfig: bad architecture {spec!r}: {exc}") from None


def variant(arch: Any) -> tuple[str, str]:
    """(group, variant) of an architecture: group dense / cnn / attention; variant base, generic activation (all
    coefficients of the activation nonzero), inhomogeneous activation, bias, skip (resmlp, attention skip=True)."""
    fam = arch.family
    group = {"mlp": "dense", "resmlp": "dense", "cnn": "cnn", "attention": "attention"}.get(fam, fam)
    act = getattr(arch, "act", None)
    if fam == "resmlp" or getattr(arch, "skip", False):
        kind = "skip"
    elif act is not None and all(int(c) != 0 for c in act.coefficients):
        kind = "generic activation"  # every coefficient nonzero, the constant term too
    elif act is not None:
        kind = "inhomogeneous activation"
    elif getattr(arch, "bias", False):
        kind = "bias"
    else:
        kind = "base"
    return group, kind


@dataclass
class ArchitectureStudy:
    """One architecture: invariants, one record per data set, aggregates."""

    spec: str
    group: str
    variant: str
    n_params: int
    coefficients: int
    n_samples: int
    invariants: dict[str, Any]
    data_sets: list[dict[str, Any]]
    aggregate: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return jsonable(asdict(self))


@dataclass
class StudyResult:
    config: StudyConfig
    architectures: list[ArchitectureStudy]
    seconds: float
    reused_data_sets: int = 0

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"config": asdict(self.config), "seconds": round(self.seconds, 2),
                         "reused_data_sets": self.reused_data_sets,
                         "architectures": [a.to_dict() for a in self.architectures]})


# --- data and one solve ---------------------------------------------------------------------------------
def coefficient_count(arch: Any) -> int:
    from ..parametrization.coefficients import coefficient_map

    return int(coefficient_map(arch).dimension)


def samples_for(arch: Any, n_samples: int | None) -> int:
    """n_samples, or max(10, 2 ceil(D / outputs)); at least ceil(D / outputs) are needed (else InputError)."""
    need = -(-coefficient_count(arch) // arch.output_size())
    if n_samples is None:
        return max(10, 2 * need)
    if n_samples < need:
        raise InputError(f"StudyConfig: n_samples={n_samples} is too few for {arch.spec()}: its loss needs at least "
                         f"{need} samples; raise n_samples or leave it None")
    return int(n_samples)


def study_data(arch: Any, n: int, seed: int, index: int) -> tuple[np.ndarray, np.ndarray]:
    """Data set ``index``: X (n, n_inputs), Y (n, outputs) i.i.d. N(0, 1) from rng([seed, index, n_inputs,
    outputs, n]) (architectures of equal shapes see the same data: common random numbers)."""
    rng = np.random.default_rng([int(seed), int(index), int(arch.n_inputs), int(arch.output_size()), int(n)])
    return rng.standard_normal((n, arch.n_inputs)), rng.standard_normal((n, arch.output_size()))


def solve_seed(seed: int, index: int) -> int:
    return int(np.random.default_rng([int(seed), int(index), 19]).integers(2**31))


def _type_key(t: str | None) -> str:
    return "degenerate" if t is not None and t.startswith("non-strict") else str(t)


def solve_data_set(arch: Any, n: int, seed: int, index: int) -> dict[str, Any]:
    """Critical points of the mean-squared loss on data set ``index``: counts by kind and type.  Raises
    KeyboardInterrupt if Ctrl-C cut the solve (monodromy keeps partial results: never stored as finished)."""
    from ..runtime.budget import Budget, cut_mark, cuts_since
    from .critical_points import critical_points

    X, Y = study_data(arch, n, seed, index)
    t0 = time.perf_counter()
    mark = cut_mark()
    rec: dict[str, Any] = {"index": int(index), "solve_seed": solve_seed(seed, index)}
    with Budget(None).enforced():
        try:
            res = critical_points(arch, X, Y, seed=rec["solve_seed"])
        except InputError as exc:
            res, rec["error"] = None, str(exc)
        except (ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:  # a numerical failure: recorded
            res, rec["error"] = None, f"{type(exc).__name__}: {exc}"
    if "interrupted" in cuts_since(mark):
        raise KeyboardInterrupt()
    rec["seconds"] = round(time.perf_counter() - t0, 3)
    if res is None:
        rec.update(complete=False, status="error")
        return rec
    by = {k: {t: 0 for t in TYPES} for k in ("pure", "spurious")}
    for q in res.points:
        if q.real:
            by[q.kind][_type_key(q.type)] = by[q.kind].get(_type_key(q.type), 0) + 1
    c = res.counts
    rec.update(
        complete=bool(res.complete), status=res.status,
        complex=int(c["complex"]), complex_spurious=int(c["complex_spurious"]),
        real_pure=int(c["real_pure"]), real_spurious=int(c["real_spurious"]), real_by_type=by,
        positive_dimensional_components=int(c["positive_dimensional_components"]),
        global_minimum=None if res.global_minimum is None else {
            k: res.global_minimum[k] for k in ("loss", "status", "kind", "type")},
    )
    return rec


# --- invariants ------------------------------------------------------------------------------------------
def _result_summary(res: Any) -> dict[str, Any]:
    return {"value": res.value, "status": res.status}


def architecture_invariants(arch: Any, seed: int) -> dict[str, Any]:
    """dim M, fiber dimension, singular strata (families, singular or critical), ED degree; KeyboardInterrupt if
    Ctrl-C cut one of them (then nothing is stored)."""
    from ..invariants import dimension as _dim
    from ..invariants import ed_degree as _ed
    from ..invariants import fibers as _fib
    from ..invariants import singularities as _sing
    from ..runtime.budget import Budget, cut_mark, cuts_since

    ctx = as_context(arch, seed=seed)
    out: dict[str, Any] = {}
    mark = cut_mark()
    with Budget(None).enforced():
        for name, func in (("dimension", _dim.dimension), ("fiber_dimension", _fib.fiber_dimension),
                           ("singularities", _sing.singularities), ("ed_degree", _ed.ed_degree)):
            t0 = time.perf_counter()
            try:
                res = func(ctx)
                out[name] = _result_summary(res)
            except InputError as exc:
                out[name] = {"value": None, "status": "not_computed", "reason": str(exc)}
                res = None
            out[name]["seconds"] = round(time.perf_counter() - t0, 3)
            if name == "singularities" and res is not None:
                fams = res.evidence.get("families", [])
                out[name]["singular_families"] = [f["family"] for f in fams if f.get("singular") is True]
                out[name]["critical_families"] = [f["family"] for f in fams if f.get("critical") is True]
                out[name]["families"] = len(fams)
                out[name]["singular_statuses"] = sorted({str(f.get("singular_status", "")).split(":")[0].split(" (")[0]
                                                         for f in fams if f.get("singular") is True})
    if "interrupted" in cuts_since(mark):
        raise KeyboardInterrupt()
    return out


# --- aggregation -----------------------------------------------------------------------------------------
def _proportion(k: int, n: int) -> dict[str, Any]:
    lo, hi = wilson_interval(int(k), int(n))
    return {"k": int(k), "n": int(n), "estimate": (k / n) if n else None, "wilson95": [float(lo), float(hi)]}


def aggregate(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Means over the complete solves; proportions with 95% Wilson intervals (only complete solves count)."""
    done = [r for r in records if r.get("complete")]
    n = len(done)
    agg: dict[str, Any] = {
        "data_sets": len(records), "complete": n, "incomplete": sum(1 for r in records if not r.get("complete")
                                                                     and "error" not in r),
        "errors": sum(1 for r in records if "error" in r),
        "median_seconds": float(np.median([r["seconds"] for r in records])) if records else None,
    }

    def mean(f: Any) -> float | None:
        return float(np.mean([f(r) for r in done])) if n else None

    agg["mean_real_pure"] = mean(lambda r: r["real_pure"])
    agg["mean_real_spurious"] = mean(lambda r: r["real_spurious"])
    agg["mean_complex"] = mean(lambda r: r["complex"])
    agg["mean_by_type"] = {kind: {t: mean(lambda r, k=kind, t=t: r["real_by_type"][k].get(t, 0)) for t in TYPES}
                           for kind in ("pure", "spurious")}
    agg["mean_real_by_type"] = {t: mean(lambda r, t=t: r["real_by_type"]["pure"].get(t, 0)
                                        + r["real_by_type"]["spurious"].get(t, 0)) for t in TYPES}
    slm = [r["real_by_type"]["spurious"]["local minimum"] for r in done]
    sp = [r["real_spurious"] for r in done]
    agg["data_sets_with_real_spurious"] = _proportion(sum(1 for s in sp if s > 0), n)
    agg["data_sets_with_spurious_local_minimum"] = _proportion(sum(1 for s in slm if s > 0), n)
    agg["spurious_is_local_minimum_pooled"] = _proportion(sum(slm), sum(sp))
    ratios = [a / b for a, b in zip(slm, sp) if b > 0]
    agg["spurious_is_local_minimum_per_data_set"] = {
        "mean": float(np.mean(ratios)) if ratios else None, "n": len(ratios),
        "meaning": "mean over the complete data sets with a real spurious critical point of the fraction of them "
                   "that are local minima"}
    agg["global_minimum_spurious"] = _proportion(
        sum(1 for r in done if (r.get("global_minimum") or {}).get("kind") == "spurious"),
        sum(1 for r in done if r.get("global_minimum") is not None))
    return agg


# --- cache -----------------------------------------------------------------------------------------------
def cache_path(cache_dir: Path, spec: str) -> Path:
    slug = "".join(ch if ch.isalnum() else "_" for ch in spec).strip("_")[:60]
    return cache_dir / f"{slug}-{hashlib.sha1(spec.encode()).hexdigest()[:8]}.json"


def _cache_key(spec: str, n: int, seed: int) -> dict[str, Any]:
    from ..version import __version__

    return {"version": CACHE_VERSION, "spec": spec, "n_samples": int(n), "seed": int(seed), "package": __version__}


def _load_cache(path: Path, key: dict[str, Any]) -> dict[str, Any]:
    try:
        d = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return d if isinstance(d, dict) and d.get("key") == key else {}


def _store_cache(path: Path, key: dict[str, Any], invariants: dict[str, Any] | None,
                 records: dict[int, dict[str, Any]]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(jsonable({"key": key, "invariants": invariants,
                                        "data_sets": {str(i): r for i, r in sorted(records.items())}})))
    os.replace(tmp, path)


# --- the run ---------------------------------------------------------------------------------------------
def run_study(config: StudyConfig, *, cache_dir: str | Path | None = None, progress: bool = False) -> StudyResult:
    """Run the study; with ``cache_dir`` resume from (and extend) its per-architecture cache files.

    Ctrl-C raises KeyboardInterrupt after the finished data sets are stored (an interrupted solve never is)."""
    from ..runtime.progress import Progress

    t_start = time.perf_counter()
    archs = [parse_spec(s) for s in config.architectures]
    ns = [samples_for(a, config.n_samples) for a in archs]
    cdir = None
    if cache_dir is not None:
        cdir = Path(cache_dir)
        try:
            cdir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create the cache directory {cdir} ({exc.strerror or exc}); give a writable path") from None
    total = len(archs) * config.data_sets
    results: list[ArchitectureStudy] = []
    reused = 0
    bar = Progress("landscape study", total=total, unit="data sets", enabled=progress)
    done_count = 0
    interrupted = False
    try:
        for arch, spec, n in zip(archs, config.architectures, ns):
            t_arch = time.perf_counter()
            key = _cache_key(spec, n, config.seed)
            path = cache_path(cdir, spec) if cdir is not None else None
            cached = _load_cache(path, key) if path is not None else {}
            invariants = cached.get("invariants")
            records: dict[int, dict[str, Any]] = {int(i): r for i, r in (cached.get("data_sets") or {}).items()
                                                  if int(i) < config.data_sets}
            reused += len(records)
            done_count += len(records)
            bar.update(count=done_count, architecture=spec, step="invariants")
            if invariants is None:
                invariants = architecture_invariants(arch, config.seed)
                if path is not None:
                    _store_cache(path, key, invariants, records)
            for j in range(config.data_sets):
                if j in records:
                    continue
                bar.update(count=done_count, architecture=spec, step=f"data set {j + 1}/{config.data_sets}")
                records[j] = solve_data_set(arch, n, config.seed, j)
                done_count += 1
                if path is not None:
                    _store_cache(path, key, invariants, records)
            recs = [records[j] for j in range(config.data_sets)]
            group, kind = variant(arch)
            results.append(ArchitectureStudy(spec, group, kind, int(arch.n_params), coefficient_count(arch), n,
                                             invariants, recs, aggregate(recs), time.perf_counter() - t_arch))
            bar.update(count=done_count)
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        bar.close("interrupted" if interrupted else None)
    return StudyResult(config, results, time.perf_counter() - t_start, reused)


__all__ = ["StudyConfig", "StudyResult", "ArchitectureStudy", "run_study", "DEFAULT_ARCHITECTURES", "aggregate",
           "study_data", "solve_seed", "variant", "samples_for", "parse_spec", "solve_data_set"]

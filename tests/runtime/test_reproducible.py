"""Reproducible distributed runs (issue 21 part 3): with a fixed seed, an analysis whose paths are tracked on Dask
workers gives bit-identical values, statuses and evidence to the single-process run (only timings and provenance
differ), and the result records its provenance."""

import pytest

from neuromanifold import analyze
from neuromanifold.homotopy import dispatch
from neuromanifold.runtime.cluster import using

VOLATILE = {"provenance"}  # what may differ between runs: timings (keys starting with 'seconds') and provenance


def _untimed(x):
    if isinstance(x, dict):
        return {k: _untimed(v) for k, v in x.items() if not str(k).startswith("seconds") and k not in VOLATILE}
    if isinstance(x, list):
        return [_untimed(v) for v in x]
    return x


def _differences(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b), key=str) for d in _differences(a.get(k), b.get(k), f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (u, v) in enumerate(zip(a, b)) for d in _differences(u, v, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def test_distributed_analysis_is_bit_identical_to_local(client, monkeypatch):
    monkeypatch.setattr(dispatch, "CLUSTER_MIN_PATHS", 1)  # send every tracking job to the workers
    spec, only = "cnn(k=(2,2), s=(1,1), r=2)", ["dimension", "degree", "fiber_points", "ed_degree"]
    local = analyze(spec, only=only, seed=5).to_dict()
    with using(client):
        dist = analyze(spec, only=only, seed=5).to_dict()
    assert local["provenance"]["seed"] == dist["provenance"]["seed"] == 5
    for name in only:  # the runs did track paths (else the comparison would be empty of tracking)
        assert local["invariants"][name]["status"] in ("certified", "numerical")
    diffs = _differences(_untimed(local), _untimed(dist))
    assert not diffs, "\n".join(diffs[:20])
    other = analyze(spec, only=["degree"], seed=6).to_dict()  # the seed matters: a different seed, other evidence
    assert _differences(_untimed(other["invariants"]["degree"]["evidence"]),
                        _untimed(local["invariants"]["degree"]["evidence"]))

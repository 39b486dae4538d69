"""Path tracking on a Dask cluster (issue 7 part 3): the chunks of paths run as Dask tasks on the
workers, and every endpoint, status and count equals the single-process run."""

import json

import numpy as np
import pytest

from neuromanifold import analyze
from neuromanifold.cli import main
from neuromanifold.runtime.cluster import current_client, using
from neuromanifold.errors import InputError
from neuromanifold.homotopy import cyclic, katsura, solve_total_degree
from neuromanifold.homotopy import dispatch as tracker  # CLUSTER_MIN_PATHS lives in homotopy.dispatch


def _tasks(client, fn):
    from distributed import get_task_stream

    with get_task_stream(client) as ts:
        out = fn()
    return out, [t["key"] for t in ts.data]


@pytest.mark.parametrize("system", [katsura(7), cyclic(5)], ids=["katsura-7", "cyclic-5"])
def test_cluster_tracking_equals_local(client, system, monkeypatch):
    monkeypatch.setattr(tracker, "CLUSTER_MIN_PATHS", 64)  # cyclic-5 has 120 paths
    local = solve_total_degree(system, seed=3)
    with using(client):
        assert current_client() is client
        dask, keys = _tasks(client, lambda: solve_total_degree(system, seed=3))
    assert current_client() is None
    chunks = [k for k in keys if "_track_chunk" in str(k)]
    assert len(chunks) >= 2, f"paths were not sent to the workers: {keys}"
    assert dask.n_solutions == local.n_solutions
    assert dask.evidence()["status_counts"] == local.evidence()["status_counts"]
    np.testing.assert_array_equal(dask.track_result.status, local.track_result.status)
    np.testing.assert_array_equal(dask.track_result.endpoints, local.track_result.endpoints)  # bit-identical


def test_analyze_degree_on_cluster_equals_local(client, monkeypatch):
    monkeypatch.setattr(tracker, "CLUSTER_MIN_PATHS", 1)  # the witness sets here are small: send them anyway
    spec = "linear(widths=(3,2,3))"  # degree 3 (determinantal)
    local = analyze(spec, only=["degree"], seed=1)
    with using(client):
        dask, keys = _tasks(client, lambda: analyze(spec, only=["degree"], seed=1))
    assert any("_track_chunk" in str(k) for k in keys)
    a, b = local.invariants["degree"], dask.invariants["degree"]
    assert (a.value, a.status) == (b.value, b.status)
    assert (a.value, a.status) == (3, "certified")
    assert a.evidence["monodromy"]["paths_tracked"] == b.evidence["monodromy"]["paths_tracked"]


def test_cli_cluster_flag(capsys):
    args = ["analyze", "cnn(k=(2,2), s=(1,1), r=2)", "--only", "degree", "--json", "--seed", "2"]
    assert main(args) == 0
    local = json.loads(capsys.readouterr().out)
    assert main(args + ["--cluster", "local:1"]) == 0
    dask = json.loads(capsys.readouterr().out)
    assert local["invariants"]["degree"]["value"] == dask["invariants"]["degree"]["value"]
    assert local["invariants"]["degree"]["status"] == dask["invariants"]["degree"]["status"]
    assert main(args + ["--cluster", "nonsense"]) == 2
    assert "scheduler address" in capsys.readouterr().err


def test_bad_cluster_names():
    for bad in ("local:0", "local:x", "host:8786"):
        with pytest.raises(InputError, match="local"):
            with using(bad):
                pass

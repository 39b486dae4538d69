"""The atlas: spec patterns, resumable and concurrent sweeps, damaged files, Dask, exports, tables."""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import sqlite3

import pytest

from neuromanifold.atlas import Atlas, AtlasError, expand, sweep, to_csv
from neuromanifold.atlas.tables import PRESETS, defect_rows
from neuromanifold.cli import main
from neuromanifold.errors import InputError
from neuromanifold.report.atlas import atlas_html

PATTERN = "mlp(widths=(2..3, 1..2, 1), r=2..3)"
ONLY = "dimension,expected_dimension,ambient_dimension"


def test_expand_ranges_products_and_invalid():
    ex = expand("linear(widths=(2..3, 1..2))")
    assert ex.specs == ("linear(widths=(2, 1))", "linear(widths=(2, 2))", "linear(widths=(3, 1))",
                        "linear(widths=(3, 2))")
    ex = expand("cnn(k=(1..3,), s=(1,), n=2)")
    assert len(ex.specs) == 2 and len(ex.invalid) == 1 and "3" in ex.invalid[0][0]  # filter longer than input
    with pytest.raises(InputError, match="low <= high"):
        expand("mlp(widths=(3..2, 1), r=2)")
    with pytest.raises(InputError, match="narrow"):
        expand("mlp(widths=(1..100, 1..100, 1..100), r=1..100)")


def test_sweep_matches_alexander_hirschowitz(tmp_path):
    """Shallow quadratic networks (d0, d1, 1): quadrics of rank <= k = min(d0, d1), of dimension
    k d0 - C(k, 2) (a closed formula, not computed here); the table flags exactly the defective ones."""
    db = tmp_path / "a.sqlite"
    pattern = "mlp(widths=(2..5, 1..5, 1), r=2)"
    summary = sweep(pattern, only=ONLY, db=db)
    assert summary.computed == 3 * summary.specs and not summary.failed
    with Atlas(db) as a:
        rows = defect_rows(a, list(expand(pattern).specs))
    for r in rows:
        d0, d1 = (int(x) for x in r.spec.split("(")[2].split(")")[0].split(",")[:2])
        k = min(d0, d1)  # quadrics of rank <= k
        formula = k * d0 - k * (k - 1) // 2
        assert r.dimension.status == "certified" and r.dimension.value == formula, r.spec
        expected_defect = min(d0 * d1, math.comb(d0 + 1, 2)) - formula  # edim = d0 d1 params - d1 + d1 outputs
        assert r.defect == expected_defect, r.spec


def _content(db):
    with Atlas(db) as a:
        return a.content()


def test_interrupted_sweep_resumes_to_the_same_atlas(tmp_path):
    full, part = tmp_path / "full.sqlite", tmp_path / "part.sqlite"
    sweep(PATTERN, only=ONLY, db=full)
    seen = []

    def stop_after_five(payload):
        seen.append(payload)
        if len(seen) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(PATTERN, only=ONLY, db=part, on_result=stop_after_five)
    assert len(_content(part)) == 5  # every finished invariant was kept
    summary = sweep(PATTERN, only=ONLY, db=part)
    assert summary.skipped == 5 and summary.computed == 3 * 8 - 5
    assert _content(part) == _content(full)


def _sweep_in_process(args):
    pattern, db = args
    sweep(pattern, only=ONLY, db=db)
    return True


def test_two_concurrent_sweeps_lose_nothing(tmp_path):
    db, ref = tmp_path / "shared.sqlite", tmp_path / "ref.sqlite"
    patterns = ["mlp(widths=(2..4, 1..3, 1), r=2)", "mlp(widths=(3..4, 1..3, 1..2), r=2)"]  # overlapping
    with mp.get_context("spawn").Pool(2) as pool:
        assert pool.map(_sweep_in_process, [(p, str(db)) for p in patterns]) == [True, True]
    sweep(patterns, only=ONLY, db=ref)
    assert _content(db) == _content(ref)
    assert len(_content(db)) == 3 * len(set(expand(patterns[0]).specs) | set(expand(patterns[1]).specs))


def test_damaged_or_foreign_files_are_refused_and_left_alone(tmp_path):
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database\n" * 100)
    before = garbage.read_bytes()
    with pytest.raises(AtlasError, match="not an atlas database"):
        sweep(PATTERN, only="dimension", db=garbage)
    assert garbage.read_bytes() == before

    foreign = tmp_path / "foreign.sqlite"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    before = foreign.read_bytes()
    with pytest.raises(AtlasError, match="not a neuromanifold atlas"):
        Atlas(foreign)
    assert foreign.read_bytes() == before

    db = tmp_path / "damaged.sqlite"
    sweep("mlp(widths=(2..6, 1..6, 1), r=2..3)", only="dimension", db=db)
    with Atlas(db) as a:  # checkpoint the WAL so the rows live in the main file
        a.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = bytearray(db.read_bytes())
    page = 4096
    assert len(raw) > 3 * page
    raw[2 * page: 3 * page] = b"\xff" * page  # overwrite a b-tree page
    db.write_bytes(bytes(raw))
    before = db.read_bytes()
    with pytest.raises(AtlasError, match="damaged"):
        with Atlas(db) as a:
            a.rows()
    assert db.read_bytes() == before
    assert main(["atlas", "show", "--db", str(garbage)]) == 2


def test_dask_local_cluster_equals_local_run(tmp_path):
    pytest.importorskip("distributed")
    local, dask = tmp_path / "local.sqlite", tmp_path / "dask.sqlite"
    pattern = "mlp(widths=(2..3, 1..2, 1), r=2)"
    sweep(pattern, only=ONLY + ",fiber_dimension", db=local)
    summary = sweep(pattern, only=ONLY + ",fiber_dimension", db=dask, cluster="local:2")
    assert summary.workers == 2
    assert _content(dask) == _content(local)
    with pytest.raises(InputError, match="local:N"):
        sweep(pattern, only="dimension", db=tmp_path / "x.sqlite", cluster="local:zero")


def test_cli_show_query_export_and_table(tmp_path, capsys):
    db = str(tmp_path / "a.sqlite")
    assert main(["atlas", "show", "--db", db]) == 2  # no atlas yet: clear error, nothing created
    assert "no atlas" in capsys.readouterr().err
    assert main(["atlas", "sweep", PATTERN, "--only", ONLY, "--db", db]) == 0
    assert "8 specs: 24 results computed" in capsys.readouterr().out
    assert main(["atlas", "sweep", PATTERN, "--only", ONLY, "--db", db]) == 0
    assert "0 results computed, 24 already" in capsys.readouterr().out
    assert main(["atlas", "query", "--db", db, "--invariant", "dimension", "--family", "mlp", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 8 and all(r["status"] == "certified" for r in rows)
    out = tmp_path / "t.csv"
    assert main(["atlas", "export", "--db", db, "--format", "csv", "--out", str(out)]) == 0
    assert out.read_text().count("\n") == 25
    with Atlas(db) as a:
        html = atlas_html(a.rows(spec="(3, 2, 1), r=2"))
        assert to_csv(a.rows(status="failed")).count("\n") == 1
    assert "<table>" in html and "5 (certified)" in html  # (3,2,1) r=2 is the defective one: dim 5
    assert main(["atlas", "table", "mlp-deep", "--db", db]) == 0
    text = capsys.readouterr().out
    assert PRESETS["mlp-deep"][1] in text and "defective" in text

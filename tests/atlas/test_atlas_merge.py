"""Sharded sweeps and ``atlas merge`` (issue 21): the shards of a job array partition the (spec, invariant)
list, their merge equals one single-process sweep, conflicting results refuse the merge and leave OUT as it
was, and every row keeps the provenance of the process that computed it."""

import json
import sqlite3

import pytest

from neuromanifold.atlas import Atlas, MergeConflict, merge, sweep
from neuromanifold.atlas.store import APPLICATION_ID, SCHEMA_VERSION
from neuromanifold.atlas.sweep import in_shard, parse_shard
from neuromanifold.cli import main
from neuromanifold.errors import InputError

PATTERN = "linear(widths=(2,1..2,2))"  # 2 specs
ONLY = "dimension,expected_dimension"  # cheap: exact ranks of tiny matrices


def _content(db):
    with Atlas(db, create=False, readonly=True) as a:
        return a.content()


def _rows(db):
    with Atlas(db, create=False, readonly=True) as a:
        return {(r.spec, r.invariant): r for r in a.rows()}


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """A single-process sweep and the same sweep in 3 shards (4 pairs: shard 1 gets one, shard 2 two, shard 3 one)."""
    d = tmp_path_factory.mktemp("shards")
    sweep(PATTERN, only=ONLY, db=d / "single.sqlite")
    for i in (1, 2, 3):
        assert main(["atlas", "sweep", PATTERN, "--only", ONLY, "--shard", f"{i}/3", "--db",
                     str(d / f"shard-{i}.sqlite"), "--quiet", "--json"]) == 0
    return d


def test_parse_shard_good_and_bad():
    assert parse_shard("1/1") == (1, 1) and parse_shard(" 3 / 10 ") == (3, 10)
    for bad in ("0/3", "4/3", "1", "1/0", "-1/3", "a/b", "1/3/5", "1.5/3", ""):
        with pytest.raises(InputError, match="1 <= I <= N"):
            parse_shard(bad)
    with pytest.raises(InputError, match="shard must be"):
        sweep(PATTERN, only="dimension", db=None, shard=(0, 2))


def test_shards_partition_the_work_list():
    for n in (1, 2, 3, 5):
        for k in range(7):
            owners = [[i for i in range(1, n + 1) if in_shard(k, j, (i, n))] for j in range(4)]
            assert all(len(o) == 1 for o in owners), (n, k, owners)  # every pair in exactly one shard
    # the invariants of one spec go to different shards (when there are enough)
    assert len({i for j in range(3) for i in range(1, 4) if in_shard(0, j, (i, 3))}) == 3


def test_shards_are_disjoint_and_their_merge_equals_one_sweep(shards, tmp_path, capsys):
    parts = [set(_rows(shards / f"shard-{i}.sqlite")) for i in (1, 2, 3)]
    single = _rows(shards / "single.sqlite")
    assert len(single) == 4 and sum(map(len, parts)) == 4 and set().union(*parts) == set(single)
    assert all(parts), parts  # 4 pairs over 3 shards: none is empty here
    out = tmp_path / "merged.sqlite"
    capsys.readouterr()
    assert main(["atlas", "merge", str(out), *(str(shards / f"shard-{i}.sqlite") for i in (1, 2, 3))]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"4 results in {out}: 4 added from 3 shards"), said
    assert _content(out) == _content(shards / "single.sqlite")  # values, statuses, evidence
    merged = _rows(out)
    assert {k: (r.value, r.status) for k, r in merged.items()} == {k: (r.value, r.status) for k, r in single.items()}
    assert merged[("linear(widths=(2, 1, 2))", "dimension")].value == 3
    # each row keeps the provenance of the shard that computed it
    for i in (1, 2, 3):
        for key, row in _rows(shards / f"shard-{i}.sqlite").items():
            assert merged[key].provenance == row.provenance and merged[key].created == row.created
    # merging again (OUT's own rows take part) changes nothing
    again = merge(out, [shards / "shard-2.sqlite", shards / "single.sqlite"])
    assert (again.added, again.rows) == (0, 4) and again.identical == 4
    assert _content(out) == _content(shards / "single.sqlite")


def test_provenance_is_stored_with_every_row(shards):
    for row in _rows(shards / "single.sqlite").values():
        p = row.provenance
        assert p["neuromanifold"] and p["host"] and p["python"] and p["utc"], p
        assert p["seed"] == 0 and p["prime"] == row.options["prime"] and "numpy" in p["dependencies"]
    exported = json.loads(_json_query(shards / "single.sqlite"))
    assert all(r["provenance"]["seed"] == 0 for r in exported)


def _json_query(db):
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["atlas", "query", "--db", str(db), "--json"]) == 0
    return buf.getvalue()


def _edit(db, sql, *args):
    con = sqlite3.connect(str(db))
    with con:
        n = con.execute(sql, args).rowcount
    con.close()
    assert n >= 1, sql


def _copy(src, dst):
    dst.write_bytes(src.read_bytes())
    return dst


def test_conflicting_shards_refuse_and_leave_out_untouched(shards, tmp_path, capsys):
    a = _copy(shards / "single.sqlite", tmp_path / "a.sqlite")
    b = _copy(shards / "single.sqlite", tmp_path / "b.sqlite")
    spec = "linear(widths=(2, 2, 2))"
    _edit(b, "UPDATE results SET value = '5' WHERE spec = ? AND invariant = 'dimension'", spec)
    out = tmp_path / "out.sqlite"
    with pytest.raises(MergeConflict) as exc:  # OUT does not exist: it is not created
        merge(out, [a, b])
    assert not out.exists()
    assert len(exc.value.conflicts) == 1 and exc.value.conflicts[0][0][:2] == (spec, "dimension")
    assert "a.sqlite: certified 4 vs" in str(exc.value) and "b.sqlite: certified 5" in str(exc.value)
    # OUT exists with rows of its own: byte for byte unchanged after the refusal (CLI: one line, exit 2)
    merge(out, [shards / "shard-1.sqlite"])
    before = out.read_bytes()
    capsys.readouterr()
    assert main(["atlas", "merge", str(out), str(a), str(b)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing was written" in err and f"{spec} dimension" in err
    assert out.read_bytes() == before
    # a different status or different evidence conflicts too
    c = _copy(shards / "single.sqlite", tmp_path / "c.sqlite")
    _edit(c, "UPDATE results SET status = 'numerical' WHERE spec = ? AND invariant = 'expected_dimension'", spec)
    d = _copy(shards / "single.sqlite", tmp_path / "d.sqlite")
    _edit(d, "UPDATE results SET evidence = '{\"method\": \"other\"}' WHERE spec = ? AND invariant = 'dimension'", spec)
    with pytest.raises(MergeConflict) as exc:
        merge(tmp_path / "out2.sqlite", [a, c, d])
    assert sorted(k[1] for k, _ in exc.value.conflicts) == ["dimension", "expected_dimension"]
    assert not (tmp_path / "out2.sqlite").exists()


def test_interrupted_and_failed_rows_yield_to_final_ones(shards, tmp_path):
    spec = "linear(widths=(2, 1, 2))"
    a = _copy(shards / "single.sqlite", tmp_path / "a.sqlite")
    b = _copy(shards / "single.sqlite", tmp_path / "b.sqlite")
    _edit(b, "UPDATE results SET status = 'interrupted', value = '1' WHERE spec = ? AND invariant = 'dimension'", spec)
    _edit(b, "UPDATE results SET status = 'failed', value = 'null' WHERE spec = ? AND invariant = 'expected_dimension'",
          spec)
    out = tmp_path / "out.sqlite"
    summary = merge(out, [b, a])  # the cut rows come first and still lose
    assert summary.superseded == 2 and summary.rows == 4
    assert _content(out) == _content(shards / "single.sqlite")
    # OUT's own interrupted row is replaced by a shard's final one
    _edit(out, "UPDATE results SET status = 'interrupted' WHERE spec = ? AND invariant = 'dimension'", spec)
    merge(out, [a])
    assert _rows(out)[(spec, "dimension")].status == "certified"
    # two not-final rows do not conflict: the first is kept
    c = _copy(b, tmp_path / "c.sqlite")
    _edit(c, "UPDATE results SET value = '2' WHERE spec = ? AND invariant = 'dimension'", spec)
    only_cut = merge(tmp_path / "cut.sqlite", [b, c])
    assert only_cut.rows == 4 and _rows(tmp_path / "cut.sqlite")[(spec, "dimension")].value == 1


def test_merge_refuses_bad_inputs(shards, tmp_path, capsys):
    out = tmp_path / "out.sqlite"
    for argv, says in (([str(out), str(tmp_path / "missing.sqlite")], "does not exist"),
                       ([str(shards / "shard-1.sqlite"), str(shards / "shard-1.sqlite")], "both OUT and a shard")):
        assert main(["atlas", "merge", *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and says in err, err
    foreign = tmp_path / "foreign.sqlite"
    foreign.write_text("not an atlas")
    assert main(["atlas", "merge", str(out), str(foreign)]) == 2
    assert "not an atlas" in capsys.readouterr().err and not out.exists()


def _schema2(path, row):
    """An atlas as schema 2 wrote it (no provenance column)."""
    con = sqlite3.connect(str(path))
    con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    con.execute("PRAGMA user_version = 2")
    con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    con.execute("CREATE TABLE results (spec TEXT NOT NULL, family TEXT NOT NULL, n_params INTEGER NOT NULL, "
                "invariant TEXT NOT NULL, seed INTEGER NOT NULL, options TEXT NOT NULL, value TEXT NOT NULL, "
                "status TEXT NOT NULL, evidence TEXT NOT NULL, seconds REAL NOT NULL, version TEXT NOT NULL, "
                "created TEXT NOT NULL, PRIMARY KEY (spec, invariant, seed, options))")
    con.execute("INSERT INTO results VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", row)
    con.commit()
    con.close()


def test_schema_2_atlases_are_read_merged_and_migrated(shards, tmp_path):
    with Atlas(shards / "single.sqlite", create=False, readonly=True) as a:
        r = a.rows(invariant="dimension")[0]
    raw = (r.spec, r.family, r.n_params, r.invariant, r.seed, json.dumps(r.options, sort_keys=True,
           separators=(",", ":")), json.dumps(r.value), r.status, json.dumps(r.evidence), r.seconds, r.version,
           r.created)
    old = tmp_path / "old.sqlite"
    _schema2(old, raw)
    with Atlas(old, create=False, readonly=True) as a:  # read as it is
        (row,) = a.rows()
    assert (row.value, row.status, row.provenance) == (r.value, r.status, {})
    out = tmp_path / "out.sqlite"
    merge(out, [old, shards / "single.sqlite"])  # the old row equals the new one: kept (first), without provenance
    assert _content(out) == _content(shards / "single.sqlite")
    with Atlas(old) as a:  # opened for writing: migrated
        assert a.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
        a.put(r.spec, r.family, r.n_params, "expected_dimension", r.seed, r.options,
              {"value": 3, "status": "certified", "evidence": {}}, r.version, provenance={"host": "h"})
        got = {x.invariant: x.provenance for x in a.rows()}
    assert got == {"dimension": {}, "expected_dimension": {"host": "h"}}

"""Merging atlases: the shard files of a job array (``atlas sweep --shard I/N``) into one atlas.

A stored result is identified as in the store, by its key (spec, invariant, seed, options).  For each
key the rows of all inputs (OUT itself when it exists, then the shards in the order given) are ranked:

* final: any status but ``failed`` and ``interrupted`` (and not a legacy row cut short by Ctrl-C);
* ``failed``: final for a sweep, but replaced by a final result (as ``sweep --retry-failed`` would);
* not final: ``interrupted`` (or a legacy cut-short row): replaced by anything else.

Rows of the best rank present must agree on everything that is mathematics: family, n_params, value,
status and evidence (without its timings, keys starting with ``seconds``, as ``Atlas.content``
compares).  Then the first of them is kept whole: its time taken, time written, version and provenance.
Two final rows that differ are a conflict; failed rows that differ (their messages) and not-final rows
are not (the first is kept).  Any conflict refuses the whole merge with a message listing the keys, and
OUT is left as it was: the merge is one SQLite transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``), checked
once before OUT is created or opened for writing and again inside the transaction.  Claims are not
copied.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..errors import InputError
from .store import COLUMNS, KEY, MARKS, NOT_FINAL, Atlas, AtlasError, _untimed

MAX_LISTED = 10  # conflicting keys named in the message (the rest are counted)
_KEY_AT = tuple(COLUMNS.index(c) for c in KEY)
_SAME = tuple(c for c in COLUMNS if c not in ("seconds", "version", "created", "provenance"))


class MergeConflict(AtlasError):
    """Two inputs hold different final results for the same key; nothing was written.  ``conflicts``:
    [(key, [(source, status, value), ...])] for every conflicting key."""

    def __init__(self, message: str, conflicts: list[tuple[tuple[Any, ...], list[tuple[str, str, Any]]]]):
        super().__init__(message)
        self.conflicts = conflicts


@dataclass
class MergeSummary:
    """What a merge did: the inputs, rows added to OUT, rows found equal in several inputs (kept once),
    not-final or failed rows replaced by a final result, and OUT's row count afterwards."""

    out: str
    shards: list[str]
    added: int = 0
    identical: int = 0
    superseded: int = 0
    rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _rank(row: tuple[Any, ...]) -> int:
    """2 final, 1 failed, 0 not final (interrupted, or a legacy row cut short: see store.LEGACY_CUT)."""
    status, evidence = row[COLUMNS.index("status")], row[COLUMNS.index("evidence")]
    if status == NOT_FINAL:
        return 0
    if status in ("lower_bound", "upper_bound", "numerical") and (
            '"stopping_rule": "interrupted"' in evidence or '"stopping_rule": "budget"' in evidence):
        return 0
    return 1 if status == "failed" else 2


def _identity(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """What two rows of one key must share to be the same result (JSON parsed, timings dropped)."""
    out = []
    for c in _SAME:
        v = row[COLUMNS.index(c)]
        if c in ("value", "options"):
            v = json.dumps(json.loads(v), sort_keys=True)
        elif c == "evidence":
            v = json.dumps(_untimed(json.loads(v)), sort_keys=True)
        out.append(v)
    return tuple(out)


def _read(atlas: Atlas) -> list[tuple[Any, ...]]:
    """Every result row as stored text, in COLUMNS order (provenance '{}' for an atlas older than schema 3)."""
    have = atlas._columns()
    rows = atlas.conn.execute(f"SELECT {', '.join(have)} FROM results ORDER BY spec, invariant, seed, options")
    return [tuple(dict(zip(have, r)).get(c, "{}") for c in COLUMNS) for r in rows]


def _plan(sources: list[tuple[str, list[tuple[Any, ...]]]], summary: MergeSummary
          ) -> tuple[dict[tuple[Any, ...], tuple[Any, ...]], list[tuple[tuple[Any, ...], list[tuple[str, str, Any]]]]]:
    """The winning row of every key, and the conflicts (see the module docstring).  ``sources``: (name,
    rows) with OUT first; counts go into ``summary``."""
    by_key: dict[tuple[Any, ...], list[tuple[str, tuple[Any, ...]]]] = {}
    for name, rows in sources:
        for r in rows:
            by_key.setdefault(tuple(r[i] for i in _KEY_AT), []).append((name, r))
    winners, conflicts = {}, []
    summary.identical = summary.superseded = 0
    for key, cands in by_key.items():
        best = max(_rank(r) for _, r in cands)
        top = [(n, r) for n, r in cands if _rank(r) == best]
        if best == 2 and len({_identity(r) for _, r in top}) > 1:
            conflicts.append((key, [(n, r[COLUMNS.index("status")], json.loads(r[COLUMNS.index("value")]))
                                    for n, r in top]))
            continue
        winners[key] = top[0][1]
        summary.identical += len(top) > 1
        summary.superseded += len(cands) > len(top)
    return winners, conflicts


def _conflict_error(out: Path, conflicts: list[tuple[tuple[Any, ...], list[tuple[str, str, Any]]]]) -> MergeConflict:
    listed = []
    for (spec, invariant, seed, options), rows in conflicts[:MAX_LISTED]:
        versions = " vs ".join(f"{name}: {status} {json.dumps(value)}" for name, status, value in rows)
        listed.append(f"{spec} {invariant} (seed {seed}, options {options}): {versions}")
    more = f"; and {len(conflicts) - MAX_LISTED} more" if len(conflicts) > MAX_LISTED else ""
    return MergeConflict(
        f"{len(conflicts)} results differ between the inputs, so nothing was written to {out}: "
        + "; ".join(listed) + more
        + ". Shards of one sweep agree; recompute the disagreeing results (or leave one file out) and merge again",
        conflicts)


def merge(out: str | os.PathLike[str], shards: Sequence[str | os.PathLike[str]]) -> MergeSummary:
    """Combine the atlases ``shards`` into ``out`` (created if missing; its own rows take part) in one
    transaction: equal rows are kept once, rows of one input are copied, a final result replaces a failed
    or interrupted one, and different final results for one key refuse the merge (``MergeConflict``,
    OUT unchanged).  See the module docstring for the rule."""
    out_path = Path(out)
    paths = [Path(s) for s in shards]
    if not paths:
        raise InputError("atlas merge needs at least one shard file: neuromanifold atlas merge OUT SHARD [SHARD ...]")
    for p in paths:
        if not p.exists():
            raise InputError(f"shard {p} does not exist; give the shard files written by atlas sweep --shard")
        if out_path.exists() and p.resolve() == out_path.resolve():
            raise InputError(f"{p} is both OUT and a shard; OUT takes part in the merge anyway: give it once, as OUT")
    summary = MergeSummary(out=str(out_path), shards=[str(p) for p in paths])
    sources = []
    for p in paths:
        with Atlas(p, create=False, readonly=True) as a:
            sources.append((str(p), _read(a)))
    existed = out_path.exists() and out_path.stat().st_size > 0
    if existed:  # check before opening OUT for writing (which may migrate its schema)
        with Atlas(out_path, create=False, readonly=True) as a:
            _, conflicts = _plan([(str(out_path), _read(a))] + sources, summary)
    else:
        _, conflicts = _plan(sources, summary)
    if conflicts:
        raise _conflict_error(out_path, conflicts)
    with Atlas(out_path) as atlas:
        c = atlas.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            current = {tuple(r[i] for i in _KEY_AT): r for r in _read(atlas)}
            winners, conflicts = _plan([(str(out_path), list(current.values()))] + sources, summary)
            if conflicts:
                raise _conflict_error(out_path, conflicts)
            columns = ", ".join(COLUMNS)
            for key, row in winners.items():
                if current.get(key) != row:
                    summary.added += key not in current
                    c.execute(f"INSERT OR REPLACE INTO results ({columns}) VALUES ({MARKS})", row)
            summary.rows = c.execute("SELECT count(*) FROM results").fetchone()[0]
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
    return summary


__all__ = ["MergeConflict", "MergeSummary", "merge"]

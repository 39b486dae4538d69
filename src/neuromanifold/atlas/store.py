"""The atlas database: one SQLite file of invariants, one row per (spec, invariant, seed, options).

Safe to share: WAL journal and a busy timeout let several sweeps write into one file at once (each
result is one short transaction; a row computed twice is kept once), and a ``claims`` table hands out
the work: a sweep claims a spec's missing invariants in one ``BEGIN IMMEDIATE`` transaction before
computing them, so concurrent sweeps never compute a spec twice (a claim whose owner died, or whose
heartbeat is older than ``STALE_AFTER`` seconds, is taken over).  A result cut short by Ctrl-C or a
time budget is stored with status ``interrupted`` (never as a final value) and recomputed by the next
sweep.  Every row carries its provenance (``runtime.provenance``: versions, host, cores, time, seed,
prime) in the ``provenance`` column (schema 3; older atlases gain the column, as ``{}``, when first
opened for writing, and are read as they are).  A file that is not an atlas (another SQLite database, a truncated or damaged file, any other
file) is detected on opening with a message naming the path, and is never modified; a read-only file
can be read (show, query, export) but not swept into.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import os
import socket
import sqlite3
import stat
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..errors import InputError
from ..runtime.processes import alive
from ..result import html_badge, html_card, html_evidence, html_table, html_text, html_value

APPLICATION_ID = 0x4E4D4154  # "NMAT"
SCHEMA_VERSION = 3  # 2: the claims table; 3: the provenance column
STALE_AFTER = 120.0  # seconds without a heartbeat after which another sweep takes a claim over
# a stored row that is not a final result: recomputed by every sweep, never shown as final
NOT_FINAL = "interrupted"
# rows stored before 'interrupted' existed: a degree cut by Ctrl-C or a budget was kept as a lower bound
LEGACY_CUT = ("{t}status IN ('lower_bound', 'upper_bound', 'numerical') "
              "AND (instr({t}evidence, '\"stopping_rule\": \"interrupted\"') > 0 "
              "OR instr({t}evidence, '\"stopping_rule\": \"budget\"') > 0)")


def _legacy(table: str) -> str:
    """SQL condition: a row stored as final before 'interrupted' existed, though cut short."""
    return LEGACY_CUT.format(t=table)


SQLITE_HEADER = b"SQLite format 3\x00"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    spec TEXT NOT NULL,
    family TEXT NOT NULL,
    n_params INTEGER NOT NULL,
    invariant TEXT NOT NULL,
    seed INTEGER NOT NULL,
    options TEXT NOT NULL,
    value TEXT NOT NULL,
    status TEXT NOT NULL,
    evidence TEXT NOT NULL,
    seconds REAL NOT NULL,
    version TEXT NOT NULL,
    created TEXT NOT NULL,
    provenance TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (spec, invariant, seed, options)
);
CREATE INDEX IF NOT EXISTS results_family ON results (family, invariant, status);
CREATE TABLE IF NOT EXISTS claims (
    spec TEXT NOT NULL,
    invariant TEXT NOT NULL,
    seed INTEGER NOT NULL,
    options TEXT NOT NULL,
    owner TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    claimed REAL NOT NULL,
    heartbeat REAL NOT NULL,
    PRIMARY KEY (spec, invariant, seed, options)
);
"""
CLAIMS_SCHEMA = SCHEMA[SCHEMA.index("CREATE TABLE IF NOT EXISTS claims"):]
PROVENANCE_COLUMN = "ALTER TABLE results ADD COLUMN provenance TEXT NOT NULL DEFAULT '{}'"

COLUMNS = ("spec", "family", "n_params", "invariant", "seed", "options", "value", "status", "evidence",
           "seconds", "version", "created", "provenance")
MARKS = ",".join("?" * len(COLUMNS))
# the identity of a stored result: one row per key
KEY = ("spec", "invariant", "seed", "options")
# columns that depend on the machine and the clock, not on the mathematics
VOLATILE = ("seconds", "created", "provenance")


class AtlasError(InputError):
    """The atlas file cannot be used (not an atlas, damaged, newer schema); it was left untouched."""


def default_path() -> Path:
    """``$NEUROMANIFOLD_ATLAS``, else the user's data directory (XDG on Linux)."""
    env = os.environ.get("NEUROMANIFOLD_ATLAS")
    if env:
        return Path(env)
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    elif os.name == "nt":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "neuromanifold" / "atlas.sqlite"


def options_key(options: dict[str, Any]) -> str:
    """Canonical text of the options a result depends on (sorted JSON)."""
    return json.dumps(options, sort_keys=True, separators=(",", ":"))


@dataclass
class Row:
    spec: str
    family: str
    n_params: int
    invariant: str
    seed: int
    options: dict[str, Any]
    value: Any
    status: str
    evidence: dict[str, Any]
    seconds: float
    version: str
    created: str
    provenance: dict[str, Any] = field(default_factory=dict)  # {} for rows stored before schema 3

    def to_dict(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in COLUMNS}

    def _html_cells(self) -> tuple[Any, ...]:
        return (self.spec, self.invariant, html_value(self.value), html_badge(self.status), self.seed,
                html_evidence(self.evidence, "show"))

    def _repr_html_(self) -> str:
        return html_card("atlas row", [html_table(ROW_HEADER, [self._html_cells()])], kind="atlas_row")


ROW_HEADER = ("spec", "invariant", "value", "status", "seed", "evidence")


class Rows(list):
    """The rows of an atlas query (``Atlas.rows``): a list of ``Row`` that shows as a table in Jupyter."""

    def _repr_html_(self) -> str:
        body = [f"<p>{len(self)} rows</p>", html_table(ROW_HEADER, [r._html_cells() for r in self])] if self else \
            ["<p>(no results)</p>"]
        return html_card(f"atlas query: {html_text(len(self))} stored results", body, kind="atlas_rows")


def _check_file(path: Path) -> None:
    """Refuse (without touching it) a non-empty file that is not SQLite."""
    if not path.exists():
        return
    if path.is_dir():
        raise AtlasError(f"atlas path {path} is a directory; give a file path with --db, e.g. --db {path / 'atlas.sqlite'}")
    size = path.stat().st_size
    if size == 0:
        return
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except PermissionError:
        raise AtlasError(f"atlas file {path} cannot be read (permission denied); make it readable "
                         f"(chmod u+r {path}) or choose another --db path") from None
    if head != SQLITE_HEADER:
        raise AtlasError(
            f"{path} is not an atlas database (not SQLite: damaged or another file); it was not modified. "
            "Move it away or choose another --db path"
        )


def _writable(path: Path) -> bool:
    """Whether ``path`` may be written: permission for this user *and* a write bit set (so a file or
    directory made read-only with chmod is respected even by root, who could write it anyway)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return os.access(path, os.W_OK) and bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _check_writable(path: Path, default: bool) -> None:
    """Refuse a sweep into a file or directory that cannot be written, or a directory that does not
    exist (created only for the default atlas path), with a message saying what to do."""
    parent = path.parent
    if not parent.exists():
        if default:
            parent.mkdir(parents=True, exist_ok=True)
        else:
            raise AtlasError(f"directory {parent} of --db {path} does not exist; create it first "
                             f"(mkdir -p {parent}) or choose a --db path in an existing directory")
    if not parent.is_dir():
        raise AtlasError(f"{parent} (in --db {path}) is not a directory; choose a --db path in a directory")
    if path.exists() and not _writable(path):
        raise AtlasError(f"atlas file {path} is read-only; a sweep writes into it: make it writable "
                         f"(chmod u+w {path}) or use a copy (show, query and export read it as it is)")
    if not _writable(parent):
        raise AtlasError(f"directory {parent} is read-only; a sweep writes {path.name} and its journal files "
                         f"({path.name}-wal, {path.name}-shm) there: choose a --db path in a writable directory")


def _owner() -> tuple[str, str, int]:
    """(owner id, host, pid) of this process's claims; the random part tells a reused pid apart."""
    host, pid = socket.gethostname(), os.getpid()
    return f"{host}:{pid}:{os.urandom(4).hex()}", host, pid


@dataclass
class Claim:
    """A spec's missing invariants, split by who computes them."""

    mine: list[str]  # claimed now by this sweep: compute them
    busy: dict[str, str]  # invariant -> owner of a live claim by another sweep
    taken_over: dict[str, str]  # invariant -> owner of the stale claim this sweep took over


class Atlas:
    """An open atlas database (use as a context manager or call ``close``).

    ``create``: make a new atlas if the file does not exist (else refuse).  ``readonly``: open for
    reading only (show, query, export): works on a read-only file or directory, never writes.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, create: bool = True, readonly: bool = False):
        self.path = Path(path) if path is not None else default_path()
        self.readonly = readonly
        self.owner, self.host, self.pid = _owner()
        _check_file(self.path)
        exists = self.path.exists() and self.path.stat().st_size > 0
        if not exists and (not create or readonly):
            raise AtlasError(f"no atlas at {self.path}; run `neuromanifold atlas sweep ... --db {self.path}` first")
        if not readonly:
            _check_writable(self.path, default=path is None and not os.environ.get("NEUROMANIFOLD_ATLAS"))
        try:
            if readonly:
                self._open_readonly()
            else:
                self.conn = sqlite3.connect(str(self.path), timeout=120.0, isolation_level=None)
                self._validate(exists)
        except sqlite3.OperationalError as exc:
            if "readonly" in str(exc) or "read-only" in str(exc):
                raise AtlasError(f"atlas {self.path} is read-only ({exc}); a sweep writes into it: choose a "
                                 "writable --db path (show, query and export read it as it is)") from None
            raise AtlasError(f"{self.path} cannot be opened ({exc}); it was not modified. Check the path and "
                             "its permissions or choose another --db path") from None
        except sqlite3.DatabaseError as exc:
            raise AtlasError(
                f"{self.path} is damaged or not an atlas database ({exc}); it was not modified. "
                "Move it away or choose another --db path"
            ) from None

    def _open_readonly(self) -> None:
        """Open with mode=ro; a WAL file in a read-only directory (no -shm can be made) needs immutable=1."""
        uri = self.path.resolve().as_uri()
        try:
            self.conn = sqlite3.connect(uri + "?mode=ro", uri=True, timeout=120.0, isolation_level=None)
            self._check_schema()
        except sqlite3.OperationalError:
            self.conn = sqlite3.connect(uri + "?immutable=1", uri=True, isolation_level=None)
            self._check_schema()

    def _check_schema(self) -> None:
        """Refuse a foreign, damaged or newer file (reads only)."""
        c = self.conn
        app = c.execute("PRAGMA application_id").fetchone()[0]
        if app != APPLICATION_ID:
            c.close()
            raise AtlasError(
                f"{self.path} is an SQLite database but not a neuromanifold atlas; it was not modified. "
                "Choose another --db path"
            )
        check = c.execute("PRAGMA quick_check").fetchall()
        if [r[0] for r in check] != ["ok"]:
            c.close()
            raise AtlasError(
                f"{self.path} is damaged (SQLite quick_check: {check[0][0]}); it was not modified. "
                "Restore it from a copy or choose another --db path"
            )
        version = c.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            c.close()
            raise AtlasError(
                f"{self.path} has atlas schema {version}, newer than this neuromanifold's "
                f"{SCHEMA_VERSION}; upgrade neuromanifold"
            )

    def _validate(self, exists: bool) -> None:
        """Check (or create) the schema under a write lock, so concurrent first opens serialise;
        an atlas of schema 1 gets the claims table, one of schema 1 or 2 the provenance column."""
        c = self.conn
        c.execute("PRAGMA busy_timeout = 120000")
        c.execute("BEGIN IMMEDIATE")
        try:
            app = c.execute("PRAGMA application_id").fetchone()[0]
            n_objects = c.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if app == 0 and n_objects == 0:  # a new (or still empty) file: make it an atlas
                c.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        c.execute(statement)
                c.execute("INSERT OR IGNORE INTO meta VALUES ('created', ?)", (_now(),))
            else:
                self._check_schema()
                if c.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                    c.execute(CLAIMS_SCHEMA)
                    if "provenance" not in {r[1] for r in c.execute("PRAGMA table_info(results)")}:
                        c.execute(PROVENANCE_COLUMN)
                    c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            c.execute("COMMIT")
        except BaseException:
            try:
                c.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            c.close()
            raise
        c.execute("PRAGMA journal_mode = WAL")  # persistent; lets readers and one writer work at once

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Atlas":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------------
    def put(self, spec: str, family: str, n_params: int, invariant: str, seed: int, options: dict[str, Any],
            result: dict[str, Any], version: str, *, replace: bool = False, retry_failed: bool = False,
            provenance: dict[str, Any] | None = None) -> bool:
        """Store one invariant's result dict (``Result.to_dict()``) with its ``provenance`` (what computed
        it, ``runtime.provenance.provenance()``); False if a row was kept instead.

        A stored ``interrupted`` (or legacy cut-short) row is always replaced; a ``failed`` one only with
        ``retry_failed`` and by a final result; any row with ``replace``.  An ``interrupted`` result never
        replaces a final one.
        """
        row = (spec, family, int(n_params), invariant, int(seed), options_key(options),
               json.dumps(result["value"]), result["status"], json.dumps(result.get("evidence", {})),
               float(result.get("seconds", 0.0)), version, _now(), json.dumps(provenance or {}, sort_keys=True))
        if replace:
            cur = self.conn.execute(f"INSERT OR REPLACE INTO results ({', '.join(COLUMNS)}) VALUES ({MARKS})", row)
            return cur.rowcount > 0
        sets = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[6:])
        cur = self.conn.execute(
            f"INSERT INTO results ({', '.join(COLUMNS)}) VALUES ({MARKS}) "
            f"ON CONFLICT (spec, invariant, seed, options) DO UPDATE SET {sets} "
            f"WHERE results.status = '{NOT_FINAL}' OR ({_legacy('results.')}) "
            f"OR (? AND results.status = 'failed' AND excluded.status != '{NOT_FINAL}')",
            row + (int(bool(retry_failed)),),
        )
        return cur.rowcount > 0

    # -- claims ----------------------------------------------------------------------------------
    def claim(self, spec: str, names: list[str], seed: int, options: dict[str, Any], *, retry_failed: bool = False,
              since: str | None = None, stale_after: float = STALE_AFTER) -> Claim:
        """Atomically (``BEGIN IMMEDIATE``) claim the invariants of ``names`` for ``spec`` that are neither
        stored as final results nor claimed by a live sweep.  With ``retry_failed`` a ``failed`` row
        written before ``since`` (the sweep's start, ``_now()`` format) counts as missing.  A claim is
        stale when its owner process is gone (same host) or its heartbeat is older than ``stale_after``."""
        key = (spec, int(seed), options_key(options))
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            final = {i for (i,) in c.execute(
                f"SELECT invariant FROM results WHERE spec = ? AND seed = ? AND options = ? "
                f"AND status != '{NOT_FINAL}' AND NOT ({_legacy('')}) "
                "AND NOT (? AND status = 'failed' AND created < ?)",
                key + (int(bool(retry_failed)), since or ""))}
            missing = [n for n in names if n not in final]
            held = {i: (o, h, p, hb) for i, o, h, p, hb in c.execute(
                "SELECT invariant, owner, host, pid, heartbeat FROM claims WHERE spec = ? AND seed = ? AND options = ?",
                key)}
            mine, busy, taken = [], {}, {}
            now = time.time()
            for n in missing:
                if n in held and held[n][0] != self.owner:
                    owner, host, pid, beat = held[n]
                    if (host != self.host or alive(pid)) and now - beat <= stale_after:
                        busy[n] = owner
                        continue
                    taken[n] = owner
                c.execute("INSERT OR REPLACE INTO claims VALUES (?,?,?,?,?,?,?,?,?)",
                          key[:1] + (n,) + key[1:] + (self.owner, self.host, self.pid, now, now))
                mine.append(n)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return Claim(mine, busy, taken)

    def release(self, spec: str | None = None) -> None:
        """Drop this sweep's claims (of one spec, or all)."""
        if spec is None:
            self.conn.execute("DELETE FROM claims WHERE owner = ?", (self.owner,))
        else:
            self.conn.execute("DELETE FROM claims WHERE owner = ? AND spec = ?", (self.owner, spec))

    def heartbeat(self) -> None:
        """Mark this sweep's claims alive (called from a background thread through its own connection)."""
        conn = sqlite3.connect(str(self.path), timeout=10.0, isolation_level=None)
        try:
            conn.execute("UPDATE claims SET heartbeat = ? WHERE owner = ?", (time.time(), self.owner))
        finally:
            conn.close()

    # -- reading ---------------------------------------------------------------------------------
    def done(self, seed: int, options: dict[str, Any], *, retry_failed: bool = False) -> set[tuple[str, str]]:
        """(spec, invariant) pairs stored as final results for this seed and options."""
        sql = (f"SELECT spec, invariant FROM results WHERE seed = ? AND options = ? "
               f"AND status != '{NOT_FINAL}' AND NOT ({_legacy('')})")
        if retry_failed:
            sql += " AND status != 'failed'"
        return {(s, i) for s, i in self.conn.execute(sql, (int(seed), options_key(options)))}

    def rows(self, *, family: str | None = None, invariant: str | Iterable[str] | None = None,
             status: str | Iterable[str] | None = None, spec: str | None = None) -> Rows:
        """Stored rows, filtered (``spec`` is a substring match), ordered by family, size and spec (a ``Rows``:
        a list that renders as a table in Jupyter)."""
        where, args = [], []
        for col, val in (("family", family), ("invariant", invariant), ("status", status)):
            if val is None:
                continue
            vals = [val] if isinstance(val, str) else list(val)
            where.append(f"{col} IN ({','.join('?' * len(vals))})")
            args += vals
        if spec:
            where.append("instr(spec, ?) > 0")
            args.append(spec)
        columns = self._columns()
        sql = f"SELECT {', '.join(columns)} FROM results" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY family, n_params, spec, invariant, seed, options"
        try:
            raw = self.conn.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise AtlasError(f"{self.path} could not be read ({exc}); it was not modified") from None
        out = Rows()
        for r in raw:
            d = dict(zip(columns, r))
            for c in ("options", "value", "evidence", "provenance"):
                if c in d:
                    d[c] = json.loads(d[c])
            out.append(Row(**d))
        return out

    def _columns(self) -> tuple[str, ...]:
        """The columns of COLUMNS this file has (an atlas of schema < 3 opened read-only lacks provenance)."""
        have = {r[1] for r in self.conn.execute("PRAGMA table_info(results)")}
        return tuple(c for c in COLUMNS if c in have)

    def content(self) -> list[tuple[Any, ...]]:
        """Every row without what depends on the clock (time taken, time written, and the timings
        inside the evidence): two atlases of the same computations have equal contents."""
        cols = [c for c in COLUMNS if c not in VOLATILE]
        raw = self.conn.execute(f"SELECT {', '.join(cols)} FROM results ORDER BY spec, invariant, seed, options")
        ev = cols.index("evidence")
        return [r[:ev] + (json.dumps(_untimed(json.loads(r[ev])), sort_keys=True),) + r[ev + 1:] for r in raw]


def _untimed(x: Any) -> Any:
    """Drop the timing entries (keys starting with 'seconds') from nested evidence."""
    if isinstance(x, dict):
        return {k: _untimed(v) for k, v in x.items() if not str(k).startswith("seconds")}
    if isinstance(x, list):
        return [_untimed(v) for v in x]
    return x


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# -- tables and exports (pure functions of rows; their text and HTML: report.atlas) ---------------
def pivot(rows: list[Row]) -> tuple[list[str], list[tuple[str, dict[str, Row]]]]:
    """Rows -> (invariant columns, [(spec, {invariant: row})]) keeping row order; seeds/options must agree."""
    invariants: list[str] = []
    table: dict[str, dict[str, Row]] = {}
    for r in rows:
        if r.invariant not in invariants:
            invariants.append(r.invariant)
        table.setdefault(r.spec, {})[r.invariant] = r
    return invariants, list(table.items())


def to_csv(rows: list[Row]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(COLUMNS)
    for r in rows:
        d = r.to_dict()
        w.writerow([json.dumps(d[c]) if c in ("options", "value", "evidence", "provenance") else d[c] for c in COLUMNS])
    return buf.getvalue()


def to_json(rows: list[Row]) -> str:
    return json.dumps([r.to_dict() for r in rows], indent=2)

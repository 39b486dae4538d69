"""The atlas database: one SQLite file of invariants, one row per (spec, invariant, seed, options).

Safe to share: WAL journal and a busy timeout let several sweeps write into one file at once (each
result is one short transaction; a row computed twice is kept once).  A file that is not an atlas
(another SQLite database, a truncated or damaged file, any other file) is detected on opening with a
message naming the path, and is never modified.
"""

from __future__ import annotations

import csv
import datetime as _dt
import html
import io
import json
import os
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..errors import InputError

APPLICATION_ID = 0x4E4D4154  # "NMAT"
SCHEMA_VERSION = 1
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
    PRIMARY KEY (spec, invariant, seed, options)
);
CREATE INDEX IF NOT EXISTS results_family ON results (family, invariant, status);
"""

COLUMNS = ("spec", "family", "n_params", "invariant", "seed", "options", "value", "status", "evidence",
           "seconds", "version", "created")
# columns that depend on the machine and the clock, not on the mathematics
VOLATILE = ("seconds", "created")


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

    def to_dict(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in COLUMNS}


def _check_file(path: Path) -> None:
    """Refuse (without touching it) a non-empty file that is not SQLite."""
    if not path.exists():
        return
    if path.is_dir():
        raise AtlasError(f"atlas path {path} is a directory; give a file path with --db")
    size = path.stat().st_size
    if size == 0:
        return
    with open(path, "rb") as fh:
        head = fh.read(len(SQLITE_HEADER))
    if head != SQLITE_HEADER:
        raise AtlasError(
            f"{path} is not an atlas database (not SQLite: damaged or another file); it was not modified. "
            "Move it away or choose another --db path"
        )


class Atlas:
    """An open atlas database (use as a context manager or call ``close``)."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, create: bool = True):
        self.path = Path(path) if path is not None else default_path()
        _check_file(self.path)
        exists = self.path.exists() and self.path.stat().st_size > 0
        if not exists and not create:
            raise AtlasError(f"no atlas at {self.path}; run `neuromanifold atlas sweep ... --db {self.path}` first")
        if not exists:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(str(self.path), timeout=120.0, isolation_level=None)
            self._validate(exists)
        except sqlite3.DatabaseError as exc:
            raise AtlasError(
                f"{self.path} is damaged or not an atlas database ({exc}); it was not modified. "
                "Move it away or choose another --db path"
            ) from None

    def _validate(self, exists: bool) -> None:
        """Check (or create) the schema under a write lock, so concurrent first opens serialise."""
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
            elif app != APPLICATION_ID:
                raise AtlasError(
                    f"{self.path} is an SQLite database but not a neuromanifold atlas; it was not modified. "
                    "Choose another --db path"
                )
            else:
                check = c.execute("PRAGMA quick_check").fetchall()
                if [r[0] for r in check] != ["ok"]:
                    raise AtlasError(
                        f"{self.path} is damaged (SQLite quick_check: {check[0][0]}); it was not modified. "
                        "Restore it from a copy or choose another --db path"
                    )
                version = c.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise AtlasError(
                        f"{self.path} has atlas schema {version}, newer than this neuromanifold's "
                        f"{SCHEMA_VERSION}; upgrade neuromanifold"
                    )
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
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
            result: dict[str, Any], version: str, replace: bool = False) -> bool:
        """Store one invariant's result dict (``Result.to_dict()``); False if the row was already there."""
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        cur = self.conn.execute(
            f"{verb} INTO results VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                spec, family, int(n_params), invariant, int(seed), options_key(options),
                json.dumps(result["value"]), result["status"], json.dumps(result.get("evidence", {})),
                float(result.get("seconds", 0.0)), version, _now(),
            ),
        )
        return cur.rowcount > 0

    # -- reading ---------------------------------------------------------------------------------
    def done(self, seed: int, options: dict[str, Any], retry_failed: bool = False) -> set[tuple[str, str]]:
        """(spec, invariant) pairs already stored for this seed and options."""
        sql = "SELECT spec, invariant FROM results WHERE seed = ? AND options = ?"
        if retry_failed:
            sql += " AND status != 'failed'"
        return {(s, i) for s, i in self.conn.execute(sql, (int(seed), options_key(options)))}

    def rows(self, family: str | None = None, invariant: str | Iterable[str] | None = None,
             status: str | Iterable[str] | None = None, spec: str | None = None) -> list[Row]:
        """Stored rows, filtered (``spec`` is a substring match), ordered by family, size and spec."""
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
        sql = "SELECT * FROM results" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY family, n_params, spec, invariant, seed, options"
        try:
            raw = self.conn.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise AtlasError(f"{self.path} could not be read ({exc}); it was not modified") from None
        out = []
        for r in raw:
            d = dict(zip(COLUMNS, r))
            d["options"] = json.loads(d["options"])
            d["value"] = json.loads(d["value"])
            d["evidence"] = json.loads(d["evidence"])
            out.append(Row(**d))
        return out

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


# -- rendering (pure functions of rows) ----------------------------------------------------------
def format_value(value: Any, status: str) -> str:
    """'12 (certified)' -- every printed number with its status."""
    if isinstance(value, (dict, list)):
        text = json.dumps(value, separators=(",", ":"))
        text = text if len(text) <= 40 else text[:37] + "..."
    else:
        text = str(value)
    return f"{text} ({status})"


def pivot(rows: list[Row]) -> tuple[list[str], list[tuple[str, dict[str, Row]]]]:
    """Rows -> (invariant columns, [(spec, {invariant: row})]) keeping row order; seeds/options must agree."""
    invariants: list[str] = []
    table: dict[str, dict[str, Row]] = {}
    for r in rows:
        if r.invariant not in invariants:
            invariants.append(r.invariant)
        table.setdefault(r.spec, {})[r.invariant] = r
    return invariants, list(table.items())


def to_text(rows: list[Row]) -> str:
    if not rows:
        return "(no results)"
    invariants, table = pivot(rows)
    header = ["spec"] + invariants
    body = [[spec] + [format_value(cells[i].value, cells[i].status) if i in cells else "-" for i in invariants]
            for spec, cells in table]
    widths = [max(len(x[j]) for x in [header] + body) for j in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in body]
    return "\n".join(lines)


def to_csv(rows: list[Row]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(COLUMNS)
    for r in rows:
        d = r.to_dict()
        w.writerow([json.dumps(d[c]) if c in ("options", "value", "evidence") else d[c] for c in COLUMNS])
    return buf.getvalue()


def to_json(rows: list[Row]) -> str:
    return json.dumps([r.to_dict() for r in rows], indent=2)


STATUS_COLOURS = {"certified": "#d8f0d8", "numerical": "#fff3c4", "lower_bound": "#e3ecfa",
                  "upper_bound": "#e3ecfa", "failed": "#f6d3d3"}


def to_html(rows: list[Row], title: str = "neuromanifold atlas") -> str:
    """A standalone HTML table (one row per spec, one column per invariant, cells coloured by status)."""
    invariants, table = pivot(rows)
    head = "".join(f"<th>{html.escape(i)}</th>" for i in invariants)
    body = []
    for spec, cells in table:
        tds = []
        for i in invariants:
            r = cells.get(i)
            if r is None:
                tds.append("<td>-</td>")
                continue
            tip = html.escape(json.dumps(r.evidence)[:2000], quote=True)
            tds.append(
                f'<td style="background:{STATUS_COLOURS.get(r.status, "#fff")}" title="{tip}">'
                f"{html.escape(format_value(r.value, r.status))}</td>"
            )
        body.append(f"<tr><td><code>{html.escape(spec)}</code></td>{''.join(tds)}</tr>")
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif}}"
        "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:3px 6px;font-size:13px}"
        "</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{len(table)} architectures; hover a cell for its evidence.</p>"
        f"<table><thead><tr><th>spec</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        "</body></html>\n"
    )

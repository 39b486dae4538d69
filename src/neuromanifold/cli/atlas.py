"""Many architectures at once: ``neuromanifold compare-equivariant`` (a family beside its unconstrained
counterpart) and ``neuromanifold atlas sweep|table|show|query|export``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError
from .common import CLUSTER_METAVAR, DRY_RUN_HELP, Parser, emit, spec_command


def add_parser(sub: Any) -> None:
    from .names import DEFAULT_INVARIANTS
    from .names import ATLAS_MAX_SPECS as MAX_SPECS
    from .names import ATLAS_PRESETS as PRESETS
    from .names import METRICS

    p_ce = spec_command(
        sub, "compare-equivariant", "invariants of an equivariant family (gcnn, mlp(..., equivariant=G)) beside its "
        "unconstrained counterpart", _cmd_compare_equivariant,
    )
    p_ce.add_argument("--only", default=None, help="comma-separated invariants (default: dimension,degree,ed_degree)")
    p_ce.add_argument("--metric", default="generic", choices=list(METRICS), help="metric of ed_degree")
    p_ce.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                      help="seconds per architecture; unfinished invariants keep labelled partial results")
    p_ce.add_argument("--force", action="store_true",
                      help="run degree and ed_degree even when their estimated number of solutions exceeds the cap")
    p_at = sub.add_parser("atlas", help="sweep architecture families into an SQLite atlas; show, query, export")
    at_sub = p_at.add_subparsers(dest="atlas_command", parser_class=Parser, required=True)

    def atlas_command(name: str, help_: str) -> argparse.ArgumentParser:
        p = at_sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--db", default=None, metavar="PATH",
                       help="atlas file (default: $NEUROMANIFOLD_ATLAS or the user data dir); its directory must "
                       "exist, and be writable for sweep and table")
        p.set_defaults(func=_cmd_atlas)
        return p

    def quiet_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--quiet", action="store_true",
                       help="no progress lines on stderr (default: one line per spec, also without a terminal)")

    p_sw = atlas_command("sweep", "compute invariants for every spec of a pattern such as 'mlp(widths=(2..4, 1..5, 1), r=2..3)'; "
                         "resumes where a previous sweep stopped (Ctrl-C exits 130 keeping finished results), and "
                         "concurrent sweeps on one file share the work")
    p_sw.add_argument("patterns", nargs="+", help="spec patterns; a..b ranges over the integers a to b")
    p_sw.add_argument("--only", default=None,
                      help=f"comma-separated invariants (default: {', '.join(DEFAULT_INVARIANTS)})")
    p_sw.add_argument("--seed", type=int, default=0, help="seed of every generic point (default 0)")
    p_sw.add_argument("--metric", default="generic", choices=list(METRICS),
                      help="metric on function space for ed_degree (default generic)")
    p_sw.add_argument("--max-degree", type=int, default=None, metavar="N",
                      help="stop gathering witness points at N (the degree is then a labelled lower bound)")
    p_sw.add_argument("--cluster", default=None, metavar=CLUSTER_METAVAR,
                      help="run on Dask: local (one worker per core), local:N, a scheduler address tcp://host:port, "
                      "or batch jobs slurm:QUEUE[,cores=N,memory=8GB,jobs=N,walltime=HH:MM:SS,account=NAME] / "
                      "pbs:QUEUE[,...] (Dask workers in batch jobs; with --array: a job array of whole sweeps)")
    p_sw.add_argument("--dry-run", action="store_true", help=DRY_RUN_HELP + " (with --array: the job-array script)")
    p_sw.add_argument("--array", type=int, default=None, metavar="N",
                      help="with --cluster slurm:/pbs:, submit a job array of N tasks instead: task I runs this sweep "
                      "with --shard I/N into DIR/shard-I.sqlite, DIR being --db (an existing directory); then "
                      "`atlas merge OUT DIR/shard-*.sqlite`")
    p_sw.add_argument("--shard", default=None, metavar="I/N",
                      help="compute only the I-th of N parts of the (spec, invariant) list (1 <= I <= N; "
                      "the j-th invariant of the k-th spec, from 0, is in part (k + j) mod N + 1)")
    p_sw.set_defaults(job_script=_sweep_job_script)
    p_sw.add_argument("--retry-failed", action="store_true",
                      help="recompute results stored as failed (interrupted ones are always recomputed)")
    p_sw.add_argument("--max-specs", type=int, default=MAX_SPECS, metavar="N",
                      help=f"refuse patterns standing for more than N specs, counted before expanding (default {MAX_SPECS})")
    p_sw.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    quiet_option(p_sw)
    p_tb = atlas_command("table", "regenerate a published table (sweeping what is missing), defects highlighted")
    p_tb.add_argument("preset", choices=list(PRESETS), help="the table: " + "; ".join(f"{k}: {v}" for k, v in PRESETS.items()))
    p_tb.add_argument("--json", action="store_true", help="print the rows as JSON")
    quiet_option(p_tb)
    p_mg = at_sub.add_parser("merge", help="combine atlases (the shards of a job array) into OUT",
                             description="combine the atlases SHARD ... into OUT (created if missing; its rows take "
                             "part): equal results are kept once, a final result replaces an interrupted or failed "
                             "one, and different final results for one (spec, invariant, seed, options) refuse the "
                             "whole merge, leaving OUT unchanged")
    p_mg.add_argument("out", metavar="OUT", help="the atlas to write (its directory must exist)")
    p_mg.add_argument("shards", metavar="SHARD", nargs="+", help="atlas files to merge in, e.g. shards/shard-*.sqlite")
    p_mg.add_argument("--json", action="store_true", help="print the summary as JSON")
    p_mg.set_defaults(func=_cmd_atlas)
    for name, help_ in (("show", "one row per spec, one column per invariant"), ("query", "stored results, one per line"),
                        ("export", "write the selected results as CSV, JSON or an HTML table")):
        p = atlas_command(name, help_)
        p.add_argument("--family", default=None, help="only this family, e.g. mlp")
        p.add_argument("--invariant", default=None, help="only this invariant, e.g. degree")
        p.add_argument("--status", default=None,
                       choices=["certified", "numerical", "lower_bound", "upper_bound", "failed", "interrupted"],
                       help="only results with this status (interrupted: cut short by Ctrl-C, not final)")
        p.add_argument("--spec", default=None, help="only specs containing this text")
        if name == "export":
            p.add_argument("--format", default="csv", choices=["csv", "json", "html"], help="file format (default csv)")
            p.add_argument("--out", default=None, metavar="PATH",
                           help="file to write, or an existing directory (then DIR/atlas.FORMAT); default standard output")
        else:
            p.add_argument("--json", action="store_true", help="print JSON instead of text")


def _cmd_compare_equivariant(args: argparse.Namespace) -> int:
    from ..analysis import AnalysisInterrupted
    from ..atlas.comparison import compare_equivariant
    from ..report.atlas import comparison_text

    try:
        cmp = compare_equivariant(args.spec, only=args.only, seed=args.seed, metric=args.metric, budget=args.budget,
                                  progress=True, force=args.force)  # on stderr, also without a terminal
    except AnalysisInterrupted as exc:  # Ctrl-C: the partial comparison, labelled; exit 130
        emit(args, exc.report, comparison_text)
        print("neuromanifold: interrupted: partial results above", file=sys.stderr)
        return 130
    emit(args, cmp, comparison_text)
    return 0


def _atlas_out(out: str, fmt: str) -> Path:
    """Where ``atlas export --out`` writes: the file given, or DIR/atlas.<fmt> for an existing directory."""
    path = Path(out)
    if path.is_dir():
        return path / f"atlas.{fmt}"
    if not path.parent.is_dir():
        raise InputError(f"--out {out}: directory {path.parent} does not exist; create it first "
                         f"(mkdir -p {path.parent}) or give a file in an existing directory")
    return path


def _sweep_interrupted(exc: Any, args: argparse.Namespace) -> int:
    """Ctrl-C ended an atlas sweep: say what was kept (stderr; the summary as JSON with --json), exit 130."""
    from ..report.atlas import sweep_interrupted_text

    if args.json:
        print(json.dumps(exc.summary.to_dict(), indent=2))
    print(sweep_interrupted_text(exc.summary), file=sys.stderr)
    return 130


def _array_flags(args: argparse.Namespace) -> Path | None:
    """Check --array/--shard against --cluster and --db; the shard directory of --array (else None)."""
    from ..atlas.sweep import parse_shard
    from ..runtime.cluster import JOBQUEUE_FORM, parse_jobqueue

    if args.shard is not None:
        parse_shard(args.shard)
    if args.array is None:
        return None
    if args.array < 1:
        raise InputError(f"--array {args.array}: give the number of array tasks, an integer >= 1")
    if not args.cluster or parse_jobqueue(args.cluster) is None:
        raise InputError(f"--array submits a job array through a batch queue: add --cluster {JOBQUEUE_FORM}")
    if args.shard is not None:
        raise InputError("--array gives every task its own --shard I/N; drop --shard")
    if not args.db or not Path(args.db).is_dir():
        raise InputError(f"--array writes one atlas per task into the directory --db DIR (shard-I.sqlite); "
                         f"give an existing directory (mkdir -p {args.db or 'shards'})")
    return Path(args.db).resolve()


def _sweep_words(args: argparse.Namespace) -> list[str]:
    """The command line of one array task (without --shard and --db), rebuilt option by option."""
    from ..runtime.cluster import parse_jobqueue

    words = ["atlas", "sweep", *args.patterns, "--seed", str(args.seed), "--metric", args.metric,
             "--max-specs", str(args.max_specs)]
    if args.only is not None:
        words += ["--only", args.only]
    if args.max_degree is not None:
        words += ["--max-degree", str(args.max_degree)]
    cores = parse_jobqueue(args.cluster).cores or 1
    if cores > 1:  # the task's cores: one local Dask worker each
        words += ["--cluster", f"local:{cores}"]
    words += [flag for flag, on in (("--retry-failed", args.retry_failed), ("--quiet", args.quiet),
                                    ("--json", args.json)) if on]
    return words


def _sweep_job_script(args: argparse.Namespace) -> str:
    """--dry-run of atlas sweep: the job-array script with --array, else the Dask worker job script."""
    from ..runtime.cluster import array_script, job_script

    shard_dir = _array_flags(args)
    if shard_dir is None:
        return job_script(args.cluster)
    return array_script(args.cluster, _sweep_words(args), args.array, shard_dir)


def _cmd_merge(args: argparse.Namespace) -> int:
    from ..atlas import merge

    summary = merge(args.out, args.shards)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print(f"{summary.rows} results in {summary.out}: {summary.added} added from {len(summary.shards)} "
              f"shard{'s' if len(summary.shards) != 1 else ''}, {summary.identical} found equal in several inputs, "
              f"{summary.superseded} interrupted or failed rows replaced by final results")
    return 0


def _cmd_atlas(args: argparse.Namespace) -> int:
    from .. import atlas as at
    from ..report.atlas import atlas_html, atlas_text, query_text, sweep_text

    if args.atlas_command == "merge":
        return _cmd_merge(args)
    if args.atlas_command == "sweep":
        shard_dir = _array_flags(args)
        if shard_dir is not None:  # a job array of whole sweeps, each on its shard
            from ..runtime.cluster import array_script, submit

            out = submit(array_script(args.cluster, _sweep_words(args), args.array, shard_dir), args.cluster)
            print(f"submitted a job array of {args.array} sweeps ({out}); when they have finished: "
                  f"neuromanifold atlas merge OUT.sqlite {shard_dir}/shard-*.sqlite")
            return 0
        try:
            summary = at.sweep(args.patterns, only=args.only, db=args.db, seed=args.seed, metric=args.metric,
                               max_degree=args.max_degree, cluster=args.cluster, retry_failed=args.retry_failed,
                               progress=not args.quiet, max_specs=args.max_specs, shard=args.shard)
        except at.SweepInterrupted as exc:
            return _sweep_interrupted(exc, args)
        emit(args, summary, lambda s: sweep_text(s, args.db or at.default_path()))
        return 0
    if args.atlas_command == "table":
        from ..atlas.tables import PRESETS, THRESHOLD_PRESETS, defect_rows, preset_invariants, threshold_rows
        from ..report.atlas import defects_text, thresholds_text

        pattern, title = PRESETS[args.preset]
        try:
            at.sweep(pattern, only=list(preset_invariants(args.preset)), db=args.db, progress=not args.quiet)
        except at.SweepInterrupted as exc:
            return _sweep_interrupted(exc, args)
        thresholds = args.preset in THRESHOLD_PRESETS
        with at.Atlas(args.db, create=False, readonly=True) as a:
            rows = (threshold_rows if thresholds else defect_rows)(a, list(at.expand(pattern).specs))
        text = (thresholds_text if thresholds else defects_text)(rows, title)
        print(json.dumps([r.to_dict() for r in rows], indent=2) if args.json else text)
        return 0
    out = _atlas_out(args.out, args.format) if args.atlas_command == "export" and args.out not in (None, "-") else None
    with at.Atlas(args.db, create=False, readonly=True) as a:
        rows = a.rows(family=args.family, invariant=args.invariant, status=args.status, spec=args.spec)
    if args.atlas_command in ("show", "query"):
        print(at.to_json(rows) if args.json else (atlas_text if args.atlas_command == "show" else query_text)(rows))
        return 0
    text = {"csv": at.to_csv, "json": at.to_json, "html": atlas_html}[args.format](rows)  # export
    if out is None:
        sys.stdout.write(text)
    else:
        try:
            out.write_text(text)
        except OSError as exc:
            raise InputError(f"--out {args.out}: cannot write {out} ({exc.strerror or exc}); "
                             "give a writable file path") from None
        print(f"{len(rows)} rows written to {out}")
    return 0

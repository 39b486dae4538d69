"""Command line: ``neuromanifold analyze SPEC`` and ``neuromanifold architectures``.

Thin: parses arguments, calls the library, renders.  Bad input exits with status 2 and one
line on stderr naming the problem and the valid form.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from ..errors import InputError, NeuromanifoldError
from ..report.text import render_text as _render_report


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(2, f"neuromanifold: error: {message} (see --help)\n")


def _text(obj: Any) -> str:
    """Text of an analysis Report (report.text) or of a result object that renders itself."""
    return obj.to_text() if hasattr(obj, "to_text") else _render_report(obj)


def _cmd_architectures(args: argparse.Namespace) -> int:
    from ..architectures import families

    out = []
    for name, cls in families().items():
        params = [
            {"name": p.name, "default": None if p.required else p.default, "required": p.required, "doc": p.doc}
            for p in cls.spec_params
        ]
        out.append({"family": name, "summary": cls.summary, "form": cls.form, "parameters": params})
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    for fam in out:
        print(f"{fam['family']}: {fam['summary']}")
        print(f"  form: {fam['form']}")
        for p in fam["parameters"]:
            default = "required" if p["required"] else f"default {p['default']!r}"
            print(f"    {p['name']:<11} {default:<21} {p['doc']}")
        print()
    return 0


def _cmd_analyze_torch(args: argparse.Namespace) -> int:
    from ..invariants.torch_module import analyze_file

    shape = None
    if args.input_shape:
        try:
            shape = tuple(int(v) for v in args.input_shape.replace("x", ",").split(",") if v.strip())
        except ValueError:
            raise InputError(f"--input-shape {args.input_shape!r}: give integers such as 3 or 2,4") from None
    report = analyze_file(args.torch, input_shape=shape, n_inputs=args.n_inputs, draws=args.draws, init=args.init,
                          seed=args.seed, progress=True)  # on stderr, also without a terminal
    print(json.dumps(report.to_dict(), indent=2) if args.json else _text(report))
    return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    from ..analysis import INVARIANTS, analyze

    if args.torch:
        if args.spec:
            raise InputError("give either an architecture spec or --torch FILE.py:ClassName, not both")
        return _cmd_analyze_torch(args)
    if not args.spec:
        raise InputError("analyze needs an architecture spec, e.g. 'mlp(widths=(2,3,1), r=2)', or --torch FILE.py:ClassName")
    only = args.only
    if args.html and only is None:  # the report shows the whole dictionary
        from ..report.html import dictionary_invariants

        only = dictionary_invariants(list(INVARIANTS))
    if args.html:
        _check_out_path(args.html, "--html", (".html", ".htm"))
    _print_cost_estimates(args, only)
    from ..analysis import AnalysisInterrupted

    try:
        report = analyze(
            args.spec,
            only=only,
            seed=args.seed,
            progress=True,  # on stderr: a bar on a terminal, else a plain line every few seconds
            checkpoint_dir=args.checkpoint_dir,
            max_degree=args.max_degree,
            metric=args.metric,
            budget=args.budget,
            eps=args.eps,
            radius=args.radius,
            law_degree=args.law_degree,
            starts=args.starts,
            force=args.force,
        )
    except AnalysisInterrupted as exc:  # Ctrl-C: print what was computed, labelled, and exit 130
        report = exc.report
        print(json.dumps(report.to_dict(), indent=2) if args.json else _text(report))
        print("neuromanifold: interrupted: partial results above (the cut invariant is labelled, "
              "the others not_computed)" + ("; rerun with the same --checkpoint-dir to resume" if args.checkpoint_dir
                                            else ""), file=sys.stderr)
        return 130
    if args.json:  # the results first: an unwritable --html must not lose them
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(_text(report))
    if args.html:
        from ..report.html import render_html

        _write_text(args.html, "--html", render_html(report))
        if not args.json:
            print(f"\nHTML report written to {args.html}")
    return 0


def _print_cost_estimates(args: argparse.Namespace, only: Any) -> None:
    """Before degree / fiber_points / ed_degree: the upper bound on the solutions to gather, on stderr
    (analyze itself refuses beyond COST_CAP unless --force, --budget or --max-degree)."""
    from ..analysis import resolve_only
    from ..invariants.cost import COST_CAP, GUARDED, cost_estimates
    from ..context import Context

    names = resolve_only(only)
    if not any(n in GUARDED for n in names):
        return
    for e in cost_estimates(Context(args.spec, seed=args.seed), names):
        print(f"neuromanifold: estimate: {e['invariant']} gathers at most {e['bound']:.3g} solutions "
              f"({e['formula']}, deg_theta mu = {e['deg_theta_mu']}, dim = {e['dim']}; cap {COST_CAP:.0e})",
              file=sys.stderr)


def _check_out_path(path: str, option: str, suffixes: tuple[str, ...]) -> None:
    """Refuse, before any computation, an output file with another extension, a directory, or a missing parent."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{option} {path} is a directory; give a file name ending in {' or '.join(suffixes)}")
    if str(p).startswith("/dev/"):
        return  # devices (/dev/stdout, /dev/null): written as they are
    if p.suffix.lower() not in suffixes:
        raise InputError(f"{option} {path}: unsupported extension {p.suffix or '(none)'}; use {', '.join(suffixes)}")


def _check_out_dir(path: str) -> None:
    """The report directory of an experiment, created before the run: one line if it cannot be."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError(f"--out {path} is a file; give a directory (it is created if missing)")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {path}: cannot create the directory ({exc.strerror or exc}); give a writable path") from None


def _write_text(path: str, option: str, text: str) -> None:
    """Write ``text`` to ``path`` (creating its directory); an OSError becomes one line (InputError)."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{option} {path}: cannot write ({exc.strerror or exc}); give a writable file path") from None


def _figure_path(path: str, default_name: str) -> Path:
    """The figure file of --out: PATH itself (.png, .svg or .pdf), or DIR/default_name for an existing directory."""
    p = Path(path)
    if p.is_dir():
        return p / default_name
    _check_out_path(path, "--out", (".png", ".svg", ".pdf"))
    return p


def _save_figure(save: Any, obj: Any, path: Path) -> None:
    """Run the plotting function ``save(obj, path)``; an OSError becomes one line (InputError)."""
    try:
        save(obj, path)
    except OSError as exc:
        raise InputError(f"--out {path}: cannot write the figure ({exc.strerror or exc}); give a writable path") from None


def _cmd_contains(args: argparse.Namespace) -> int:
    from ..invariants.membership import contains

    res = contains(args.spec, args.polynomials if len(args.polynomials) > 1 else args.polynomials[0], seed=args.seed)
    if args.json:
        print(json.dumps(res.to_dict(), indent=2))
    else:
        verdict = {True: "in the closure of M", False: "not in the closure of M", None: "inconclusive"}[res.value]
        dist = res.evidence.get("nearest_relative_distance")
        print(f"{verdict} ({res.status}; nearest witness image at relative distance {dist:.1e})")
    return 0


def _load_array(path: str, what: str) -> "Any":
    import numpy as np

    from ..errors import InputError

    try:
        if path.endswith(".npy"):
            return np.load(path, allow_pickle=False)
        if path.endswith((".csv", ".txt")):
            return np.loadtxt(path, delimiter="," if path.endswith(".csv") else None, ndmin=2)
    except FileNotFoundError:
        raise InputError(f"{what} file {path!r} does not exist") from None
    except ValueError as exc:
        raise InputError(f"could not read {what} from {path!r}: {exc}") from None
    raise InputError(f"{what} file {path!r}: use a .npy, .csv or whitespace-separated .txt file")


def _cmd_critical(args: argparse.Namespace) -> int:
    from ..landscape.critical_points import critical_points

    X = _load_array(args.X, "X")
    Y = _load_array(args.Y, "Y")
    from ..invariants.cost import COST_CAP

    def estimate(e: dict) -> None:  # before solving: the upper bound, on stderr
        print(f"neuromanifold: estimate: critical finds at most {float(e['bound']):.3g} isolated critical points "
              f"(upper bound: {e['formula']}; {e['method']}; cap {COST_CAP:.0e})", file=sys.stderr)

    res = critical_points(args.spec, X, Y, seed=args.seed, progress=not args.quiet, force=args.force,
                          on_estimate=estimate)
    if args.json:
        print(json.dumps(res.to_dict(), indent=2))
    else:
        print(res.to_text())
    return 0


def _cmd_discriminant(args: argparse.Namespace) -> int:
    from ..landscape.discriminant import critical_point_map
    from ..report.plots import plot_critical_point_map

    X = _load_array(args.X, "X")
    Y0, Y1, Y2 = (_load_array(p, name) for p, name in ((args.Y0, "Y0"), (args.Y1, "Y1"), (args.Y2, "Y2")))
    out = _figure_path(args.out, "critical_point_map.png")
    m = critical_point_map(
        args.spec, X, Y0, Y1, Y2, s_range=tuple(args.s), t_range=tuple(args.t), grid=args.grid, seed=args.seed,
        progress=not args.quiet,  # on stderr, also without a terminal
    )
    try:
        fig = plot_critical_point_map(m, out)
        data = m.save(args.data or str(out.with_suffix(".npz")))
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write ({exc.strerror or exc}); give a writable path") from None
    summary = m.summary()
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{summary['architecture']}: {summary['grid'][0]} x {summary['grid'][1]} grid, "
              f"{summary['uncertain_cells']} uncertain cells")
        for f in ("complex_pure", "real_pure", "real", "local_minimum"):
            print(f"  {f:<14} {summary[f + '_values']}  (value: number of cells)")
        print(f"  figure: {fig}\n  data:   {data} (+ {data.with_suffix('.json').name})")
    return 0


def _cmd_voronoi(args: argparse.Namespace) -> int:
    from ..landscape.voronoi import voronoi_masses

    res = voronoi_masses(args.spec, metric=args.metric, n_samples=args.samples, seed=args.seed,
                         progress=not args.quiet)  # on stderr, also without a terminal
    print(json.dumps(res.to_dict(), indent=2) if args.json else res.to_text())
    return 0


def _cmd_slice(args: argparse.Namespace) -> int:
    """A plane (or, with --surface, a 3-space) slice of M's hypersurface: curve, singular points,
    membership in the real image, refined and labelled boundary points; a figure with --out."""
    import numpy as np

    from ..result import jsonable
    from ..slices import plane_slice, surface_slice

    out = _figure_path(args.out, "surface.png" if args.surface else "slice.png") if args.out else None
    sl = (surface_slice if args.surface else plane_slice)(args.spec, seed=args.seed, force=args.force)
    if out is not None:
        from ..report.plots import plot_plane_slice, plot_surface_slice

        _save_figure(plot_surface_slice if args.surface else plot_plane_slice, sl, out)
    sing_in = np.asarray(sl.singular_in_M, dtype=bool)
    if args.json:
        d = {"spec": sl.architecture.spec(), "kind": "surface" if args.surface else "plane", "degree": sl.degree,
             "equation": sl.surface if args.surface else sl.curve,
             "singular": (sl.singular_curve if args.surface else sl.singular_points).tolist(),
             "singular_in_M": sing_in.tolist(), "boundary_points": [b.to_dict() for b in sl.boundary_points],
             "evidence": sl.evidence, "figure": None if out is None else str(out)}
        print(json.dumps(jsonable(d), indent=2))
        return 0
    kind = "3-space y0 + s a + t b + w c" if args.surface else "plane y0 + s a + t b"
    print(f"{sl.architecture.spec()}: hypersurface of degree {sl.degree} (certified; implicit equation exact over Q) "
          f"cut by the {kind} through a real point of M")
    from ..arithmetic.polynomial_text import parse_polynomial

    # the toolkit's own exact equation (str of a sympy polynomial), read back by the whitelist parser
    eq = parse_polynomial(sl.surface if args.surface else sl.curve, ["s", "t", "w"], max_length=None,
                          max_degree=None).evalf(6)  # exact in --json
    print(f"  {'surface f(s,t,w)' if args.surface else 'curve f(s,t)'} = {eq}")
    what = "points of the singular curve" if args.surface else "singular points of the curve"
    print(f"  {what}: {len(sing_in)} ({int(sing_in.sum())} in M, {int((~sing_in).sum())} not; numerical)")
    print(f"  boundary points (where the real {'singular curve' if args.surface else 'curve'} leaves M; numerical, "
          f"refined by bisection): {len(sl.boundary_points)}")
    for line in sl.boundary_summary():
        print(f"    {line}")
    if out is not None:
        print(f"  figure: {out}")
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
    s = exc.summary
    if args.json:
        print(json.dumps(s.to_dict(), indent=2))
    cut = "; ".join(f"{inv} of {spec}" for spec, inv in s.interrupted)
    print(f"neuromanifold: interrupted: {s.computed} results computed and stored"
          + (f"; stored as interrupted (not final, recomputed next time): {cut}" if cut else "")
          + "; run the same command again to resume", file=sys.stderr)
    return 130


def _cmd_atlas(args: argparse.Namespace) -> int:
    from .. import atlas as at

    if args.atlas_command == "sweep":
        try:
            summary = at.sweep(args.patterns, only=args.only, db=args.db, seed=args.seed, metric=args.metric,
                               max_degree=args.max_degree, cluster=args.cluster, retry_failed=args.retry_failed,
                               progress=not args.quiet, max_specs=args.max_specs)
        except at.SweepInterrupted as exc:
            return _sweep_interrupted(exc, args)
        if args.json:
            print(json.dumps(summary.to_dict(), indent=2))
            return 0
        where = args.db or at.default_path()
        print(f"{summary.specs} specs: {summary.computed} results computed, {summary.skipped} already in "
              f"{where}, {summary.elsewhere} computed by concurrent sweeps, {len(summary.failed)} failed, "
              f"{len(summary.invalid)} invalid expansions "
              f"({summary.workers} worker{'s' if summary.workers != 1 else ''})")
        for spec, inv, msg in summary.failed:
            print(f"  failed: {spec} {inv}: {msg}")
        for text, msg in summary.invalid:
            print(f"  invalid: {text}: {msg}")
        return 0
    if args.atlas_command == "table":
        from ..atlas.tables import PRESETS, TABLE_INVARIANTS, defect_rows, render_defects

        pattern, title = PRESETS[args.preset]
        try:
            at.sweep(pattern, only=list(TABLE_INVARIANTS), db=args.db, progress=not args.quiet)
        except at.SweepInterrupted as exc:
            return _sweep_interrupted(exc, args)
        with at.Atlas(args.db, create=False, readonly=True) as a:
            rows = defect_rows(a, list(at.expand(pattern).specs))
        print(json.dumps([r.to_dict() for r in rows], indent=2) if args.json else render_defects(rows, title))
        return 0
    out = _atlas_out(args.out, args.format) if args.atlas_command == "export" and args.out not in (None, "-") else None
    with at.Atlas(args.db, create=False, readonly=True) as a:
        rows = a.rows(family=args.family, invariant=args.invariant, status=args.status, spec=args.spec)
    if args.atlas_command == "show":
        print(at.to_json(rows) if args.json else at.to_text(rows))
    elif args.atlas_command == "query":
        if args.json:
            print(at.to_json(rows))
        else:
            for r in rows:
                print(f"{r.spec}  {r.invariant} = {at.store.format_value(r.value, r.status)}  seed {r.seed}")
            print(f"{len(rows)} rows")
    else:  # export
        text = {"csv": at.to_csv, "json": at.to_json, "html": at.to_html}[args.format](rows)
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


def _cmd_compare_equivariant(args: argparse.Namespace) -> int:
    from ..atlas.comparison import compare_equivariant

    from ..analysis import AnalysisInterrupted

    try:
        cmp = compare_equivariant(args.spec, only=args.only, seed=args.seed, metric=args.metric, budget=args.budget,
                                  progress=True, force=args.force)  # on stderr, also without a terminal
    except AnalysisInterrupted as exc:  # Ctrl-C: the partial comparison, labelled; exit 130
        print(json.dumps(exc.report.to_dict(), indent=2) if args.json else _text(exc.report))
        print("neuromanifold: interrupted: partial results above", file=sys.stderr)
        return 130
    print(json.dumps(cmp.to_dict(), indent=2) if args.json else cmp.to_text())
    return 0


def _cmd_experiment(args: argparse.Namespace) -> int:
    from ..equivariant.experiment import run, write_report

    _check_out_dir(args.out)
    res = run(args.setting, progress=not args.quiet, seeds=args.seeds, epochs=args.epochs,
              n_train=args.n_train, n_test=args.n_test)
    paths = write_report(res, args.out)
    print(paths["markdown"].read_text().split("\n![")[0].rstrip())
    print(f"\nreport: {paths['markdown']}\nfigure: {paths['figure']}\ndata:   {paths['json']}")
    return 0


def _cmd_counterfactuals(args: argparse.Namespace) -> int:
    from ..flows.experiment import run_counterfactuals, write_report

    _check_out_dir(args.out)
    rep = run_counterfactuals(progress=not args.quiet, data=args.data, seed=args.seed, epochs=args.epochs,
                              flow=args.flow, noise=args.noise, starts=args.starts, targets=args.targets)
    paths = write_report(rep, args.out)
    print(paths["markdown"].read_text().split("\n![")[0].rstrip())
    print("\n" + "\n".join(f"{k}: {p}" for k, p in paths.items()))
    return 0


def _cmd_dynamics_experiment(args: argparse.Namespace) -> int:
    """experiment dynamics|ensemble|harmonics (neuromanifold.dynamics): options map onto the config fields."""
    from ..dynamics.experiment import run_experiment, write_report

    opts = {k: v for k, v in vars(args).items() if k.startswith("opt_")}
    opts = {k[4:]: v for k, v in opts.items()}
    for key in ("supports", "groups"):
        if opts.get(key) is not None:
            opts[key] = tuple(s.strip() for s in opts[key].split(",") if s.strip())
    _check_out_dir(args.out)
    res = run_experiment(args.experiment, seed=args.seed, progress=not args.quiet, **opts)
    paths = write_report(args.experiment, res, args.out)
    print(paths["markdown"].read_text().split("\n![")[0].rstrip())
    print("\n" + "\n".join(f"{k}: {p}" for k, p in paths.items()))
    return 0


def _version() -> str:
    """The installed package's version (single source: pyproject.toml, via the package metadata)."""
    from ..version import __version__

    return __version__


_CLUSTER_HELP = ("run path tracking on a Dask cluster: local (a LocalCluster, one worker per core), local:N, "
                 "or a scheduler address tcp://host:8786 (results equal the single-process run)")


def build_parser() -> argparse.ArgumentParser:
    from ..analysis import DEFAULT_INVARIANTS, INVARIANTS
    from ..parametrization.coefficients import METRICS

    parser = _Parser(prog="neuromanifold", description="Geometry of neural-network function spaces, certified.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    p_an = sub.add_parser("analyze", help="compute invariants of an architecture's neuromanifold")
    p_an.add_argument("spec", nargs="?", default=None, help="architecture spec, e.g. 'mlp(widths=(2,3,1), r=2)'")
    p_an.add_argument(
        "--only",
        default=None,
        help=f"comma-separated invariants among: {', '.join(INVARIANTS)} (default: {', '.join(DEFAULT_INVARIANTS)})",
    )
    p_an.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p_an.add_argument("--seed", type=int, default=0, help="seed of every generic point (default 0)")
    p_an.add_argument(
        "--checkpoint-dir",
        default=None,
        help="save monodromy solution sets here after every loop and resume from them (degree, fiber_points)",
    )
    p_an.add_argument(
        "--max-degree",
        type=int,
        default=None,
        help="stop gathering witness points at this many (the degree is then a labelled lower bound)",
    )
    p_an.add_argument(
        "--metric",
        default="generic",
        choices=list(METRICS),
        help="metric on function space for ed_degree: a generic positive-definite form (default), the "
        "Bombieri-Weyl norm, or the plain coefficient norm (Frobenius for linear networks)",
    )
    p_an.add_argument("--html", default=None, metavar="PATH",
                      help="also write a one-page HTML report (default invariants: the whole dictionary)")
    p_an.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                      help="stop after this many seconds: running invariants keep labelled partial results, "
                      "the rest are reported not_computed")
    p_an.add_argument("--eps", type=float, default=None, help="scale of log_covering_number and epsilon_net (default 0.1)")
    p_an.add_argument("--radius", type=float, default=None,
                      help="radius of the ball about 0 in coefficient space for the covering invariants (default 1)")
    p_an.add_argument("--law-degree", type=int, default=None, metavar="K",
                      help="conservation_laws: largest degree of the explicit polynomial laws (default 2; 0: count only)")
    p_an.add_argument("--starts", type=int, default=None, metavar="N",
                      help="subnetwork_conjecture: random starts of the critical- and double-point searches (default 16)")
    p_an.add_argument("--torch", default=None, metavar="FILE.py:CLASS",
                      help="analyze a torch.nn.Module instead of a spec: functional dimension on a finite input set")
    p_an.add_argument("--input-shape", default=None, help="with --torch: shape of one input sample, e.g. 3 or 2,4")
    p_an.add_argument("--n-inputs", type=int, default=None, help="with --torch: number of inputs (default ~2 n_params/out)")
    p_an.add_argument("--draws", type=int, default=20, help="with --torch: random parameter draws (default 20)")
    p_an.add_argument("--init", default="normal", choices=["normal", "module"],
                      help="with --torch: parameter draws i.i.d. N(0,1) or from the layers' reset_parameters")
    p_an.add_argument("--cluster", default=None, metavar="local[:N]|ADDRESS", help=_CLUSTER_HELP)
    p_an.add_argument("--force", action="store_true",
                      help="run degree, fiber_points and ed_degree even when their estimated number of solutions "
                      "exceeds the cap (otherwise give --budget or --max-degree)")
    p_an.set_defaults(func=_cmd_analyze)
    def command(name: str, help_: str, func: Any) -> argparse.ArgumentParser:
        """A subcommand on one architecture spec, with --json and --seed."""
        p = sub.add_parser(name, help=help_)
        p.add_argument("spec", help="architecture spec, e.g. 'mlp(widths=(2,1,1), r=2)'")
        p.add_argument("--json", action="store_true", help="print JSON instead of text")
        p.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
        p.add_argument("--cluster", default=None, metavar="local[:N]|ADDRESS", help=_CLUSTER_HELP)
        p.set_defaults(func=func)
        return p

    def quiet(p: argparse.ArgumentParser) -> None:
        p.add_argument("--quiet", action="store_true",
                       help="no progress lines on stderr (default: a bar on a terminal, else a line every few seconds)")

    p_co = command("contains", "is a polynomial function in the Zariski closure of the neuromanifold?", _cmd_contains)
    p_co.add_argument(
        "polynomials", nargs="+", help="one polynomial per output coordinate in x0, x1, ... e.g. '(x0-2*x1)**3'"
    )
    p_cr = command(
        "critical", "all critical points of the mean-squared loss on a data set: counts, types, global minimum",
        _cmd_critical,
    )
    p_cr.add_argument("X", help="inputs, one sample per row (.npy, .csv or .txt)")
    p_cr.add_argument("Y", help="outputs, one sample per row (.npy, .csv or .txt)")
    p_cr.add_argument("--force", action="store_true",
                      help="solve even when the estimated number of critical points (Bezout number) exceeds the cap")
    quiet(p_cr)
    p_di = command(
        "discriminant", "map the number and types of real critical points over the data family Y0 + s Y1 + t Y2",
        _cmd_discriminant,
    )
    p_di.add_argument("X", help="inputs, one sample per row (.npy, .csv or .txt)")
    p_di.add_argument("Y0", help="targets at (s, t) = (0, 0)")
    p_di.add_argument("Y1", help="direction of s (same shape as Y0)")
    p_di.add_argument("Y2", help="direction of t (same shape as Y0)")
    p_di.add_argument("--s", nargs=2, type=float, default=(-1.0, 1.0), metavar=("LOW", "HIGH"),
                      help="range of s (default -1 1)")
    p_di.add_argument("--t", nargs=2, type=float, default=(-1.0, 1.0), metavar=("LOW", "HIGH"),
                      help="range of t (default -1 1)")
    p_di.add_argument("--grid", type=int, default=41, help="grid points per direction (default 41)")
    p_di.add_argument("--out", default="critical_point_map.png", help="figure (.png, .svg or .pdf)")
    p_di.add_argument("--data", default=None, help="grids (.npz, with a .json summary); default: next to the figure")
    quiet(p_di)
    p_vo = command(
        "voronoi", "Voronoi masses of the strata of M under standard Gaussian targets (exact nearest points)",
        _cmd_voronoi,
    )
    p_vo.add_argument("--samples", type=int, default=1000, help="Gaussian target samples (default 1000)")
    p_vo.add_argument("--metric", default="euclidean", choices=list(METRICS),
                      help="metric on function space of the distance (default euclidean)")
    quiet(p_vo)
    p_sl = command("slice", "a plane (or 3-space) slice of M: its curve, singular points and where the real "
                   "curve leaves M (M is semialgebraic)", _cmd_slice)
    p_sl.add_argument("--surface", action="store_true",
                      help="cut by a 3-space: the singular curve of the surface and its pinch points (slower)")
    p_sl.add_argument("--out", default=None, metavar="PNG", help="write the figure here")
    p_sl.add_argument("--force", action="store_true",
                      help="compute the degree even when its estimated number of solutions exceeds the cap")
    p_ce = command(
        "compare-equivariant", "invariants of an equivariant family (gcnn, mlp(..., equivariant=G)) beside its "
        "unconstrained counterpart", _cmd_compare_equivariant,
    )
    p_ce.add_argument("--only", default=None, help="comma-separated invariants (default: dimension,degree,ed_degree)")
    p_ce.add_argument("--metric", default="generic", choices=list(METRICS), help="metric of ed_degree")
    p_ce.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                      help="seconds per architecture; unfinished invariants keep labelled partial results")
    p_ce.add_argument("--force", action="store_true",
                      help="run degree and ed_degree even when their estimated number of solutions exceeds the cap")
    p_at = sub.add_parser("atlas", help="sweep architecture families into an SQLite atlas; show, query, export")
    at_sub = p_at.add_subparsers(dest="atlas_command", parser_class=_Parser, required=True)

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

    from ..atlas.ranges import MAX_SPECS

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
    p_sw.add_argument("--cluster", default=None, metavar="local[:N]|ADDRESS",
                      help="run on Dask: local (one worker per core), local:N, or a scheduler address tcp://host:port")
    p_sw.add_argument("--retry-failed", action="store_true",
                      help="recompute results stored as failed (interrupted ones are always recomputed)")
    p_sw.add_argument("--max-specs", type=int, default=MAX_SPECS, metavar="N",
                      help=f"refuse patterns standing for more than N specs, counted before expanding (default {MAX_SPECS})")
    p_sw.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    quiet_option(p_sw)
    p_tb = atlas_command("table", "regenerate a published table (sweeping what is missing), defects highlighted")
    from ..atlas.tables import PRESETS

    p_tb.add_argument("preset", choices=list(PRESETS), help="the table: " + "; ".join(f"{k}: {v[1]}" for k, v in PRESETS.items()))
    p_tb.add_argument("--json", action="store_true", help="print the rows as JSON")
    quiet_option(p_tb)
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
    p_ex = sub.add_parser("experiment", help="run an experiment and write a report (markdown, figures, JSON)")
    ex_sub = p_ex.add_subparsers(dest="experiment", parser_class=_Parser, required=True)
    p_eq = ex_sub.add_parser("equivariance", help="equivariant networks versus rotation augmentation on the bundled digits")
    p_eq.add_argument("--setting", choices=["planar", "sphere"], default="planar",
                      help="planar: C4-CNN vs augmented CNN on rotated 8x8 digits; sphere: spherical CNN vs augmented "
                      "planar CNNs (1x, 5x, 25x parameters) on digits projected onto S^2")
    p_eq.add_argument("--seeds", type=int, default=None, help="number of seeds (default 3)")
    p_eq.add_argument("--epochs", type=int, default=None, help="training budget in epochs (planar, default 40: "
                      "epochs over each model's training set, the 90-degree-augmented set counting 4 poses; sphere, "
                      "default 20: epochs of the un-augmented set, the same gradient steps for every model)")
    p_eq.add_argument("--n-train", type=int, default=None, help="training digits per seed")
    p_eq.add_argument("--n-test", type=int, default=None, help="test digits per seed")
    p_eq.add_argument("--out", default="equivariance_report", help="output directory (default ./equivariance_report)")
    quiet(p_eq)
    p_eq.set_defaults(func=_cmd_experiment)
    p_cf = ex_sub.add_parser("counterfactuals", help="diffeomorphic counterfactuals (base space of a normalizing "
                             "flow) vs adversarial examples; the induced metric along the data manifold")
    p_cf.add_argument("--data", choices=["helix", "digits"], default="helix",
                      help="helix: points near a helix in R^3 (exact distances); digits: the bundled 8x8 digits (Glow)")
    p_cf.add_argument("--seed", type=int, default=0, help="seed of data, training and starts (default 0)")
    p_cf.add_argument("--epochs", type=int, default=None, help="flow training epochs (default: helix 100, digits 40)")
    p_cf.add_argument("--flow", choices=["nsf", "realnvp", "glow"], default=None,
                      help="helix: nsf (default) or realnvp (zuko); digits: glow (normflows)")
    p_cf.add_argument("--noise", type=float, default=None, help="helix: noise level (std, default 0.05)")
    p_cf.add_argument("--starts", type=int, default=None, help="start points (default: helix 100, digits 10)")
    p_cf.add_argument("--targets", choices=["adjacent", "random"], default=None,
                      help="helix: target class of each start (default adjacent: nearest other segment)")
    p_cf.add_argument("--out", default="counterfactuals_report", help="output directory (default ./counterfactuals_report)")
    quiet(p_cf)
    p_cf.set_defaults(func=_cmd_counterfactuals)
    # training dynamics under symmetry (issue 9): option --x-y sets field x_y of the experiment's config
    dyn_options = {
        "dynamics": ("restricted (equivariant) vs augmented training: distance of the layers from E, compatible vs "
                     "incompatible kernel supports (C4, digits)", [
                         ("--seeds", int, "seeds, one run per support each (default 1; ~5-10 min per seed on 2 cores)"),
                         ("--supports", str, "comma-separated 3x3 supports among full, cross, skew, center (default cross,skew)"),
                         ("--reps", str, "hidden channel representation: regular (default) or trivial"),
                         ("--fields", int, "hidden fields (default 2)"),
                         ("--n-train", int, "training digits (default 80)"),
                         ("--weight-decay", float, "L2 coefficient (default 1e-3)"),
                         ("--aug-steps", int, "augmented gradient-descent steps (default 500)"),
                         ("--perturbation", float, "relative size of the perturbation off E (default 1e-6)")]),
        "ensemble": ("deep ensembles trained with full C4 augmentation: invariance of the ensemble mean vs size and "
                     "training time, test and noise inputs, and the NTK (digits)", [
                         ("--members", int, "ensemble members trained at once (default 32)"),
                         ("--width", int, "MLP width (default 64)"),
                         ("--steps", int, "SGD steps (default 1000)"),
                         ("--lr", float, "learning rate (default 0.05)"),
                         ("--n-train", int, "training digits (default 500)"),
                         ("--n-test", int, "test digits (default 200)")]),
        "harmonics": ("invariant power-spectral networks on C_n, products, dihedral groups: distance of the weights "
                      "from the irreps, Cayley table recovered from the weights", [
                          ("--seeds", int, "seeds per group (default 3)"),
                          ("--groups", str, "comma-separated groups, e.g. C5,C8,C2xC3,D3 (default)"),
                          ("--steps", int, "Adam steps (default 1500)"),
                          ("--lr", float, "Adam learning rate (default 0.01)"),
                          ("--reg", float, "weight of the unitarity penalty (default 3)"),
                          ("--loss", str, "expected (closed-form average over inputs, default) or sampled pairs")]),
    }
    for name, (help_, options) in dyn_options.items():
        p = ex_sub.add_parser(name, help=help_)
        p.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
        for flag, typ, h in options:
            p.add_argument(flag, type=typ, default=None, dest="opt_" + flag[2:].replace("-", "_"),
                           metavar=flag[2:].upper().replace("-", "_"), help=h)
        if name == "ensemble":
            p.add_argument("--no-control", action="store_false", default=None, dest="opt_control",
                           help="skip the ensemble trained without augmentation")
        p.add_argument("--out", default=f"{name}_report", help=f"output directory (default ./{name}_report)")
        quiet(p)
        p.set_defaults(func=_cmd_dynamics_experiment)
    p_ar = sub.add_parser("architectures", help="list the architecture families, their parameters and defaults")
    p_ar.add_argument("--json", action="store_true", help="print JSON instead of text")
    p_ar.set_defaults(func=_cmd_architectures)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        if args.command != "atlas" and getattr(args, "cluster", None):  # atlas sweeps hand out whole invariants
            from ..runtime.cluster import using

            with using(args.cluster):
                return args.func(args)
        return args.func(args)
    except NeuromanifoldError as exc:
        print(f"neuromanifold: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a file the command reads or writes (disk full, permissions): one line
        if exc.filename is None and exc.strerror is None:
            raise
        where = f" {exc.filename}" if exc.filename else ""
        print(f"neuromanifold: error: cannot access{where}: {exc.strerror or exc}; check the path and free space",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("neuromanifold: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

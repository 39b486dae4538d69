"""The loss landscape and slices of M: ``neuromanifold critical``, ``discriminant``, ``voronoi``, ``slice``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import InputError
from .common import emit, figure_path, load_array, quiet, save_figure, spec_command


def add_parser(sub: Any) -> None:
    from .names import METRICS

    p_cr = spec_command(
        sub, "critical", "all critical points of the mean-squared loss on a data set: counts, types, global minimum",
        _cmd_critical,
    )
    p_cr.add_argument("X", help="inputs, one sample per row (.npy, .csv or .txt)")
    p_cr.add_argument("Y", help="outputs, one sample per row (.npy, .csv or .txt)")
    p_cr.add_argument("--force", action="store_true",
                      help="solve even when the estimated number of critical points (Bezout number) exceeds the cap")
    p_cr.add_argument("--certify", action="store_true",
                      help="certify every critical point with interval arithmetic (a box with exactly one regular "
                      "critical point; real or not; pure or not); the counts then say how many were certified")
    quiet(p_cr)
    p_di = spec_command(
        sub, "discriminant", "map the number and types of real critical points over the data family Y0 + s Y1 + t Y2",
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
    p_di.add_argument("--certify", action="store_true",
                      help="certify every critical point of every cell with interval arithmetic; the summary then "
                      "counts the certified (real) points per cell")
    quiet(p_di)
    p_vo = spec_command(
        sub, "voronoi", "Voronoi masses of the strata of M under standard Gaussian targets (exact nearest points)",
        _cmd_voronoi,
    )
    p_vo.add_argument("--samples", type=int, default=1000, help="Gaussian target samples (default 1000)")
    p_vo.add_argument("--metric", default="euclidean", choices=list(METRICS),
                      help="metric on function space of the distance (default euclidean)")
    quiet(p_vo)
    p_sl = spec_command(sub, "slice", "a plane (or 3-space) slice of M: its curve, singular points and where the real "
                        "curve leaves M (M is semialgebraic)", _cmd_slice)
    p_sl.add_argument("--surface", action="store_true",
                      help="cut by a 3-space: the singular curve of the surface and its pinch points (slower)")
    p_sl.add_argument("--out", default=None, metavar="PNG", help="write the figure here")
    p_sl.add_argument("--force", action="store_true",
                      help="compute the degree even when its estimated number of solutions exceeds the cap")


def _cmd_critical(args: argparse.Namespace) -> int:
    from ..invariants.cost import COST_CAP
    from ..landscape.critical_points import critical_points
    from ..report.landscape import critical_points_text

    X = load_array(args.X, "X")
    Y = load_array(args.Y, "Y")

    def estimate(e: dict) -> None:  # before solving: the upper bound, on stderr
        print(f"neuromanifold: estimate: critical finds at most {float(e['bound']):.3g} isolated critical points "
              f"(upper bound: {e['formula']}; {e['method']}; cap {COST_CAP:.0e})", file=sys.stderr)

    res = critical_points(args.spec, X, Y, seed=args.seed, progress=not args.quiet, force=args.force,
                          on_estimate=estimate, certify=args.certify)
    emit(args, res, critical_points_text)
    return 0


def _cmd_discriminant(args: argparse.Namespace) -> int:
    from ..landscape.discriminant import critical_point_map
    from ..report.landscape import critical_point_map_text
    from ..report.plots import plot_critical_point_map

    X = load_array(args.X, "X")
    Y0, Y1, Y2 = (load_array(p, name) for p, name in ((args.Y0, "Y0"), (args.Y1, "Y1"), (args.Y2, "Y2")))
    out = figure_path(args.out, "critical_point_map.png")
    m = critical_point_map(
        args.spec, X, Y0, Y1, Y2, s_range=tuple(args.s), t_range=tuple(args.t), grid=args.grid, seed=args.seed,
        progress=not args.quiet,  # on stderr, also without a terminal
        certify=args.certify,
    )
    try:
        fig = plot_critical_point_map(m, out)
        data = m.save(args.data or str(out.with_suffix(".npz")))
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write ({exc.strerror or exc}); give a writable path") from None
    summary = m.summary()
    print(json.dumps(summary, indent=2) if args.json else critical_point_map_text(summary, fig, data))
    return 0


def _cmd_voronoi(args: argparse.Namespace) -> int:
    from ..landscape.voronoi import voronoi_masses
    from ..report.landscape import voronoi_text

    res = voronoi_masses(args.spec, metric=args.metric, n_samples=args.samples, seed=args.seed,
                         progress=not args.quiet)  # on stderr, also without a terminal
    emit(args, res, voronoi_text)
    return 0


def _cmd_slice(args: argparse.Namespace) -> int:
    """A plane (or, with --surface, a 3-space) slice of M's hypersurface: curve, singular points,
    membership in the real image, refined and labelled boundary points; a figure with --out."""
    from ..report.slices import slice_dict, slice_text
    from ..slices import plane_slice, surface_slice

    out = figure_path(args.out, "surface.png" if args.surface else "slice.png") if args.out else None
    sl = (surface_slice if args.surface else plane_slice)(args.spec, seed=args.seed, force=args.force)
    if out is not None:
        from ..report.plots import plot_plane_slice, plot_surface_slice

        save_figure(plot_surface_slice if args.surface else plot_plane_slice, sl, out)
    if args.json:
        print(json.dumps(slice_dict(sl, args.surface, figure=out), indent=2))
    else:
        print(slice_text(sl, args.surface, figure=out))
    return 0

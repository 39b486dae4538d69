"""``neuromanifold analyze`` (a spec, or a torch module with --torch) and ``neuromanifold contains``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import InputError
from .common import CLUSTER_HELP, CLUSTER_METAVAR, DRY_RUN_HELP, check_out_path, emit, spec_command, write_text


def add_parser(sub: Any) -> None:
    from .names import DEFAULT_INVARIANTS, INVARIANT_NAMES, METRICS  # light: no analysis, no numpy

    p_an = sub.add_parser("analyze", help="compute invariants of an architecture's neuromanifold")
    p_an.add_argument("spec", nargs="?", default=None, help="architecture spec, e.g. 'mlp(widths=(2,3,1), r=2)'")
    p_an.add_argument(
        "--only",
        default=None,
        help=f"comma-separated invariants among: {', '.join(INVARIANT_NAMES)} (default: {', '.join(DEFAULT_INVARIANTS)})",
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
    p_an.add_argument("--cluster", default=None, metavar=CLUSTER_METAVAR, help=CLUSTER_HELP)
    p_an.add_argument("--dry-run", action="store_true", help=DRY_RUN_HELP)
    p_an.add_argument("--certify", action="store_true", default=None,
                      help="certify every point that degree, fiber_points and ed_degree report (interval arithmetic: "
                      "a box with exactly one regular solution, real or not, distinct); the evidence counts them")
    p_an.add_argument("--ed-exact", action="store_true", default=None,
                      help="ed_degree: also count exactly over two primes (Groebner basis of the critical ideal over "
                      "GF(p); small cases only, refused with a reason beyond the cost limits)")
    p_an.add_argument("--svd", action=argparse.BooleanOptionalAction, default=None,
                      help="dimension: the supplementary float SVD (numerical rank and singular-value gap); default: "
                      "only up to 2,000 parameters (the certified value never rests on it)")
    p_an.add_argument("--force", action="store_true",
                      help="run degree, fiber_points and ed_degree even when their estimated number of solutions "
                      "exceeds the cap (otherwise give --budget or --max-degree)")
    p_an.set_defaults(func=_cmd_analyze)
    p_co = spec_command(sub, "contains", "is a polynomial function in the Zariski closure of the neuromanifold?",
                        _cmd_contains)
    p_co.add_argument(
        "polynomials", nargs="+", help="one polynomial per output coordinate in x0, x1, ... e.g. '(x0-2*x1)**3'"
    )


def _cmd_analyze_torch(args: argparse.Namespace) -> int:
    from ..invariants.torch_module import analyze_file
    from ..report.text import module_report_text

    shape = None
    if args.input_shape:
        try:
            shape = tuple(int(v) for v in args.input_shape.replace("x", ",").split(",") if v.strip())
        except ValueError:
            raise InputError(f"--input-shape {args.input_shape!r}: give integers such as 3 or 2,4") from None
    report = analyze_file(args.torch, input_shape=shape, n_inputs=args.n_inputs, draws=args.draws, init=args.init,
                          seed=args.seed, progress=True)  # on stderr, also without a terminal
    emit(args, report, module_report_text)
    return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    from ..analysis import INVARIANTS, AnalysisInterrupted, analyze
    from ..report.text import render_text

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
        check_out_path(args.html, "--html", (".html", ".htm"))
    from ..context import Context

    # one Context for the cost estimate and the analysis: the dimension computed for the estimate is reused
    # (options given as None keep their defaults)
    ctx = Context(args.spec, seed=args.seed, options=dict(
        checkpoint_dir=args.checkpoint_dir, max_degree=args.max_degree, metric=args.metric, eps=args.eps,
        radius=args.radius, law_degree=args.law_degree, starts=args.starts, certify=args.certify,
        ed_exact=args.ed_exact, svd=args.svd))
    _print_cost_estimates(ctx, only)
    try:
        report = analyze(
            ctx,
            only=only,
            progress=True,  # on stderr: a bar on a terminal, else a plain line every few seconds
            budget=args.budget,
            force=args.force,
        )
    except AnalysisInterrupted as exc:  # Ctrl-C: print what was computed, labelled, and exit 130
        emit(args, exc.report, render_text)
        print("neuromanifold: interrupted: partial results above (the cut invariant is labelled, "
              "the others not_computed)" + ("; rerun with the same --checkpoint-dir to resume" if args.checkpoint_dir
                                            else ""), file=sys.stderr)
        return 130
    emit(args, report, render_text)  # the results first: an unwritable --html must not lose them
    if args.html:
        from ..report.html import render_html

        write_text(args.html, "--html", render_html(report))
        if not args.json:
            print(f"\nHTML report written to {args.html}")
    return 0


def _print_cost_estimates(ctx: Any, only: Any) -> None:
    """Before degree / fiber_points / ed_degree: the upper bound on the solutions to gather, on stderr
    (analyze itself refuses beyond COST_CAP unless --force, --budget or --max-degree)."""
    from ..analysis import resolve_only
    from ..invariants.cost import COST_CAP, GUARDED, cost_estimates

    names = resolve_only(only)
    if not any(n in GUARDED for n in names):
        return
    for e in cost_estimates(ctx, names):
        print(f"neuromanifold: estimate: {e['invariant']} gathers at most {e['bound']:.3g} solutions "
              f"({e['formula']}, deg_theta mu = {e['deg_theta_mu']}, dim = {e['dim']}; cap {COST_CAP:.0e})",
              file=sys.stderr)


def _cmd_contains(args: argparse.Namespace) -> int:
    from ..invariants.membership import contains
    from ..report.text import membership_text

    res = contains(args.spec, args.polynomials if len(args.polynomials) > 1 else args.polynomials[0], seed=args.seed)
    emit(args, res, membership_text)
    return 0


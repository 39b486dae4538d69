"""``neuromanifold export SPEC --system degree|ed|critical --format m2|hc|bertini|phc``: the polynomial system the
toolkit solves, written for another solver (``exports``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import InputError
from .common import load_array, write_text

SYSTEMS = ("degree", "ed", "critical")  # = exports.systems.SYSTEMS (not imported: the parser stays light)
FORMATS = ("m2", "hc", "bertini", "phc")  # = exports.formats.FORMATS


def add_parser(sub: Any) -> None:
    from .names import METRICS

    p = sub.add_parser(
        "export", help="write the polynomial system behind the degree, the ED degree or the critical points of the "
        "loss for Macaulay2, HomotopyContinuation.jl, Bertini or PHCpack")
    p.add_argument("spec", help="architecture spec, e.g. 'attention(d=2, dout=1, a=2, t=2)'")
    p.add_argument("--system", required=True, metavar="|".join(SYSTEMS),
                   help="degree: M cut by a generic linear space; ed: critical points of the squared distance to a "
                   "data point (--metric); critical: critical points of the mean-squared loss on a data set")
    p.add_argument("--format", required=True, metavar="|".join(FORMATS), dest="fmt",
                   help="m2: Macaulay2 script; hc: Julia script for HomotopyContinuation.jl; bertini: Bertini input "
                   "file; phc: PHCpack input file (phc -b)")
    p.add_argument("-o", "--output", default=None, metavar="PATH", help="write here (default: standard output)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the slice and of every random number in the system (default 0)")
    p.add_argument("--metric", default="generic", metavar="|".join(METRICS),
                   help="metric of the ed system (default generic)")
    p.add_argument("--X", default=None, metavar="FILE",
                   help="critical: inputs, one sample per row (.npy, .csv or .txt); default a random integer data set")
    p.add_argument("--Y", default=None, metavar="FILE", help="critical: outputs, one sample per row")
    p.set_defaults(func=_cmd_export)


def _check(args: argparse.Namespace) -> None:
    """Every choice checked before any computation: one line naming what to change."""
    from .names import METRICS

    if args.system not in SYSTEMS:
        raise InputError(f"unknown --system {args.system!r}; choose one of {', '.join(SYSTEMS)}")
    if args.fmt not in FORMATS:
        raise InputError(f"unknown --format {args.fmt!r}; choose one of {', '.join(FORMATS)}")
    if args.metric not in METRICS:
        raise InputError(f"unknown --metric {args.metric!r}; choose one of {', '.join(METRICS)}")
    if args.system != "ed" and args.metric != "generic":
        raise InputError(f"--metric applies to --system ed only (not {args.system}); drop it or use --system ed")
    if (args.X is not None or args.Y is not None) and args.system != "critical":
        raise InputError("--X/--Y (a data set) apply to --system critical only; drop them or use --system critical")
    if (args.X is None) != (args.Y is None):
        raise InputError("give both --X and --Y (a data set), or neither (a random integer data set)")
    if args.output is not None:
        from pathlib import Path

        if Path(args.output).is_dir():
            raise InputError(f"--output {args.output} is a directory; give a file name")


def _cmd_export(args: argparse.Namespace) -> int:
    _check(args)
    from ..exports import build_system, write_system

    X = load_array(args.X, "X") if args.X is not None else None
    Y = load_array(args.Y, "Y") if args.Y is not None else None
    es = build_system(args.spec, args.system, seed=args.seed, metric=args.metric, X=X, Y=Y)
    text = write_system(es, args.fmt)
    if args.output is None:
        sys.stdout.write(text)
    else:
        write_text(args.output, "--output", text)
        print(f"neuromanifold: wrote the {args.system} system of {es.spec} ({len(es.unknowns)} equations, "
              f"{es.n_terms} terms, Bezout number {es.bezout_number()}) for {args.fmt} to {args.output}",
              file=sys.stderr)
    return 0

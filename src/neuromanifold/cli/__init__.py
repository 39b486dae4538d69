"""Command line: ``neuromanifold analyze SPEC``, ``neuromanifold architectures`` and the other commands.

Thin: parses arguments, calls the library, hands the results to report/.  One module per command group
(``analyze``: analyze, contains; ``landscape``: critical, discriminant, voronoi, slice; ``atlas``:
compare-equivariant, atlas; ``experiments``: experiment ...; ``export``: export; ``architectures``), each adding its
subcommands in ``add_parser``; ``common`` holds what they share.  Bad input exits with status 2 and one
line on stderr naming the problem and the valid form.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from ..errors import NeuromanifoldError
from . import analyze, architectures, atlas, experiments, export, landscape
from .common import Parser
from .common import figure_path as _figure_path  # noqa: F401 (tests check the figure path rule here)


def _version() -> str:
    """The installed package's version (single source: pyproject.toml, via the package metadata)."""
    from ..version import __version__

    return __version__


class _VersionAction(argparse.Action):
    """``--version``: reads the package metadata only when asked (importlib.metadata costs ~40 ms of every
    command's start-up otherwise)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)  # type: ignore[arg-type]

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        print(f"{parser.prog} {_version()}")  # stdout, like argparse's own version action
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="neuromanifold", description="Geometry of neural-network function spaces, certified.")
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    for group in (analyze, landscape, export, atlas, experiments, architectures):  # the order of --help
        group.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        if getattr(args, "dry_run", False):  # --cluster slurm:/pbs: job script, nothing computed
            from .common import dry_run

            return dry_run(args)
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

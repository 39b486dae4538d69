"""What the command groups share: the parser class, the options every spec command has, output paths
checked before any computation, and the one place results go out (JSON, or the text from report/)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any, Callable

from ..errors import InputError

CLUSTER_HELP = ("run path tracking on a Dask cluster: local (a LocalCluster, one worker per core), local:N, "
                "a scheduler address tcp://host:8786, or batch jobs slurm:QUEUE[,cores=N,memory=8GB,jobs=N,"
                "walltime=HH:MM:SS,account=NAME] (pbs:QUEUE[,...] likewise; dask-jobqueue) "
                "(results equal the single-process run)")
CLUSTER_METAVAR = "local[:N]|ADDRESS|slurm:QUEUE[,...]|pbs:QUEUE[,...]"
DRY_RUN_HELP = ("with --cluster slurm:/pbs:, print the batch job script that would be submitted and exit "
                "(nothing is computed or submitted)")


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(2, f"neuromanifold: error: {message} (see --help)\n")


def spec_command(sub: Any, name: str, help_: str, func: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
    """A subcommand on one architecture spec, with --json, --seed and --cluster."""
    p = sub.add_parser(name, help=help_)
    p.add_argument("spec", help="architecture spec, e.g. 'mlp(widths=(2,1,1), r=2)'")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    p.add_argument("--cluster", default=None, metavar=CLUSTER_METAVAR, help=CLUSTER_HELP)
    p.add_argument("--dry-run", action="store_true", help=DRY_RUN_HELP)
    p.set_defaults(func=func)
    return p


def dry_run(args: argparse.Namespace) -> int:
    """``--dry-run``: print the job script of ``--cluster slurm:/pbs:`` (a command's own ``job_script(args)``
    when it sets one, e.g. atlas sweep's job array) and exit 0 without computing or submitting."""
    from ..runtime.cluster import job_script

    if not getattr(args, "cluster", None):
        raise InputError("--dry-run prints the batch job script of --cluster slurm:QUEUE[,...] or pbs:QUEUE[,...]; "
                         "add one, or drop --dry-run")
    make = getattr(args, "job_script", None)
    print(make(args) if make is not None else job_script(args.cluster), end="")
    return 0


def quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true",
                   help="no progress lines on stderr (default: a bar on a terminal, else a line every few seconds)")


def emit(args: argparse.Namespace, obj: Any, text: Callable[[Any], str]) -> None:
    """Print ``obj.to_dict()`` as JSON with --json, else ``text(obj)`` (a renderer of report/)."""
    print(json.dumps(obj.to_dict(), indent=2) if args.json else text(obj))


def check_out_path(path: str, option: str, suffixes: tuple[str, ...]) -> None:
    """Refuse, before any computation, an output file with another extension, a directory, or a missing parent."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{option} {path} is a directory; give a file name ending in {' or '.join(suffixes)}")
    if str(p).startswith("/dev/"):
        return  # devices (/dev/stdout, /dev/null): written as they are
    if p.suffix.lower() not in suffixes:
        raise InputError(f"{option} {path}: unsupported extension {p.suffix or '(none)'}; use {', '.join(suffixes)}")


def check_out_dir(path: str) -> None:
    """The report directory of an experiment, created before the run: one line if it cannot be."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError(f"--out {path} is a file; give a directory (it is created if missing)")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {path}: cannot create the directory ({exc.strerror or exc}); give a writable path") from None


def write_text(path: str, option: str, text: str) -> None:
    """Write ``text`` to ``path`` (creating its directory).  A regular (or new) file is written atomically: a
    temporary file beside it, renamed into place, so Ctrl-C or a full disk never leaves a truncated file; anything
    else (a device such as /dev/stdout, a pipe) is written directly.  An OSError becomes one line (InputError)."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() and not target.is_file():
            target.write_text(text, encoding="utf-8")
            return
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise InputError(f"{option} {path}: cannot write ({exc.strerror or exc}); give a writable file path") from None


def figure_path(path: str, default_name: str) -> Path:
    """The figure file of --out: PATH itself (.png, .svg or .pdf), or DIR/default_name for an existing directory."""
    p = Path(path)
    if p.is_dir():
        return p / default_name
    check_out_path(path, "--out", (".png", ".svg", ".pdf"))
    return p


def save_figure(save: Any, obj: Any, path: Path) -> None:
    """Run the plotting function ``save(obj, path)``; an OSError becomes one line (InputError)."""
    try:
        save(obj, path)
    except OSError as exc:
        raise InputError(f"--out {path}: cannot write the figure ({exc.strerror or exc}); give a writable path") from None


def load_array(path: str, what: str) -> Any:
    """A data matrix from a .npy, .csv or whitespace-separated .txt file; one line (InputError) if it cannot be read."""
    import numpy as np

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

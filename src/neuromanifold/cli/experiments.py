"""``neuromanifold experiment equivariance|counterfactuals|dynamics|ensemble|harmonics|landscape``: run a torch
experiment, write its report directory (markdown, figures, JSON) and print the report's tables."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import Parser, check_out_dir, quiet

# training dynamics under symmetry (issue 9): option --x-y sets field x_y of the experiment's config
DYNAMICS_OPTIONS = {
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


def add_parser(sub: Any) -> None:
    p_ex = sub.add_parser("experiment", help="run an experiment and write a report (markdown, figures, JSON)")
    ex_sub = p_ex.add_subparsers(dest="experiment", parser_class=Parser, required=True)
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
    p_eq.set_defaults(func=_cmd_equivariance)
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
    for name, (help_, options) in DYNAMICS_OPTIONS.items():
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
        p.set_defaults(func=_cmd_dynamics)
    p_ls = ex_sub.add_parser("landscape", help="regularization study (issue 19): critical points of the mean-squared "
                             "loss over random data sets for small dense, convolutional and attention networks and "
                             "their skip / bias / generic-activation variants; fibers, singular strata, ED degree")
    p_ls.add_argument("--seed", type=int, default=0, help="seed of the data sets and the solves (default 0)")
    p_ls.add_argument("--data-sets", type=int, default=None, help="random data sets per architecture (default 72; "
                      "~12 min on 2 cores)")
    p_ls.add_argument("--samples", type=int, default=None, help="samples per data set (default: max(10, 2 ceil(D / "
                      "outputs)) per architecture)")
    p_ls.add_argument("--architectures", default=None, metavar="SPEC;SPEC;...",
                      help="semicolon-separated specs instead of the nine default ones")
    p_ls.add_argument("--quick", action="store_true", help="4 data sets per architecture (a smoke run, ~2 min)")
    p_ls.add_argument("--out", default="landscape_report", help="output directory (default ./landscape_report); "
                      "its cache/ subdirectory makes an interrupted run resume")
    quiet(p_ls)
    p_ls.set_defaults(func=_cmd_landscape)


def _print_report(paths: dict[str, Path], files: str) -> None:
    """The written markdown up to its first figure, then where the files went."""
    print(paths["markdown"].read_text().split("\n![")[0].rstrip())
    print(files)


def _cmd_equivariance(args: argparse.Namespace) -> int:
    from ..equivariant.experiment import run
    from ..equivariant.report import write_report

    check_out_dir(args.out)
    res = run(args.setting, progress=not args.quiet, seeds=args.seeds, epochs=args.epochs,
              n_train=args.n_train, n_test=args.n_test)
    paths = write_report(res, args.out)
    _print_report(paths, f"\nreport: {paths['markdown']}\nfigure: {paths['figure']}\ndata:   {paths['json']}")
    return 0


def _cmd_counterfactuals(args: argparse.Namespace) -> int:
    from ..flows.experiment import run_counterfactuals
    from ..flows.report import write_report

    check_out_dir(args.out)
    rep = run_counterfactuals(progress=not args.quiet, data=args.data, seed=args.seed, epochs=args.epochs,
                              flow=args.flow, noise=args.noise, starts=args.starts, targets=args.targets)
    paths = write_report(rep, args.out)
    _print_report(paths, "\n" + "\n".join(f"{k}: {p}" for k, p in paths.items()))
    return 0


def _cmd_dynamics(args: argparse.Namespace) -> int:
    """experiment dynamics|ensemble|harmonics (neuromanifold.dynamics): options map onto the config fields."""
    from ..dynamics.experiment import run_experiment
    from ..dynamics.report import write_report

    opts = {k[4:]: v for k, v in vars(args).items() if k.startswith("opt_")}
    for key in ("supports", "groups"):
        if opts.get(key) is not None:
            opts[key] = tuple(s.strip() for s in opts[key].split(",") if s.strip())
    check_out_dir(args.out)
    res = run_experiment(args.experiment, seed=args.seed, progress=not args.quiet, **opts)
    paths = write_report(args.experiment, res, args.out)
    _print_report(paths, "\n" + "\n".join(f"{k}: {p}" for k, p in paths.items()))
    return 0


def _cmd_landscape(args: argparse.Namespace) -> int:
    """experiment landscape (neuromanifold.landscape.study): resumable through OUT/cache; Ctrl-C exits 130."""
    import sys

    from ..landscape.study import StudyConfig, run_study
    from ..report.landscape_study import write_study_report

    opts: dict[str, Any] = {"seed": args.seed}
    if args.data_sets is not None:
        opts["data_sets"] = args.data_sets
    elif args.quick:
        opts["data_sets"] = 4
    if args.samples is not None:
        opts["n_samples"] = args.samples
    if args.architectures:
        opts["architectures"] = tuple(s.strip() for s in args.architectures.split(";") if s.strip())
    config = StudyConfig(**opts)
    check_out_dir(args.out)
    cache = Path(args.out) / "cache"
    try:
        res = run_study(config, cache_dir=cache, progress=not args.quiet)
    except KeyboardInterrupt:
        print(f"neuromanifold: interrupted; finished data sets are kept in {cache} (rerun the same command to resume)",
              file=sys.stderr)
        return 130
    paths = write_study_report(res, args.out)
    _print_report(paths, "\n" + "\n".join(f"{k}: {p}" for k, p in paths.items()))
    return 0

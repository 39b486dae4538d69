"""Figures (matplotlib, Agg backend): kept out of the computational core."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..landscape.implicit_bias import ImplicitBiasResult
    from ..landscape.plane_curves import CurveVoronoi
    from ..slices import PlaneSlice, SurfaceSlice


def _pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend (files only)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | Path) -> str:
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return str(path)


def plot_critical_point_map(cmap_: Any, path: str | Path, *, field: str = "real_pure",
                            title: str | None = None) -> Path:
    """Regions of the (s, t) plane coloured by the number of real critical points (``field``),
    labelled with (real critical points, local minima), with the discriminant (where a count or a
    type changes) dashed, as in the seed talk.  PNG or SVG by the file extension."""
    from matplotlib.colors import BoundaryNorm, ListedColormap

    plt = _pyplot()

    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise ValueError("save the figure as .png, .svg or .pdf")
    s, t = cmap_.s, cmap_.t
    C = cmap_.counts[field].astype(float)
    unc = cmap_.counts["uncertain"] > 0
    values = np.unique(C[~unc]).astype(int) if np.any(~unc) else np.array([0])
    # one colour per count that occurs; the image shows the index of the count
    index = np.full(C.shape, np.nan)
    for n, v in enumerate(values):
        index[(C == v) & ~unc] = n
    base = plt.get_cmap("Pastel1")
    colors = ListedColormap([base(n % base.N) for n in range(len(values))])
    levels = np.arange(len(values) + 1) - 0.5
    fig, ax = plt.subplots(figsize=(6.4, 5.2), dpi=130)
    ds, dt = (s[1] - s[0]) / 2, (t[1] - t[0]) / 2
    im = ax.imshow(index, origin="lower", extent=(s[0] - ds, s[-1] + ds, t[0] - dt, t[-1] + dt), aspect="auto",
                   cmap=colors, norm=BoundaryNorm(levels, colors.N), interpolation="nearest")
    # discriminant: cell boundaries across which the number of real critical points, of real pure
    # ones or of local minima changes (edges at an uncertain cell are left out)
    segs = []
    keys = [cmap_.counts[f] for f in ("real", "real_pure", "local_minimum")]
    for j in range(len(t)):
        for i in range(len(s)):
            if unc[j, i]:
                continue
            if i + 1 < len(s) and not unc[j, i + 1] and any(k[j, i] != k[j, i + 1] for k in keys):
                x = (s[i] + s[i + 1]) / 2
                segs.append([(x, t[j] - dt), (x, t[j] + dt)])
            if j + 1 < len(t) and not unc[j + 1, i] and any(k[j, i] != k[j + 1, i] for k in keys):
                y = (t[j] + t[j + 1]) / 2
                segs.append([(s[i] - ds, y), (s[i] + ds, y)])
    if segs:
        from matplotlib.collections import LineCollection

        ax.add_collection(LineCollection(segs, colors="k", linestyles="--", linewidths=1.0))
    # label each kind of region once, at its cell farthest from other kinds
    from scipy.ndimage import distance_transform_edt

    mins = cmap_.counts["local_minimum"]
    kinds = {(int(C[j, i]), int(mins[j, i])) for j, i in zip(*np.nonzero(~unc))}
    for a, b in sorted(kinds):
        mask = (C == a) & (mins == b) & ~unc
        dist = distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
        j, i = np.unravel_index(int(np.argmax(dist)), dist.shape)
        ax.annotate(f"{a} real pure\n{b} min", (s[i], t[j]), ha="center", va="center", fontsize=8,
                    bbox={"boxstyle": "round", "fc": "white", "alpha": 0.7})
    if np.any(unc):
        J, I = np.nonzero(unc)
        ax.plot(s[I], t[J], "x", color="0.4", ms=3, label="uncertain cell (failed or merged paths, or a point near the singular locus)")
        ax.legend(loc="lower right", fontsize=7)
    cb = fig.colorbar(im, ax=ax, ticks=np.arange(len(values)))
    cb.ax.set_yticklabels([str(v) for v in values])
    cb.set_label(f"number of real critical points ({field.replace('_', ' ')})")
    ax.set_xlabel("s")
    ax.set_ylabel("t")
    n_c = cmap_.summary().get("complex_pure_values", {})
    over_c = " or ".join(str(v) for v in sorted(int(k) for k in n_c)) or "?"
    ax.set_title(title or f"{cmap_.architecture.spec()}\nover C: {over_c} pure critical points; dashed: discriminant",
                 fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_implicit_bias(res: "ImplicitBiasResult", path: str | Path) -> str:
    """Bar chart: GD fractions beside Voronoi masses, with 95% intervals (PNG/SVG)."""
    plt = _pyplot()

    rows = res.table()
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(6.4, 3.8), dpi=130)
    for off, idx, lab in ((-0.2, 1, "gradient descent"), (0.2, 3, "Voronoi mass")):
        vals = np.array([r[idx] for r in rows])
        ci = np.array([r[idx + 1] for r in rows])
        ax.bar(x + off, vals, 0.4, label=lab, yerr=[vals - ci[:, 0], ci[:, 1] - vals], capsize=3)
    ax.set_xticks(x, [r[0] for r in rows], rotation=15, fontsize=8)
    ax.set_ylabel("fraction")
    ax.set_title(f"{res.architecture.spec()}", fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, path)


_BOUNDARY_STYLE = {"critical value": ("^", "tab:blue"), "at infinity": ("v", "tab:purple"),
                   "undecided": ("X", "tab:orange")}


def _boundary_markers(ax: Any, bps: list, three_d: bool = False) -> None:
    """Refined boundary points, one legend entry per label (critical value / at infinity / undecided)."""
    for label, (marker, colour) in _BOUNDARY_STYLE.items():
        P = np.array([bp.point for bp in bps if bp.label == label])
        if len(P):
            args = (P[:, 0], P[:, 1], P[:, 2]) if three_d else (P[:, 0], P[:, 1])
            ax.scatter(*args, marker=marker, s=70, color=colour, edgecolors="k", linewidths=0.6, zorder=5,
                       label=f"boundary of M on the curve: {label} ({len(P)})")


def plot_plane_slice(sl: "PlaneSlice", path: str | Path) -> str:
    """The slice curve: its points in M and not in M, the singular points in M (filled) and not in M
    (open), the refined boundary points marked by their label; legend."""
    plt = _pyplot()

    fig, ax = plt.subplots(figsize=(6, 5.2), dpi=130)
    P, m = sl.points, sl.in_M
    ax.plot(P[m, 0], P[m, 1], ".", color="k", ms=3, label=f"curve in M (real preimage, {int(m.sum())})")
    ax.plot(P[~m, 0], P[~m, 1], "x", color="0.6", ms=3,
            label=f"curve not in M (Zariski closure only, {int((~m).sum())})")
    S = sl.singular_points
    sm = np.asarray(getattr(sl, "singular_in_M", np.zeros(len(S), dtype=bool)), dtype=bool)
    if len(S) and len(sm) == len(S):
        if sm.any():
            ax.plot(S[sm, 0], S[sm, 1], "s", color="tab:red", ms=7, label=f"singular point in M ({int(sm.sum())})")
        if (~sm).any():
            ax.plot(S[~sm, 0], S[~sm, 1], "s", mfc="none", mec="tab:red", mew=1.5, ms=8,
                    label=f"singular point not in M ({int((~sm).sum())})")
    elif len(S):
        ax.plot(S[:, 0], S[:, 1], "rs", ms=6, label="singular points of the curve")
    bps = getattr(sl, "boundary_points", [])
    if bps:
        _boundary_markers(ax, bps)
    elif len(sl.boundary):
        ax.plot(sl.boundary[:, 0], sl.boundary[:, 1], "b^", ms=6, label="the curve leaves M")
    ax.set_xlabel("s")
    ax.set_ylabel("t")
    ax.set_title(f"{sl.architecture.spec()}: a plane slice (degree {sl.degree} curve)", fontsize=8)
    ax.legend(fontsize=6.5, loc="best")
    return _save(fig, path)


def plot_surface_slice(ss: "SurfaceSlice", path: str | Path) -> str:
    """A 3-space slice (the seed talk's picture): sampled real points of the surface (grey), its
    singular curve in M (orange) and not in M (open purple), the refined points where the singular
    curve leaves M marked by their label; legend.  Drawn in the sampling box (plus the boundary
    points)."""
    plt = _pyplot()

    fig = plt.figure(figsize=(6.4, 5.6), dpi=130)
    ax = fig.add_subplot(projection="3d")
    P = ss.points
    if len(P):
        ax.scatter(P[:, 0], P[:, 1], P[:, 2], s=1.5, color="0.65", alpha=0.35, depthshade=False,
                   label=f"real surface (samples, membership not tested, {len(P)})")
    lo = np.min(P, axis=0) if len(P) else np.full(3, -1.0)
    hi = np.max(P, axis=0) if len(P) else np.full(3, 1.0)
    if len(ss.boundary):
        lo, hi = np.minimum(lo, ss.boundary.min(axis=0)), np.maximum(hi, ss.boundary.max(axis=0))
    C, m = ss.singular_curve, ss.singular_in_M
    inside = np.all((C >= lo - 1e-9) & (C <= hi + 1e-9), axis=1) if len(C) else np.zeros(0, dtype=bool)
    if (m & inside).any():
        Q = C[m & inside]
        ax.scatter(Q[:, 0], Q[:, 1], Q[:, 2], s=14, color="tab:orange", depthshade=False,
                   label=f"singular curve in M ({int(m.sum())})")
    if (~m & inside).any():
        Q = C[~m & inside]
        ax.scatter(Q[:, 0], Q[:, 1], Q[:, 2], s=18, facecolors="none", edgecolors="tab:purple", depthshade=False,
                   label=f"singular curve not in M ({int((~m).sum())})")
    _boundary_markers(ax, ss.boundary_points, three_d=True)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_zlim(lo[2], hi[2])
    ax.set_xlabel("s")
    ax.set_ylabel("t")
    ax.set_zlabel("w")
    ax.set_title(f"{ss.architecture.spec()}: a 3-space slice (degree {ss.degree} surface), its singular curve",
                 fontsize=8)
    ax.legend(fontsize=6, loc="upper left")
    return _save(fig, path)


def plot_curve_voronoi(cv: "CurveVoronoi", path: str | Path) -> str:
    """The curve (zero contour), the Voronoi cells of its singular points shaded, (PNG/SVG)."""
    import sympy

    plt = _pyplot()

    x, y = sympy.symbols("x y")
    from ..arithmetic.polynomial_text import parse_polynomial

    fn = sympy.lambdify((x, y), parse_polynomial(cv.equation, [x, y]), "numpy")
    X, Y = np.meshgrid(np.linspace(cv.s[0], cv.s[-1], 400), np.linspace(cv.t[0], cv.t[-1], 400))
    fig, ax = plt.subplots(figsize=(5, 5), dpi=130)
    for q in range(len(cv.singular_points)):
        mask = np.where(cv.label == q, 1.0, np.nan)
        ax.pcolormesh(cv.s, cv.t, mask, cmap="Reds", vmin=0, vmax=2, shading="nearest", alpha=0.6)
    ax.contour(X, Y, fn(X, Y), levels=[0], colors="k")
    if len(cv.singular_points):
        ax.plot(cv.singular_points[:, 0], cv.singular_points[:, 1], "ro", ms=5)
    ax.set_title(f"{cv.equation} = 0: Voronoi cells of the singular points (shaded)", fontsize=8)
    ax.set_aspect("equal")
    return _save(fig, path)


__all__ = ["plot_critical_point_map", "plot_implicit_bias", "plot_plane_slice", "plot_surface_slice",
           "plot_curve_voronoi"]


def figure_png(fig: Any) -> bytes:
    """PNG bytes of a figure (closed afterwards): for embedding in HTML reports."""
    import io

    import matplotlib.pyplot as plt

    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def fig_singular_values(spectrum: list[float], rank: int, *, title: str = "singular values of d mu") -> Any:
    """Relative singular values on a log scale, the numerical rank marked (the gap is the evidence)."""
    plt = _pyplot()
    s = np.asarray(spectrum, dtype=float)
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    idx = np.arange(1, len(s) + 1)
    floor = 1e-18
    ax.semilogy(idx, np.maximum(s, floor), "o-", ms=3, lw=1)
    ax.axvline(rank + 0.5, color="crimson", ls="--", lw=1, label=f"numerical rank {rank}")
    ax.set_xlabel("index")
    ax.set_ylabel("sigma_i / sigma_1")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return fig


def fig_monodromy_growth(growth: list[list[int]], title: str) -> Any:
    """Solutions known against paths pushed during monodromy (a plateau is the stopping evidence)."""
    plt = _pyplot()
    g = np.asarray(growth, dtype=float).reshape(-1, 2)
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.step(g[:, 0], g[:, 1], where="post")
    ax.set_xlabel("pushes (a solution carried around a monodromy loop)")
    ax.set_ylabel("solutions known")
    ax.set_title(title, fontsize=10)
    return fig


def fig_strata(families: list[dict[str, Any]], dim_m: int) -> Any:
    """Dimensions of the subnetwork strata, coloured by whether their images are singular in M."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 0.35 * max(len(families), 3) + 1.5))
    names = [f["family"] if "family" in f else f.get("name", "?") for f in families]
    dims = [f.get("dim", f.get("dimension", 0)) or 0 for f in families]
    colours = ["crimson" if f.get("singular") is True else ("grey" if f.get("singular") is None else "seagreen")
               for f in families]
    # a zero-dimensional stratum (the zero function) still gets a visible bar and a marker
    floor = 0.04 * max(dim_m, max(dims, default=0), 1)
    ax.barh(range(len(names)), [max(d, floor) for d in dims], color=colours)
    for i, d in enumerate(dims):
        if d == 0:
            ax.plot(0, i, "o", color=colours[i], ms=5, clip_on=False)
        ax.text(max(d, floor), i, f" {d}", va="center", fontsize=7)
    ax.axvline(dim_m, color="k", ls=":", lw=1)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_xlabel(f"dimension of the stratum (dotted: dim M = {dim_m})\nred: singular, green: smooth, grey: unknown",
                  fontsize=8)
    ax.set_xlim(0, max(dim_m, max(dims, default=0), 1) * 1.1)
    ax.invert_yaxis()
    return fig


def fig_voronoi_masses(strata: dict[str, dict[str, Any]], title: str = "Voronoi masses of the strata") -> Any:
    """Masses of the Voronoi cells of the strata (fractions of targets) with their Wilson 95% intervals."""
    plt = _pyplot()
    items = sorted(strata.items(), key=lambda kv: -kv[1]["count"])
    names = [k for k, _ in items]
    mass = np.array([float(v["mass"]) for _, v in items])
    lo = np.array([float(v["ci95"][0]) for _, v in items])
    hi = np.array([float(v["ci95"][1]) for _, v in items])
    fig, ax = plt.subplots(figsize=(6.0, 0.4 * max(len(names), 2) + 1.4))
    ax.barh(range(len(names)), mass, xerr=[mass - lo, hi - mass], color="steelblue", capsize=3)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("fraction of targets whose nearest point lies in the stratum (95% interval)", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.invert_yaxis()
    return fig


def fig_critical_losses(points: list[Any], title: str = "critical values of the loss") -> Any:
    """The loss at every complex critical point in the complex plane: real points on the real axis, pure
    (on M) and spurious (critical points of mu) marked differently."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for kind, marker in (("pure", "o"), ("spurious", "x")):
        for real, colour in ((True, "crimson"), (False, "grey")):
            L = np.array([complex(q.loss) for q in points if q.kind == kind and bool(q.real) == real])
            if len(L):
                ax.plot(L.real, L.imag, marker, color=colour, ls="none", ms=6,
                        label=f"{kind}, {'real' if real else 'non-real'} ({len(L)})")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("Re loss")
    ax.set_ylabel("Im loss")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    return fig


def plot_rotation_accuracy(res: Any, path: str | Path) -> str:
    """Equivariance experiment (planar): test accuracy against rotation angle, mean +- std over seeds."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for name, rec in res.models.items():
        angles = [float(a) for a in rec["accuracy"]]
        acc = np.array([rec["accuracy"][a] for a in rec["accuracy"]], dtype=float)  # (angles, seeds)
        sd = acc.std(axis=1, ddof=1) if acc.shape[1] > 1 else np.zeros(len(angles))
        ax.errorbar(angles, 100 * acc.mean(axis=1), yerr=100 * sd, marker="o", ms=3, capsize=2,
                    label=f"{name} ({rec['parameters']} params)")
    for a in (90, 180, 270):
        ax.axvline(a, color="grey", lw=0.5, ls=":")
    ax.set_xlabel("rotation of the test digits (degrees)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"rotated digits, {res.config['seeds']} seeds (mean ± std)", fontsize=10)
    ax.legend(fontsize=7)
    return _save(fig, path)


def plot_augmentation_curves(res: Any, path: str | Path) -> str:
    """Equivariance experiment (sphere): accuracy and mIoU on rotated test digits against augmentation amount."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.6))
    for ax, metric, label in ((axes[0], "accuracy_rotated", "classification accuracy (%)"),
                              (axes[1], "miou_rotated", "segmentation mIoU (%)")):
        for name, rec in res.models.items():
            levels = sorted(rec["levels"], key=int)
            xs = [int(a) for a in levels]
            vals = [np.asarray(rec["levels"][a][metric], dtype=float) for a in levels]
            m = np.array([100 * v.mean() for v in vals])
            s = np.array([100 * v.std(ddof=1) if len(v) > 1 else 0.0 for v in vals])
            lab = f"{name} ({rec['parameters']} params)"
            if rec.get("size_multiple") is None and len(xs) == 1:  # trained without augmentation: a band
                ax.axhline(m[0], color="k", lw=1.5, label=lab + ", a = 0")
                ax.axhspan(m[0] - s[0], m[0] + s[0], color="k", alpha=0.12)
            else:
                ax.errorbar([x + 0.5 for x in xs], m, yerr=s, marker="o", ms=3, capsize=2, label=lab)
        ax.set_xscale("log")
        ax.set_xlabel("augmentation a + 0.5 (random rotations per training digit; a = 0: canonical pose)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"digits on S^2, rotated test set, {res.config['seeds']} seeds (mean ± std)", fontsize=10)
    return _save(fig, path)


# --- diffeomorphic counterfactuals (neuromanifold.flows) -------------------------------------------------
def plot_helix_trajectories(arrays: dict[str, Any], path: str | Path, *, n_paths: int = 12) -> str:
    """3-D view: training points near the helix, gradient-ascent paths in base space (counterfactuals,
    blue) and in data space (adversarial, red) from the same starts; right: end-point distances."""
    plt = _pyplot()
    helix, base, data = arrays["helix"], arrays["base"], arrays["data"]
    fig = plt.figure(figsize=(11, 5), dpi=120)
    ax = fig.add_subplot(1, 2, 1, projection="3d")
    x = arrays["train_x"][:800]
    ax.scatter(x[:, 0], x[:, 1], x[:, 2], s=1, c="0.75", alpha=0.5)
    t = np.linspace(0, helix.length, 400)
    h = helix.point(t)
    ax.plot(h[:, 0], h[:, 1], h[:, 2], c="0.3", lw=0.8)
    for i in range(min(n_paths, len(base.x0))):
        for res, col in ((base, "tab:blue"), (data, "tab:red")):
            tr = res.trajectory[i]
            ax.plot(tr[:, 0], tr[:, 1], tr[:, 2], c=col, lw=1.2)
            ax.scatter(*tr[-1], c=col, s=14, marker="x")
        ax.scatter(*base.x0[i], c="k", s=10)
    ax.set_title("ascent paths: base space (blue) vs data space (red)")
    ax2 = fig.add_subplot(1, 2, 2)
    lim = max(arrays["d_base"].max(), arrays["d_data"].max()) * 1.05
    ax2.scatter(arrays["d_data"], arrays["d_base"], s=10)
    ax2.plot([0, lim], [0, lim], "k--", lw=0.8)
    ax2.set_xlabel("distance to helix, data-space end point")
    ax2.set_ylabel("distance to helix, base-space end point")
    ax2.set_title("exact distances (below the diagonal: counterfactual closer)")
    return _save(fig, path)


def plot_induced_metric_training(arrays: dict[str, Any], path: str | Path) -> str:
    """Median tangent value t^T gamma^{-1} t and normal eigenvalues of gamma^{-1} against the training
    epoch (left) and against the noise level of the data (right)."""
    plt = _pyplot()
    cps, sweep = arrays["checkpoints"], arrays["noise_sweep"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4), dpi=120)
    ep = [max(c.epoch, 0.5) for c in cps]
    for key, lab in (("tangent_median", "tangent t^T g^-1 t"), ("normal_max_median", "normal, largest"),
                     ("normal_min_median", "normal, smallest")):
        a1.plot(ep, [c.summary[key] for c in cps], "o-", label=lab)
    a1.set_xscale("log")
    a1.set_yscale("log")
    a1.set_xlabel("epoch (0 drawn at 0.5)")
    a1.set_title("induced inverse metric while training")
    a1.legend(fontsize=8)
    nz = [s["noise"] for s in sweep]
    for key, lab in (("tangent_median", "tangent"), ("normal_max_median", "normal, largest"),
                     ("normal_min_median", "normal, smallest")):
        a2.plot(nz, [s[key] for s in sweep], "o-", label=lab)
    a2.plot(nz, [n * n for n in nz], "k--", lw=0.8, label="noise^2")
    a2.set_xscale("log")
    a2.set_yscale("log")
    a2.set_xlabel("noise level (std)")
    a2.set_title("trained flows: normal eigenvalues vs noise")
    a2.legend(fontsize=8)
    return _save(fig, path)


def plot_counterfactual_digits(arrays: dict[str, Any], path: str | Path) -> str:
    """Rows: original, counterfactual (base space), adversarial (data space), and the two difference
    maps (counterfactual - original, adversarial - original; symmetric colour scale)."""
    plt = _pyplot()
    base, data = arrays["base"], arrays["data"]
    n = len(base.x0)
    rows = [("original", base.x0), ("counterfactual", base.x), ("adversarial", data.x),
            ("cf - orig", base.x - base.x0), ("adv - orig", data.x - data.x0)]
    fig, axes = plt.subplots(len(rows), n, figsize=(1.2 * n + 1, 1.3 * len(rows)), dpi=120, squeeze=False)
    for r, (name, imgs) in enumerate(rows):
        for i in range(n):
            ax = axes[r, i]
            img = imgs[i].reshape(8, 8)
            if r < 3:
                ax.imshow(img, cmap="gray_r", vmin=0, vmax=1)
            else:
                m = max(np.abs(imgs).max(), 1e-6)
                ax.imshow(img, cmap="RdBu_r", vmin=-m, vmax=m)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_ylabel(name, fontsize=8)
            if r == 0:
                ax.set_title(f"{arrays['labels'][i]}->{base.target[i]}", fontsize=8)
            if r in (1, 2):
                res = base if r == 1 else data
                ax.set_xlabel(f"p={res.prob[i]:.2f}", fontsize=7)
    return _save(fig, path)


def plot_metric_spectrum(spectra: np.ndarray, path: str | Path) -> str:
    """Eigenvalues of gamma^{-1} = J J^T (descending) at test digits, log scale."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for s in spectra:
        ax.plot(np.arange(1, len(s) + 1), s, c="tab:blue", alpha=0.3, lw=0.8)
    ax.plot(np.arange(1, spectra.shape[1] + 1), np.median(spectra, 0), c="k", lw=1.5, label="median")
    ax.set_yscale("log")
    ax.set_xlabel("index")
    ax.set_ylabel("eigenvalue of gamma^-1")
    ax.set_title("induced inverse metric at test digits")
    ax.legend()
    return _save(fig, path)


# --- training dynamics under symmetry (neuromanifold.dynamics) -------------------------------------------
def plot_dynamics_distance(d: dict[str, Any], path: str | Path) -> str:
    """Restricted-then-augmented training: distance of the layers from E over augmented steps, one panel per
    kernel support (compatible and incompatible side by side), one line per seed (and perturbed runs dashed)."""
    plt = _pyplot()
    supports = list(dict.fromkeys(r["support"] for r in d["runs"]))
    fig, axes = plt.subplots(1, len(supports), figsize=(4.8 * len(supports), 3.8), squeeze=False, sharey=True)
    for ax, s in zip(axes[0], supports):
        for i, r in enumerate(x for x in d["runs"] if x["support"] == s):
            col = f"C{i}"
            ax.plot(r["steps"], np.maximum(r["distance"], 1e-300), color=col, label=f"seed {r['seed']}: from A*")
            if r["distance_perturbed"]:
                ax.plot(r["steps"], r["distance_perturbed"], color=col, ls="--",
                        label=f"seed {r['seed']}: from A* + perturbation off E")
        r0 = next(x for x in d["runs"] if x["support"] == s)
        kind = "compatible" if r0["compatible"] else "incompatible"
        ax.set_title(f"support '{s}' ({kind})", fontsize=10)
        ax.set_yscale("log")
        ax.set_xlabel("augmented gradient-descent step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("||A_t - Pi_E A_t||_F")
    fig.suptitle("restricted (in E ∩ L) to a stationary point, then augmented training", fontsize=10)
    return _save(fig, path)


def plot_ensemble_invariance(d: dict[str, Any], path: str | Path) -> str:
    """Ensembles: invariance deviation of the mean logits against ensemble size (final checkpoint) and against
    training step (largest ensemble vs single members), test and noise inputs, augmented vs control."""
    plt = _pyplot()
    sizes, cps = d["sizes"], d["checkpoints"]
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    for c in d["curves"]:
        lab = ("augmented" if c["augmented"] else "control") + f", {c['data']}"
        ls = "-" if c["augmented"] else ":"
        mk = "o" if c["data"] == "test" else "s"
        dev = np.asarray(c["deviation"])
        sd = np.asarray([[0.0 if v is None else v for v in row] for row in c["deviation_std"]])
        axes[0].errorbar(sizes, dev[-1], yerr=sd[-1], ls=ls, marker=mk, ms=3, capsize=2, label=lab)
        x = [max(t, 0.5) for t in cps]
        axes[1].plot(x, dev[:, -1], ls=ls, marker=mk, ms=3, label=lab + f", m={sizes[-1]}")
        axes[1].plot(x, dev[:, 0], ls=ls, marker=mk, ms=3, alpha=0.4, label=lab + ", m=1")
    if sizes:
        ref = np.asarray(sizes, dtype=float)
        first = next(c for c in d["curves"] if c["augmented"])
        axes[0].plot(ref, first["deviation"][-1][0] / np.sqrt(ref), "k--", lw=0.8, label="1/sqrt(m)")
    axes[0].set_xscale("log", base=2)
    axes[0].set_yscale("log")
    axes[0].set_xlabel("ensemble size m")
    axes[0].set_ylabel("invariance deviation of mean logits")
    axes[0].set_title(f"after {cps[-1]} steps", fontsize=10)
    axes[1].set_xscale("symlog", linthresh=1)
    axes[1].set_yscale("log")
    axes[1].set_xlabel("training step")
    axes[1].set_title("during training", fontsize=10)
    for k, style in (("init", "o-"), ("final", "s-")):
        if k in d["ntk_error"]:
            yerr = [0.0 if v is None else v for v in d["ntk_error_std"][k]]
            axes[2].errorbar(sizes, d["ntk_error"][k], yerr=yerr, fmt=style, ms=3, capsize=2,
                             label=f"mean NTK, {k}")
    axes[2].set_xscale("log", base=2)
    axes[2].set_yscale("log")
    axes[2].set_xlabel("ensemble size m")
    axes[2].set_ylabel("max_g |Θ(gx,gx') - Θ(x,x')| / |Θ|")
    axes[2].set_title("NTK equivariance error (augmented)", fontsize=10)
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    return _save(fig, path)


def plot_harmonics(d: dict[str, Any], path: str | Path) -> str:
    """Harmonics: Cayley-table accuracy and the largest irrep residual of the blocks over training, one
    line per (group, seed)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    groups = list(dict.fromkeys(r["group"] for r in d["runs"]))
    for r in d["runs"]:
        col = f"C{groups.index(r['group'])}"
        first = r["seed"] == min(x["seed"] for x in d["runs"] if x["group"] == r["group"])
        lab = r["group"] if first else None
        axes[0].plot(r["steps"], r["accuracy_curve"], color=col, alpha=0.8, label=lab)
        axes[1].plot(r["steps"], np.maximum(r["residual_curve"], 1e-16), color=col, alpha=0.8, label=lab)
    axes[0].set_ylabel("Cayley table: fraction of entries right")
    axes[1].set_ylabel("max irrep residual of the weights")
    axes[1].set_yscale("log")
    for ax in axes:
        ax.set_xlabel("Adam step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("power-spectral network trained for invariance on the regular representation", fontsize=10)
    return _save(fig, path)


def plot_covering(net: Any, path: str | Path, *, bound: Any = None) -> str:
    """``fig_covering`` saved to ``path``."""
    return _save(fig_covering(net, bound=bound), path)


def fig_covering(net: Any, *, bound: Any = None) -> Any:
    """log of the Monte-Carlo eps-net size (``epsilon_net`` Result) against eps, beside the upper bound on
    log N_eps(M cap B_R) (its ``by_eps`` rows, or the ``log_covering_number`` Result when given)."""
    plt = _pyplot()
    rows = net.evidence["by_eps"]
    eps = np.array([r["eps"] for r in rows])
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(eps, [r["log_net_size"] for r in rows], "o-", label=f"greedy eps-net, {net.evidence['samples']} samples (numerical)")
    b_rows = bound.evidence["by_eps"] if bound is not None else rows
    ax.plot([r["eps"] for r in b_rows], [r["log_bound"] for r in b_rows], "s--", label="bound from dim and degree (upper_bound)")
    ax.set_xscale("log")
    ax.set_xlabel("eps")
    ax.set_ylabel("log N_eps(M ∩ B_R)")
    ax.set_title(f"covering numbers, R = {net.evidence['radius']:g}")
    ax.legend(fontsize=8)
    return fig

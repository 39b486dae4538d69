"""Figures (matplotlib, Agg backend): kept out of the computational core."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..implicit_bias import ImplicitBiasResult
    from ..plane_curves import CurveVoronoi
    from ..slices import PlaneSlice


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


def plot_critical_point_map(cmap_: Any, path: str | Path, field: str = "real_pure", title: str | None = None) -> Path:
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


def plot_plane_slice(sl: "PlaneSlice", path: str | Path) -> str:
    """The slice curve: points in M, points only on the Zariski closure, singular points, boundary points."""
    plt = _pyplot()

    fig, ax = plt.subplots(figsize=(5.5, 5), dpi=130)
    P, m = sl.points, sl.in_M
    ax.plot(P[m, 0], P[m, 1], ".", color="k", ms=3, label="in M (real preimage)")
    ax.plot(P[~m, 0], P[~m, 1], ".", color="0.7", ms=3, label="on the Zariski closure only")
    if len(sl.singular_points):
        ax.plot(sl.singular_points[:, 0], sl.singular_points[:, 1], "rs", ms=6, label="singular points of the curve")
    if len(sl.boundary):
        ax.plot(sl.boundary[:, 0], sl.boundary[:, 1], "b^", ms=6, label="the curve leaves M")
    ax.set_xlabel("s")
    ax.set_ylabel("t")
    ax.set_title(f"{sl.architecture.spec()}: a plane slice (degree {sl.degree} curve)", fontsize=8)
    ax.legend(fontsize=7)
    return _save(fig, path)


def plot_curve_voronoi(cv: "CurveVoronoi", path: str | Path) -> str:
    """The curve (zero contour), the Voronoi cells of its singular points shaded, (PNG/SVG)."""
    import sympy

    plt = _pyplot()

    x, y = sympy.symbols("x y")
    fn = sympy.lambdify((x, y), sympy.sympify(cv.equation), "numpy")
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


__all__ = ["plot_critical_point_map", "plot_implicit_bias", "plot_plane_slice", "plot_curve_voronoi"]


def figure_png(fig: Any) -> bytes:
    """PNG bytes of a figure (closed afterwards): for embedding in HTML reports."""
    import io

    import matplotlib.pyplot as plt

    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def fig_singular_values(spectrum: list[float], rank: int, title: str = "singular values of d mu") -> Any:
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
    ax.set_xlabel("paths pushed through monodromy loops")
    ax.set_ylabel("solutions known")
    ax.set_title(title, fontsize=10)
    return fig


def fig_strata(families: list[dict[str, Any]], dim_m: int) -> Any:
    """Dimensions of the subnetwork strata, coloured by whether their images are singular in M."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 0.35 * max(len(families), 3) + 1.2))
    names = [f["family"] if "family" in f else f.get("name", "?") for f in families]
    dims = [f.get("dim", f.get("dimension", 0)) or 0 for f in families]
    colours = ["crimson" if f.get("singular") is True else ("grey" if f.get("singular") is None else "seagreen")
               for f in families]
    ax.barh(range(len(names)), dims, color=colours)
    ax.axvline(dim_m, color="k", ls=":", lw=1)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_xlabel(f"dimension of the stratum (dotted: dim M = {dim_m}); red: singular, green: smooth, grey: unknown")
    ax.invert_yaxis()
    return fig

"""Forward+backward throughput of neuromanifold's equivariant layers against reference implementations.

* C4 lifting + group convolution (regular representation) vs escnn's R2Conv pair of the same shape.
  escnn pins numpy<2, so it lives only in its own virtual environment (default /tmp/nm-bench-escnn,
  created on first use with this interpreter's torch made visible through a .pth file, so no second
  torch is downloaded); its timing runs in a subprocess there.  If escnn cannot be installed the
  script says so and skips that comparison.
* S^2 -> SO(3) and SO(3) -> SO(3) convolutions vs the e3nn formulation of the same maps (o3.Linear
  with kernel-derived weights, as in e3nn's spherical-CNN example), and the SO(3) grid ReLU vs
  e3nn.nn.SO3Activation, in this process.

Prints seconds per forward+backward and the ratio reference / ours (> 1: ours is faster).

    python benchmarks/equivariant_layers.py [--repeat 20] [--no-escnn] [--venv /tmp/nm-bench-escnn]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

B, C_IN, C_OUT, HW, K = 16, 8, 8, 28, 5  # planar shape
SB, SC_IN, SC_OUT, LMAX = 16, 8, 8, 6  # sphere shape


def timeit(fn, repeat: int) -> float:
    fn()  # warm-up
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) / repeat


ESCNN_SCRIPT = textwrap.dedent(f"""
    import json, sys, time, torch
    from escnn import gspaces, nn as enn
    repeat = int(sys.argv[1])
    gs = gspaces.rot2dOnR2(N=4)
    t_in = enn.FieldType(gs, {C_IN} * [gs.trivial_repr])
    t_mid = enn.FieldType(gs, {C_OUT} * [gs.regular_repr])
    t_out = enn.FieldType(gs, {C_OUT} * [gs.regular_repr])
    lift = enn.R2Conv(t_in, t_mid, {K}, padding={K // 2})
    gconv = enn.R2Conv(t_mid, t_out, {K}, padding={K // 2})
    x = torch.randn({B}, {C_IN}, {HW}, {HW})
    def step():
        y = gconv(lift(enn.GeometricTensor(x, t_in)))
        y.tensor.sum().backward()
    step()
    t = time.perf_counter()
    for _ in range(repeat):
        step()
    print(json.dumps({{"seconds": (time.perf_counter() - t) / repeat,
                      "params": sum(p.numel() for p in list(lift.parameters()) + list(gconv.parameters()))}}))
""")


def ensure_escnn_venv(venv: Path) -> tuple[Path | None, str]:
    """A venv with escnn importable, sharing this interpreter's torch; (python, message)."""
    import torch

    py = venv / "bin" / "python"
    check = [str(py), "-c", "import escnn, torch; print(torch.__version__)"]
    if py.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return py, "existing venv"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        site = subprocess.run([str(py), "-c", "import site; print(site.getsitepackages()[0])"], check=True,
                              capture_output=True, text=True).stdout.strip()
        # torch (and its pure-python deps) from this environment, appended after the venv's own packages
        Path(site, "nm_shared_torch.pth").write_text(str(Path(torch.__file__).parent.parent) + "\n")
        pin = f"torch=={torch.__version__.split('+')[0]}"
        pip = [str(py), "-m", "pip", "install", "-q"]
        r = subprocess.run(pip + ["numpy<2", "scipy", "escnn", pin], capture_output=True, text=True)
        if r.returncode != 0:  # escnn's heavy optional dependencies (py3nj, lie_learn) may not build
            r2 = subprocess.run(pip + ["numpy<2", "scipy", "autograd", "pymanopt"], capture_output=True, text=True)
            r3 = subprocess.run(pip + ["--no-deps", "escnn"], capture_output=True, text=True)
            # lie_learn is imported by escnn's groups; it builds where py3nj does not (py3nj is optional)
            subprocess.run(pip + ["lie_learn"], capture_output=True, text=True)
            if r2.returncode or r3.returncode:
                return None, "pip install escnn failed: " + (r.stderr.strip().splitlines() or ["?"])[-1]
        probe = subprocess.run(check, capture_output=True, text=True)
        if probe.returncode != 0:
            return None, "escnn installed but does not import: " + (probe.stderr.strip().splitlines() or ["?"])[-1]
        return py, "created"
    except (OSError, subprocess.CalledProcessError) as exc:
        return None, f"could not create {venv}: {exc}"


def bench_planar(repeat: int) -> tuple[float, int]:
    import torch

    from neuromanifold.equivariant import GroupConv2d, LiftingConv2d, n_parameters

    lift, gconv = LiftingConv2d(C_IN, C_OUT, K, "C4"), GroupConv2d(C_OUT, C_OUT, K, "C4")
    x = torch.randn(B, C_IN, HW, HW)

    def step() -> None:
        gconv(lift(x)).sum().backward()

    return timeit(step, repeat), n_parameters(lift) + n_parameters(gconv)


def bench_sphere(repeat: int) -> list[tuple[str, float, float]]:
    import torch
    from e3nn import nn as enn, o3

    from neuromanifold.equivariant import S2Convolution, SO3Activation, SO3Convolution
    from neuromanifold.equivariant.grids import flat_wigner, spherical_harmonics
    from neuromanifold.equivariant.sphere import s2_near_identity_grid, so3_near_identity_grid

    s2_irreps = o3.Irreps([(1, (l, 1)) for l in range(LMAX + 1)])
    so3_irreps = o3.Irreps([(2 * l + 1, (l, 1)) for l in range(LMAX + 1)])
    kg, kq = s2_near_identity_grid(), so3_near_identity_grid()
    rows = []

    # S^2 -> SO(3)
    ours = S2Convolution(SC_IN, SC_OUT, LMAX, kg)
    Y = spherical_harmonics(LMAX, kg).float()
    w = torch.nn.Parameter(torch.randn(SC_IN, SC_OUT, len(kg)))
    lin = o3.Linear(s2_irreps, so3_irreps, f_in=SC_IN, f_out=SC_OUT, internal_weights=False)
    x = torch.randn(SB, SC_IN, s2_irreps.dim)
    t_ours = timeit(lambda: ours(x).sum().backward(), repeat)
    t_ref = timeit(lambda: lin(x, weight=torch.einsum("ni,xyn->xyi", Y, w) / math.sqrt(len(kg))).sum().backward(), repeat)
    rows.append(("S^2 -> SO(3) conv", t_ours, t_ref))

    # SO(3) -> SO(3)
    ours = SO3Convolution(SC_IN, SC_OUT, LMAX, kq)
    D = flat_wigner(LMAX, *kq.T).float()
    w = torch.nn.Parameter(torch.randn(SC_IN, SC_OUT, len(kq)))
    lin = o3.Linear(so3_irreps, so3_irreps, f_in=SC_IN, f_out=SC_OUT, internal_weights=False)
    h = torch.randn(SB, SC_IN, so3_irreps.dim, requires_grad=True)
    t_ours = timeit(lambda: ours(h).sum().backward(), repeat)
    t_ref = timeit(lambda: lin(h, weight=torch.einsum("ni,xyn->xyi", D, w) / math.sqrt(len(kq))).sum().backward(), repeat)
    rows.append(("SO(3) -> SO(3) conv", t_ours, t_ref))

    # ReLU on an SO(3) grid (ours: SOFT grid b = lmax + 1; e3nn: its default grid of the same resolution)
    ours = SO3Activation(LMAX, LMAX)
    ref = enn.SO3Activation(LMAX, LMAX, torch.relu, LMAX + 1)
    t_ours = timeit(lambda: ours(h).sum().backward(), repeat)
    t_ref = timeit(lambda: ref(h).sum().backward(), repeat)
    rows.append((f"SO(3) ReLU ({ours.grid_in.n_points} vs {ref.grid_in.D.shape[0] * ref.grid_in.D.shape[1] * ref.grid_in.D.shape[2]} points)",
                 t_ours, t_ref))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--no-escnn", action="store_true")
    ap.add_argument("--venv", default=os.environ.get("NM_BENCH_ESCNN_VENV", "/tmp/nm-bench-escnn"))
    args = ap.parse_args()
    import torch

    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; seconds per forward+backward\n")
    t_ours, params = bench_planar(args.repeat)
    print(f"C4 lifting + group conv, batch {B}, {C_IN}->{C_OUT}->{C_OUT} channels, {HW}x{HW}, k={K}: "
          f"ours {t_ours:.4f} s ({params} params)")
    if args.no_escnn:
        print("  escnn: skipped (--no-escnn)")
    else:
        py, msg = ensure_escnn_venv(Path(args.venv))
        if py is None:
            print(f"  escnn: skipped ({msg})")
        else:
            r = subprocess.run([str(py), "-c", ESCNN_SCRIPT, str(args.repeat)], capture_output=True, text=True)
            if r.returncode != 0:
                print("  escnn: failed to run: " + (r.stderr.strip().splitlines() or ["?"])[-1])
            else:
                ref = json.loads(r.stdout.strip().splitlines()[-1])
                print(f"  escnn R2Conv pair {ref['seconds']:.4f} s ({ref['params']} params); "
                      f"ratio escnn / ours = {ref['seconds'] / t_ours:.2f}")
    print(f"\nspherical layers, batch {SB}, {SC_IN}->{SC_OUT} channels, lmax {LMAX}:")
    for name, t_o, t_r in bench_sphere(args.repeat):
        print(f"  {name:<40} ours {t_o:.4f} s   e3nn {t_r:.4f} s   ratio e3nn / ours = {t_r / t_o:.2f}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    main()

"""Harmonics of learning (Marchetti, Hillar, Kragic, Sanborn, COLT 2024): an invariant power-spectral network
trained on the regular representation of a finite group G learns G's Fourier transform, and the Cayley
table of G can be read off its weights.

Groups (``finite_group("C5" | "D3" | "C2xC3" | ...)``, a ``GroupWithIrreps``): elements 0..n-1 with 0 the
identity, the Cayley table ``table[g, h] = gh`` of ``architectures.groups`` (cyclic and dihedral groups as
symmetries of the regular polygon, direct products componentwise), and unitary irreducible representations
written down independently (characters exp(2 pi i j k / n); the 2-dimensional dihedral irreps r -> rotation by
2 pi j / n, s -> diag(1, -1); Kronecker products for direct products).

G acts on signals x in C^G by (g . x)_h = x_{gh}.  The power-spectral network has one block per irrep
dimension d_i, a matrix-valued weight W_i : G -> C^{d_i x d_i} with W_i(e) = 1 fixed, and output

    phi_i(x) = (W_i x)(W_i x)^dagger,    W_i x = sum_g x_g W_i(g).

If W_i(g) = B^dagger rho(g^{-1}) B for a unitary irrep rho, then W_i(g . x) = (W_i x) rho(g) B and phi is
invariant.  Training (as in the authors' code, github.com/sophiaas/spectral-universality): contrastive pairs
(x, g . x) with x complex Gaussian and g uniform (or its closed-form expectation), Adam with a geometrically
decaying learning rate, loss mean_i |phi_i(x) - phi_i(g x)|^2 plus lambda |F F^dagger - 1|^2
where F[g, (i, a, b)] = sqrt(d_i / |G|) W_i(g)_ab (unitary exactly for a complete set of irreps, by Schur
orthogonality).  Recovery: rho_hat_i(g) = W_i(g)^dagger and gh := argmin_k sum_i |rho_hat_i(g) rho_hat_i(h) -
rho_hat_i(k)|^2; scored against the true table directly and up to relabelling (best bijection, |G| <= 8).
Distance from the irreps: for each block, the relative residual of its d_i^2 coefficient functions after
orthogonal projection onto the span of the matrix coefficients of the best-matching irrep.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from ..architectures.groups import FiniteGroup, group, product_group
from ..errors import InputError
from ..result import jsonable


@dataclass(frozen=True)
class GroupWithIrreps(FiniteGroup):
    """A finite group (Cayley table, identity 0) with a complete set of pairwise inequivalent unitary
    irreducible representations rho_i: G -> U(d_i), each an array (|G|, d_i, d_i), sum d_i^2 = |G|:
    the data of the Fourier transform on G."""

    irreps: list[np.ndarray]

    @property
    def irrep_dims(self) -> list[int]:
        return [int(r.shape[-1]) for r in self.irreps]

    def act(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """(g . x)_h = x_{gh} for a batch x (B, n) and group elements g (B,)."""
        idx = torch.as_tensor(self.table, dtype=torch.long)[g]
        return torch.gather(x, 1, idx)


def _with_irreps(G: FiniteGroup, irreps: list[np.ndarray]) -> GroupWithIrreps:
    return GroupWithIrreps(G.name, G.table, G.natural, irreps)


def cyclic(n: int) -> GroupWithIrreps:
    """C_n: element k = rotation of the n-gon by k steps; irreps k -> exp(2 pi i j k / n)."""
    k = np.arange(n)
    irreps = [np.exp(2j * np.pi * j * k / n).reshape(n, 1, 1) for j in range(n)]
    return _with_irreps(group(f"C{n}"), irreps)


def dihedral(n: int) -> GroupWithIrreps:
    """D_n (order 2n): element a + n b = r^a s^b acting on the n-gon, r(v) = v + 1, s(v) = -v."""
    if n < 3:
        raise InputError(f"dihedral groups D_n need n >= 3 here, got {n}")
    a = np.tile(np.arange(n), 2)
    b = np.repeat([0, 1], n)
    one = np.ones(2 * n)
    irreps = [one.reshape(-1, 1, 1).astype(complex), ((-1.0) ** b).reshape(-1, 1, 1).astype(complex)]
    if n % 2 == 0:
        irreps += [((-1.0) ** a).reshape(-1, 1, 1).astype(complex), ((-1.0) ** (a + b)).reshape(-1, 1, 1).astype(complex)]
    S = np.diag([1.0, -1.0])
    for j in range(1, (n - 1) // 2 + 1):
        mats = []
        for aa, bb in zip(a, b):
            t = 2 * np.pi * j * aa / n
            R = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
            mats.append(R @ np.linalg.matrix_power(S, bb))
        irreps.append(np.array(mats, dtype=complex))
    return _with_irreps(group(f"D{n}"), irreps)


def direct_product(G: GroupWithIrreps, H: GroupWithIrreps) -> GroupWithIrreps:
    """G x H: element g * |H| + h, componentwise product; irreps = Kronecker products."""
    n, m = G.order, H.order
    irreps = []
    for r in G.irreps:
        for s in H.irreps:
            irreps.append(np.array([np.kron(r[g], s[h]) for g in range(n) for h in range(m)]))
    return _with_irreps(product_group(G, H), irreps)


def finite_group(name: str) -> GroupWithIrreps:
    """'C5', 'D3', 'C2xC3', 'C2xD3', ...: cyclic C_n (n >= 2), dihedral D_n (n >= 3), products with 'x'."""
    parts = [p.strip() for p in name.replace("×", "x").split("x")]
    groups = []
    for p in parts:
        m = re.fullmatch(r"([CD])(\d+)", p)
        if not m:
            raise InputError(f"unknown group {name!r}; use Cn, Dn or products such as C2xC3")
        kind, k = m.group(1), int(m.group(2))
        if kind == "C" and k < 2:
            raise InputError(f"cyclic groups C_n need n >= 2, got {p}")
        groups.append(cyclic(k) if kind == "C" else dihedral(k))
    G = groups[0]
    for H in groups[1:]:
        G = direct_product(G, H)
    if G.order > 64:
        raise InputError(f"group {name} has order {G.order}; keep it <= 64")
    return G


class PowerSpectralNet(torch.nn.Module):
    """phi_i(x) = (W_i x)(W_i x)^dagger with W_i(e) = 1 fixed, one block per entry of ``dims``."""

    def __init__(self, order: int, dims: list[int], seed: int):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.order, self.dims = order, list(dims)
        self.W = torch.nn.ParameterList(
            [torch.nn.Parameter((2 * torch.rand((order - 1, d, d, 2), generator=g, dtype=torch.float64) - 1) / d)
             for d in dims])

    def blocks(self) -> list[torch.Tensor]:
        """The complex weights W_i(g), g = 0..n-1, shape (n, d, d)."""
        out = []
        for W, d in zip(self.W, self.dims):
            eye = torch.eye(d, dtype=torch.complex128).unsqueeze(0)
            out.append(torch.cat([eye, torch.view_as_complex(W)], dim=0))
        return out

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        res = []
        for Wg in self.blocks():
            Wx = torch.einsum("bg,gij->bij", x, Wg)
            res.append(Wx @ Wx.conj().transpose(-2, -1))
        return res

    def unitarity_defect(self) -> torch.Tensor:
        """|F F^dagger - 1|_F^2, F[g, (i, a, b)] = sqrt(d_i / n) W_i(g)_ab."""
        F = torch.cat([math.sqrt(d / self.order) * Wg.reshape(self.order, -1) for Wg, d in zip(self.blocks(), self.dims)], 1)
        eye = torch.eye(self.order, dtype=F.dtype)
        return ((F @ F.conj().T - eye).abs() ** 2).sum()


def invariance_loss(net: PowerSpectralNet, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    px, py = net(x), net(y)
    return sum(((a - b).abs() ** 2).mean() for a, b in zip(px, py)) / len(px)


def expected_invariance_loss(net: PowerSpectralNet, G: FiniteGroup) -> torch.Tensor:
    """E_x mean_s mean_i |phi_i(x) - phi_i(s . x)|^2 for x standard circular complex Gaussian, in closed form.

    phi_i(x)_ab = sum_{g,h} x_g conj(x_h) K_ab[g, h] with K[g, h] = W_i(g) W_i(h)^dagger, and phi_i(s . x) has
    kernel K[s^-1 g, s^-1 h]; for D = difference of kernels, E |x^T D conj(x)|^2 = |tr D|^2 + |D|_F^2 (Isserlis,
    E|x_g|^2 = 1).  Averaged over entries (a, b), blocks and s (s = e contributes 0, as in the sampled loss)."""
    T = torch.as_tensor(G.table)
    inv = torch.as_tensor(G.inverse)
    total = 0.0
    for Wg in net.blocks():
        K = torch.einsum("gac,hbc->ghab", Wg, Wg.conj())  # (n, n, d, d)
        idx = T[inv]  # idx[s, g] = s^-1 g
        Ks = K[idx[:, :, None], idx[:, None, :]]  # (n_s, n, n, d, d)
        D = Ks - K.unsqueeze(0)
        tr = torch.diagonal(D, dim1=1, dim2=2).sum(-1)  # (n_s, d, d)
        val = tr.abs() ** 2 + (D.abs() ** 2).sum((1, 2))
        total = total + val.mean()
    return total / len(net.dims)


def recovered_table(net: PowerSpectralNet) -> tuple[np.ndarray, float]:
    """gh = argmin_k sum_i |rho_i(g) rho_i(h) - rho_i(k)|^2 with rho_i(g) = W_i(g)^dagger; also the smallest
    relative margin (second-best minus best, over second-best) over all (g, h)."""
    with torch.no_grad():
        rhos = [Wg.conj().transpose(-2, -1) for Wg in net.blocks()]
        n = net.order
        D = torch.zeros((n, n, n), dtype=torch.float64)
        for R in rhos:
            prod = torch.einsum("gab,hbc->ghac", R, R)
            D += ((prod.unsqueeze(2) - R.view(1, 1, n, *R.shape[1:])).abs() ** 2).sum((-2, -1))
        best = torch.sort(D, dim=-1).values
        margin = float(((best[..., 1] - best[..., 0]) / best[..., 1].clamp_min(1e-300)).min())
        return D.argmin(-1).numpy(), margin


def table_accuracy(T_hat: np.ndarray, T: np.ndarray, *, max_relabel_order: int = 8) -> tuple[float, float | None]:
    """Fraction of entries right as labelled, and the best fraction over all relabellings sigma
    (sigma(T_hat[g, h]) == T[sigma g, sigma h]); None when |G| > ``max_relabel_order``."""
    n = T.shape[0]
    direct = float((T_hat == T).mean())
    if n > max_relabel_order:
        return direct, None
    perms = np.array(list(itertools.permutations(range(n))))  # (n!, n): sigma
    lhs = perms[:, T_hat]  # sigma(T_hat[g, h])
    rhs = T[perms[:, :, None], perms[:, None, :]]  # T[sigma g, sigma h]
    return direct, float((lhs == rhs).mean(axis=(1, 2)).max())


def irrep_residuals(net: PowerSpectralNet, G: GroupWithIrreps) -> tuple[list[float], list[int]]:
    """Per block: min over irreps rho_j of equal dimension of |(1 - P_j) w| / |w|, w the d^2 coefficient
    functions of W_i and P_j the orthogonal projection of C^G onto span{g -> rho_j(g^{-1})_ab}; and the argmin j."""
    inv = G.inverse
    bases = []
    for r in G.irreps:
        d = r.shape[-1]
        Q = np.sqrt(d / G.order) * r[inv].reshape(G.order, d * d)  # orthonormal columns (Schur)
        bases.append(Q)
    res, match = [], []
    with torch.no_grad():
        for Wg in net.blocks():
            w = Wg.reshape(G.order, -1).numpy()
            d = int(round(math.sqrt(w.shape[1])))
            best, arg = float("inf"), -1
            for j, Q in enumerate(bases):
                if G.irreps[j].shape[-1] != d:
                    continue
                r = np.linalg.norm(w - Q @ (Q.conj().T @ w)) / np.linalg.norm(w)
                if r < best:
                    best, arg = float(r), j
            res.append(best)
            match.append(arg)
    return res, match


def homomorphism_residual(net: PowerSpectralNet, G: FiniteGroup) -> float:
    """max over blocks and g, h of |rho_i(g) rho_i(h) - rho_i(gh)|_F / sqrt(d_i) with rho_i(g) = W_i(g)^dagger."""
    out = 0.0
    with torch.no_grad():
        T = torch.as_tensor(G.table)
        for Wg in net.blocks():
            R = Wg.conj().transpose(-2, -1)
            prod = torch.einsum("gab,hbc->ghac", R, R)
            err = (prod - R[T]).abs().pow(2).sum((-2, -1)).sqrt().max() / math.sqrt(R.shape[-1])
            out = max(out, float(err))
    return out


@dataclass
class HarmonicsConfig:
    groups: tuple[str, ...] = ("C5", "C8", "C2xC3", "D3")
    seeds: int = 3
    steps: int = 1500
    batch: int = 64  # sampled loss only
    lr: float = 1e-2
    reg: float = 3.0
    loss: str = "expected"  # or "sampled": contrastive pairs as in the authors' code
    record_every: int = 50


@dataclass
class HarmonicsRun:
    group: str
    order: int
    irrep_dims: list[int]
    seed: int
    init_accuracy: float
    accuracy: float
    accuracy_relabelled: float | None
    margin: float
    irrep_residual: list[float]
    irrep_match: list[int]
    fourier_bijective: bool
    homomorphism_residual: float
    invariance_loss: float
    unitarity_defect: float
    steps: list[int] = field(default_factory=list)
    loss_curve: list[float] = field(default_factory=list)
    accuracy_curve: list[float] = field(default_factory=list)
    residual_curve: list[float] = field(default_factory=list)
    table: list[list[int]] = field(default_factory=list)
    weights: list[Any] = field(default_factory=list)  # per block (n, d, d) as [real, imag]


@dataclass
class HarmonicsResult:
    config: HarmonicsConfig
    runs: list[HarmonicsRun]
    seconds: float = 0.0
    status: str = "numerical"

    def to_dict(self) -> dict[str, Any]:
        d = {"experiment": "harmonics", "status": self.status, "seconds": round(self.seconds, 2),
             "config": asdict(self.config), "runs": [asdict(r) for r in self.runs]}
        for r in d["runs"]:
            r.pop("weights")
        return jsonable(d)


def train_harmonics(G: GroupWithIrreps, *, seed: int, steps: int, batch: int = 64, lr: float = 1e-2, reg: float = 3.0,
                    loss: str = "expected", record_every: int = 50, bar: Any = None) -> HarmonicsRun:
    """Train the power-spectral network for invariance (Adam) and score the recovered group.  ``loss``:
    "expected" (the contrastive loss averaged over Gaussian x and all g, in closed form) or "sampled"
    (minibatches of pairs (x, g . x), as in the authors' code)."""
    if loss not in ("expected", "sampled"):
        raise InputError(f"loss must be 'expected' or 'sampled', got {loss!r}")
    gen = torch.Generator().manual_seed(seed)
    net = PowerSpectralNet(G.order, G.irrep_dims, seed)
    init_acc = table_accuracy(recovered_table(net)[0], G.table, max_relabel_order=0)[0]
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    # constant learning rate for the first half, then geometric decay to lr / 100 (constant-rate Adam spikes
    # near the optimum)
    half = steps // 2
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1.0 if t < half else 0.01 ** ((t - half) / max(steps - half, 1)))
    n = G.order
    rec_steps, losses, accs, resids = [], [], [], []
    for t in range(steps + 1):
        if loss == "sampled":
            x = torch.complex(torch.randn((batch, n), generator=gen, dtype=torch.float64),
                              torch.randn((batch, n), generator=gen, dtype=torch.float64)) / math.sqrt(2)
            g = torch.randint(0, n, (batch,), generator=gen)
            value = invariance_loss(net, x, G.act(x, g))
        else:
            value = expected_invariance_loss(net, G)
        if t % record_every == 0 or t == steps:
            rec_steps.append(t)
            losses.append(float(value.detach()))
            accs.append(table_accuracy(recovered_table(net)[0], G.table, max_relabel_order=0)[0])
            resids.append(max(irrep_residuals(net, G)[0]))
        if t == steps:
            break
        opt.zero_grad()
        (value + reg * net.unitarity_defect()).backward()
        opt.step()
        sched.step()
        if bar is not None:
            bar.update(1)
    T_hat, margin = recovered_table(net)
    direct, relab = table_accuracy(T_hat, G.table)
    res, match = irrep_residuals(net, G)
    with torch.no_grad():
        inv = float(expected_invariance_loss(net, G))
        ud = float(net.unitarity_defect())
        weights = [[Wg.real.numpy().tolist(), Wg.imag.numpy().tolist()] for Wg in net.blocks()]
    return HarmonicsRun(
        group=G.name, order=n, irrep_dims=G.irrep_dims, seed=seed, init_accuracy=init_acc, accuracy=direct,
        accuracy_relabelled=relab, margin=margin, irrep_residual=res, irrep_match=match,
        fourier_bijective=sorted(match) == list(range(len(G.irreps))), homomorphism_residual=homomorphism_residual(net, G),
        invariance_loss=inv, unitarity_defect=ud, steps=rec_steps, loss_curve=losses, accuracy_curve=accs,
        residual_curve=resids, table=T_hat.tolist(), weights=weights,
    )


def run_harmonics(config: HarmonicsConfig | None = None, *, seed: int = 0, progress: bool = False) -> HarmonicsResult:
    from ..runtime.progress import Bar

    cfg = config or HarmonicsConfig()
    groups = [finite_group(name) for name in cfg.groups]
    if cfg.seeds < 1 or cfg.steps < 1 or cfg.batch < 1 or cfg.record_every < 1:
        raise InputError("seeds, steps, batch and record_every must be >= 1")
    t0 = time.time()
    runs = []
    with Bar(total=len(groups) * cfg.seeds * cfg.steps, desc="harmonics", unit="steps", enabled=progress) as bar:
        for G in groups:
            for k in range(cfg.seeds):
                runs.append(train_harmonics(G, seed=seed + k, steps=cfg.steps, batch=cfg.batch, lr=cfg.lr, reg=cfg.reg,
                                            loss=cfg.loss, record_every=cfg.record_every, bar=bar))
    return HarmonicsResult(cfg, runs, time.time() - t0)

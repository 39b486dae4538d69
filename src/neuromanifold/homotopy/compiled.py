"""Compiled per-path predictor-corrector for polynomial homotopies (numba).

Two kinds of homotopy of ``PolynomialSystem``s are evaluated here:

    straight line:  H(z, t) = (1 - t) F(z) + gamma t G(z),   H_t = gamma G - F;
    parameter arc:  H(z, t) = F(z; p(t)),  p(t) = p_target + s(t) dp,
                    s(t) = gamma t / (1 + (gamma - 1) t),   H_t = (dF/dp) dp ds/dt.

Each system is a monomial table V[k] = V[parent[k]] * x[var[k]] over x = (z, p) and lists of
entries: F_i, (F_z)_ij and (F_p)_il are sums of coefficient * V[k] (``Tables``), added entry by
entry (no inner loop per row), real coefficients apart from complex ones (two multiplications
instead of four).  For the straight line, F and F_z are added unscaled and then scaled by the real
1 - t.  Floating point: fused multiply-adds (``_FM``), never the assumption that values are finite (the
kernels test for NaN and inf), and no reassociation: a reassociated (vectorised) loop's order follows the
arrays' alignment, which differs between processes, so a Dask worker's endpoints differed in the last bits
from this process's (``tests/runtime/test_reproducible.py``).

``_track_range`` runs the step loop of ``tracker._track_batch`` (the same RK4 / Heun predictor,
Newton corrector, step-size control, endgame rule and path endings) for one path at a time in
machine code, with an n x n complex LU with partial pivoting per Jacobian, so a step costs
microseconds instead of the per-call overhead of small batched array operations.  Paths are
independent: chunks of paths run in Python threads (the kernels release the GIL), so the result
does not depend on the chunking or the thread count.  ``_refine_range`` is the final refinement
(Newton, residual and the condition number by LAPACK's SVD, ``_condition``), also per chunk.  The two kinds compile separately
(``overload`` on the type of the ``form`` tuple).  Without numba (``AVAILABLE`` is False) the
tracker keeps its batched numpy path.

Compilation (about a minute per kind of homotopy) is cached on disk and paid once per machine and
version of this file (``cache=True``; later processes load the kernels in well under a second).
numba keeps the cache in ``__pycache__`` beside this file, else in the user's cache directory; when
neither is writable (a read-only install without a writable home) and ``NUMBA_CACHE_DIR`` is unset,
``_cache_dir`` points it at a per-user directory under the system temporary directory, and if that
is not writable either the kernels compile in every process (``CACHED`` is False) rather than fail
to import.

Loading numba and its JIT costs a fresh process ~0.5 s of CPU (numba's import and its one-time set-up, not the
kernels), so the kernels are also compiled ahead of time into an extension module that loads without numba
(``aot.py``: built once per machine and version in the background, bit-identical results).  The kernels are
recorded by ``_kernel`` and become numba dispatchers in ``_jit``: at import when there is no AOT module, else only
when a call needs them (``dispatch`` and ``start`` call ``track_range``, ``refine_range``, ``newton_iterations`` and
``values_range``, which take the AOT function when the argument types match and numba's otherwise).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
        return True
    except OSError:
        return False


def _cache_dir() -> bool:
    """Whether the kernels can be cached on disk; sets ``NUMBA_CACHE_DIR`` (only if unset) when
    neither numba's default places (``__pycache__`` here, the user cache directory) is writable."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return True
    try:
        from numba.core import config
        from numba.misc.appdirs import AppDirs

        user_wide = Path(AppDirs(appname="numba", appauthor=False).user_cache_dir)
    except Exception:  # pragma: no cover - numba internals moved: leave the choice to numba
        return True
    if _writable(Path(__file__).resolve().parent / "__pycache__") or _writable(user_wide):
        return True
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    fallback = Path(tempfile.gettempdir()) / f"neuromanifold-numba-{user}"
    if not _writable(fallback):
        return False
    os.environ["NUMBA_CACHE_DIR"] = str(fallback)
    config.reload_config()
    return True


_KERNELS: dict = {}  # name -> (Python function, numba options), in definition order (``_kernel``)


def _kernel(**options):
    """Record a kernel (``njit(cache=CACHED, **options)`` once numba is loaded, ``_jit``); the function
    itself stays plain Python until then."""

    def record(f):
        _KERNELS[f.__name__] = (f, options)
        return f

    return record


from . import aot as _aot  # noqa: E402 - the ahead-of-time compiled kernels, loaded without importing numba

_AOT = _aot.load()  # the extension module, or None (absent, stale, disabled or broken: the JIT kernels below)
if _AOT is not None:
    AVAILABLE = True  # numba is imported (``_jit``) only if a kernel is needed that the AOT module lacks
else:
    try:  # pragma: no cover - exercised through AVAILABLE
        import numba  # noqa: F401

        AVAILABLE = True
    except Exception:  # pragma: no cover - numba is a dependency; numpy is the fallback
        AVAILABLE = False
CACHED = False  # cache=CACHED on every kernel (set by ``_jit``)
# fast-math flags that keep NaN / inf semantics (the kernels test for non-finite values):
# reassociation and fused multiply-adds only
_FM = {"contract", "nsz", "arcp"}

# float options (order of ``float_options``) and int options (order of ``int_options``)
_F_INITIAL, _F_MAX_STEP, _F_MIN_STEP, _F_MIN_REL, _F_CORR_TOL, _F_PRED_TOL, _F_MAX_FIRST, _F_CONTRACT, \
    _F_GROWTH, _F_MAX_NORM, _F_SING_T, _F_ENDGAME, _F_T_END, _F_RATIO = range(14)
_I_CORR_ITERS, _I_MAX_STEPS, _I_ORDER = range(3)

_SUCCESS, _DIVERGED, _SINGULAR, _MAX_STEPS, _FAILED = range(5)
_ACTIVE = -1


def float_options(opts, t_end: float) -> np.ndarray:
    """The float fields of ``TrackerOptions`` the kernel reads, and t_end, as one array."""
    return np.array(
        [opts.initial_step, opts.max_step, opts.min_step, opts.min_relative_step, opts.corrector_tol,
         opts.predictor_tol, opts.max_first_update, opts.contraction, opts.max_growth, opts.max_norm,
         opts.singular_t, opts.endgame_stop, t_end, opts.endgame_ratio],
        dtype=np.float64,
    )


def int_options(opts) -> np.ndarray:
    """max_corrector_iters, max_steps and the predictor order (RK4: 4, Heun: 2)."""
    order = 2 if opts.predictor == "heun" else 4
    return np.array([opts.max_corrector_iters, opts.max_steps, order], dtype=np.int64)


def _entries(C: np.ndarray, width: int) -> tuple[np.ndarray, ...]:
    """The nonzero entries of C (slots, M), slot s = i * width + j, as two lists: real coefficients
    (i, j, monomial, coefficient) and complex ones (i, j, monomial, real part, imaginary part); a real
    coefficient times a monomial costs two multiplications instead of four.  Each list holds the first
    entry of every slot, then the second, ... (within a slot the monomials stay in order), so that
    consecutive updates hit different slots (no chain of read-modify-writes through one address)."""
    rows, k = np.nonzero(C)
    _, start, count = np.unique(rows, return_index=True, return_counts=True)
    order = np.lexsort((rows, np.arange(len(rows)) - np.repeat(start, count)))
    rows, k = rows[order], k[order]
    coef = C[rows, k].astype(np.complex128)
    real = coef.imag == 0
    i, j = (rows // width).astype(np.int64), (rows % width).astype(np.int64)
    k = k.astype(np.int64)
    c = np.ascontiguousarray
    return (c(i[real]), c(j[real]), c(k[real]), c(coef.real[real]),
            c(i[~real]), c(j[~real]), c(k[~real]), c(coef.real[~real]), c(coef.imag[~real]))


class Tables:
    """The monomial table and the coefficients of a ``PolynomialSystem`` as flat arrays: monomial
    k is V[parent[k]] * x[var[k]]; F_i, (F_z)_ij and (F_p)_il are sums of coefficient * monomial
    over their entries (``_entries``)."""

    def __init__(self, system) -> None:
        n, m = system.n_vars, system.n_params
        M = system._n_monomials
        parent = np.zeros(M, dtype=np.int64)
        var = np.zeros(M, dtype=np.int64)
        for lo, hi, parents, vars_ in system._levels:
            parent[lo:hi] = parents
            var[lo:hi] = vars_
        self.parent, self.var = parent, var
        self.f = _entries(system._CF.T, 1)  # (n, M)
        self.z = _entries(system._CZ.T, n)  # (n*n, M)
        self.p = _entries(system._CP.T, max(m, 1))  # (n*m, M)
        self.n, self.m, self.M = n, m, M

        self._packed = _pack((parent, var) + self.f + self.z + self.p)

    def arrays(self) -> tuple:
        """(ints, floats): the 29 arrays (parent, var, then the ``_entries`` of F, F_z and F_p) packed
        into one integer and one float array (``_pack``; the kernels read them with ``_iseg`` and
        ``_fseg``): passing two arrays from kernel to kernel instead of 29 saves ~200 words per call."""
        return self._packed


_SEGMENTS = 29  # parent, var and 3 x 9 entry arrays (``_entries``)


def _pack(arrays: tuple) -> tuple[np.ndarray, np.ndarray]:
    """ints = [start of segment q in ints, q = 0..29 | start in floats, q = 0..29 | integer data],
    floats = the float data: segment q is ints[ints[q]:ints[q + 1]] if integer, else
    floats[ints[30 + q]:ints[31 + q]] (the other range is empty)."""
    assert len(arrays) == _SEGMENTS
    head = 2 * (_SEGMENTS + 1)
    ioff, foff = [head], [0]
    idata, fdata = [], []
    for a in arrays:
        if a.dtype.kind == "f":
            fdata.append(a)
            foff.append(foff[-1] + len(a))
            ioff.append(ioff[-1])
        else:
            idata.append(a.astype(np.int64))
            ioff.append(ioff[-1] + len(a))
            foff.append(foff[-1])
    ints = np.concatenate([np.array(ioff + foff, dtype=np.int64)] + idata)
    floats = np.concatenate(fdata).astype(np.float64) if fdata else np.zeros(0)
    return ints, floats


@_kernel(nogil=True, inline="always")
def _iseg(tab, q):
    """Integer segment q of a packed table (``_pack``)."""
    ints = tab[0]
    return ints[ints[q]:ints[q + 1]]


@_kernel(nogil=True, inline="always")
def _fseg(tab, q):
    """Float segment q of a packed table (``_pack``)."""
    ints, floats = tab
    return floats[ints[30 + q]:ints[31 + q]]


@_kernel(nogil=True, fastmath=_FM, inline="always")
def _monomials(z, p, parent, var, x, V):
    """V[k] = V[parent[k]] * x[var[k]] over x = (z, p), V[0] = 1."""
    n = z.shape[0]
    for j in range(n):
        x[j] = z[j]
    for l in range(p.shape[0]):
        x[n + l] = p[l]
    V[0] = 1.0
    for k in range(1, parent.shape[0]):
        V[k] = V[parent[k]] * x[var[k]]


@_kernel(nogil=True, fastmath=_FM, inline="always")
def _add_vector2(ir, kr, cr, ic, kc, ccr, cci, V, out, s, out2, s2, scaled, want2):
    """out[i] += coefficient * V[k] (times s if scaled) and, if want2, out2[i] += s2 coefficient * V[k],
    over the entries of ``_entries``."""
    for e in range(ir.shape[0]):
        v = V[kr[e]]
        c = cr[e]
        val = complex(c * v.real, c * v.imag)
        out[ir[e]] += s * val if scaled else val
        if want2:
            out2[ir[e]] += s2 * val
    for e in range(ic.shape[0]):
        v = V[kc[e]]
        a = ccr[e]
        b = cci[e]
        val = complex(a * v.real - b * v.imag, a * v.imag + b * v.real)
        out[ic[e]] += s * val if scaled else val
        if want2:
            out2[ic[e]] += s2 * val


@_kernel(nogil=True, fastmath=_FM, inline="always")
def _add_matrix(ir, jr, kr, cr, ic, jc, kc, ccr, cci, V, out, s, scaled):
    """out[i, j] += coefficient * V[k] (times s if scaled) over the entries of ``_entries``."""
    for e in range(ir.shape[0]):
        v = V[kr[e]]
        c = cr[e]
        val = complex(c * v.real, c * v.imag)
        if scaled:
            val = s * val
        out[ir[e], jr[e]] += val
    for e in range(ic.shape[0]):
        v = V[kc[e]]
        a = ccr[e]
        b = cci[e]
        val = complex(a * v.real - b * v.imag, a * v.imag + b * v.real)
        if scaled:
            val = s * val
        out[ic[e], jc[e]] += val


@_kernel(nogil=True, fastmath=_FM, inline="always")
def _add_parameter(ir, jr, kr, cr, ic, jc, kc, ccr, cci, V, out, w):
    """out[i] += coefficient * V[k] * w[l] over the entries (i, l) of (F_p) (``_entries``)."""
    for e in range(ir.shape[0]):
        v = V[kr[e]]
        c = cr[e]
        out[ir[e]] += complex(c * v.real, c * v.imag) * w[jr[e]]
    for e in range(ic.shape[0]):
        v = V[kc[e]]
        a = ccr[e]
        b = cci[e]
        out[ic[e]] += complex(a * v.real - b * v.imag, a * v.imag + b * v.real) * w[jc[e]]


@_kernel(nogil=True, fastmath=_FM, inline="always")
def _zero(H, Hz, Ht):
    n = H.shape[0]
    for i in range(n):
        H[i] = 0.0
        Ht[i] = 0.0
        for j in range(n):
            Hz[i, j] = 0.0


def _evaluate(z, t, ptgt, dp, gam, form, ws, H, Hz, Ht, want_t):  # pragma: no cover - compiled only
    """H(z, t), H_z and (if want_t) H_t into H, Hz, Ht.  ``form`` is (gamma_sl, tables_F, tables_G)
    for H = (1 - t) F(z) + gamma_sl t G(z) (H_t = gamma_sl G - F), or (tables_F,) for
    H = F(z; p(t)), p(t) = ptgt + s(t) dp, s = gam t / (1 + (gam - 1) t), H_t = (dF/dp) dp ds/dt.
    The two kinds compile separately (``overload`` below picks one by the type of ``form``)."""
    raise NotImplementedError


@_kernel(nogil=True, fastmath=_FM, inline="always")
def _values(tab, V, out, s, out2, s2, scaled, want2):
    """out += F (times s if scaled) and, if want2, out2 += s2 F, from the monomials V of a packed table."""
    _add_vector2(_iseg(tab, 2), _iseg(tab, 4), _fseg(tab, 5), _iseg(tab, 6), _iseg(tab, 8), _fseg(tab, 9),
                 _fseg(tab, 10), V, out, s, out2, s2, scaled, want2)


@_kernel(nogil=True, fastmath=_FM, inline="always")
def _jacobian(tab, V, out, s, scaled):
    """out += F_z (times s if scaled)."""
    _add_matrix(_iseg(tab, 11), _iseg(tab, 12), _iseg(tab, 13), _fseg(tab, 14), _iseg(tab, 15), _iseg(tab, 16),
                _iseg(tab, 17), _fseg(tab, 18), _fseg(tab, 19), V, out, s, scaled)


@_kernel(nogil=True, fastmath=_FM, inline="always")
def _evaluate_straight(z, t, ptgt, dp, gam, form, ws, H, Hz, Ht, want_t):
    gsl, tabF, tabG = form
    x, V, p, w = ws
    n = z.shape[0]
    _zero(H, Hz, Ht)
    # H = (1 - t) F + gamma t G, H_t = gamma G - F: F and F_z unscaled into H and Hz, then scaled
    _monomials(z, p, _iseg(tabF, 0), _iseg(tabF, 1), x, V)
    _values(tabF, V, H, 1.0 + 0j, Ht, 1.0 + 0j, False, False)
    _jacobian(tabF, V, Hz, 1.0 + 0j, False)
    a = 1.0 - t  # real: two multiplications per entry
    for i in range(n):
        if want_t:
            Ht[i] = -H[i]
        H[i] = complex(a * H[i].real, a * H[i].imag)
        for j in range(n):
            Hz[i, j] = complex(a * Hz[i, j].real, a * Hz[i, j].imag)
    b = gsl * t
    _monomials(z, p, _iseg(tabG, 0), _iseg(tabG, 1), x, V)
    _values(tabG, V, H, b, Ht, gsl, True, want_t)
    _jacobian(tabG, V, Hz, b, True)


@_kernel(nogil=True, fastmath=_FM, inline="always")
def _evaluate_parameter(z, t, ptgt, dp, gam, form, ws, H, Hz, Ht, want_t):
    tabF = form[0]
    x, V, p, w = ws
    m = ptgt.shape[0]
    den = 1.0 + (gam - 1.0) * t
    s = gam * t / den
    for l in range(m):
        p[l] = ptgt[l] + s * dp[l]
    _zero(H, Hz, Ht)
    _monomials(z, p, _iseg(tabF, 0), _iseg(tabF, 1), x, V)
    _values(tabF, V, H, 1.0 + 0j, Ht, 1.0 + 0j, False, False)
    _jacobian(tabF, V, Hz, 1.0 + 0j, False)
    if want_t:
        # H_t = (dF/dp) dp ds/dt
        ds = gam / (den * den)
        for l in range(m):
            w[l] = ds * dp[l]
        _add_parameter(_iseg(tabF, 20), _iseg(tabF, 21), _iseg(tabF, 22), _fseg(tabF, 23), _iseg(tabF, 24),
                       _iseg(tabF, 25), _iseg(tabF, 26), _fseg(tabF, 27), _fseg(tabF, 28), V, Ht, w)


def _monomial_count(form):  # pragma: no cover - compiled only
    """The size of the monomial buffer V for ``form``."""
    raise NotImplementedError


@_kernel(nogil=True, fastmath=_FM)
def _lu(A, piv):
    """In-place LU with partial pivoting (largest |re| + |im|, as LAPACK); False when a pivot is
    zero or not finite (an exactly singular or non-finite matrix)."""
    n = A.shape[0]
    for k in range(n):
        p = k
        best = abs(A[k, k].real) + abs(A[k, k].imag)
        for i in range(k + 1, n):
            v = abs(A[i, k].real) + abs(A[i, k].imag)
            if v > best:
                best = v
                p = i
        piv[k] = p
        if not (best > 0.0 and best < np.inf):
            return False
        if p != k:
            for j in range(n):
                tmp = A[k, j]
                A[k, j] = A[p, j]
                A[p, j] = tmp
        inv = 1.0 / A[k, k]
        for i in range(k + 1, n):
            f = A[i, k] * inv
            A[i, k] = f
            if f != 0:
                for j in range(k + 1, n):
                    A[i, j] -= f * A[k, j]
    return True


@_kernel(nogil=True, fastmath=_FM)
def _lu_solve(A, piv, b, out, sign):
    """out = sign * A^{-1} b from the factors of ``_lu``."""
    n = A.shape[0]
    for i in range(n):
        out[i] = sign * b[i]
    for k in range(n):
        p = piv[k]
        if p != k:
            tmp = out[k]
            out[k] = out[p]
            out[p] = tmp
    for i in range(n):
        acc = out[i]
        for j in range(i):
            acc -= A[i, j] * out[j]
        out[i] = acc
    for i in range(n - 1, -1, -1):
        acc = out[i]
        for j in range(i + 1, n):
            acc -= A[i, j] * out[j]
        out[i] = acc / A[i, i]


@_kernel(nogil=True, fastmath=_FM)
def _norm(v):
    """max_i |v_i|, NaN when some entry is NaN (as numpy's max)."""
    mx = 0.0
    for i in range(v.shape[0]):
        a = abs(v[i])
        if a != a:
            return np.nan
        if a > mx:
            mx = a
    return mx


@_kernel(nogil=True, fastmath=_FM)
def _all_finite(v):
    for i in range(v.shape[0]):
        if not (np.isfinite(v[i].real) and np.isfinite(v[i].imag)):
            return False
    return True


@_kernel(nogil=True, fastmath=_FM)
def _workspace(form, n, m):
    """Scratch arrays of ``_evaluate``: x (variables), V (monomials), p and w (dp ds/dt)."""
    M = _monomial_count(form)
    return (np.empty(n + m, dtype=np.complex128), np.empty(M, dtype=np.complex128), np.empty(m, dtype=np.complex128),
            np.empty(m, dtype=np.complex128))


@_kernel(nogil=True, fastmath=_FM)
def _evaluation_buffers(form, n, m):
    """``_evaluate``'s scratch (``_workspace``) and its outputs H (n,), H_t (n,), H_z (n, n)."""
    return (_workspace(form, n, m), np.empty(n, dtype=np.complex128), np.empty(n, dtype=np.complex128),
            np.empty((n, n), dtype=np.complex128))


@_kernel(nogil=True, fastmath=_FM)
def _velocity(z, t, ptgt, dp, gam, form, ws, H, Hz, Ht, piv, out):
    """out = dz/dt = -H_z^{-1} H_t at (z, t) (NaN where H_z is singular)."""
    _evaluate(z, t, ptgt, dp, gam, form, ws, H, Hz, Ht, True)
    if _lu(Hz, piv):
        _lu_solve(Hz, piv, Ht, out, -1.0)
    else:
        for i in range(out.shape[0]):
            out[i] = np.nan


@_kernel(nogil=True, fastmath=_FM)
def _newton_step(z, t, ptgt, dp, gam, form, ws, H, Hz, Ht, piv, dz):
    """dz = -H_z^{-1} H at (z, t) (NaN where H_z is singular), keeping the LU factors of H_z in Hz
    and H_t in Ht; whether H_z is regular."""
    _evaluate(z, t, ptgt, dp, gam, form, ws, H, Hz, Ht, True)
    if _lu(Hz, piv):
        _lu_solve(Hz, piv, H, dz, -1.0)
        return True
    for i in range(dz.shape[0]):
        dz[i] = np.nan
    return False


@_kernel(nogil=True, fastmath=_FM)
def _track_range(lo, hi, Z, T, steps, rejected, work, code, S1Z, S2Z, S1T, S2T, Ptgt, DP, GAM, form, fo, io):
    """Track paths lo..hi-1 in place: Z (B, n) from T (B,) to t_end (``fo[_F_T_END]``); work counts
    the Jacobian factorisations of each path."""
    n = Z.shape[1]
    m = Ptgt.shape[1]
    ws, H, Ht, Hz = _evaluation_buffers(form, n, m)
    piv = np.empty(n, dtype=np.int64)
    z = np.empty(n, dtype=np.complex128)
    k1 = np.empty(n, dtype=np.complex128)
    k2 = np.empty(n, dtype=np.complex128)
    k3 = np.empty(n, dtype=np.complex128)
    k4 = np.empty(n, dtype=np.complex128)
    y = np.empty(n, dtype=np.complex128)
    zc = np.empty(n, dtype=np.complex128)
    dz = np.empty(n, dtype=np.complex128)
    vel = np.empty(n, dtype=np.complex128)
    t_end = fo[_F_T_END]
    max_iters = io[_I_CORR_ITERS]
    max_steps = io[_I_MAX_STEPS]
    order = io[_I_ORDER]
    expo = 1.0 / (order + 1)
    for b in range(lo, hi):
        ptgt = Ptgt[b]
        dp = DP[b]
        gam = GAM[b]
        for j in range(n):
            z[j] = Z[b, j]
        t = T[b]
        if not _all_finite(z):
            code[b] = _FAILED
            continue
        h = fo[_F_INITIAL]
        just_rejected = False
        has_k1 = False
        next_sample = 0.1
        nst = 0
        nrej = 0
        nlu = 0
        wait = 0  # accepted steps before the next attempt to land on t_end
        backoff = 1
        c = _ACTIVE
        while c == _ACTIVE:
            rem = t - t_end
            if wait > 0 and rem >= fo[_F_ENDGAME]:
                ha = min(h, fo[_F_RATIO] * rem)
            else:
                ha = min(h, rem)
            jump = ha == rem
            t1 = t - ha
            if not has_k1:
                nlu += 1
                _velocity(z, t, ptgt, dp, gam, form, ws, H, Hz, Ht, piv, k1)
                has_k1 = True
            # predictor
            if order == 2:
                nlu += 1
                for j in range(n):
                    y[j] = z[j] - ha * k1[j]
                _velocity(y, t - ha, ptgt, dp, gam, form, ws, H, Hz, Ht, piv, k2)
                for j in range(n):
                    zc[j] = z[j] - 0.5 * ha * (k1[j] + k2[j])
            else:
                nlu += 3
                for j in range(n):
                    y[j] = z[j] - 0.5 * ha * k1[j]
                _velocity(y, t - 0.5 * ha, ptgt, dp, gam, form, ws, H, Hz, Ht, piv, k2)
                for j in range(n):
                    y[j] = z[j] - 0.5 * ha * k2[j]
                _velocity(y, t - 0.5 * ha, ptgt, dp, gam, form, ws, H, Hz, Ht, piv, k3)
                for j in range(n):
                    y[j] = z[j] - ha * k3[j]
                _velocity(y, t - ha, ptgt, dp, gam, form, ws, H, Hz, Ht, piv, k4)
                for j in range(n):
                    zc[j] = z[j] - (ha / 6.0) * (k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j])
            # corrector: Newton at t1; H_z [dz, v] = -[H, H_t] with one factorisation (v, the
            # velocity for the next step, solved only after the last iteration of an accepted step)
            ok = False
            first = np.inf
            prev = np.inf
            regular = False
            for it in range(max_iters):
                nlu += 1
                regular = _newton_step(zc, t1, ptgt, dp, gam, form, ws, H, Hz, Ht, piv, dz)
                for j in range(n):
                    zc[j] += dz[j]
                nrm = _norm(dz) / (1.0 + _norm(zc))
                if not np.isfinite(nrm):
                    nrm = np.inf
                if it == 0:
                    first = nrm
                    bad = nrm > fo[_F_MAX_FIRST]
                else:
                    bad = nrm > fo[_F_CONTRACT] * prev
                if nrm <= fo[_F_CORR_TOL] and not bad:
                    ok = True
                    break
                if bad:
                    break
                prev = nrm
            # step-size control
            err = max(first, 1e-300)
            factor = 0.9 * (fo[_F_PRED_TOL] / err) ** expo if err < np.inf else 0.0
            if ok:
                if regular:
                    _lu_solve(Hz, piv, Ht, vel, -1.0)
                else:  # pragma: no cover - an accepted step has a finite update, so a regular H_z
                    for j in range(n):
                        vel[j] = np.nan
                for j in range(n):
                    z[j] = zc[j]
                    k1[j] = vel[j]
                t = t1
                nst += 1
                if wait > 0:
                    wait -= 1
                cap = 1.0 if just_rejected else fo[_F_GROWTH]
                h = min(ha * min(max(factor, 0.5), cap), fo[_F_MAX_STEP])
                just_rejected = False
                if t <= next_sample and t > t_end:
                    S2T[b] = S1T[b]
                    S1T[b] = t - t_end
                    for j in range(n):
                        S2Z[b, j] = S1Z[b, j]
                        S1Z[b, j] = z[j]
                    next_sample = 0.1 * (t - t_end) + t_end
                if t <= t_end:
                    c = _SUCCESS
                if _norm(z) > fo[_F_MAX_NORM]:
                    c = _DIVERGED
            else:
                nrej += 1
                h = ha * min(max(factor, 0.25), 0.5)
                just_rejected = True
                if jump:  # approach t_end geometrically for a while, then try again
                    wait = backoff
                    backoff *= 2
                if h < fo[_F_MIN_STEP] or h < fo[_F_MIN_REL] * (t - t_end) or t - t_end < fo[_F_ENDGAME]:
                    c = _SINGULAR if t - t_end < fo[_F_SING_T] else _FAILED
            if not _all_finite(z):
                c = _FAILED
            if c == _ACTIVE and nst + nrej >= max_steps:
                c = _MAX_STEPS
        for j in range(n):
            Z[b, j] = z[j]
        T[b] = t
        steps[b] = nst
        rejected[b] = nrej
        work[b] = nlu
        code[b] = c


@_kernel(nogil=True, fastmath=_FM)
def _newton_iterations(lo, hi, Z, T, upd, Ptgt, DP, GAM, form, iters, tol, guarded):
    """Newton's method at T[b] from Z[b], path by path; a path stops once its update <= tol.

    guarded (the tracker's final refinement, ``tracker._refine``): an update is taken only while it is
    finite and at most twice the previous one; upd is the last accepted update (inf if none).
    Unguarded (``start.newton_refine``): every finite update is taken; upd is the last one relative to
    1 + |z|_inf (inf when it was not finite)."""
    n = Z.shape[1]
    m = Ptgt.shape[1]
    ws, H, Ht, Hz = _evaluation_buffers(form, n, m)
    piv = np.empty(n, dtype=np.int64)
    z = np.empty(n, dtype=np.complex128)
    dz = np.empty(n, dtype=np.complex128)
    for b in range(lo, hi):
        for j in range(n):
            z[j] = Z[b, j]
        u = np.inf if guarded else 0.0
        for it in range(iters):
            _evaluate(z, T[b], Ptgt[b], DP[b], GAM[b], form, ws, H, Hz, Ht, False)
            if _lu(Hz, piv):
                _lu_solve(Hz, piv, H, dz, -1.0)
            else:
                for j in range(n):
                    dz[j] = np.nan
            if guarded:
                nrm = _norm(dz) / (1.0 + _norm(z))
                if np.isfinite(nrm) and nrm <= max(u, 1e-300) * 2:
                    for j in range(n):
                        if np.isfinite(dz[j].real) and np.isfinite(dz[j].imag):
                            z[j] += dz[j]
                    u = nrm
            elif _all_finite(dz):
                for j in range(n):
                    z[j] += dz[j]
                u = _norm(dz) / (1.0 + _norm(z))
            else:
                u = np.inf
            if u <= tol:
                break
        for j in range(n):
            Z[b, j] = z[j]
        upd[b] = u


@_kernel(nogil=True, fastmath=_FM)
def _values_range(lo, hi, Z, T, Hout, Hzout, Ptgt, DP, GAM, form):
    """H and H_z at the points Z (B, n), T (B,)."""
    n = Z.shape[1]
    m = Ptgt.shape[1]
    ws = _workspace(form, n, m)
    Ht = np.empty(n, dtype=np.complex128)
    for b in range(lo, hi):
        _evaluate(Z[b], T[b], Ptgt[b], DP[b], GAM[b], form, ws, Hout[b], Hzout[b], Ht, False)


@_kernel(nogil=True)
def _condition(A, work):
    """cond_2(D A), D scaling every row of A to unit norm (``linear_algebra.condition_numbers``):
    inf where A is singular or not finite.  work: an n x n complex scratch matrix."""
    n = A.shape[0]
    for i in range(n):
        for j in range(n):
            if not (np.isfinite(A[i, j].real) and np.isfinite(A[i, j].imag)):
                return np.inf
    for i in range(n):
        rn = 0.0
        for j in range(n):
            rn += A[i, j].real * A[i, j].real + A[i, j].imag * A[i, j].imag
        rn = np.sqrt(rn)
        if rn == 0.0:
            rn = 1.0
        for j in range(n):
            work[i, j] = A[i, j] / rn
    c = np.linalg.cond(work)
    return c if np.isfinite(c) else np.inf


@_kernel(nogil=True)
def _refine_range(lo, hi, Z, T, upd, resid, cond, Ptgt, DP, GAM, form, iters, tol):
    """The tracker's final refinement of paths lo..hi-1 (``tracker._refine``): guarded Newton at T[b]
    (``_newton_iterations``), then |H|_inf (inf if not finite) and the condition number of H_z
    (``_condition``) at the refined point."""
    _newton_iterations(lo, hi, Z, T, upd, Ptgt, DP, GAM, form, iters, tol, True)
    n = Z.shape[1]
    m = Ptgt.shape[1]
    ws, H, Ht, Hz = _evaluation_buffers(form, n, m)
    work = np.empty((n, n), dtype=np.complex128)
    for b in range(lo, hi):
        _evaluate(Z[b], T[b], Ptgt[b], DP[b], GAM[b], form, ws, H, Hz, Ht, False)
        resid[b] = _norm(H) if _all_finite(H) else np.inf
        cond[b] = _condition(Hz, work) if n > 0 else 1.0


# -- loading: ahead-of-time compiled kernels or numba's JIT ------------------------------------------------------------

_JIT_LOCK = __import__("threading").Lock()
_JITTED = False


def _jit() -> None:
    """Make every kernel a numba dispatcher (``njit(cache=CACHED, ...)``) bound to its module name; at import
    unless the AOT module is loaded, else on the first call it cannot serve (or the first direct use of a
    kernel name, e.g. ``compiled._lu`` in a test)."""
    global CACHED, _JITTED
    if _JITTED or not AVAILABLE:
        return
    with _JIT_LOCK:
        if _JITTED:
            return
        from numba import njit
        from numba.extending import overload

        CACHED = _cache_dir()
        g = globals()
        for name, (f, options) in _KERNELS.items():
            g[name] = njit(cache=CACHED, **options)(f)

        @overload(_monomial_count)
        def _monomial_count_overload(form):
            if len(form) == 3:
                return lambda form: max(form[1][0][1] - form[1][0][0], form[2][0][1] - form[2][0][0])
            return lambda form: form[0][0][1] - form[0][0][0]

        @overload(_evaluate, inline="always")
        def _evaluate_overload(z, t, ptgt, dp, gam, form, ws, H, Hz, Ht, want_t):
            if len(form) == 3:
                return g["_evaluate_straight"].py_func
            return g["_evaluate_parameter"].py_func

        _JITTED = True


def __getattr__(name: str):
    # with the AOT module loaded the kernel names are not bound until numba is (``_jit``)
    if name in _KERNELS or name == "CACHED":
        _jit()
        if name in globals():
            return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _entry(name: str, form_arg: int):
    """The kernel ``name`` as called by ``dispatch`` and ``start``: the AOT module's function for the type of
    ``form`` (argument ``form_arg``) when it is loaded and the arguments have the types it was compiled for,
    else numba's dispatcher (the first such call in a process may start the AOT build, ``aot.maybe_build``)."""

    def call(*args):
        if _AOT is not None:
            f = _aot.function(_AOT, name, args, form_arg)
            if f is not None:
                return f(*args)
        elif AVAILABLE:
            _aot.maybe_build()
        _jit()
        return globals()[name](*args)

    call.__name__ = call.__qualname__ = name.lstrip("_")
    call.__doc__ = f"``{name}`` (ahead-of-time compiled when available, else numba's JIT)."
    return call


track_range = _entry("_track_range", 15)
newton_iterations = _entry("_newton_iterations", 8)
values_range = _entry("_values_range", 9)
refine_range = _entry("_refine_range", 10)

if _AOT is None:
    _jit()
else:  # unbound until needed (``__getattr__``)
    for _name in _KERNELS:
        del globals()[_name]
    del _name

"""Network degrees in Macaulay2 (NumericalImplicitization), written independently of our code.

Shared by ``tests/test_oracle_degree_macaulay2.py`` and ``benchmarks/degree.py``.  Each network
is written a second time in the Macaulay2 language from the definitions in README.md -- nothing
is generated from our Python forward pass; only the family parameters (widths, r, bias, k, s, a,
t) are shared:

* parameter ring R = QQ[th_1..th_N], input ring S = R[x_1..x_n] (inputs over the parameters);
* the network is built with matrices of variables, matrix products, entrywise powers and, for
  convolutions, explicit sums over the filter taps;
* its coordinates mu(theta) are the coefficients of the output polynomials with respect to the
  inputs (``coefficients``, lifted to R), mapped to CC[th_1..th_N];
* ``pseudoWitnessSet(F, ideal 0)`` of NumericalImplicitization gives the degree of the closure
  of the image of F (the neuromanifold M in coefficient space), with its trace-test verdict.

Macaulay2's monodromy has been seen to report a wrong degree with a passing trace test (its
issue #2230), so callers run several seeds (``setRandomSeed``) and take the majority.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

M2 = shutil.which("M2")

M2_LIBRARY = textwrap.dedent(
    r"""
    needsPackage "NumericalImplicitization";

    -- the next m x n parameters (generators of R, counted in c#0) as a matrix over S
    paramMatrix = (S, R, c, m, n) -> matrix table(m, n, (i, j) -> (
            c#0 = c#0 + 1;
            promote(R_(c#0 - 1), S)));

    powerEntries = (H, r) -> matrix apply(entries H, row -> apply(row, e -> e^r));

    -- dense: x -> W_h s(... s(W_1 x + b_1) ...) + b_h with s(y) = y^r between layers
    denseNet = (widths, r, bias) -> (
        h := #widths - 1;
        N := sum(1..h, i -> widths#i * widths#(i-1) + (if bias then widths#i else 0));
        R := QQ[th_1..th_N];
        S := R[x_1..x_(widths#0)];
        c := new MutableList from {0};
        H := transpose vars S;
        for i from 1 to h do (
            H = paramMatrix(S, R, c, widths#i, widths#(i-1)) * H;
            if bias then H = H + paramMatrix(S, R, c, widths#i, 1);
            if i < h then H = powerEntries(H, r);
            );
        (R, S, flatten entries H));

    -- 1-D convolutions without padding: (w * y)_j = sum_m w_m y_(s j + m), output length
    -- floor((len - k)/s) + 1; y^r between layers; input length n
    cnnNet = (k, s, r, n) -> (
        L := #k;
        N := sum k;
        R := QQ[th_1..th_N];
        S := R[x_1..x_n];
        c := new MutableList from {0};
        y := gens S;
        for i from 0 to L - 1 do (
            w := flatten entries paramMatrix(S, R, c, 1, k#i);
            outLen := (#y - k#i) // s#i + 1;
            y = apply(outLen, j -> sum(k#i, m -> w#m * y#(s#i * j + m)));
            if i < L - 1 then y = apply(y, e -> e^r);
            );
        (R, S, y));

    -- lightning self-attention, one layer: X -> V X X^T K^T Q X, X a d x t matrix of inputs
    attentionNet = (d, dout, a, t) -> (
        N := 2 * a * d + dout * d;
        R := QQ[th_1..th_N];
        S := R[x_1..x_(d * t)];
        c := new MutableList from {0};
        X := matrix table(d, t, (i, j) -> S_(i * t + j));
        Q := paramMatrix(S, R, c, a, d);
        K := paramMatrix(S, R, c, a, d);
        V := paramMatrix(S, R, c, dout, d);
        (R, S, flatten entries(V * X * transpose X * transpose K * Q * X)));

    -- the coefficient map theta -> mu(theta) over CC
    coefficientMap = network -> (
        (R, S, outs) := network;
        cf := flatten apply(outs, f -> flatten entries last coefficients(matrix{{f}}));
        cf = select(apply(cf, e -> lift(e, R)), e -> e != 0);
        RC := CC[t_1..t_(numgens R)];
        toRC := map(RC, R, gens RC);
        (RC, apply(cf, e -> toRC e)));

    -- degree of the closure of the image, with the trace-test verdict and the seconds it took
    imageDegree = (network, seed) -> (
        (RC, F) := coefficientMap network;
        setRandomSeed seed;
        e := elapsedTiming (W := pseudoWitnessSet(F, ideal 0_RC, Verbose => false));
        << "RESULT degree=" << W.degree << " complete=" << W.isCompletePseudoWitnessSet
           << " trace=" << toString(W.trace) << " seconds=" << toString(e#0) << endl;
        );
    """
)

M2_ED_LIBRARY = textwrap.dedent(
    r"""
    -- ED degree of the closure of the image, exactly over QQ (Draisma-Horobet-Ottaviani-Sturmfels-Thomas):
    -- implicitize I = ker(QQ[y] -> QQ[theta], y -> coefficients), then the critical ideal
    -- I + minors(c + 1, [(u - y)^T Q ; Jac I]) saturated by the singular locus I + minors(c, Jac I),
    -- for a random rational data point u; Q: identity (euclidean), 1/multinomial on the diagonal
    -- (bombieri_weyl, forms homogenised to the top degree) or A^T A + I for a random rational A (generic).
    edDegree = (network, metricKind, seed) -> (
        (R, S, outs) := network;
        ms := {}; cf := {};
        scan(outs, f -> (
            (mons, cfs) := coefficients(matrix{{f}});
            scan(numcols mons, j -> (
                c := lift(cfs_(j, 0), R);
                if c != 0 then (
                    e := apply(numgens S, i -> degree(S_i, mons_(0, j)));
                    ms = append(ms, e); cf = append(cf, c))))));
        D := #cf;
        T := QQ[y_1..y_D];
        t0 := cpuTime();
        I := trim ker map(R, T, cf);
        c := codim I;
        dmax := max apply(ms, e -> sum e);
        multinom := e -> (sum e)! // product(e, k -> k!);
        Q := if metricKind == "euclidean" then id_(QQ^D)
            else if metricKind == "bombieri_weyl" then diagonalMatrix apply(ms, e -> 1/multinom(append(e, dmax - sum e)))
            else (setRandomSeed seed; A := random(QQ^D, QQ^D, Height => 9); transpose A * A + id_(QQ^D));
        setRandomSeed(seed + 1);
        u := random(QQ^1, QQ^D, Height => 7);
        J := transpose jacobian gens I;
        M := (promote(u, T) - vars T) * promote(Q, T) || J;
        E := saturate(I + minors(c + 1, M), I + minors(c, J));
        << "EDRESULT ed=" << degree E << " dim=" << dim E << " seconds=" << toString(cpuTime() - t0) << endl;
        );
    """
)

_ED_RESULT = re.compile(r"EDRESULT ed=(\d+) dim=(-?\d+) seconds=(\S+)")


def _run_m2(script: str, timeout: float) -> tuple[str, bool, float]:
    """Run a Macaulay2 script in a scratch folder: (stdout + stderr so far, timed out?, wall seconds)."""
    if M2 is None:
        raise RuntimeError("Macaulay2 (M2) is not on the PATH")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "script.m2"
        path.write_text(script)
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [M2, "--script", str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp
        )
        try:
            out, _ = proc.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            timed_out = True
        return out, timed_out, time.perf_counter() - t0


def m2_ed_degree(network: str, metric: str, seed: int = 3, timeout: float = 300.0) -> dict[str, Any]:
    """Exact ED degree of the closure of the network's image in Macaulay2 (symbolic, over QQ).

    Returns {"ed": int, "dim": int (0 for a finite critical set), "seconds": M2 cpu time} or
    {"timeout": True}."""
    lib = M2_LIBRARY.replace('needsPackage "NumericalImplicitization";', "")
    out, timed_out, wall = _run_m2(lib + M2_ED_LIBRARY + f'\nedDegree({network}, "{metric}", {int(seed)});\n', timeout)
    if timed_out:
        return {"timeout": True, "seconds": wall}
    m = _ED_RESULT.search(out)
    if not m:
        raise RuntimeError(f"Macaulay2 failed on {network}:\n{out[-3000:]}")
    return {"ed": int(m.group(1)), "dim": int(m.group(2)), "seconds": float(m.group(3))}


_RESULT = re.compile(r"RESULT degree=(\d+) complete=(\w+) trace=(\S+) seconds=(\S+)")


def _tuple(xs: Any) -> str:
    return "{" + ",".join(str(int(x)) for x in xs) + "}"


def _cnn_length(k: tuple[int, ...], s: tuple[int, ...]) -> int:
    n = 1
    for ki, si in zip(reversed(k), reversed(s)):
        n = si * (n - 1) + ki
    return n


def m2_network(family: str, **p: Any) -> str:
    """The Macaulay2 expression building the network of ``family`` with parameters ``p``."""
    if family == "linear":
        return f"denseNet({_tuple(p['widths'])}, 1, false)"
    if family == "mlp":
        return f"denseNet({_tuple(p['widths'])}, {int(p.get('r', 2))}, {'true' if p.get('bias') else 'false'})"
    if family == "cnn":
        k = tuple(p["k"])
        s = tuple(p.get("s") or (1,) * len(k))
        n = p.get("n") or _cnn_length(k, s)
        return f"cnnNet({_tuple(k)}, {_tuple(s)}, {int(p.get('r', 2))}, {int(n)})"
    if family == "attention":
        return f"attentionNet({int(p['d'])}, {int(p.get('dout', p['d']))}, {int(p.get('a', p['d']))}, {int(p.get('t', 2))})"
    raise ValueError(f"no Macaulay2 model of the family {family!r}")


def spec_string(family: str, **p: Any) -> str:
    """Our spec string for the same network."""
    def tup(xs: Any) -> str:
        return "(" + ", ".join(str(int(x)) for x in xs) + ("," if len(xs) == 1 else "") + ")"

    if family == "linear":
        return f"linear(widths={tup(p['widths'])})"
    if family == "mlp":
        return f"mlp(widths={tup(p['widths'])}, r={int(p.get('r', 2))}, bias={bool(p.get('bias', False))})"
    if family == "cnn":
        k = tuple(p["k"])
        s = tuple(p.get("s") or (1,) * len(k))
        extra = f", n={int(p['n'])}" if p.get("n") else ""
        return f"cnn(k={tup(k)}, s={tup(s)}, r={int(p.get('r', 2))}{extra})"
    if family == "attention":
        return (
            f"attention(d={int(p['d'])}, dout={int(p.get('dout', p['d']))}, a={int(p.get('a', p['d']))}, "
            f"t={int(p.get('t', 2))})"
        )
    raise ValueError(f"unknown family {family!r}")


def m2_image_degree(network: str, seeds: tuple[int, ...] = (1,), timeout: float = 600.0) -> list[dict[str, Any]]:
    """Run ``pseudoWitnessSet`` once per seed (one M2 process, each run timed inside M2).

    Returns one dict per seed that finished: degree, complete (trace test passed), trace,
    seconds (Macaulay2's own elapsed time for that run).  On a timeout the runs finished so far
    are returned and the last entry is ``{"timeout": True, "seconds": ...}``.
    """
    script = M2_LIBRARY + f"\ntheNetwork = {network};\n" + "".join(f"imageDegree(theNetwork, {int(s)});\n" for s in seeds)
    out, timed_out, wall = _run_m2(script, timeout)
    runs = [
        {"degree": int(m.group(1)), "complete": m.group(2) == "true", "trace": float(m.group(3)),
         "seconds": float(m.group(4))}
        for m in _RESULT.finditer(out)
    ]
    if timed_out:
        runs.append({"timeout": True, "seconds": wall})
    elif len(runs) < len(seeds):
        raise RuntimeError(f"Macaulay2 failed on {network}:\n{out[-3000:]}")
    return runs


def majority(runs: list[dict[str, Any]]) -> tuple[int | None, Counter]:
    """The most frequent degree among finished runs with a passing trace test (None if none)."""
    votes = Counter(r["degree"] for r in runs if not r.get("timeout") and r["complete"])
    if not votes:
        return None, votes
    (value, count), = votes.most_common(1)
    return value, votes

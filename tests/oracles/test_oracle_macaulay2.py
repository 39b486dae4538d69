"""Independent oracle: dim M recomputed in Macaulay2 from the spec parameters alone.

Each network below is written a second time, in the Macaulay2 language (``M2_NETWORKS``), from
the definitions in README.md / the architecture docstrings -- nothing is generated from our
Python forward pass; only the spec parameters (widths, r, bias, k, s, a, t) are shared:

* parameter ring R = QQ[th_1..th_N], input ring S = R[x_1..x_n] (inputs over the parameters);
* the network is built with matrices of variables, matrix products, entrywise powers and, for
  convolutions, explicit sums;
* the coefficients of the output polynomials with respect to the input variables
  (``coefficients(f, Variables => gens S)``, lifted to R) form the coordinates of mu(theta);
* J = ``jacobian`` of that coefficient vector with respect to th_1..th_N (a matrix over R);
* dim M = the rank of J over the fraction field QQ(th) = ``frac R``.  ``rank`` of a matrix over a
  ring without engine linear algebra is ``rank image J``, and for a module over a field that is
  the number of elements of a Groebner basis of its generators (Gaussian elimination over
  QQ(th); see ``rank Matrix`` in Core/matrix1.m2 and ``rank Module`` in Core/modules.m2).  This
  is the generic rank itself -- no evaluation at a random point is involved.
  ``test_oracle_rank_is_generic`` checks that on matrices whose rank drops on a hypersurface.

The M2 rank is then compared with ``neuromanifold.analyze(spec, only="dimension")``.  The
symbolic rank over QQ(th) is expensive, so the cases are small (each M2 run takes < 10 s; e.g.
attention(widths=(2,2,2), a=(1,1), t=2), a 16 x 440 Jacobian with ~260k terms, did not finish
in 10 minutes, so the deep attention case is widths=(2,1,1)).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap

import pytest

import neuromanifold as nm

M2 = shutil.which("M2")
if M2 is None:
    pytest.skip(
        "Macaulay2 (`M2`) is not on the PATH; install it (apt-get install --no-install-recommends macaulay2) "
        "to run the independent oracle",
        allow_module_level=True,
    )

pytestmark = pytest.mark.oracle

M2_TIMEOUT = 60  # seconds per M2 run (each case takes well under 10 s)

# The networks in the Macaulay2 language.  Every constructor returns (R, S, F): the parameter ring,
# the input ring over it, and the list of output polynomials in S.
M2_NETWORKS = textwrap.dedent(
    r"""
    -- a fresh m x n matrix of parameter variables (the next m*n generators of R), as elements of S
    freshMatrix = (S, R, counter, m, n) -> matrix table(m, n, (i, j) -> (
            counter#0 = counter#0 + 1;
            promote(R_(counter#0 - 1), S)));

    entrywisePower = (H, r) -> matrix apply(entries H, row -> apply(row, e -> e^r));

    -- dense: x -> W_h s(... s(W_1 x + b_1) ...) + b_h, s(z) = z^r between layers
    -- (r = 1, bias = false: the linear network W_h ... W_1 x)
    denseNet = (widths, r, bias) -> (
        h := #widths - 1;
        N := sum(1..h, i -> widths#i * widths#(i-1) + (if bias then widths#i else 0));
        R := QQ[th_1..th_N];
        S := R[x_1..x_(widths#0)];
        counter := new MutableList from {0};
        H := transpose matrix{gens S};
        for i from 1 to h do (
            H = freshMatrix(S, R, counter, widths#i, widths#(i-1)) * H;
            if bias then H = H + freshMatrix(S, R, counter, widths#i, 1);
            if i < h then H = entrywisePower(H, r);
            );
        assert(counter#0 == N);
        (R, S, flatten entries H)
        );

    -- 1-D convolutions without padding: (w * y)[j] = sum_m w[m] y[s j + m], output length
    -- floor((len - k)/s) + 1, y^r between layers; input length n = the smallest with one output
    -- (unless given)
    cnnNet = (k, s, r, n) -> (
        L := #k;
        if n === null then (
            n = 1;
            for i from 1 to L do n = s#(L-i) * (n - 1) + k#(L-i);
            );
        N := sum k;
        R := QQ[th_1..th_N];
        S := R[x_1..x_n];
        counter := 0;
        H := gens S;
        for i from 0 to L-1 do (
            w := for m from 1 to k#i list (counter = counter + 1; promote(R_(counter - 1), S));
            len := (#H - k#i) // s#i + 1;
            H = for j from 0 to len - 1 list sum(0..k#i - 1, m -> w#m * H#(s#i * j + m));
            if i < L-1 then H = apply(H, e -> e^r);
            );
        assert(counter == N);
        (R, S, H)
        );

    -- lightning self-attention: each layer H -> V H H^T K^T Q H, H in S^{d x t}
    attentionNet = (widths, a, t) -> (
        l := #a;
        N := sum(0..l-1, i -> 2 * a#i * widths#i + widths#(i+1) * widths#i);
        R := QQ[th_1..th_N];
        S := R[x_1..x_(widths#0 * t)];
        counter := new MutableList from {0};
        H := matrix table(widths#0, t, (i, j) -> S_(i * t + j));
        for i from 0 to l-1 do (
            Q := freshMatrix(S, R, counter, a#i, widths#i);
            K := freshMatrix(S, R, counter, a#i, widths#i);
            V := freshMatrix(S, R, counter, widths#(i+1), widths#i);
            H = V * (H * transpose H) * (transpose K) * Q * H;
            );
        assert(counter#0 == N);
        (R, S, flatten entries H)
        );

    -- the rank over frac R of a matrix over R (Gaussian elimination over the rational function field)
    genericRank = J -> rank promote(J, frac ring J);

    -- dim M: generic rank of the Jacobian of the coefficients (w.r.t. the inputs) of the outputs
    oracle = (R, S, F) -> (
        C := flatten apply(F, f -> apply(
                flatten entries last coefficients(matrix{{f}}, Variables => gens S),
                c -> lift(c, R)));
        J := jacobian matrix{C};
        << "ORACLE params=" << numgens R << " outputs=" << #F << " coefficients=" << #C
           << " rank=" << genericRank J << endl;
        );
    """
)


def m2_list(values) -> str:
    return "{" + ", ".join(str(int(v)) for v in values) + "}"


def m2_call(arch) -> str:
    """The M2 constructor call for an architecture: only its spec parameters are passed."""
    fam = arch.family
    if fam in ("linear", "mlp"):
        return f"denseNet({m2_list(arch.widths)}, {arch.r}, {'true' if arch.bias else 'false'})"
    if fam == "cnn":
        return f"cnnNet({m2_list(arch.k)}, {m2_list(arch.s)}, {arch.r}, {arch.n})"
    if fam == "attention":
        return f"attentionNet({m2_list(arch.widths)}, {m2_list(arch.a)}, {arch.t})"
    raise AssertionError(f"no Macaulay2 model for family {fam}")


def run_m2(body: str, tmp_path) -> str:
    script = tmp_path / "oracle.m2"
    script.write_text(M2_NETWORKS + "\n" + body + "\n")
    proc = subprocess.run(
        [M2, "--script", str(script)], capture_output=True, text=True, timeout=M2_TIMEOUT
    )
    assert proc.returncode == 0, f"M2 failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


ORACLE_LINE = re.compile(r"ORACLE params=(\d+) outputs=(\d+) coefficients=(\d+) rank=(\d+)")


def m2_dimension(arch, tmp_path) -> dict[str, int]:
    out = run_m2(f"(R, S, F) = {m2_call(arch)};\noracle(R, S, F);", tmp_path)
    m = ORACLE_LINE.search(out)
    assert m, f"no ORACLE line in the M2 output:\n{out}"
    return dict(zip(("params", "outputs", "coefficients", "rank"), map(int, m.groups())))


# (spec, certified expected): the defective mlp case is compared by value only
CASES = [
    ("linear(widths=(3,2,4))", True),
    ("linear(widths=(2,3,1,3))", True),
    ("mlp(widths=(2,2,2), r=2)", True),
    ("mlp(widths=(3,2,1), r=2)", False),  # defective (Alexander-Hirschowitz): dim 5, expected 6
    ("mlp(widths=(2,2,1), r=2, bias=True)", True),  # fills its ambient space
    ("mlp(widths=(3,2,2), r=2, bias=True)", True),
    ("mlp(widths=(2,2,2,2), r=2)", True),  # three layers, degree 4
    ("mlp(widths=(2,3,2), r=3)", True),
    ("cnn(k=(3,2), s=(2,1), r=2)", True),
    ("cnn(k=(2,2), s=(1,1), r=1)", True),
    ("cnn(k=(2,3,2), s=(1,2,1), r=2)", True),
    ("cnn(k=(2,2), s=(1,1), r=2, n=5)", True),  # several outputs
    ("attention(d=2, dout=1, a=2, t=2)", True),
    ("attention(d=2, dout=2, a=1, t=3)", True),
    ("attention(widths=(2,1,1), a=(1,1), t=2)", True),  # deep
]


@pytest.mark.parametrize("spec,certified", CASES, ids=[c[0] for c in CASES])
def test_dimension_matches_macaulay2(spec, certified, tmp_path):
    arch = nm.parse_spec(spec)
    oracle = m2_dimension(arch, tmp_path)
    # the M2 network has the same parameters and output coordinates (a check on the M2 model)
    assert oracle["params"] == arch.n_params, (oracle, arch.n_params)
    assert oracle["outputs"] == arch.output_size(), (oracle, arch.output_size())
    dim = nm.analyze(spec, only="dimension")["dimension"]
    assert dim.value == oracle["rank"], f"{spec}: neuromanifold says {dim.value}, Macaulay2 says {oracle['rank']}"
    if certified:
        assert dim.status == "certified", (spec, dim.status, dim.evidence)


def test_oracle_rank_is_generic(tmp_path):
    """The M2 rank is over QQ(a, b): rank 2 for matrices singular only on a hypersurface, and
    rank 1 where the rank is 1 identically.  An evaluation at the rank-dropping points would say 1."""
    body = textwrap.dedent(
        """
        T = QQ[a, b];
        << "R1 " << genericRank matrix{{a, b}, {b, a}} << endl;
        << "R2 " << genericRank matrix{{a - b, 0}, {0, a^2 - b^2}} << endl;
        << "R3 " << genericRank matrix{{a, b, a*b}, {a^2, a*b, a^2*b}} << endl;
        """
    )
    out = run_m2(body, tmp_path)
    ranks = dict(re.findall(r"(R\d) (\d+)", out))
    assert ranks == {"R1": "2", "R2": "2", "R3": "1"}, out

"""Independent oracles on the exported files: Macaulay2 (``M2 --script``, NumericalAlgebraicGeometry and, for
the degree, an exact Groebner count over QQ) and PHCpack (``phc -b``) solve what ``neuromanifold export``
writes, and their counts reproduce the toolkit's degrees, ED degrees and critical points.

Counting: the distinct points c(z) of M among the solutions (with rank J_c = k and c(z) != 0 for the ED and
loss systems).  Macaulay2's script prints them; for PHCpack the solution list it writes is read back and
counted by ``exports.solutions.count_images`` (PHCpack's own 'regular'/'singular' verdict is a condition-number
threshold, so every finite solution in its list is counted, smooth ones by the scale-free rank test).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import neuromanifold as nm
from neuromanifold.exports import build_system, write_system
from neuromanifold.exports.solutions import count_images, read_phc_solutions

from m2_networks import M2, _run_m2

PHC = shutil.which("phc")
TIMEOUT = 120  # seconds per external process (each case below takes a few seconds at most)

pytestmark = pytest.mark.oracle
needs_m2 = pytest.mark.skipif(M2 is None, reason="Macaulay2 (`M2`) is not on the PATH; install it (apt-get install "
                              "--no-install-recommends macaulay2) to run the Macaulay2 export oracle")
needs_phc = pytest.mark.skipif(PHC is None, reason="PHCpack (`phc`) is not on the PATH; install it (apt-get install "
                               "phcpack) to run the PHCpack export oracle")

ATT = "attention(d=2, dout=1, a=2, t=2)"
_M2_LINE = re.compile(r"NEUROMANIFOLD nonsingular=(\d+) distinct_images=(\d+) distinct_images_full_rank=(\d+)")
_M2_EXACT = re.compile(r"NEUROMANIFOLD exact_nonsingular=(\d+) dim=(-?\d+)")


def m2_counts(es, exact: bool = False) -> dict[str, int]:
    script = write_system(es, "m2")
    if exact:
        script = script.replace("exact = false;", "exact = true;", 1)
    out, timed_out, wall = _run_m2(script, TIMEOUT)
    assert not timed_out, f"Macaulay2 timed out after {wall:.0f} s on the {es.kind} system of {es.spec}"
    m = _M2_LINE.search(out)
    assert m, f"no count in the Macaulay2 output:\n{out[-2000:]}"
    res = {"nonsingular": int(m.group(1)), "images": int(m.group(2)), "smooth_images": int(m.group(3))}
    if exact:
        e = _M2_EXACT.search(out)
        assert e, f"no exact count in the Macaulay2 output:\n{out[-2000:]}"
        res.update(exact_nonsingular=int(e.group(1)), exact_dim=int(e.group(2)))
    return res


def phc_counts(es) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp = Path(tmp) / "system.phc", Path(tmp) / "system.out"
        inp.write_text(write_system(es, "phc"))
        proc = subprocess.run([PHC, "-b", str(inp), str(outp)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=TIMEOUT, cwd=tmp)
        assert outp.exists(), f"PHCpack wrote no output:\n{proc.stdout[-2000:]}"
        text = outp.read_text()
    Z, verdicts = read_phc_solutions(text, es.unknowns)
    finite = np.array([v.endswith(("regular", "singular")) for v in verdicts], dtype=bool)
    regular = np.array([v.endswith("regular") for v in verdicts], dtype=bool)
    counted = count_images(es, Z[finite])
    summary = re.findall(r"Number of regular solutions\s*:\s*(\d+)", text)
    return {"regular": int(regular.sum()), "summary_regular": int(summary[-1]) if summary else -1,
            "images": counted.distinct_images, "smooth_images": counted.distinct_smooth_images}


# ---------------------------------------------------------------------------------------- degree
DEGREES = [(ATT, 4), ("linear(widths=(3,1,3))", 6), ("mlp(widths=(2,2,1), r=2)", 1)]


# bias-free x^r CNNs, strides included: deg M = m!/prod (k_i-1)! prod r^((L-i)(k_i-1)) (degree.multiprojective_bound;
# equal to the degree where mu is birational up to filter rescalings, Shahverdi-Marchetti-Kohn)
CNN_DEGREES = [("cnn(k=(2,2), s=(1,1), r=2)", 2 * 2), ("cnn(k=(3,2), s=(1,1), r=2)", 3 * 2**2),
               ("cnn(k=(2,2), s=(2,1), r=2)", 2 * 2)]


@needs_phc
@pytest.mark.parametrize("spec,degree", DEGREES + CNN_DEGREES + [("attention(d=2, dout=2, a=2, t=2)", 20)])
def test_phc_reproduces_the_degree(spec, degree):
    es = build_system(spec, "degree", seed=0)
    got = phc_counts(es)
    assert got["images"] == degree, (spec, got)
    assert got["regular"] == got["summary_regular"]  # the solution list read back is PHCpack's own count


@needs_m2
@pytest.mark.parametrize("spec,degree", DEGREES)
def test_m2_reproduces_the_degree_numerically_and_exactly(spec, degree):
    es = build_system(spec, "degree", seed=0)
    got = m2_counts(es, exact=True)
    assert got["images"] == got["smooth_images"] == degree, (spec, got)
    # exact over QQ: nonsingular isolated solutions = deg(M) * (generic fiber on the slice), as the numerical count
    assert got["exact_dim"] == 0 and got["exact_nonsingular"] == got["nonsingular"], (spec, got)


@needs_m2
def test_m2_reproduces_degree_20():
    es = build_system("attention(d=2, dout=2, a=2, t=2)", "degree", seed=0)
    assert m2_counts(es)["images"] == 20


@needs_m2
@pytest.mark.slow
def test_m2_exact_count_of_degree_20():
    """Groebner bases over QQ (about 20 s): 20 nonsingular solutions, zero-dimensional after saturation."""
    got = m2_counts(build_system("attention(d=2, dout=2, a=2, t=2)", "degree", seed=0), exact=True)
    assert (got["exact_nonsingular"], got["exact_dim"], got["images"]) == (20, 0, 20), got


def test_toolkit_degrees_match_the_oracle_values(analyze_cached):
    """The toolkit's certified degrees of the cases above (what the oracles are compared with)."""
    for spec, degree in DEGREES:
        d = analyze_cached(spec, only="degree")["degree"]
        assert (d.value, d.status) == (degree, "certified"), spec


@needs_phc
def test_phc_linear_system_solved_directly_is_read():
    """M fills its span (all 2x2 matrices): the degree system is linear, PHCpack solves it directly and prints
    its one solution without a verdict word or a summary; the reader still counts it (by its rco)."""
    es = build_system("linear(widths=(2,2,2))", "degree", seed=0)
    got = phc_counts(es)
    assert (got["regular"], got["images"], got["summary_regular"]) == (1, 1, -1), got


def test_toolkit_cnn_degrees_match_the_closed_formula(analyze_cached):
    for spec, degree in CNN_DEGREES + [("linear(widths=(2,2,2))", 1)]:
        d = analyze_cached(spec, only="degree")["degree"]
        assert (d.value, d.status) == (degree, "certified"), spec


# ---------------------------------------------------------------------------------------- ED degree
EDS = [("mlp(widths=(2,1,1), r=3)", "generic", 7), ("mlp(widths=(2,1,1), r=3)", "bombieri_weyl", 3),
       ("linear(widths=(3,1,3))", "euclidean", 3), ("linear(widths=(3,1,3))", "generic", 39),
       (ATT, "generic", 14)]


@needs_phc
@pytest.mark.parametrize("spec,metric,ed", EDS)
def test_phc_reproduces_the_ed_degree(spec, metric, ed):
    es = build_system(spec, "ed", seed=0, metric=metric)
    got = phc_counts(es)
    assert got["smooth_images"] == ed, (spec, metric, got)


@needs_m2
@pytest.mark.parametrize("spec,metric,ed", [EDS[0], EDS[2], EDS[4]])
def test_m2_reproduces_the_ed_degree(spec, metric, ed):
    es = build_system(spec, "ed", seed=0, metric=metric)
    got = m2_counts(es)
    assert got["smooth_images"] == ed, (spec, metric, got)


def test_toolkit_ed_degrees_match_the_oracle_values():
    for spec, metric, ed in EDS:
        r = nm.analyze(spec, only="ed_degree", metric=metric)["ed_degree"]
        assert (r.value, r.status) == (ed, "certified"), (spec, metric, r.evidence.get("why_lower_bound"))


# ---------------------------------------------------------------------------------------- critical points
@pytest.mark.parametrize("spec", [ATT, "mlp(widths=(2,1,2), r=2)"])
def test_oracles_reproduce_critical_points_of_the_loss(spec):
    if M2 is None and PHC is None:
        pytest.skip("neither Macaulay2 (`M2`) nor PHCpack (`phc`) is on the PATH")
    es = build_system(spec, "critical", seed=0)
    X = np.array([[float(Fraction(v)) for v in r] for r in es.data["X"]])
    Y = np.array([[float(Fraction(v)) for v in r] for r in es.data["Y"]])
    res = nm.critical_points(spec, X, Y, seed=0)
    assert res.complete
    if PHC is not None:
        assert phc_counts(es)["smooth_images"] == res.counts["functions_pure"], spec
    if M2 is not None:
        got = m2_counts(es)
        assert got["smooth_images"] == res.counts["functions_pure"], (spec, got, res.counts)
        assert got["nonsingular"] >= res.counts["complex_pure"]

"""Every format, read back: a small parser of our own (used on our generated text only) recovers the equations
and the parameter values of each file; they equal the exported system exactly and the toolkit's system
(rebuilt from its float objects) at random points.  Julia and Bertini are not installed here: this is how
their files are checked."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest

from neuromanifold.errors import InputError
from neuromanifold.exports import FORMATS, build_system, write_system
from neuromanifold.exports.formats import number, polynomial_text

from export_checks import independent_residual

ATT = "attention(d=2, dout=1, a=2, t=2)"


def parse_number(tok: str) -> Fraction:
    tok = tok.strip()
    if tok.startswith("(") and tok.endswith(")"):
        return parse_number(tok[1:-1])
    if tok.startswith("-"):
        return -parse_number(tok[1:])
    tok = re.sub(r'big"(\d+)"', r"\1", tok)
    if "//" in tok:
        a, b = tok.split("//")
        return Fraction(int(a), int(b))
    if "/" in tok:
        a, b = tok.split("/")
        return Fraction(int(a), int(b))
    return Fraction(int(tok))


def parse_polynomial(text: str, names: list[str]) -> dict[tuple[int, ...], Fraction]:
    """Sum of signed terms c*x^a*y^b (c: n, n/d, n//d, big"n"; no parentheses inside a polynomial)."""
    s = re.sub(r"\s+", "", text)
    index = {n: i for i, n in enumerate(names)}
    out: dict[tuple[int, ...], Fraction] = {}
    terms = re.findall(r"([+-]?)([^+-]+)", s)
    assert "".join(a + b for a, b in terms) == s, f"unparsed text in {s!r}"
    for sign, body in terms:
        coef, exp = Fraction(-1 if sign == "-" else 1), [0] * len(names)
        for factor in re.split(r"\*(?!\*)", body.replace("//", "\0")):
            factor = factor.replace("\0", "//")
            m = re.fullmatch(r"([A-Za-z]\w*)(?:\^(\d+))?", factor)
            if m and m.group(1) in index:
                exp[index[m.group(1)]] += int(m.group(2) or 1)
            else:
                coef *= parse_number(factor)
        key = tuple(exp)
        out[key] = out.get(key, Fraction(0)) + coef
    return {e: c for e, c in out.items() if c != 0}


def _block(text: str, start: str, end: str) -> str:
    i = text.index(start) + len(start)
    return text[i: text.index(end, i)]


def _strip_comments(text: str, mark: str) -> str:
    return "\n".join(line.split(mark, 1)[0] for line in text.splitlines())


def read_back(text: str, fmt: str, es) -> tuple[list[dict], dict[str, Fraction]]:
    """(equations over unknowns + parameters, or over unknowns only for phc; parameter values by name)."""
    names = es.unknowns + es.parameters
    if fmt == "m2":
        body = _strip_comments(text, "--")
        values = {m.group(1): parse_number(m.group(2))
                  for m in re.finditer(r"^([bp]\d+) = (.*);$", body, re.M)}
        eqs = [parse_polynomial(p, names) for p in _block(body, "F = {", "};").split(",")]
        return eqs, values
    if fmt == "hc":
        body = _strip_comments(text, "#")
        params = re.search(r"^@var ([bp].*)$", body, re.M).group(1).split()
        vals = [parse_number(v) for v in _block(body, "parameter_values = [", "]").split(",")]
        polys = [p.strip() for p in _block(body, "F = System([", "]; variables").split(",")]
        assert all(p.startswith("(") and p.endswith(")") for p in polys)  # [a -b] would be two entries in Julia
        eqs = [parse_polynomial(p[1:-1], names) for p in polys]
        assert re.search(r"parameters = \[" + ", ".join(params) + r"\]", body)
        return eqs, dict(zip(params, vals))
    if fmt == "bertini":
        body = _strip_comments(text, "%")
        assert body.lstrip().startswith("CONFIG") and "INPUT" in body and body.rstrip().endswith("END;")
        assert re.search(r"variable_group " + ", ".join(es.unknowns) + ";", body)
        assert re.search(r"constant " + ", ".join(es.parameters) + ";", body)
        values = {m.group(1): parse_number(m.group(2)) for m in re.finditer(r"^\s*([bp]\d+) = ([^;]*);", body, re.M)}
        eqs = [parse_polynomial(m.group(2), names)
               for m in re.finditer(r"^\s*(f\d+) = ([^;]*);", body, re.M | re.S)]
        n_fun = re.search(r"function (.*);", body).group(1).split(", ")
        assert len(n_fun) == len(eqs)
        return eqs, values
    if fmt == "phc":
        head, rest = text.split("\n", 1)
        n = int(head.strip())
        polys = rest.split(";")[:n]
        return [parse_polynomial(p, es.unknowns) for p in polys], {}
    raise AssertionError(fmt)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec,system", [(ATT, "degree"), (ATT, "ed"), ("mlp(widths=(2,1,1), r=3)", "critical"),
                                         ("linear(widths=(3,1,3))", "ed")])
def test_format_reads_back_to_the_toolkit_system(spec, system, fmt):
    es = build_system(spec, system, seed=0)
    text = write_system(es, fmt)
    eqs, values = read_back(text, fmt, es)
    k = len(es.unknowns)
    if fmt == "phc":
        assert eqs == es.specialized()
        p_used = np.zeros(0)
    else:
        assert eqs == es.equations
        assert [values[p] for p in es.parameters] == es.parameter_values
        p_used = np.array([float(values[p]) for p in es.parameters], dtype=complex)
    z = (np.random.default_rng(1).standard_normal((3, k)) + 1j * np.random.default_rng(2).standard_normal((3, k)))
    point = np.concatenate([z, np.broadcast_to(p_used, (3, len(p_used)))], axis=1)
    ours = np.array([[sum(float(c) * np.prod(pt ** np.array(e)) for e, c in f.items()) for f in eqs] for pt in point])
    ref = independent_residual(es, z)
    assert np.abs(ours - ref).max() <= 1e-9 * (1 + np.abs(ref).max())


@pytest.mark.parametrize("fmt", FORMATS)
def test_header_says_what_the_count_equals(fmt):
    text = write_system(build_system(ATT, "degree", seed=0), fmt)
    assert "EXPECTED:" in text and "deg(M) * f" in text and "distinct points c(z) among them = deg(M)" in text
    assert "K1[0,1]" in text  # the network parameter behind each unknown
    text = write_system(build_system(ATT, "ed", seed=0, metric="euclidean"), fmt)
    assert "ED degree of M in the euclidean metric" in text


def test_numbers_and_polynomials_in_each_language():
    assert number(Fraction(-3, 4), "hc") == "(-3//4)" and number(Fraction(-3, 4), "m2") == "(-3/4)"
    assert number(Fraction(2**70), "hc") == f'big"{2**70}"' and number(Fraction(2**70), "phc") == str(2**70)
    f = {(2, 0): Fraction(-1), (1, 1): Fraction(3, 2), (0, 0): Fraction(7)}
    assert polynomial_text(f, ["x", "y"], "m2") == "-x^2 + 3/2*x*y + 7"
    assert polynomial_text(f, ["x", "y"], "hc") == "-x^2 + 3//2*x*y + 7"
    assert parse_polynomial(polynomial_text(f, ["x", "y"], "hc"), ["x", "y"]) == f
    long = {(j, 0): Fraction(j + 1, 8) for j in range(40)}
    text = polynomial_text(long, ["x", "y"], "m2")
    assert all(len(line) <= 90 for line in text.splitlines()) and all(
        line.rstrip().endswith(("+", "-")) for line in text.splitlines()[:-1])  # continued lines end in an operator
    assert parse_polynomial(text, ["x", "y"]) == long


def test_hc_and_m2_carry_start_data():
    es = build_system(ATT, "degree", seed=0)
    hc = write_system(es, "hc")
    assert f"monodromy_solve(F, [[{', '.join(map(str, es.start))}]], parameter_values)" in hc
    ed = build_system(ATT, "ed", seed=0)
    hc = write_system(ed, "hc")
    assert "start_parameters = [" in hc and "target_parameters = parameter_values" in hc


def test_unknown_format_is_refused():
    with pytest.raises(InputError, match="unknown format 'maple'; choose from: m2, hc, bertini, phc"):
        write_system(build_system(ATT, "degree"), "maple")

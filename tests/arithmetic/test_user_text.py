"""User text is read, never evaluated: polynomials go through the ast whitelist of
``arithmetic.polynomial_text``; injection attempts get one clear line (CLI: exit 2) and do nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy

import neuromanifold as nm
from neuromanifold.arithmetic.polynomial_text import MAX_EXPONENT, MAX_TEXT_LENGTH, parse_polynomial
from neuromanifold.errors import InputError, SpecError

SPEC = "mlp(widths=(2,1,1), r=3)"
CLI = Path(sys.executable).with_name("neuromanifold")
x0, x1 = sympy.symbols("x0 x1")


def payloads(marker: Path) -> list[str]:
    """Texts that would create ``marker`` (or worse) if they were evaluated, plus other non-polynomials."""
    m = str(marker)
    return [
        f"__import__('os').system('touch {m}')",
        f"x0 + __import__('pathlib').Path('{m}').touch()",
        f"(lambda: __import__('os').system('touch {m}'))()",
        f"[c for c in ().__class__.__base__.__subclasses__()][0]",
        "x0.__class__",
        "x0[0]",
        "f'{x0}'",
        "lambda: x0",
        "'x0'",
        "x0**10**10",
        "x0 if x1 else 0",
        "x0 < x1",
        "open('/etc/passwd')",
    ]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("(x0 - 2*x1)**3", (x0 - 2 * x1) ** 3),
        ("x0/2 + 3", x0 / 2 + 3),
        ("-x1**2", -(x1**2)),
        ("+x0 * (x1 - 1)/(2*3)", x0 * (x1 - 1) / 6),
        ("0.5*x0 - 1e-3", sympy.Float(0.5) * x0 - sympy.Float(1e-3)),
        ("1/3 - x0**0", sympy.Rational(1, 3) - 1),
    ],
)
def test_valid_polynomials_parse_to_the_sympy_expression(text, expected):
    got = parse_polynomial(text, ["x0", "x1"])
    assert sympy.simplify(got - expected) == 0
    assert got.free_symbols <= {x0, x1}


def test_given_symbols_are_used_as_they_are():
    x = sympy.Symbol("x", real=True)
    got = parse_polynomial("x**2 + x", [x])
    assert got == x**2 + x and got.free_symbols == {x}


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("x0**10**10", "exponent"),
        (f"x0**{MAX_EXPONENT + 1}", f"larger than {MAX_EXPONENT}"),
        ("x0**-1", "exponent"),
        ("x0/x1", "divide only by a nonzero number"),
        ("x0/(1 - 1)", "divides by zero"),
        ("x0^2", "write powers with \\*\\*"),
        ("y0**3 + z", "unknown variables \\['y0', 'z'\\]"),
        ("True * x0", "only integers and decimals"),
        ("1e400 * x0", "not finite"),
        ("((x0 + 1)**64)**64", "degree"),
        ("((9**64)**64)**64", "too large"),
        ("x0 +", "not a valid expression"),
        ("-" * 5000 + "x0", "too many terms or nesting levels"),
        ("x0+" * 3300 + "x0", "too many terms or nesting levels"),  # 9,902 characters, 3,301 terms
        ("", "empty"),
    ],
)
def test_non_polynomial_text_gets_one_line_naming_the_problem(text, fragment):
    with pytest.raises(InputError, match=fragment) as err:
        parse_polynomial(text, ["x0", "x1"])
    msg = str(err.value)
    assert "\n" not in msg and "valid form: a polynomial in x0 and x1" in msg and len(msg) < 400


def test_huge_text_is_refused_before_parsing():
    with pytest.raises(InputError, match=f"more than {MAX_TEXT_LENGTH}") as err:
        parse_polynomial("x0+" * 333_333 + "x0", ["x0", "x1"])  # 1e6 characters
    assert len(str(err.value)) < 400


def test_injection_through_the_api_does_nothing(tmp_path):
    marker = tmp_path / "pwned"
    for text in payloads(marker) + ["x0 + " * 250_000]:
        with pytest.raises(InputError):
            nm.contains(SPEC, text)
        with pytest.raises(InputError):
            nm.contains("linear(widths=(2,2))", [text, "x1"])
        assert not marker.exists(), text


def test_non_text_objects_are_not_converted_to_text(tmp_path):
    marker = tmp_path / "pwned"

    class Sneaky:
        def __str__(self) -> str:
            return f"__import__('os').system('touch {marker}')"

    with pytest.raises(InputError, match="could not read Sneaky"):
        nm.contains(SPEC, [Sneaky()])
    with pytest.raises(InputError, match="cannot use a int"):
        nm.contains(SPEC, 5)
    assert not marker.exists()


@pytest.mark.parametrize("which", [0, 2, 4, 9])
def test_injection_through_the_cli_exits_2_with_one_line(tmp_path, which):
    marker = tmp_path / "pwned"
    text = payloads(marker)[which]
    proc = subprocess.run([str(CLI), "contains", SPEC, text], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1 and "valid form" in err
    assert not marker.exists()


def test_plane_curve_equations_are_read_not_evaluated(tmp_path):
    from neuromanifold.landscape.plane_curves import curve_voronoi

    marker = tmp_path / "pwned"
    for text in payloads(marker)[:4]:
        with pytest.raises(InputError, match="polynomial in x and y"):
            curve_voronoi(text.replace("x0", "x"), grid=3)
    assert not marker.exists()


def test_plotting_a_curve_reads_its_equation_with_the_whitelist(tmp_path):
    from neuromanifold.landscape.plane_curves import CurveVoronoi
    from neuromanifold.report.plots import plot_curve_voronoi

    marker = tmp_path / "pwned"
    g = np.linspace(-1, 1, 3)
    cv = CurveVoronoi(f"__import__('os').system('touch {marker}')", np.zeros((0, 2)), g, g,
                      np.full((3, 3), -1), np.zeros((3, 3, 2)))
    with pytest.raises(InputError, match="function call"):
        plot_curve_voronoi(cv, str(tmp_path / "c.png"))
    assert not marker.exists()


def test_polynomial_systems_from_text(tmp_path):
    from neuromanifold.homotopy import PolynomialSystem

    x, y, a = sympy.symbols("x y a")
    from_text = PolynomialSystem.from_sympy(["x**2 - a*y", "x*y - 1/2"], [x, y], [a])
    by_hand = PolynomialSystem.from_sympy([x**2 - a * y, x * y - sympy.Rational(1, 2)], [x, y], [a])
    assert from_text.polynomials == by_hand.polynomials
    marker = tmp_path / "pwned"
    with pytest.raises(InputError, match="function call"):
        PolynomialSystem.from_sympy([f"__import__('os').system('touch {marker}')", "y"], [x, y])
    assert not marker.exists()


def test_symbolic_number_system_does_not_parse_text(tmp_path):
    from neuromanifold.arithmetic import Symbolic

    marker = tmp_path / "pwned"
    assert list(Symbolic().asarray([1, 2])) == [sympy.Integer(1), sympy.Integer(2)]
    with pytest.raises(sympy.SympifyError):
        Symbolic().asarray([f"__import__('os').system('touch {marker}')"])
    assert not marker.exists()


@pytest.mark.parametrize("spec", ["mlp(widths=(2,3,1), r=" + "-" * 5000 + "2)",
                                  "mlp(widths=" + "(" * 300 + "1" + ")" * 300 + ", r=2)",
                                  "mlp(widths=(2,3,1), r=__import__('os').getpid())"])
def test_deeply_nested_or_code_specs_are_spec_errors(spec):
    with pytest.raises(SpecError):
        nm.parse_spec(spec)

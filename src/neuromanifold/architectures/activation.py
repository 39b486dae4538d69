"""Polynomial activations s(x) = c_0 + c_1 x + ... + c_d x^d (issue 19: ``act=`` beside ``r=``).

The neuromanifold depends on s only up to a nonzero factor: every activation is followed by a
linear layer, and W s(z) = (W / lam)(lam s(z)).  So an activation is stored with integer coefficients,
content 1 and a positive leading coefficient (``x**2/2 + x/3`` and ``3*x**2 + 2*x`` are the same
network family).  Integer coefficients evaluate exactly in every number system the forward pass runs
in (floats, complex, residues mod p, forward-mode duals, sympy): Horner's rule with integer constants.

Text is read by ``arithmetic.polynomial_text.parse_polynomial`` (a whitelist of syntax nodes, never
evaluated) in the one variable ``x``.  ``"generic"`` draws integer coefficients, all nonzero, from the
seed: a non-monomial activation of degree r whose draw is printed in the spec.

The families (``mlp``, ``cnn``, ``attention``, ``resmlp``) read ``r=``/``act=``/``act_seed=`` through
``activation_keywords``; a monomial ``act="x**3"`` is the family with ``r=3`` (one canonical spec).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from fractions import Fraction
from math import gcd, lcm
from typing import Any

import numpy as np

from ..errors import InputError

MAX_ACTIVATION_DEGREE = 8  # the degree of mu grows like deg(s)^(depth - 1)
GENERIC_RANGE = 9  # generic coefficients are drawn from {-9, ..., 9} \ {0}
VALID_FORM = ("act= a polynomial in x with rational coefficients of degree 1 to "
              f"{MAX_ACTIVATION_DEGREE}, e.g. act=\"x**2 + x\", or act=\"generic\" with r= its degree")


@dataclass(frozen=True)
class Activation:
    """s(x) = sum_i coefficients[i] x^i over Z, normalized (content 1, leading coefficient > 0)."""

    coefficients: tuple[int, ...]

    def __post_init__(self) -> None:
        c = tuple(int(v) for v in self.coefficients)
        while len(c) > 1 and c[-1] == 0:
            c = c[:-1]
        if len(c) < 2 or all(v == 0 for v in c[1:]):
            raise InputError(f"a constant activation makes every network constant; {VALID_FORM}")
        if len(c) - 1 > MAX_ACTIVATION_DEGREE:
            raise InputError(f"the activation has degree {len(c) - 1}, more than {MAX_ACTIVATION_DEGREE}; {VALID_FORM}")
        g = 0
        for v in c:
            g = gcd(g, v)
        sign = 1 if c[-1] > 0 else -1
        object.__setattr__(self, "coefficients", tuple(sign * v // g for v in c))

    @classmethod
    def monomial(cls, r: int) -> "Activation":
        """s(x) = x^r."""
        return cls(tuple([0] * r + [1]))

    @property
    def degree(self) -> int:
        return len(self.coefficients) - 1

    @property
    def monomial_exponent(self) -> int | None:
        """r when s = x^r, else None (the rescaling symmetries of x^r networks hold only then)."""
        return self.degree if all(v == 0 for v in self.coefficients[:-1]) else None

    @property
    def parity(self) -> str | None:
        """"even" (s(-x) = s(x)), "odd" (s(-x) = -s(x)) or None: the sign symmetries that survive."""
        nz = [i for i, v in enumerate(self.coefficients) if v]
        if all(i % 2 == 0 for i in nz):
            return "even"
        if all(i % 2 == 1 for i in nz):
            return "odd"
        return None

    def shifted_form(self) -> tuple[Fraction, Fraction] | None:
        """(c, e) with s(x) = lead * (x + c)^r + e exactly (r = degree), or None.  x^r is (0, 0); every
        quadratic has this form.  With biases the rescaling symmetries of x^r survive for such s, moved by c
        (``shifted_rescaling``); for other s they do not."""
        r, c = self.degree, self.coefficients
        shift = Fraction(c[r - 1], r * c[r])
        import sympy

        x = sympy.Symbol("x")
        lead = c[r]
        poly = sympy.expand(sum(v * x**i for i, v in enumerate(c)) - lead * (x + sympy.Rational(shift.numerator,
                                                                                                  shift.denominator))**r)
        if sympy.Poly(poly, x).degree() > 0:
            return None
        e = sympy.Rational(poly)
        return shift, Fraction(int(e.p), int(e.q))

    def text(self) -> str:
        """The canonical text, highest power first, e.g. ``3*x**2 + 2*x`` (parses back to itself)."""
        terms = []
        for i in range(self.degree, -1, -1):
            v = self.coefficients[i]
            if v == 0:
                continue
            mono = "" if i == 0 else ("x" if i == 1 else f"x**{i}")
            mag = abs(v)
            body = str(mag) if not mono else (mono if mag == 1 else f"{mag}*{mono}")
            terms.append(("-" if v < 0 else "+", body))
        out = ("-" if terms[0][0] == "-" else "") + terms[0][1]
        for s, b in terms[1:]:
            out += f" {s} {b}"
        return out

    def __call__(self, H: Any) -> Any:
        """s applied entrywise (Horner's rule with integer constants: exact in every number system)."""
        r = self.monomial_exponent
        if r is not None:
            return H if r == 1 else H**r
        c = self.coefficients
        out = H * c[-1]
        for i in range(self.degree - 1, -1, -1):
            if c[i]:
                out = out + c[i]
            if i:
                out = out * H
        return out


def parse_activation(text: str, *, r: int | None = None, seed: int = 0) -> Activation:
    """The activation written in ``text`` (a polynomial in x, read by the whitelist parser), or for
    ``"generic"`` one of degree ``r`` with integer coefficients in {-9..9} \\ {0} drawn from ``seed``.
    Bad text, a constant, a degree outside 1..MAX_ACTIVATION_DEGREE: InputError naming the valid form."""
    import sympy

    from ..arithmetic.polynomial_text import parse_polynomial

    if not isinstance(text, str):
        raise InputError(f"act must be text, got {type(text).__name__}; {VALID_FORM}")
    if text.strip() == "generic":
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or not 2 <= r <= MAX_ACTIVATION_DEGREE:
            raise InputError(f"act=\"generic\" needs r= its degree, an integer from 2 to {MAX_ACTIVATION_DEGREE}; "
                             f"got r={r!r}")
        rng = np.random.default_rng([int(seed), zlib.crc32(b"generic-activation")])
        mags = rng.integers(1, GENERIC_RANGE + 1, size=int(r) + 1)
        signs = rng.choice([-1, 1], size=int(r) + 1)
        c = [int(m * s) for m, s in zip(mags, signs)]
        c[-1] = abs(c[-1])
        return Activation(tuple(c))
    if r is not None:
        raise InputError(f"give act= or r=, not both (r= is the degree of act=\"generic\" only); {VALID_FORM}")
    x = sympy.Symbol("x")
    try:
        expr = parse_polynomial(text, [x], max_degree=MAX_ACTIVATION_DEGREE)
    except InputError as exc:
        raise InputError(f"act: {exc}") from None
    coeffs = [Fraction(int(sympy.fraction(q)[0]), int(sympy.fraction(q)[1]))
              for q in (sympy.nsimplify(v, rational=True) for v in sympy.Poly(expr, x).all_coeffs()[::-1])]
    den = lcm(*(q.denominator for q in coeffs))
    return Activation(tuple(int(q * den) for q in coeffs))


def activation_keywords(cls: Any, kw: dict[str, Any], *, default_r: int | None = 2,
                        allow_linear: bool = True) -> tuple[int | None, Activation | None]:
    """(r, act) of a family's spec keywords ``r=``, ``act=``, ``act_seed=``: act None means the monomial x^r
    (or, with default_r None and neither given, no activation).  A monomial act is returned as r.  Every
    problem raises SpecError naming the family and its valid form."""
    from ..errors import SpecError
    from .params import positive_int

    act_text, r_val, seed = kw.get("act"), kw.get("r"), kw.get("act_seed")
    if act_text is None:
        if seed is not None:
            raise SpecError(f"{cls.family}: act_seed= goes with act=\"generic\"; valid form: {cls.usage()}")
        if r_val is None:
            return default_r, None
        r = positive_int(cls, "r", r_val)
        if r == 1 and not allow_linear:
            raise SpecError(f"{cls.family}: r=1 makes the activation linear; use r >= 2; valid form: {cls.usage()}")
        return r, None
    if seed is not None:
        seed = positive_int(cls, "act_seed", seed, minimum=0)
    if isinstance(act_text, str) and act_text.strip() != "generic" and r_val is not None:
        raise SpecError(f"{cls.family}: give r= or act=, not both (r= with act=\"generic\" is its degree); "
                        f"valid form: {cls.usage()}")
    if isinstance(act_text, str) and act_text.strip() == "generic":
        if r_val is None:
            raise SpecError(f"{cls.family}: act=\"generic\" needs r= its degree (2 to {MAX_ACTIVATION_DEGREE}); "
                            f"valid form: {cls.usage()}")
        positive_int(cls, "r", r_val)
    try:
        act = parse_activation(act_text, r=r_val, seed=0 if seed is None else seed)
    except InputError as exc:
        raise SpecError(f"{cls.family}: {exc}") from None
    if act.monomial_exponent is not None:
        if act.degree == 1 and not allow_linear:
            raise SpecError(f"{cls.family}: act={act_text!r} is linear; use a degree >= 2; valid form: {cls.usage()}")
        return act.degree, None
    if act.degree == 1:
        raise SpecError(f"{cls.family}: act={act_text!r} is affine, so the network is affine: use linear(...) or "
                        f"mlp(widths=..., r=1, bias=True); valid form: {cls.usage()}")
    return act.degree, act


def powers(r: int, act: Activation | None) -> list[int]:
    """The exponents e with a nonzero coefficient of s: [r] for x^r."""
    return [r] if act is None else [e for e, c in enumerate(act.coefficients) if c]


def composed_degrees(degrees: set[int], r: int, act: Activation | None) -> set[int]:
    """Degrees (in the inputs) that can occur in s(z) when z has terms of the given degrees: the e-fold sums
    of them for every exponent e of s (0 alone for a constant term)."""
    out, acc = set(), {0}
    for e in range(1, max(powers(r, act)) + 1):
        acc = {a + b for a in acc for b in degrees}
        if e in powers(r, act):
            out |= acc
    return out | ({0} if 0 in powers(r, act) else set())


def apply(H: Any, r: int, act: Activation | None) -> Any:
    """s(H) entrywise: ``act`` when given, else x^r (H itself for r = 1)."""
    if act is not None:
        return act(H)
    return H if r == 1 else H**r


def shifted_reason(act: Activation) -> str:
    """Why a shifted monomial with biases gives the same network as x^r with biases (``containing_architectures``)."""
    c, e = act.shifted_form()
    return (f"s(z) = {act.coefficients[-1]} (z + {c})^{act.degree} + {e}: the shift c goes into the bias before s, the "
            f"factor and e into the weights and bias after it, so M is the neuromanifold of x^{act.degree} with biases")


def act_spec(r: int, act: Activation | None) -> str:
    """The activation part of a canonical spec: ``r=2`` or ``act="3*x**2 + 2*x"``."""
    return f"r={r}" if act is None else f'act="{act.text()}"'


def shifted_rescaling(r: int, act: Activation | None, bias: bool) -> tuple[int, int, int, int] | None:
    """How the rescaling of a neuron survives: (L, Lc, Le, r) with s(z) = lead (z + c)^r + e and L the least
    positive integer making L c and L e integers: the generator d(incoming) = L (incoming) + L c (on the bias),
    d(outgoing) = -r L (outgoing), d(next bias) = r L e (outgoing weights) is integral.  None when it does not
    survive: s not of that form, or (c, e) != (0, 0) without biases to absorb the shift."""
    if act is None:
        return (1, 0, 0, r)
    form = act.shifted_form()
    if form is None or not bias:
        return None
    c, e = form
    L = lcm(c.denominator, e.denominator)
    return (L, int(c * L), int(e * L), r)


__all__ = ["Activation", "parse_activation", "activation_keywords", "act_spec", "apply", "shifted_reason", "composed_degrees", "powers",
           "shifted_rescaling",
           "MAX_ACTIVATION_DEGREE"]

"""Writers of an ``ExportedSystem`` in the input language of another solver.

* ``m2``: a Macaulay2 script (``M2 --script FILE``): the system over QQ (parameters as named rationals), a
  numerical solve (NumericalAlgebraicGeometry ``solveSystem``) that prints the counts, and an exact count over QQ
  (Groebner bases: the degree of the ideal saturated by the Jacobian determinant) switched on by ``exact = true``.
* ``hc``: a Julia script for HomotopyContinuation.jl: ``System(F; variables, parameters)``, the parameter values,
  ``solve`` (polyhedral start system) and, where a start solution is known, ``monodromy_solve`` as an alternative.
* ``bertini``: a Bertini input file (CONFIG / INPUT, ``variable_group``, the parameters as ``constant``s with
  their values, ``function`` declarations); the count is the first line of the file ``nonsingular_solutions``.
* ``phc``: a PHCpack input file (``phc -b FILE OUT``): the number of equations, the polynomials with the
  parameter values substituted, each ended by ``;``; the explanation follows the system (PHCpack ignores it).

Every file says in comments what the system is and which count equals which invariant of the toolkit.
Coefficients are exact rationals: ``p/q`` (Julia ``p//q``).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable, Sequence

from ..errors import InputError
from .systems import ExportedSystem, Polynomial

FORMATS = ("m2", "hc", "bertini", "phc")
SUFFIXES = {"m2": ".m2", "hc": ".jl", "bertini": ".input", "phc": ".phc"}
LINE = 78  # wrap polynomials near this many characters
JULIA_INT = 2**62  # larger integers are written big"..." in Julia


# ---------------------------------------------------------------------------------------- numbers and terms
def _integer(n: int, lang: str) -> str:
    if lang == "hc" and abs(n) >= JULIA_INT:
        return f'big"{n}"'
    return str(n)


def _magnitude(c: Fraction, lang: str) -> str:
    """|c| as text: n or n/d (Julia n//d)."""
    c = abs(c)
    if c.denominator == 1:
        return _integer(c.numerator, lang)
    return f"{_integer(c.numerator, lang)}{'//' if lang == 'hc' else '/'}{_integer(c.denominator, lang)}"


def number(c: Fraction, lang: str) -> str:
    """A rational constant as text (parenthesised when negative)."""
    s = _magnitude(c, lang)
    return f"(-{s})" if c < 0 else s


def _monomial(e: Sequence[int], names: Sequence[str]) -> str:
    return "*".join(n if a == 1 else f"{n}^{a}" for n, a in zip(names, e) if a)


def polynomial_text(f: Polynomial, names: Sequence[str], lang: str, indent: str = "    ") -> str:
    """sum c_e z^e with operators at line ends (a continued line in every language), terms in a fixed order."""
    if not f:
        return "0"
    terms = sorted(f.items(), key=lambda t: (-sum(t[0]), tuple(-a for a in t[0])))
    pieces: list[tuple[str, str]] = []  # (sign, unsigned term)
    for e, c in terms:
        mon = _monomial(e, names)
        mag = _magnitude(c, lang)
        body = mon if (mon and abs(c) == 1) else (f"{mag}*{mon}" if mon else mag)
        pieces.append(("-" if c < 0 else "+", body))
    out = ("-" if pieces[0][0] == "-" else "") + pieces[0][1]
    width = len(out)
    for sign, body in pieces[1:]:
        piece = f" {sign} {body}"
        if width + len(piece) > LINE:
            out += f" {sign}\n{indent}{body}"
            width = len(indent) + len(body)
        else:
            out += piece
            width += len(piece)
    return out


def _comments(es: ExportedSystem, mark: str, run: Sequence[str]) -> str:
    """The header: what the system is, which count equals which invariant, the names and frozen values."""
    what = {"degree": "degree of M", "ed": f"ED degree of M ({es.metric} metric)",
            "critical": "critical points of the mean-squared loss"}[es.kind]
    lines = [f"neuromanifold export: the {es.kind} system ({what}) of {es.spec}, seed {es.seed}",
             f"dim M = k = {es.dim}; {len(es.unknowns)} equations in {len(es.unknowns)} unknowns, "
             f"{len(es.parameters)} parameters; Bezout number {es.bezout_number()}",
             "", *es.description, "", "EXPECTED:", *("  " + x for x in es.expected), "", *run, "",
             "unknowns (network parameters on the slice): "
             + ", ".join(f"{u} = {lab}" for u, lab in zip(es.unknowns, es.unknown_labels)),
             "frozen network parameters: " + (", ".join(f"{lab} = {v}" for lab, v in es.frozen) or "none")]
    if es.start is not None:
        lines.append("start solution z0 at the given parameter values: ("
                     + ", ".join(str(v) for v in es.start) + ")")
    if es.start_pair is not None:
        lines.append("start pair for monodromy: z0 = (" + ", ".join(str(v) for v in es.start_pair[0])
                     + ") is a solution at the parameter values p0 = ("
                     + ", ".join(str(v) for v in es.start_pair[1]) + ")")
    out = []
    for line in lines:
        wrap = line.startswith(("unknowns", "frozen", "start", "solutions", "data point"))  # long lists
        while wrap and len(line) > LINE + 20:  # wrap at a comma
            cut = line.rfind(", ", 0, LINE + 20)
            if cut <= 0:
                break
            out.append(line[: cut + 1])
            line = "    " + line[cut + 2:]
        out.append(line)
    return "\n".join(f"{mark} {x}".rstrip() for x in out) + "\n"


def _abs_poly(f: Polynomial) -> Polynomial:
    return {e: abs(c) for e, c in f.items()}


# ---------------------------------------------------------------------------------------- Macaulay2
def to_m2(es: ExportedSystem) -> str:
    """A Macaulay2 script: prints ``NEUROMANIFOLD nonsingular=N distinct_images=M distinct_images_full_rank=P``
    (numerical, NumericalAlgebraicGeometry) and, with ``exact = true``, ``NEUROMANIFOLD exact_nonsingular=E``."""
    z, k = es.unknowns, len(es.unknowns)
    names = es.unknowns + es.parameters
    head = _comments(es, "--", [
        "RUN: M2 --script THIS_FILE   prints NEUROMANIFOLD nonsingular=N distinct_images=M distinct_images_full_rank=P",
        "(numerical solve over CC; set exact = true below for the exact count over QQ: the degree of the ideal",
        "saturated by the Jacobian determinant = the number of nonsingular isolated solutions; small systems only)",
    ])
    body = ['needsPackage "NumericalAlgebraicGeometry";', "exact = false;", "",
            "-- the parameters and their values (exact rationals)"]
    body += [f"{p} = {number(v, 'm2')};" for p, v in zip(es.parameters, es.parameter_values)]
    body += ["", f"S = QQ[{', '.join(z)}];", "-- the equations", "F = {"]
    body.append(",\n".join("    " + polynomial_text(f, names, "m2", "        ") for f in es.equations))
    body += ["};", f"-- the image map c(z): the {len(es.image)} coefficients of the network function", "c = {"]
    body.append(",\n".join("    " + polynomial_text(f, z, "m2", "        ") for f in es.image))
    body += ["};", "cAbs = {  -- c with absolute coefficients (the size of its terms: round-off scale)"]
    body.append(",\n".join("    " + polynomial_text(_abs_poly(f), z, "m2", "        ") for f in es.image))
    body += ["};", "", M2_SOLVE.strip("\n").replace("VARIABLES", ", ".join(z)), ""]
    return head + "\n" + "\n".join(body) + "\n"


M2_SOLVE = r"""
SC = CC[VARIABLES];
inCC = f -> sub(f, SC);
FC = apply(F, inCC);
cC = matrix{apply(c, inCC)};
cA = matrix{apply(cAbs, inCC)};
JC = jacobian cC;  -- k x D
setDefault(tStepMin => 1e-12, CorrectorTolerance => 1e-10);  -- tighter than the defaults: fewer lost paths
sols = solveSystem FC;
reg = select(sols, s -> status s === Regular);
images = {};
full = {};
for s in reg do (
    x := matrix{coordinates s};
    xa := matrix{apply(coordinates s, v -> abs v + 0*ii)};
    y := sub(cC, x);
    sz := norm(2, y) / max(norm(2, sub(cA, xa)), 1e-300);
    sv := first SVD sub(JC, x);
    rk := (min sv) / max(max sv, 1e-300);
    images = append(images, y);
    full = append(full, sz > 1e-8 and rk > 1e-7);
    );
countDistinct = L -> (
    kept := {};
    for y in L do if all(kept, w -> norm(2, y - w) > 1e-6 * (1 + norm(2, y))) then kept = append(kept, y);
    #kept);
fullImages = for i from 0 to #images - 1 list if full#i then images#i else continue;
print("NEUROMANIFOLD nonsingular=" | toString(#reg) | " distinct_images=" | toString(countDistinct images)
    | " distinct_images_full_rank=" | toString(countDistinct fullImages));
if exact then (
    use S;
    I := ideal F;
    J := saturate(I, det jacobian matrix{F});
    print("NEUROMANIFOLD exact_nonsingular=" | toString(degree J) | " dim=" | toString(dim J));
    );
"""


# ---------------------------------------------------------------------------------------- HomotopyContinuation.jl
def to_hc(es: ExportedSystem) -> str:
    """A Julia script for HomotopyContinuation.jl: the parametrized ``System``, the parameter values, ``solve``."""
    z, k = es.unknowns, len(es.unknowns)
    names = es.unknowns + es.parameters
    head = _comments(es, "#", [
        "RUN: julia THIS_FILE   prints the number of nonsingular solutions and the distinct images c(z)",
        "(needs the packages HomotopyContinuation and LinearAlgebra)",
    ])
    body = ["using HomotopyContinuation, LinearAlgebra", "", f"@var {' '.join(z)}", f"@var {' '.join(es.parameters)}",
            "", "# the parameter values (exact rationals)",
            "parameter_values = ["]
    body.append(",\n".join(f"    {number(v, 'hc')}" for v in es.parameter_values))
    body += ["]", "", "# each polynomial in parentheses: inside [...] Julia would read 'a -b' as two entries",
             "F = System(["]
    body.append(",\n".join("    (" + polynomial_text(f, names, "hc", "        ") + ")" for f in es.equations))
    body += [f"]; variables = [{', '.join(z)}], parameters = [{', '.join(es.parameters)}])", "",
             f"# the image map c(z): the {len(es.image)} coefficients of the network function",
             "C = System(["]
    body.append(",\n".join("    (" + polynomial_text(f, z, "hc", "        ") + ")" for f in es.image))
    body += [f"]; variables = [{', '.join(z)}])", "",
             "result = solve(F; target_parameters = parameter_values)"]
    if es.start is not None:
        body += ["# or by monodromy from the start solution z0 (a solution at these parameter values):",
                 f"# result = monodromy_solve(F, [[{', '.join(str(v) for v in es.start)}]], parameter_values)"]
    if es.start_pair is not None:
        z0, p0 = es.start_pair
        body += ["# or by monodromy from the start pair (z0, p0) (z0 a solution at the parameter values p0), then a",
                 "# parameter homotopy from p0 to the parameter values:",
                 "start_parameters = [" + ", ".join(number(v, "hc") for v in p0) + "]",
                 f"# mres = monodromy_solve(F, [[{', '.join(str(v) for v in z0)}]], start_parameters)",
                 "# result = solve(F, solutions(mres); start_parameters = start_parameters, "
                 "target_parameters = parameter_values)"]
    body += [HC_COUNT.strip("\n"), ""]
    return head + "\n" + "\n".join(body) + "\n"


HC_COUNT = r"""
sols = solutions(result; only_nonsingular = true)
println("nonsingular solutions: ", length(sols))
function distinct(points)
    kept = Vector{Vector{ComplexF64}}()
    for y in points
        all(w -> norm(y - w) > 1e-6 * (1 + norm(y)), kept) && push!(kept, y)
    end
    length(kept)
end
function smooth(s)  # J_c of full rank k and c(z) != 0: a point of the smooth locus of M
    sv = svdvals(ComplexF64.(jacobian(C, s)))
    minimum(sv) > 1e-7 * maximum(sv) && norm(ComplexF64.(C(s))) > 1e-8 * (1 + norm(s))
end
images = [ComplexF64.(C(s)) for s in sols]
full = [smooth(s) for s in sols]
println("distinct images c(z): ", distinct(images))
println("distinct images with rank J_c = k: ", distinct(images[full]))
"""


# ---------------------------------------------------------------------------------------- Bertini
def to_bertini(es: ExportedSystem) -> str:
    """A Bertini input file: the parameters as named constants with their values."""
    names = es.unknowns + es.parameters
    head = _comments(es, "%", [
        "RUN: bertini THIS_FILE   the count is the first line of the file nonsingular_solutions",
        "(the distinct images c(z), c below in the comments of the script formats m2/hc, are not computed by Bertini)",
        "For a parameter homotopy: ParameterHomotopy: 1 (then 2) in CONFIG, declare the b/p names as",
        "'parameter' instead of 'constant', and give start_parameters / final_parameters files.",
    ])
    fs = [f"f{i + 1}" for i in range(len(es.equations))]
    body = ["CONFIG", "  TrackType: 0;", "  MPType: 2;", "  SecurityLevel: 1;", "END;", "", "INPUT",
            f"  variable_group {', '.join(es.unknowns)};", f"  constant {', '.join(es.parameters)};",
            f"  function {', '.join(fs)};"]
    body += [f"  {p} = {number(v, 'bertini')};" for p, v in zip(es.parameters, es.parameter_values)]
    body += [f"  {fn} = {polynomial_text(f, names, 'bertini', '      ')};" for fn, f in zip(fs, es.equations)]
    body += ["END;"]
    return head + "\n" + "\n".join(body) + "\n"


# ---------------------------------------------------------------------------------------- PHCpack
def to_phc(es: ExportedSystem) -> str:
    """A PHCpack input file: the system with the parameter values substituted (PHCpack has no parameters)."""
    polys = es.specialized()
    lines = [str(len(polys))]
    lines += [" " + polynomial_text(f, es.unknowns, "phc", "   ") + ";" for f in polys]
    tail = _comments(es, "", [
        "RUN: phc -b THIS_FILE OUTPUT   (its summary: 'Number of regular solutions'; PHCpack appends the",
        "solutions to THIS_FILE).  The parameters are substituted: "
        + ", ".join(f"{p} = {v}" for p, v in zip(es.parameters, es.parameter_values)),
    ])
    return "\n".join(lines) + "\n\n" + tail


WRITERS: dict[str, Callable[[ExportedSystem], str]] = {"m2": to_m2, "hc": to_hc, "bertini": to_bertini, "phc": to_phc}


def write_system(es: ExportedSystem, fmt: str) -> str:
    """The text of ``es`` in format ``fmt`` (``FORMATS``)."""
    if fmt not in WRITERS:
        raise InputError(f"unknown format {fmt!r}; choose from: {', '.join(FORMATS)}")
    return WRITERS[fmt](es)


__all__ = ["FORMATS", "SUFFIXES", "write_system", "to_m2", "to_hc", "to_bertini", "to_phc", "number",
           "polynomial_text"]

"""Read a polynomial written as text, without evaluating the text.

``parse_polynomial("(x0 - 2*x1)**3", ["x0", "x1"])`` returns the sympy expression (x0 - 2*x1)**3.
The text is parsed by Python's ``ast`` (``mode="eval"``) and the syntax tree is checked against a
whitelist before anything is built: numbers (integers and finite decimals), the given variables,
binary ``+ - * / **``, unary ``+ -`` and parentheses.  ``/`` must divide by a nonzero constant,
``**`` needs a non-negative integer literal exponent (at most ``MAX_EXPONENT``).  The sympy
expression is then assembled node by node from ``sympy.Integer``, ``sympy.Float`` and the
variables' symbols; the text never reaches ``eval``, ``compile`` or ``sympify``.  Anything else
(calls, attributes, subscripts, strings, unknown names, ...) raises ``InputError`` with one line
naming the offending piece and the valid form.
"""

from __future__ import annotations

import ast
import math
from typing import Sequence

import sympy

from ..errors import InputError

MAX_TEXT_LENGTH = 10_000  # characters of user text
MAX_EXPONENT = 64  # largest literal exponent after **
MAX_DEGREE = 1_000  # bound on the total degree (deg(a*b) = deg a + deg b, deg(a**n) = n deg a)
MAX_NUMBER_BITS = 1 << 16  # bits of an integer power of a number (numerator + denominator)

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_UNARY = {ast.UAdd: "+", ast.USub: "-"}
_WHAT = {
    ast.Call: "a function call", ast.Attribute: "an attribute", ast.Subscript: "a subscript",
    ast.Lambda: "a lambda", ast.Compare: "a comparison", ast.BoolOp: "a boolean operator",
    ast.IfExp: "a conditional", ast.JoinedStr: "an f-string", ast.NamedExpr: "an assignment",
    ast.Tuple: "a tuple", ast.List: "a list", ast.Dict: "a dict", ast.Set: "a set",
    ast.Starred: "a starred expression", ast.Await: "await", ast.Slice: "a slice",
    ast.ListComp: "a comprehension", ast.SetComp: "a comprehension", ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
}


def _variable_list(names: Sequence[str]) -> str:
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    if len(names) <= 4:
        return ", ".join(names)
    return f"{names[0]}, {names[1]}, ..., {names[-1]}"


def valid_form(variables: Sequence[str]) -> str:
    """The one-line description of the accepted text, for error messages."""
    names = list(variables)
    if not names:
        return "a number written with digits, + - * / ** and parentheses, e.g. '3/2'"
    v0, v1 = names[0], names[-1]
    example = f"({v0} - 2*{v1})**3" if len(names) > 1 else f"{v0}**2 + 3*{v0}/2"
    return (f"a polynomial in {_variable_list(names)} written with numbers, the variables, + - * / "
            f"(by a nonzero number), ** (integer exponent 0..{MAX_EXPONENT}) and parentheses, e.g. '{example}'")


def _snippet(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Reader:
    """Checks one syntax tree against the whitelist and builds its sympy expression."""

    def __init__(self, text: str, symbols: dict[str, sympy.Symbol], variables: Sequence[str],
                 max_degree: int | None) -> None:
        self.text = text
        self.symbols = symbols
        self.variables = list(variables)
        self.max_degree = max_degree

    def fail(self, problem: str) -> InputError:
        return InputError(f"cannot read {_snippet(self.text)!r} as a polynomial: {problem}; "
                          f"valid form: {valid_form(self.variables)}")

    def piece(self, node: ast.AST) -> str:
        seg = ast.get_source_segment(self.text, node)
        return repr(_snippet(seg if seg else type(node).__name__, 30))

    def check(self, tree: ast.AST) -> None:
        """Every node is whitelisted and every name is a variable."""
        unknown: list[str] = []
        for node in ast.walk(tree):
            if isinstance(node, (ast.Expression, ast.Load)) or type(node) in _BINARY or type(node) in _UNARY:
                continue
            if isinstance(node, ast.BinOp):
                if type(node.op) in _BINARY:
                    continue
                if isinstance(node.op, ast.BitXor):
                    raise self.fail(f"'^' in {self.piece(node)}; write powers with **")
                raise self.fail(f"the operator in {self.piece(node)} is not allowed")
            if isinstance(node, ast.UnaryOp):
                if type(node.op) in _UNARY:
                    continue
                raise self.fail(f"the operator in {self.piece(node)} is not allowed")
            if isinstance(node, ast.Name):
                if node.id not in self.symbols and node.id not in unknown:
                    unknown.append(node.id)
                continue
            if isinstance(node, ast.Constant):
                v = node.value
                if isinstance(v, (str, bytes)):
                    raise self.fail(f"the string {self.piece(node)} is not a number")
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise self.fail(f"the constant {self.piece(node)} is not allowed (only integers and decimals)")
                if isinstance(v, float) and not math.isfinite(v):
                    raise self.fail(f"the number {self.piece(node)} is not finite")
                continue
            what = _WHAT.get(type(node), f"{type(node).__name__}")
            raise self.fail(f"{what} {self.piece(node)} is not allowed")
        if unknown:
            raise self.fail(f"unknown variables {sorted(unknown)}")

    def build(self, tree: ast.Expression) -> sympy.Expr:
        """The expression of a checked tree, built bottom-up without recursion (long sums are deep trees)."""
        done: dict[int, tuple[sympy.Expr, int]] = {}  # id(node) -> (expression, bound on its total degree)
        stack: list[tuple[ast.AST, bool]] = [(tree.body, False)]
        while stack:
            node, ready = stack.pop()
            if not ready:
                stack.append((node, True))
                stack.extend((c, False) for c in ast.iter_child_nodes(node) if not isinstance(c, ast.expr_context))
                continue
            if isinstance(node, ast.Constant):
                v = node.value
                done[id(node)] = (sympy.Integer(v) if isinstance(v, int) else sympy.Float(v)), 0
            elif isinstance(node, ast.Name):
                done[id(node)] = self.symbols[node.id], 1
            elif isinstance(node, ast.UnaryOp):
                e, d = done.pop(id(node.operand))
                done[id(node)] = (-e if isinstance(node.op, ast.USub) else e), d
            elif isinstance(node, ast.BinOp):
                done[id(node)] = self.binary(node, done.pop(id(node.left)), done.pop(id(node.right)))
            elif not isinstance(node, ast.operator | ast.unaryop):
                raise self.fail(f"{self.piece(node)} is not allowed")  # unreachable after check()
        return done[id(tree.body)][0]

    def binary(self, node: ast.BinOp, left: tuple[sympy.Expr, int], right: tuple[sympy.Expr, int]
               ) -> tuple[sympy.Expr, int]:
        """(expression, degree bound) of left <op> right."""
        (a, da), (b, db) = left, right
        if isinstance(node.op, ast.Pow):
            k = node.right
            if not (isinstance(k, ast.Constant) and type(k.value) is int):
                raise self.fail(f"the exponent in {self.piece(node)} must be an integer literal 0..{MAX_EXPONENT}")
            n = k.value
            if n > MAX_EXPONENT:
                raise self.fail(f"the exponent {n} in {self.piece(node)} is larger than {MAX_EXPONENT}")
            if da == 0 and a.is_Rational:
                p, q = a.as_numer_denom()
                bits = (abs(int(p)).bit_length() + abs(int(q)).bit_length()) * n
                if bits > MAX_NUMBER_BITS:
                    raise self.fail(f"the number {self.piece(node)} is too large (more than {MAX_NUMBER_BITS} bits)")
            return self.bounded(a**n, da * n, node)
        if isinstance(node.op, ast.Div):
            if db != 0 or not b.is_number:
                raise self.fail(f"{self.piece(node)} divides by a non-constant; divide only by a nonzero number")
            if b == 0:
                raise self.fail(f"{self.piece(node)} divides by zero")
            return a / b, da
        if isinstance(node.op, ast.Mult):
            return self.bounded(a * b, da + db, node)
        return (a + b if isinstance(node.op, ast.Add) else a - b), max(da, db)

    def bounded(self, e: sympy.Expr, degree: int, node: ast.AST) -> tuple[sympy.Expr, int]:
        if self.max_degree is not None and degree > self.max_degree:
            raise self.fail(f"the degree of {self.piece(node)} exceeds {self.max_degree}")
        return e, degree


def parse_polynomial(
    text: str,
    variables: Sequence[str | sympy.Symbol],
    *,
    max_length: int | None = MAX_TEXT_LENGTH,
    max_degree: int | None = MAX_DEGREE,
) -> sympy.Expr:
    """The sympy polynomial written in ``text`` in the given variables (names or sympy Symbols; a
    Symbol is used as is), read through a whitelist of syntax nodes and never evaluated.  Bad text
    raises ``InputError`` naming the offending piece and the valid form.  ``max_length`` and
    ``max_degree`` (None: no cap) bound the text and the total degree, for text the toolkit wrote itself."""
    symbols: dict[str, sympy.Symbol] = {}
    for v in variables:
        s = v if isinstance(v, sympy.Symbol) else sympy.Symbol(str(v))
        symbols[s.name] = s
    names = list(symbols)
    if not isinstance(text, str):
        raise InputError(f"expected the polynomial as text, got {type(text).__name__}; valid form: {valid_form(names)}")
    if max_length is not None and len(text) > max_length:
        raise InputError(f"the polynomial text has {len(text)} characters, more than {max_length}; "
                         f"valid form: {valid_form(names)}")
    reader = _Reader(text.strip(), symbols, names, max_degree)
    if not reader.text:
        raise reader.fail("the text is empty")
    try:
        tree = ast.parse(reader.text, mode="eval")
    except SyntaxError as exc:  # also: too many nested parentheses, integers over 4300 digits, null bytes
        raise reader.fail(f"not a valid expression ({exc.msg})") from None
    except (RecursionError, MemoryError, ValueError):
        raise reader.fail("too many terms or nesting levels to read") from None
    reader.check(tree)
    return reader.build(tree)


__all__ = ["parse_polynomial", "valid_form", "MAX_TEXT_LENGTH", "MAX_EXPONENT", "MAX_DEGREE"]

"""The guard language: small boolean expressions over a case's fields.

A guard is parsed once, with Python's own parser used only as a tokenizer and
tree builder, then every node is checked against a short whitelist and turned
into a tree of closures. Nothing is ever passed to ``eval``: a name can only
read a field, and no call, attribute or subscript can be written. Evaluation is bounded before
it starts: a guard has at most ``MAX_GUARD_CHARS`` characters and ``MAX_GUARD_DEPTH`` levels of
nesting, and ``*`` multiplies numbers only (text or a list repeated by a field could take any
amount of memory), so a guard's cost is linear in its length and the size of the fields it reads.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .diagnostics import did_you_mean
from .spec import Field, FieldType

Evaluator = Callable[[Mapping[str, Any]], Any]
LITERAL_NAMES = {"true": True, "false": False, "null": None}
_PYTHON_LITERALS = {"True": "true", "False": "false", "None": "null"}

MAX_GUARD_CHARS = 1000  # the longest bundled guard is under 100; Python's parser runs out of memory long before 10,000
MAX_GUARD_DEPTH = 32  # nesting levels (operators inside operators); evaluation recurses this deep


def _times(a: Any, b: Any) -> Any:
    """``*`` of numbers only: text or a list repeated by a number could allocate gigabytes."""
    if isinstance(a, (str, list, tuple)) or isinstance(b, (str, list, tuple)):
        raise TypeError("repetition is not allowed in a guard")
    return a * b


_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: b is not None and a in b,
    ast.NotIn: lambda a, b: b is None or a not in b,
}
_ARITH: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: _times,
    ast.Div: operator.truediv,
}
_SYMBOL = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


class GuardError(ValueError):
    def __init__(self, message: str, col: int = 1, hint: str = ""):
        super().__init__(message)
        self.message, self.col, self.hint = message, col, hint


@dataclass(frozen=True, slots=True)
class Guard:
    text: str
    tree: ast.Expression
    evaluate: Evaluator
    names: frozenset[str]

    def __call__(self, data: Mapping[str, Any]) -> bool:
        return bool(self.evaluate(data))


def parse_guard(text: str) -> Guard:
    """Parse and whitelist a guard; raises GuardError with a 1-based column."""
    if not isinstance(text, str) or not text.strip():
        raise GuardError("a guard must be a non-empty expression such as \"severity == 'major'\"")
    source = text.replace("\n", " ")
    if len(source) > MAX_GUARD_CHARS:
        raise GuardError(
            f"guard is {len(source):,} characters long, over the limit of {MAX_GUARD_CHARS:,}",
            1,
            "split the condition over several actions, or keep a computed value in a field",
        )
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        # Python gives offset 0 (or one past the text) when the expression ends too early.
        col = exc.offset if exc.offset and 0 < exc.offset <= len(source) else len(source.rstrip()) + 1
        raise GuardError(
            f"guard syntax error: {exc.msg}",
            col,
            "compare with == != < <= > >=, join with and / or, quote text as 'text'",
        ) from None
    names: set[str] = set()
    return Guard(text, tree, _compile(tree.body, names), frozenset(names))


def check_guard(guard: Guard, fields: Mapping[str, Field]) -> list[GuardError]:
    """Names must be declared fields; a literal compared with an enum field must be one of its values."""
    problems = []
    for node in ast.walk(guard.tree):
        if isinstance(node, ast.Name) and node.id not in LITERAL_NAMES and node.id not in fields:
            problems.append(
                GuardError(
                    f"guard reads undeclared field {node.id!r}", node.col_offset + 1, did_you_mean(node.id, fields)
                )
            )
        if isinstance(node, ast.Compare):
            problems.extend(_check_enum_literals(node, fields))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            problems.extend(_check_repetition(node, fields))
    return problems


def _check_repetition(node: ast.BinOp, fields: Mapping[str, Field]) -> list[GuardError]:
    """``*`` of text or a list: refused at run time (it could allocate any amount), so refused here too."""
    for operand in (node.left, node.right):
        text_field = (
            isinstance(operand, ast.Name)
            and operand.id in fields
            and fields[operand.id].type in (FieldType.STRING, FieldType.ENUM, FieldType.CHECKLIST)
        )
        literal = isinstance(operand, (ast.List, ast.Tuple)) or (
            isinstance(operand, ast.Constant) and isinstance(operand.value, str)
        )
        if text_field or literal:
            return [
                GuardError(
                    "'*' repeats text or a list here; a guard multiplies numbers only",
                    node.col_offset + 1,
                    "compare the text itself, e.g. name == 'x'",
                )
            ]
    return []


def _check_enum_literals(node: ast.Compare, fields: Mapping[str, Field]) -> list[GuardError]:
    operands = [node.left, *node.comparators]
    enum_fields = [
        fields[o.id]
        for o in operands
        if isinstance(o, ast.Name) and o.id in fields and fields[o.id].type is FieldType.ENUM
    ]
    problems = []
    for spec in enum_fields:
        for literal, value in _string_literals(operands):
            if value not in spec.values:
                problems.append(
                    GuardError(
                        f"{value!r} is not a value of enum field {spec.id!r} ({', '.join(spec.values)})",
                        literal.col_offset + 1,
                        did_you_mean(value, spec.values),
                    )
                )
    return problems


def _string_literals(operands: list[ast.expr]) -> list[tuple[ast.Constant, str]]:
    """Each quoted text among the operands (or inside a list or tuple operand), with its node for the column."""
    out = []
    for o in operands:
        items = o.elts if isinstance(o, (ast.List, ast.Tuple)) else [o]
        out += [(i, i.value) for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)]
    return out


def _compile(node: ast.expr, names: set[str], depth: int = 1) -> Evaluator:
    if depth > MAX_GUARD_DEPTH:  # refused before recursing further: evaluation would recurse as deep
        raise GuardError(
            f"guard is nested more than {MAX_GUARD_DEPTH} levels deep",
            getattr(node, "col_offset", 0) + 1,
            "write the condition more flatly: a and b and c rather than operators inside operators",
        )
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (str, int, float))
        and not isinstance(node.value, bool)
    ):
        value = node.value
        return lambda data: value
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, bool)):
        # Python's parser reads True, False and None as constants, not names
        written = repr(node.value)
        raise GuardError(
            f"write {_PYTHON_LITERALS[written]!r}, not {written!r}",
            node.col_offset + 1,
            "the guard language writes true, false and null in lower case",
        )
    if isinstance(node, ast.Name):
        if node.id in LITERAL_NAMES:
            literal = LITERAL_NAMES[node.id]
            return lambda data: literal
        names.add(node.id)
        key = node.id
        return lambda data: data.get(key)
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_compile(i, names, depth + 1) for i in node.elts]
        return lambda data: [i(data) for i in items]
    if isinstance(node, ast.BoolOp):
        parts = [_compile(v, names, depth + 1) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda data: all(p(data) for p in parts)
        return lambda data: any(p(data) for p in parts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        inner = _compile(node.operand, names, depth + 1)
        if isinstance(node.op, ast.Not):
            return lambda data: not inner(data)
        return lambda data: _safe(operator.neg, inner(data))
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        fn, left, right = (
            _ARITH[type(node.op)],
            _compile(node.left, names, depth + 1),
            _compile(node.right, names, depth + 1),
        )
        return lambda data: _safe(fn, left(data), right(data))
    if isinstance(node, ast.Compare):
        return _compile_compare(node, names, depth)
    raise GuardError(
        f"{_describe(node)} is not allowed in a guard",
        getattr(node, "col_offset", 0) + 1,
        "use fields, literals, comparisons, in, and, or, not and + - * /",
    )


def _compile_compare(node: ast.Compare, names: set[str], depth: int) -> Evaluator:
    for op in node.ops:
        if type(op) not in _COMPARE:
            raise GuardError(
                f"operator {type(op).__name__!r} is not allowed in a guard",
                node.col_offset + 1,
                "use == != < <= > >= in or not in",
            )
    operands = [_compile(o, names, depth + 1) for o in [node.left, *node.comparators]]
    tests = [_COMPARE[type(op)] for op in node.ops]

    def compare(data: Mapping[str, Any]) -> bool:
        values = [o(data) for o in operands]
        return all(_safe(test, a, b) is True for test, a, b in zip(tests, values, values[1:], strict=False))

    return compare


def _safe(fn: Callable[..., Any], *args: Any) -> Any:
    """Missing fields and mismatched types make a comparison false, not a crash."""
    try:
        return fn(*args)
    except (TypeError, ZeroDivisionError):
        return None


def _describe(node: ast.AST) -> str:
    kinds = {
        ast.Call: "a function call",
        ast.Attribute: "attribute access",
        ast.Subscript: "indexing",
        ast.Lambda: "lambda",
        ast.IfExp: "an if-expression",
        ast.Dict: "a dict",
        ast.JoinedStr: "an f-string",
        ast.NamedExpr: "assignment",
    }
    if isinstance(node, ast.Constant):
        return f"the literal {ast.unparse(node)}"
    return kinds.get(type(node), type(node).__name__)

"""Scalar KQL expressions as sqlglot expressions, with Kusto's null, case and term rules.

Each expression is typed by the row engine's own expression compiler
(``dac.kql.expressions.ExpressionCompiler``) over the same columns, so the result
types, the binder's errors and constant folding are the reference's. A
construct is compiled here only where the SQL computes exactly what the row
engine computes; otherwise it raises ``EngineRefusal`` at the node's position,
unless the row engine found it constant: then its value is the literal.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlglot import exp

from dac.engines.physical import EngineRefusal, sql_type
from dac.engines.sql_dialects import Dialect
from dac.engines.sql_values import literal
from dac.kql import ast
from dac.kql import values as V
from dac.kql.expressions import ExpressionCompiler
from dac.kql.window import WindowFunctions

# Microseconds from 0001-01-01 to 1970-01-01: Kusto bins datetimes from year 1.
YEAR_ONE_MICROS = 62_135_596_800_000_000
INTEGERS = frozenset({"int", "long"})
NUMBERS = frozenset({"int", "long", "real"})
# A term character for has: str.isalnum() in the row engine, a letter or a number in Unicode.
TERM_CHAR = r"[\p{L}\p{N}]"
NOT_TERM_CHAR = r"[^\p{L}\p{N}]"
# Functions over the serialized row set: the typer needs the rows themselves to compile them.
WINDOW_FUNCTIONS = frozenset(name[2:] for name in dir(WindowFunctions) if name.startswith("f_"))
# Functions whose value differs at each call: no two engines (or runs) can agree on them.
NONDETERMINISTIC = frozenset({"new_guid", "rand"})


@dataclass
class Sql:
    node: exp.Expression
    type: str


@dataclass
class Context:
    """What every expression of one query is compiled with."""

    dialect: Dialect
    evaluator: Any  # a row-engine Evaluator over empty tables: types, schemas and constants
    scope: Any  # the row engine's Scope holding the query's let bindings
    now: datetime
    tainted: set[str] = field(default_factory=set)  # let names whose value reads a table: never folded
    # a tabular expression (a let name or a parenthesised query) -> the SELECT of its first column, and that
    # column's KQL type: ``x in (T | project y)`` reads it; set by the compiler that owns the let bindings
    first_column: Callable[[ast.Expr], tuple[exp.Query, str]] | None = None

    def refuse(self, what: str, node: ast.Node, why: str = "") -> EngineRefusal:
        return EngineRefusal(what, self.dialect.name, node.line, node.column, why)

    def require_re2(self, what: str, node: ast.Node) -> None:
        """Refuse ``what`` (a user's regular expression) where the engine's regexes are not RE2."""
        if not self.dialect.re2_regex:
            raise self.refuse(what, node, f"{self.dialect.name}'s regular expressions are not RE2, Kusto's are")


def column(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _func(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _case(pairs: list[tuple[exp.Expression, exp.Expression]], default: exp.Expression) -> exp.Expression:
    case = exp.Case()
    for condition, value in pairs:
        case = case.when(condition, value)
    return case.else_(default)


def runtime_error(compiler: ScalarCompiler, what: str, node: ast.Node) -> str:
    """The message of a value the engine cannot compute exactly, found only when a row holds it (the
    engines turn an error() carrying "engine cannot run" into a located refusal)."""
    return (f"the {compiler.dialect} engine cannot run {what} exactly on this value "
            f"(line {node.line}, column {node.column}); use --engine python")


class ScalarCompiler:
    """Compiles expressions over one relation's columns; ``refs`` maps a column to its SQL (joins qualify)."""

    def __init__(self, context: Context, columns: list[tuple[str, str]],
                 refs: dict[str, exp.Expression] | None = None) -> None:
        self.context = context
        self.columns = columns
        self.types = dict(columns)
        self.refs = refs or {}
        self.typer = ExpressionCompiler(context.evaluator, columns, context.scope)

    @property
    def dialect(self) -> str:
        return self.context.dialect.name

    def refuse(self, what: str, node: ast.Node, why: str = "") -> EngineRefusal:
        return self.context.refuse(what, node, why)

    def compile(self, expr: ast.Expr) -> Sql:
        for node in _scalar_nodes(expr):
            if isinstance(node, (ast.Tabular, ast.Lambda)):
                raise self.refuse("a tabular expression inside a scalar one", node)
            if isinstance(node, ast.Call) and node.name in WINDOW_FUNCTIONS:
                raise self.refuse(f"the window function {node.name}()", node)
            if isinstance(node, ast.Call) and node.name in NONDETERMINISTIC:
                raise self.refuse(f"{node.name}()", node, "its value differs at each call")
            if isinstance(node, ast.Name) and node.name not in self.types and node.name in self.context.tainted:
                raise self.refuse(f"the let value '{node.name}'", node, "it is computed from a table or a nondeterministic call")
        typed = self.typer.compile(expr)
        if typed.members:
            raise self.refuse("a function returning several values", expr)
        method: Callable[[Any, str], exp.Expression] | None = getattr(self, "c_" + type(expr).__name__, None)
        try:
            if method is None:
                raise self.refuse(f"the expression '{type(expr).__name__}'", expr)
            node = method(expr, typed.type)
        except EngineRefusal:
            if not typed.const or typed.type == "table":
                raise
            node = literal(typed.fn(()), typed.type, self.dialect)  # the row engine's own value
        return Sql(node, typed.type)

    def physical(self, kql_type: str) -> str:
        return sql_type(kql_type, self.dialect)

    def constant(self, expr: ast.Expr) -> Any:
        """The value of an expression the row engine finds constant, else a refusal (patterns, needles)."""
        typed = self.typer.compile(expr)
        if not typed.const or typed.type == "table":
            raise self.refuse("a pattern or operand that is not a constant", expr)
        for node in expr.walk():
            if isinstance(node, ast.Name) and node.name not in self.types and node.name in self.context.tainted:
                raise self.refuse(f"the let value '{node.name}'", node, "it is computed from a table or a nondeterministic call")
        return typed.fn(())

    # ---------------------------------------------------------------- leaves

    def c_Literal(self, expr: ast.Literal, kind: str) -> exp.Expression:
        return literal(expr.value, kind, self.dialect)

    def c_Name(self, expr: ast.Name, kind: str) -> exp.Expression:
        if expr.name in self.types:
            return self.refs.get(expr.name) or column(expr.name)
        raise self.refuse(f"the name '{expr.name}'", expr, "only constant let values are inlined")

    # ---------------------------------------------------------------- operators

    def c_Unary(self, expr: ast.Unary, kind: str) -> exp.Expression:
        inner = self.compile(expr.operand)
        if inner.type not in NUMBERS | {"timespan"}:
            raise self.refuse(f"unary '{expr.op}' on {inner.type}", expr)
        return inner.node if expr.op == "+" else exp.Neg(this=exp.Paren(this=inner.node))

    def c_Binary(self, expr: ast.Binary, kind: str) -> exp.Expression:
        if isinstance(expr.left, ast.Star):
            raise self.refuse("'*' as an operand (a search over every column)", expr)
        op = expr.op
        if op in ("and", "or"):
            left, right = self.compile(expr.left), self.compile(expr.right)
            if left.type != "bool" or right.type != "bool":
                raise self.refuse(f"'{op}' of non-bool operands", expr)
            combine = exp.And if op == "and" else exp.Or
            return exp.Paren(this=combine(this=left.node, expression=right.node))
        if op in ("+", "-", "*", "/", "%"):
            return self.arithmetic(expr, kind)
        if op in ("==", "!=", "<", "<=", ">", ">="):
            return self.comparison(expr)
        return self.string_predicate(expr)

    def arithmetic(self, expr: ast.Binary, kind: str) -> exp.Expression:
        from dac.engines.sql_arithmetic import arithmetic

        return arithmetic(self, expr, kind)

    def comparable(self, expr: ast.Binary) -> tuple[Sql, Sql]:
        """Operands of one family that SQL compares as Kusto does (no implicit conversion between kinds)."""
        left, right = self.compile(expr.left), self.compile(expr.right)
        same = left.type == right.type or {left.type, right.type} <= NUMBERS
        if not same or left.type == "dynamic":
            raise self.refuse(f"comparing {left.type} with {right.type}", expr,
                              "Kusto converts between kinds here and the SQL would not")
        if left.type == "real" or right.type == "real":
            # NaN: SQL orders it above every number and equal to itself, Kusto compares it to nothing
            nan_free = all(isinstance(side, ast.Literal) or s.type != "real" for side, s in
                           ((expr.left, left), (expr.right, right)))
            if not nan_free:
                left = Sql(self.not_nan(left.node), left.type)
                right = Sql(self.not_nan(right.node), right.type) if right.type == "real" else right
        return left, right

    def bool_against_constant(self, expr: ast.Binary) -> exp.Expression | None:
        """A bool compared with a constant of another kind (``IsClickedThrough != "0"``), answered as the row
        engine answers it for each of the bool's three values: Kusto converts between the kinds there,
        and a bool has only true, false and null, so the comparison is a CASE over the row engine's own
        results. None when the comparison is not of that shape."""
        sides = [(expr.left, expr.right, True), (expr.right, expr.left, False)]
        for value, other, value_first in sides:
            typed_value, typed_other = self.typer.compile(value), self.typer.compile(other)
            if typed_value.type != "bool" or typed_value.const or typed_other.type in ("bool", "table"):
                continue
            if not typed_other.const:
                return None
            results = []
            for candidate in (True, False, None):
                literal = ast.Literal(candidate, "bool")
                pair = (literal, other) if value_first else (other, literal)
                results.append(self.typer.compile(ast.Binary(expr.op, *pair)).fn(()))
            if any(result is not None and not isinstance(result, bool) for result in results):
                return None
            sql = [exp.null() if r is None else exp.true() if r else exp.false() for r in results]
            column_sql = self.compile(value).node
            return exp.Paren(this=_case([(exp.Is(this=column_sql, expression=exp.null()), sql[2]),
                                         (exp.EQ(this=column_sql, expression=exp.true()), sql[0])], sql[1]))
        return None

    def not_nan(self, node: exp.Expression) -> exp.Expression:
        return exp.If(this=_func("isnan", node), true=exp.null(), false=node)

    def comparison(self, expr: ast.Binary) -> exp.Expression:
        folded = self.bool_against_constant(expr)
        if folded is not None:
            return folded
        from dac.engines.sql_compare import against_constant

        converted = against_constant(self, expr)
        if converted is not None:
            return converted
        left, right = self.comparable(expr)
        a, b = left.node, right.node
        ops = {"==": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}
        compared = ops[expr.op](this=a, expression=b)
        if expr.op not in ("==", "!=") or left.type == "string" and right.type == "string":
            return exp.Paren(this=compared)
        # one null gives == false and != true; two nulls give null (the row engine's kql_equal)
        one_null = exp.Or(this=exp.Is(this=a, expression=exp.null()), expression=exp.Is(this=b, expression=exp.null()))
        both_null = exp.And(this=exp.Is(this=a, expression=exp.null()), expression=exp.Is(this=b, expression=exp.null()))
        return _case([(both_null, exp.null()), (one_null, exp.false() if expr.op == "==" else exp.true())], compared)

    # ---------------------------------------------------------------- strings

    def string_operand(self, expr: ast.Expr, dynamic: bool = True) -> exp.Expression:
        """A string or guid operand as SQL text (strings are never null in the physical form); a dynamic one as
        its tostring(), which the row engine's has, contains, startswith... test (a null one as ""). ``=~``
        gives null for a null dynamic, not the answer for "": its caller passes ``dynamic=False``."""
        value = self.compile(expr)
        if value.type == "string":
            return value.node
        if value.type == "guid":
            return exp.Coalesce(this=value.node, expressions=[exp.Literal.string("")])
        if value.type == "dynamic" and dynamic:
            from dac.engines.sql_functions import _text

            return _text(self, value, expr)
        raise self.refuse(f"a string operator on a {value.type} value", expr)

    def string_predicate(self, expr: ast.Binary) -> exp.Expression:
        op = expr.op
        negated = op.startswith("!")
        base = op.lstrip("!")
        haystack = self.string_operand(expr.left, dynamic=op not in ("=~", "!~"))
        test: exp.Expression
        if op in ("=~", "!~"):
            needle = self.string_operand(expr.right, dynamic=False)
            test = exp.EQ(this=exp.Lower(this=haystack), expression=exp.Lower(this=needle))
            negated = op == "!~"
        elif base == "matches regex":
            self.context.require_re2("matches regex", expr)
            pattern = self.constant(expr.right)
            test = exp.RegexpLike(this=haystack, expression=exp.Literal.string(V.to_string(pattern)))
        else:
            test = self.text_test(expr, base, haystack)
        return exp.Paren(this=exp.Not(this=test)) if negated else exp.Paren(this=test)

    def text_test(self, expr: ast.Binary, base: str, haystack: exp.Expression) -> exp.Expression:
        case = base.endswith("_cs")
        kind = base[:-3] if case else base
        if kind in ("has", "hasprefix", "hassuffix"):
            needle = V.to_string(self.constant(expr.right))
            return self.term_test(haystack, needle, kind, case)
        if kind not in ("contains", "startswith", "endswith"):
            raise self.refuse(f"the operator '{expr.op}'", expr)
        needle_sql = self.string_operand(expr.right)
        if not case:
            haystack, needle_sql = exp.Lower(this=haystack), exp.Lower(this=needle_sql)
        if kind == "contains":
            return exp.GT(this=exp.StrPosition(this=haystack, substr=needle_sql), expression=exp.Literal.number(0))
        if kind == "startswith":
            return exp.StartsWith(this=haystack, expression=needle_sql)
        return exp.EndsWith(this=haystack, expression=needle_sql)

    def term_test(self, haystack: exp.Expression, needle: str, kind: str, case: bool) -> exp.Expression:
        """find_term as one regex: the needle with a non-term character or an end on each side that needs it."""
        if not needle:
            return exp.true()
        if not case:
            haystack, needle = exp.Lower(this=haystack), needle.lower()
        need_left = needle[0].isalnum() and kind != "hassuffix"
        need_right = needle[-1].isalnum() and kind != "hasprefix"
        pattern = (f"(^|{NOT_TERM_CHAR})" if need_left else "") + _re2_escape(needle) + \
                  (f"($|{NOT_TERM_CHAR})" if need_right else "")
        return exp.RegexpLike(this=haystack, expression=exp.Literal.string(pattern))

    def c_InList(self, expr: ast.InList, kind: str) -> exp.Expression:
        base = expr.op.lstrip("!")
        negated = expr.op.startswith("!")
        if len(expr.items) == 1 and self.typer.compile(expr.items[0]).type == "table":
            return self.in_table(expr, base, negated)
        values: list[Any] = []
        for item in expr.items:
            value = self.constant(item)
            values.extend(value if isinstance(value, list) else [value])
        if base in ("has_any", "has_all", "has_any_cs", "has_all_cs"):
            haystack = self.string_operand(expr.left)
            case = base.endswith("_cs")
            tests = [self.term_test(haystack, V.to_string(v), "has", case) for v in values]
            if not tests:
                return exp.false()
            combine = exp.or_ if base.startswith("has_any") else exp.and_
            return exp.Paren(this=combine(*tests))
        left = self.compile(expr.left)
        # the row engine's members (c_InList's normalise): a string matches a string or a number's text, a
        # number matches a number or a string's toreal(), both as reals; bools and other kinds match neither
        present = [v for v in values if v is not None and not isinstance(v, bool)]
        if left.type == "string" and all(isinstance(v, (str, int, float)) for v in present):
            insensitive = base == "in~"
            texts = [v if isinstance(v, str) else V.to_string(v) for v in present]
            items = [exp.Literal.string(v.lower() if insensitive else v) for v in texts]
            target = exp.Lower(this=left.node) if insensitive else left.node
        elif left.type in NUMBERS and base in ("in", "in~") and all(isinstance(v, (str, int, float)) for v in present):
            reals = [V.to_real(v) if isinstance(v, str) else float(v) for v in present]
            # NaN matches nothing there (a NaN is hashed by identity)
            items = [literal(r, "real", self.dialect) for r in reals if r is not None and not math.isnan(r)]
            target = exp.cast(left.node, "DOUBLE")
        else:
            raise self.refuse(f"'{expr.op}' over {left.type} with these values", expr,
                              "Kusto compares numbers and text across kinds here")
        if not items:
            test: exp.Expression = exp.false()
        else:
            test = exp.In(this=target, expressions=items)
        if left.type == "string":
            return exp.Paren(this=exp.Not(this=test)) if negated else exp.Paren(this=test)
        # a null left side: in gives null, !in gives true
        if negated:
            return exp.Paren(this=exp.Coalesce(this=exp.Not(this=test), expressions=[exp.true()]))
        return exp.Paren(this=test)

    def in_table(self, expr: ast.InList, base: str, negated: bool) -> exp.Expression:
        """``x in (T | project y)``: the row engine tests x against the first column's values (nulls left out),
        strings as text (lower-cased for in~), numbers as reals; other kinds and mixes are refused."""
        if self.context.first_column is None or base not in ("in", "in~"):
            raise self.refuse(f"'{expr.op}' over a tabular expression", expr)
        query, member_type = self.context.first_column(expr.items[0])
        left = self.compile(expr.left)
        member = column("__dac_member")
        if left.type == "string" and member_type == "string":
            target, value = (exp.Lower(this=left.node), exp.Lower(this=member)) if base == "in~" else (left.node, member)
        elif left.type in NUMBERS and member_type in NUMBERS and base == "in":
            target, value = exp.cast(left.node, "DOUBLE"), exp.cast(member, "DOUBLE")  # the row engine's ("$num", float)
        else:
            raise self.refuse(f"'{expr.op}' of a {left.type} value over a column of {member_type}", expr,
                              "Kusto compares across kinds here")
        members = exp.select(value).from_(query.subquery("__dac_members")).where(
            exp.Not(this=exp.Is(this=member, expression=exp.null())))
        test = exp.In(this=target, query=exp.Subquery(this=members))
        if left.type == "string":  # never null: the test is true or false
            return exp.Paren(this=exp.Not(this=test)) if negated else exp.Paren(this=test)
        # a null left side: in gives null, !in gives true (no member is null, so SQL's IN is true or false else)
        if negated:
            return exp.Paren(this=exp.Coalesce(this=exp.Not(this=test), expressions=[exp.true()]))
        return exp.Paren(this=test)

    def c_Between(self, expr: ast.Between, kind: str) -> exp.Expression:
        value, low, high = self.compile(expr.left), self.compile(expr.low), self.compile(expr.high)
        family = {value.type, low.type, high.type}
        if not (family <= INTEGERS or family == {"datetime"} or family == {"timespan"}):
            raise self.refuse(f"between over {value.type}, {low.type} and {high.type}", expr)
        test = exp.Between(this=value.node, low=low.node, high=high.node)
        return exp.Paren(this=exp.Not(this=test)) if expr.negated else exp.Paren(this=test)

    # ---------------------------------------------------------------- dynamic

    def c_Member(self, expr: ast.Member, kind: str) -> exp.Expression:
        return self.json_path(expr, expr.target, "." + _json_key(expr.name))

    def c_Index(self, expr: ast.Index, kind: str) -> exp.Expression:
        key = self.constant(expr.index)
        if isinstance(key, bool) or not isinstance(key, (int, str)):
            raise self.refuse("an index that is neither a constant number nor a name", expr)
        if isinstance(key, int):
            if key < 0:
                raise self.refuse("a negative array index", expr)
            return self.json_path(expr, expr.target, f"[{key}]")
        return self.json_path(expr, expr.target, "." + _json_key(key))

    def json_path(self, expr: ast.Expr, target_expr: ast.Expr, step: str) -> exp.Expression:
        path = [step]
        target = target_expr
        while isinstance(target, (ast.Member, ast.Index)):  # d.a.b[0] is one path
            if isinstance(target, ast.Member):
                path.insert(0, "." + _json_key(target.name))
            else:
                key = self.constant(target.index)
                if isinstance(key, bool) or not isinstance(key, (int, str)) or (isinstance(key, int) and key < 0):
                    raise self.refuse("this index", target)
                path.insert(0, f"[{key}]" if isinstance(key, int) else "." + _json_key(key))
            target = target.target
        base = self.compile(target)
        if base.type != "dynamic":
            raise self.refuse(f"member access on a {base.type} value", expr)
        return self.context.dialect.json_value(base.node, "$" + "".join(path))

    def c_Call(self, expr: ast.Call, kind: str) -> exp.Expression:
        from dac.engines.sql_functions import FUNCTIONS

        if self.context.scope.lookup(expr.name) is not None:
            raise self.refuse(f"the user function '{expr.name}'", expr)
        build = FUNCTIONS.get(expr.name)
        if build is None:
            raise self.refuse(f"the function {expr.name}()", expr)
        return build(self, expr, kind)


def _scalar_nodes(expr: ast.Expr) -> list[ast.Node]:
    """The nodes of ``expr`` but those of an ``in`` list's names and queries, which c_InList compiles itself
    (a let name there may name a table: ``x in (suspicious)`` reads its first column)."""
    nodes: list[ast.Node] = []
    stack: list[ast.Node] = [expr]
    while stack:
        node = stack.pop()
        nodes.append(node)
        if isinstance(node, ast.InList):
            stack.append(node.left)
            stack.extend(item for item in node.items if not isinstance(item, (ast.Name, ast.Tabular)))
        else:
            stack.extend(node.children())
    return nodes


def _json_key(name: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        return name
    if '"' in name or "\\" in name:
        raise EngineRefusal(f"the key {name!r}", "sql")
    return f'"{name}"'


def _re2_escape(text: str) -> str:
    """A literal for RE2 (and Java's regex, for Spark): metacharacters escaped, control characters as \\x{..}."""
    return "".join("\\" + ch if ch in _REGEX_SPECIAL else f"\\x{{{ord(ch):x}}}" if ord(ch) < 32 else ch
                   for ch in text)


_REGEX_SPECIAL = frozenset("\\.^$|?*+()[]{}")


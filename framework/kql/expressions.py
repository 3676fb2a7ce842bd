"""Compilation of scalar expressions into Python closures.

Each expression is compiled once per operator against the input columns into
``Compiled(fn, type)``; ``fn(row)`` then runs per row without looking at the
tree again (the approach of Elastic's eql engine). Unknown columns, unknown
functions and wrong arities are found here, before any row is read.
"""

from __future__ import annotations

import operator as op
from dataclasses import replace
from functools import partial
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import re2

from dac.kql import ast
from dac.kql import budget as B
from dac.kql import values as V
from dac.kql.aggregates import AGGREGATE_NAMES, AGGREGATES
from dac.errors import did_you_mean
from dac.kql.builtins import is_kusto_name, refused
from dac.kql.bounds import LONG_MAX, LONG_MIN, LongOverflow, shift
from dac.kql.errors import KqlRuntimeError
from dac.kql.array_sorting import compile_array_sort
from dac.kql.compiled import (
    RUNTIME_FAILURES,
    Compiled,
    call_runner,
    constant,
    guarded,
    located,
    runtime_error,
    semantic,
    tuple_member,
    unsupported,
)
from dac.kql.functions import CONSTANT_ARGUMENTS, FUNCTIONS, INTEGER_ARGUMENTS, PARAMETER_TYPES, family
from dac.kql.functions_math import bin_value
from dac.kql.operators import (
    ARITHMETIC,
    BINARY_PREDICATES,
    LONG_ARITHMETIC,
    KNOWN_TYPES,
    and_of,
    and_of_bools,
    arithmetic_type,
    coerce_pair,
    negate,
    operand_error,
    or_of,
    or_of_bools,
)
from dac.kql.series import TUPLE_FUNCTIONS, TupleFunction
from dac.kql.table import ingestion_time_of
from dac.kql.window import PositionCell, WindowFunctions
from dac.kql.wildcard import any_column
from dac.kql.column_functions import ColumnFunctions

if TYPE_CHECKING:
    from dac.kql.scope import Scope

Row = tuple


def _equality_with_constant(name: str, left: "Compiled", right: "Compiled") -> "Compiled | None":
    """``column == "literal"`` and ``!=``, specialised when both types are known.

    The generic path converts per row; here the constant is converted once (a string
    compared with a bool column goes through tobool rules, as coerce_pair does) and
    the null rules of kql_equal are kept: one null side makes == false and != true.
    """
    if name not in ("==", "!=") or not right.const or left.type not in ("string", "bool", "long", "int"):
        return None
    value = right.fn(())
    if value is None:
        return None
    if left.type == "string" and isinstance(value, str):
        constant_value = value
    elif left.type == "bool" and isinstance(value, (str, bool)):
        constant_value = V.to_bool(value)
    elif left.type in ("long", "int") and isinstance(value, int) and not isinstance(value, bool):
        constant_value = value
    else:
        return None
    if constant_value is None:
        return None
    lf = left.fn
    if name == "==":
        return Compiled(lambda row: (v := lf(row)) is not None and v == constant_value, "bool")
    return Compiled(lambda row: (v := lf(row)) is None or v != constant_value, "bool")


# ------------------------------------------------------------------ names


# How Kusto names the column of an unnamed expression, settled with the official
# binder (Kusto.Language): most calls get ColumnN; these take their first argument's
# name, a prefix or a suffix on it.
FIRST_ARGUMENT_NAMED = {
    "tostring", "toint", "tolong", "todouble", "toreal", "tobool", "toboolean", "todatetime", "totimespan",
    "toguid", "todecimal", "todynamic", "parse_json", "parse_csv", "split", "bin", "floor", "bin_at",
    "startofday", "format_datetime", "round", "abs", "sqrt", "log", "log10", "log2", "exp", "pow", "ceiling",
    "tohex", "binary_and", "binary_or", "binary_xor", "binary_not", "binary_shift_left", "binary_shift_right",
    "series_outliers",
}
PREFIX_NAMED = {"strlen": "strlen_", "string_size": "string_size_", "gettype": "type_"}
SUFFIX_NAMED = {"array_sort_asc": "_sorted", "array_sort_desc": "_sorted"}


def derive_name(expr: ast.Expr) -> str | None:
    """The column name Kusto gives an unnamed expression, or None for ``ColumnN``."""
    if isinstance(expr, ast.Name):
        return expr.name
    if isinstance(expr, ast.Member):
        base = derive_name(expr.target)
        return f"{base}_{expr.name}" if base else None
    if isinstance(expr, ast.Index) and isinstance(expr.index, ast.Literal) and isinstance(expr.index.value, (str, int)):
        base = derive_name(expr.target)
        return f"{base}_{expr.index.value}" if base else None
    if isinstance(expr, ast.Call) and expr.args:
        first = expr.args[0]
        if expr.name == "column_ifexists" and isinstance(first, ast.Literal) and isinstance(first.value, str):
            return first.value
        base = derive_name(first)
        if base is None:
            return None
        if expr.name in FIRST_ARGUMENT_NAMED:
            return base
        if expr.name in PREFIX_NAMED:
            return PREFIX_NAMED[expr.name] + base
        if expr.name in SUFFIX_NAMED:
            return base + SUFFIX_NAMED[expr.name]
    return None


def aggregate_name(call: ast.Call) -> str:
    """``count()`` -> ``count_``, ``dcount(x)`` -> ``dcount_x``, ``countif(x > 1)`` -> ``countif_``."""
    spec = AGGREGATES[call.name]
    base = derive_name(call.args[0]) if call.args else None
    percent = {"percentile": 1, "percentilew": 2}.get(call.name)
    if percent is not None and len(call.args) == percent + 1 and isinstance(call.args[percent], ast.Literal):
        # percentile(x, 99.5) is percentile_x_99_5, as the official binder names it
        return f"{spec.prefix}{base or ''}_{V.to_string(call.args[percent].value).replace('.', '_')}"
    if call.name.startswith("covariance") and len(call.args) > 1:
        # covariance(x, y) is covariance_x_y, as the documented outputs show
        # (https://learn.microsoft.com/kusto/query/covariance-aggregation-function)
        return f"{spec.prefix}{base or ''}_{derive_name(call.args[1]) or ''}"
    return spec.prefix + (base or "")


def is_aggregate_call(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.Call) and expr.name in AGGREGATE_NAMES


# ------------------------------------------------------------------ compiler


class ExpressionCompiler(WindowFunctions, ColumnFunctions):
    """Compiles expressions against a column layout and a scope of let bindings."""

    def __init__(self, evaluator: "Any", columns: list[tuple[str, str]], scope: "Scope",
                 extra: dict[str, Compiled] | None = None, rows: list[Row] | None = None,
                 columns_visible: bool = True) -> None:
        self.evaluator = evaluator
        self.columns = columns
        # A user function's body runs on the caller's rows (its arguments read them) but cannot name
        # the caller's columns: the official binder reports 's' unknown in
        # let f = () { strcat(s, "!") }; datatable(s: string) ["a"] | extend q = f()
        self.index = {name: i for i, (name, _) in enumerate(columns)} if columns_visible else {}
        self.scope = scope
        self.extra = extra or {}
        self.depth = 0  # compile() calls under way: above 1, the expression is part of another
        self.rows = rows  # the operator's input rows, for window functions; None where there are none
        self.window_cell: PositionCell | None = None  # set while a top-level expression uses one

    def compile(self, expr: ast.Expr) -> Compiled:
        method = getattr(self, "c_" + type(expr).__name__, None)
        if method is None:
            raise unsupported(expr, f"expression '{type(expr).__name__}' is not supported here")
        top = self.depth == 0
        if top:
            self.window_cell = None
        self.depth += 1
        try:
            compiled = method(expr)
        finally:
            self.depth -= 1
        if top and self.window_cell is not None:
            # the operator evaluates a top-level expression once per input row, in order
            compiled = replace(compiled, fn=self.window_cell.advance(compiled.fn))
            self.window_cell = None
        if compiled.members and self.depth > 0:
            # as the official binder: a call returning several values is no operand ("The
            # expression value must be a dynamic array" for array_length(series_decompose(y)))
            raise semantic(expr, "a function returning several values cannot be used inside an expression; "
                                 "assign its values to columns, e.g. extend (a, b) = f(...)")
        return compiled

    # leaves

    def c_Literal(self, expr: ast.Literal) -> Compiled:
        if expr.error:
            raise (unsupported if expr.refused else semantic)(expr, expr.error)
        if expr.type == "long" and isinstance(expr.value, int) and not LONG_MIN <= expr.value <= LONG_MAX:
            raise semantic(expr, f"the number {expr.value} does not fit in a long (signed 64-bit)")
        return constant(expr.value, expr.type)

    def c_Name(self, expr: ast.Name) -> Compiled:
        name = expr.name
        if name in self.extra:
            return self.extra[name]
        position = self.index.get(name)
        if position is not None:
            return Compiled(op.itemgetter(position), self.columns[position][1])
        binding = self.scope.lookup(name)
        if binding is not None:
            return self.evaluator.scalar_binding(binding, expr)
        if "$open" in self.index:
            return constant(None, "dynamic")
        suggestion = _column_hint(name, list(self.index))
        raise semantic(expr, f"unknown column or variable '{name}'{suggestion}")

    def c_Star(self, expr: ast.Star) -> Compiled:
        raise semantic(expr, "'*' is not allowed here")

    def c_TypeName(self, expr: ast.TypeName) -> Compiled:
        return constant(expr.name, "string")

    def c_Tabular(self, expr: ast.Tabular) -> Compiled:
        table = self.evaluator.eval_pipeline(expr.query, self.scope)
        return constant(table, "table")

    # operators

    def c_Unary(self, expr: ast.Unary) -> Compiled:
        inner = self.compile(expr.operand)  # (the parser folds -9223372036854775808 into one literal)
        if expr.op == "+":
            return inner
        fn = inner.fn

        def run(row: Row) -> Any:
            try:
                return negate(fn(row))
            except LongOverflow as exc:
                raise runtime_error(expr, "unary '-'", exc) from None

        return self._maybe_const(Compiled(run, inner.type), inner)

    def c_Binary(self, expr: ast.Binary) -> Compiled:
        if isinstance(expr.left, ast.Star):  # where * has "term": any column (dac.kql.wildcard)
            return any_column(expr, self.compile(expr.right), self.columns)
        left = self.compile(expr.left)
        right = self.compile(expr.right)
        lf, rf = left.fn, right.fn
        name = expr.op
        if name in ("and", "or"):
            both_bool = left.type == right.type == "bool"
            combine = (and_of_bools if name == "and" else or_of_bools) if both_bool else (and_of if name == "and" else or_of)
            return Compiled(combine(lf, rf), "bool")
        problem = operand_error(name, left.type, right.type)
        if problem:
            raise semantic(expr, problem)
        fast = _equality_with_constant(name, left, right)
        if fast is not None:
            return fast
        if name in ARITHMETIC:
            impl = LONG_ARITHMETIC.get(name) if {left.type, right.type} <= {"int", "long"} else None
            impl = impl or ARITHMETIC[name]

            def arithmetic(row: Row) -> Any:
                try:
                    return impl(lf(row), rf(row))
                except LongOverflow as exc:
                    raise runtime_error(expr, f"operator '{name}'", exc) from None

            return self._maybe_const(Compiled(arithmetic, arithmetic_type(name, left.type, right.type)), left, right)
        predicate = BINARY_PREDICATES.get(name)
        if predicate is None:
            raise unsupported(expr, f"operator '{name}' is not supported")
        if name.lstrip("!") == "matches regex" and right.const:
            pattern = right.fn(())
            try:
                regex = B.compile_regex(V.to_string(pattern), expr.right)
            except re2.error as exc:
                raise semantic(expr.right, B.regex_problem(exc)) from None
            return Compiled(lambda row: regex.search(V.to_string(lf(row))) is not None, "bool")
        if name in ("has", "!has") and right.const:
            search = V.term_matcher(V.to_string(right.fn(())))
            negated = name == "!has"
            if left.type == "string":
                return Compiled(lambda row: (search(lf(row)) is not None) != negated, "bool")
            return Compiled(lambda row: (search(V.to_string(lf(row))) is not None) != negated, "bool")
        compiled = Compiled(lambda row: predicate(lf(row), rf(row)), "bool")
        if name.lstrip("!") == "matches regex":  # a pattern read from a column may not compile
            compiled = Compiled(guarded(compiled.fn, expr, f"operator '{name}'"), "bool")
        return self._maybe_const(compiled, left, right)

    def _maybe_const(self, compiled: Compiled, *parts: Compiled) -> Compiled:
        if all(p.const for p in parts):
            return constant(compiled.fn(()), compiled.type)
        return compiled

    def c_Between(self, expr: ast.Between) -> Compiled:
        value, low, high = self.compile(expr.left), self.compile(expr.low), self.compile(expr.high)
        vf, lf, hf = value.fn, low.fn, high.fn
        negated = expr.negated

        def run(row: Row) -> bool | None:
            v, lo, hi = vf(row), lf(row), hf(row)
            if v is None or lo is None or hi is None:
                return None
            if isinstance(hi, timedelta) and not isinstance(lo, timedelta):
                hi = ARITHMETIC["+"](lo, hi)  # null past 9999-12-31 (or for a number plus a timespan)
            v1, lo = coerce_pair(v, lo)
            v2, hi = coerce_pair(v, hi)
            try:
                inside = lo <= v1 and v2 <= hi
            except TypeError:
                return None
            return inside != negated

        return Compiled(run, "bool")

    def c_InList(self, expr: ast.InList) -> Compiled:
        left = self.compile(expr.left)
        items = [self.compile(item) for item in expr.items]
        lf = left.fn
        name = expr.op
        negated = name.startswith("!")
        base = name.lstrip("!")

        def gather(row: Row) -> list[Any]:
            values: list[Any] = []
            for item in items:
                value = item.fn(row)
                if item.type == "table":
                    values.extend(r[0] for r in value.rows)
                elif isinstance(value, list):
                    values.extend(value)
                else:
                    values.append(value)
            return values

        constant_items = all(i.const for i in items)
        if base in ("has_any", "has_all", "has_any_cs", "has_all_cs"):
            case = base.endswith("_cs")
            want_all = base.startswith("has_all")
            fixed = [V.to_string(v) for v in gather(())] if constant_items else None

            def run_has(row: Row) -> bool:
                haystack = V.to_string(lf(row))
                needles = fixed if fixed is not None else [V.to_string(v) for v in gather(row)]
                test = (all if want_all else any)(V.find_term(haystack, n, case=case) for n in needles)
                return test

            return Compiled(run_has, "bool")
        insensitive = base == "in~"

        def normalise(values: list[Any]) -> set[Any]:
            out: set[Any] = set()
            for v in values:
                if v is None:
                    continue
                if isinstance(v, str):
                    out.add(v.lower() if insensitive else v)
                    number = V.to_real(v)
                    if number is not None:
                        out.add(("$num", number))
                elif isinstance(v, bool):
                    out.add(("$bool", v))
                elif isinstance(v, (int, float)):
                    out.add(("$num", float(v)))
                    out.add(V.to_string(v))
                else:
                    out.add(V.hashable(v))
            return out

        fixed_set = normalise(gather(())) if constant_items else None

        def key_of(v: Any) -> Any:
            if isinstance(v, str):
                return v.lower() if insensitive else v
            if isinstance(v, bool):
                return ("$bool", v)
            if isinstance(v, (int, float)):
                return ("$num", float(v))
            return V.hashable(v)

        def run_in(row: Row) -> bool | None:
            value = lf(row)
            if value is None:
                return None if not negated else True
            members = fixed_set if fixed_set is not None else normalise(gather(row))
            return (key_of(value) in members) != negated

        return Compiled(run_in, "bool")

    def c_Member(self, expr: ast.Member) -> Compiled:
        invoked = self.evaluator.pattern_invocation(expr, self.scope)  # Name("v").path (dac.kql.patterns)
        if invoked is not None:
            return constant(invoked, "table")
        target = self.compile(expr.target)
        tf, key = target.fn, expr.name

        def run(row: Row) -> Any:
            value = tf(row)
            if isinstance(value, str) and target.type == "string":
                value = V.to_dynamic(value)
            if isinstance(value, dict):
                return value.get(key)
            if isinstance(value, list) and key.lstrip("-").isdigit():
                return _list_get(value, int(key))
            return None

        return Compiled(run, "dynamic")

    def c_Index(self, expr: ast.Index) -> Compiled:
        invoked = self.evaluator.pattern_invocation(expr, self.scope)  # Name("v")["p"]: no path, says dac.kql.patterns
        if invoked is not None:
            return constant(invoked, "table")
        # a call returning several values may be indexed (array_sort_asc(a, b)[1]), not otherwise used
        target = self.c_Call(expr.target) if isinstance(expr.target, ast.Call) else self.compile(expr.target)
        index = self.compile(expr.index)
        if target.members:
            return tuple_member(expr, target, index)
        tf, xf = target.fn, index.fn

        def run(row: Row) -> Any:
            value, key = tf(row), xf(row)
            if isinstance(value, list) and isinstance(key, int) and not isinstance(key, bool):
                return _list_get(value, key)
            if isinstance(value, dict) and key is not None:
                return value.get(V.to_string(key))
            return None

        return Compiled(run, "dynamic")

    # calls

    def c_Call(self, expr: ast.Call) -> Compiled:
        name = expr.name
        binding = self.scope.lookup(name)
        if binding is not None:
            return self.evaluator.call_user_function(binding, expr, self)
        if any(isinstance(a, ast.Call) and a.name == "$named" for a in expr.args):
            # built-in functions take their arguments by position; a name given is only a label
            expr = ast.Call(name, [a.args[1] if isinstance(a, ast.Call) and a.name == "$named" else a for a in expr.args],
                            line=expr.line, column=expr.column)
        special = getattr(self, "f_" + name, None)
        if special is not None:
            return special(expr)
        if name in TUPLE_FUNCTIONS:
            return self._tuple_call(expr, TUPLE_FUNCTIONS[name])
        if is_aggregate_call(expr):
            raise refused(expr, name, "scalar") or semantic(
                expr, f"aggregate function '{name}()' can only be used in summarize")
        function = FUNCTIONS.get(name)
        if function is None:
            from dac.kql.graph_match import GRAPH_FUNCTIONS  # here: graph_match imports this module

            if name in GRAPH_FUNCTIONS:  # Kusto's binder knows them only in a pattern (KS211 elsewhere)
                raise semantic(expr, f"'{name}' is a graph function: it can only be used in the where and project "
                                     "of graph-match and graph-shortest-paths")
        if function is None and not is_kusto_function(name):
            raise semantic(expr, f"unknown function '{name}'")
        if function is None:
            if self.evaluator.check:
                for arg in expr.args:
                    self.compile(arg.args[1] if isinstance(arg, ast.Call) and arg.name == "$named" else arg)
                return Compiled(lambda row: None, "dynamic")
            raise refused(expr, name, "scalar", "aggregate", "plugin", "operator") or unsupported(
                expr, f"function '{name}()' is not supported by the evaluator")
        count = len(expr.args)
        if count < function.min_args or (function.max_args is not None and count > function.max_args):
            expected = str(function.min_args) if function.min_args == function.max_args else (
                f"{function.min_args} to {function.max_args}" if function.max_args is not None else f"at least {function.min_args}")
            raise semantic(expr, f"function '{name}()' takes {expected} argument(s), got {count}")
        args = [self.compile(arg) for arg in expr.args]
        self._check_argument_types(expr, args)
        types = [a.type for a in args]
        impl = partial(function.impl, tuple(types)) if function.typed else function.impl
        result_type = function.result(types)
        fns = [a.fn for a in args]
        what = f"{name}()"
        if name != "new_guid" and args and all(a.const for a in args):
            values = [f(()) for f in fns]
            try:
                return constant(impl(*values), result_type)
            except re2.error as exc:  # a constant pattern: the query itself is wrong
                raise semantic(expr, B.regex_problem(exc)) from None
            except (KqlRuntimeError, *RUNTIME_FAILURES) as exc:
                raise located(exc, expr, what) from None
        return Compiled(call_runner(impl, fns, expr, what), result_type)

    def _tuple_call(self, expr: ast.Call, spec: TupleFunction) -> Compiled:
        """A call of a function returning several columns (see ``series.TUPLE_FUNCTIONS``).

        Arguments are checked as the official binder types them; a string argument
        limited to a few values (trend, AD method) is checked when it is a literal.
        """
        count, most = len(expr.args), len(spec.parameters)
        if not spec.min_args <= count <= most:
            expected = str(most) if spec.min_args == most else f"{spec.min_args} to {most}"
            raise semantic(expr, f"function '{spec.name}()' takes {expected} argument(s), got {count}")
        args = [self.compile(arg) for arg in expr.args]
        for index, (arg, accepted) in enumerate(zip(args, spec.parameters)):
            if arg.type in KNOWN_TYPES and arg.type not in accepted:
                wanted = " or ".join(sorted(accepted)) if accepted else "a dynamic array"
                raise semantic(expr.args[index], f"function '{spec.name}()' expects {wanted} as argument "
                                                 f"{index + 1}, found {arg.type}")
        for index, allowed in spec.choices.items():
            if index < count and args[index].const:
                value = args[index].fn(())
                if value not in (None, "") and value not in allowed:
                    choices = ", ".join(f"'{c}'" for c in allowed)
                    raise semantic(expr.args[index], f"function '{spec.name}()' takes {choices} as argument "
                                                     f"{index + 1}, not '{V.to_string(value)}'")
        # Unnamed columns: <function>_<first argument's name>_<member> (Kusto.Language's MakePrefixedTuple).
        prefix = f"{spec.name}_{derive_name(expr.args[0]) or ''}"
        members = tuple((f"{prefix}_{suffix}", kind) for suffix, kind in spec.members)
        impl, fns, width = spec.impl, [a.fn for a in args], len(spec.members)

        def run_all(row: Row) -> tuple:
            try:
                values = impl(*[f(row) for f in fns])
            except ValueError as exc:
                raise KqlRuntimeError(f"{spec.name}(): {exc}", expr.line, expr.column) from None
            return tuple(values) if values is not None else (None,) * width

        if all(a.const for a in args):
            try:
                folded = run_all(())
            except KqlRuntimeError as exc:
                raise semantic(expr, exc.message) from None
            return Compiled(lambda row: folded[0], members[0][1], True, members, lambda row: folded)
        return Compiled(lambda row: run_all(row)[0], members[0][1], False, members, run_all)

    def f_array_sort_asc(self, expr: ast.Call) -> Compiled:
        return compile_array_sort(expr, [self.compile(a) for a in expr.args], [derive_name(a) for a in expr.args], False)

    def f_array_sort_desc(self, expr: ast.Call) -> Compiled:
        return compile_array_sort(expr, [self.compile(a) for a in expr.args], [derive_name(a) for a in expr.args], True)

    def f_extract(self, expr: ast.Call) -> Compiled:
        """extract(regex, group, text [, typeof(T)]): with a type, the match is converted (null if it fails)."""
        if not 3 <= len(expr.args) <= 4:
            raise semantic(expr, f"function 'extract()' takes 3 to 4 argument(s), got {len(expr.args)}")
        pattern, group, text = (self.compile(a) for a in expr.args[:3])
        target = None
        if len(expr.args) == 4:
            if not isinstance(expr.args[3], ast.TypeName):
                raise semantic(expr.args[3], "extract() takes typeof(T) as its fourth argument")
            target = V.normal_type(expr.args[3].name)
        if not pattern.const:
            raise semantic(expr.args[0], "function 'extract()' takes a constant regular expression "
                                         "(Kusto does not read it from a column)")
        try:
            regex = B.compile_regex(V.to_string(pattern.fn(())), expr.args[0])
        except re2.error as exc:
            raise semantic(expr.args[0], B.regex_problem(exc)) from None

        def run(row: Row) -> Any:
            match = regex.search(V.to_string(text.fn(row)))
            index = V.to_long(group.fn(row)) or 0
            if index < 0:
                raise ValueError(f"capture group {index} does not exist; groups count from 0 (the whole match)")
            if match is None or index > regex.groups:
                return "" if target is None else V.default_value(target)
            found = match.group(index) or ""
            return found if target is None else V.convert(found, target)

        return Compiled(guarded(run, expr, "extract()"), target or "string")

    def _check_argument_types(self, expr: ast.Call, args: list[Compiled]) -> None:
        """Reject argument types Kusto's binder rejects (a string where a datetime is required...)."""
        rules = PARAMETER_TYPES.get(expr.name, {})
        for index, accepted in rules.items():
            if index < len(args) and args[index].type in KNOWN_TYPES and family(args[index].type) not in accepted:
                wanted = " or ".join(sorted(accepted))
                raise semantic(expr.args[index], f"function '{expr.name}()' expects a {wanted} as argument {index + 1}, "
                                                 f"found {args[index].type}")
        for index in INTEGER_ARGUMENTS.get(expr.name, ()):
            if index < len(args) and args[index].type in KNOWN_TYPES and args[index].type not in ("int", "long"):
                raise semantic(expr.args[index], f"function '{expr.name}()' expects an integer (int or long) as "
                                                 f"argument {index + 1}, found {args[index].type}")
        for index in CONSTANT_ARGUMENTS.get(expr.name, ()):
            if index < len(args) and not args[index].const:
                raise semantic(expr.args[index], f"function '{expr.name}()' takes a constant as argument {index + 1} "
                                                 "(Kusto does not read it from a column)")
        if expr.name in ("bin", "floor") and len(args) == 2 and all(a.type in KNOWN_TYPES for a in args):
            pair = (family(args[0].type), family(args[1].type))
            if pair not in {("number", "number"), ("datetime", "timespan"), ("timespan", "timespan")}:
                raise semantic(expr, f"function '{expr.name}()' is not defined for ({args[0].type}, {args[1].type})")

    def f_now(self, expr: ast.Call) -> Compiled:
        now = self.evaluator.now
        if expr.args:
            offset = self.compile(expr.args[0]).fn(())
            if offset is not None and not isinstance(offset, timedelta):
                raise semantic(expr.args[0], "now() takes a timespan offset")
            return constant(None if offset is None else shift(now, offset), "datetime")
        return constant(now, "datetime")

    def f_ago(self, expr: ast.Call) -> Compiled:
        if len(expr.args) != 1:
            raise semantic(expr, "function 'ago()' takes 1 argument")
        span = self.compile(expr.args[0])
        if span.type in KNOWN_TYPES and span.type != "timespan":
            raise semantic(expr.args[0], f"ago() expects a timespan, found {span.type}")
        now = self.evaluator.now
        if span.const:
            value = span.fn(())
            if value is not None and not isinstance(value, timedelta):
                raise semantic(expr.args[0], "ago() expects a timespan")
            return constant(None if value is None else shift(now, -value), "datetime")
        sf = span.fn
        return Compiled(lambda row: shift(now, -v) if isinstance(v := sf(row), timedelta) else None, "datetime")

    def _lazy_conditional(self, expr: ast.Call, pairs: list[tuple[ast.Expr, ast.Expr]], default: ast.Expr) -> Compiled:
        conditions = [(self.compile(c).fn, self.compile(v)) for c, v in pairs]
        fallback = self.compile(default)
        result_type = conditions[0][1].type if conditions else fallback.type
        if result_type == "dynamic" or (fallback.type != result_type and result_type in ("long", "int") and fallback.type == "real"):
            result_type = fallback.type if fallback.type != "dynamic" else result_type

        def run(row: Row) -> Any:
            for condition, value in conditions:
                if V.to_bool(condition(row)) is True:
                    return value.fn(row)
            return fallback.fn(row)

        return Compiled(run, result_type)

    def f_iff(self, expr: ast.Call) -> Compiled:
        if len(expr.args) != 3:
            raise semantic(expr, f"function '{expr.name}()' takes 3 arguments, got {len(expr.args)}")
        return self._lazy_conditional(expr, [(expr.args[0], expr.args[1])], expr.args[2])

    f_iif = f_iff

    def f_case(self, expr: ast.Call) -> Compiled:
        args = expr.args
        if len(args) < 3 or len(args) % 2 == 0:
            raise semantic(expr, "function 'case()' takes pairs of condition and value, then a default")
        pairs = [(args[i], args[i + 1]) for i in range(0, len(args) - 1, 2)]
        return self._lazy_conditional(expr, pairs, args[-1])

    def f_toscalar(self, expr: ast.Call) -> Compiled:
        if len(expr.args) != 1:
            raise semantic(expr, "function 'toscalar()' takes 1 argument")
        inner = self.compile(expr.args[0])
        if inner.type != "table":
            return inner
        table = inner.fn(())
        if not table.rows:
            return constant(None, table.columns[0][1] if table.columns else "dynamic")
        return constant(table.rows[0][0], table.columns[0][1])

    def f_materialize(self, expr: ast.Call) -> Compiled:
        return self.compile(expr.args[0])

    def f_column_ifexists(self, expr: ast.Call) -> Compiled:
        if len(expr.args) != 2:
            raise semantic(expr, "function 'column_ifexists()' takes 2 arguments")
        name = self.compile(expr.args[0])
        if not name.const:
            raise semantic(expr.args[0], "column_ifexists() needs a constant column name")
        column = V.to_string(name.fn(()))
        if column in self.index:
            position = self.index[column]
            return Compiled(op.itemgetter(position), self.columns[position][1])
        return self.compile(expr.args[1])

    f_columnifexists = f_column_ifexists  # the function's older name, which Kusto still accepts

    def f_pack_all(self, expr: ast.Call) -> Compiled:
        """pack_all([ignore_null_empty]): every column, or with true only those neither null nor empty."""
        names = [name for name, _ in self.columns]
        if len(expr.args) > 1:
            raise semantic(expr, f"function 'pack_all()' takes 0 or 1 argument(s), got {len(expr.args)}")
        ignore = self.compile(expr.args[0]) if expr.args else constant(False, "bool")
        if not ignore.const:
            raise semantic(expr.args[0], "pack_all() needs a constant ignore_null_empty")
        if ignore.fn(()) is True:
            return Compiled(lambda row: {n: v for n, v in zip(names, row) if v is not None and v != ""}, "dynamic")
        return Compiled(lambda row: dict(zip(names, row)), "dynamic")

    def f_typeof(self, expr: ast.Call) -> Compiled:
        return constant(V.to_string(expr.args[0]), "string")

    def f_bin_at(self, expr: ast.Call) -> Compiled:
        """bin_at(value, size, anchor): bins aligned to the anchor, with the arithmetic's range rules."""
        if len(expr.args) != 3:
            raise semantic(expr, f"function 'bin_at()' takes 3 argument(s), got {len(expr.args)}")
        value, size, anchor = (self.compile(a) for a in expr.args)
        add, subtract = ARITHMETIC["+"], ARITHMETIC["-"]

        def run(row: Row) -> Any:
            v, a = value.fn(row), anchor.fn(row)
            return add(bin_value(subtract(v, a), size.fn(row)), a)

        return Compiled(guarded(run, expr, "bin_at()"), value.type)

    def f_geo_info_from_ip_address(self, expr: ast.Call) -> Compiled:
        """Looks the address up in the geo database the test supplies (``geo_ip``, see ``geoip``):
        a bag of country/state/city/latitude/longitude, or null when nothing is known."""
        if len(expr.args) != 1:
            raise semantic(expr, f"function 'geo_info_from_ip_address()' takes 1 argument(s), got {len(expr.args)}")
        address = self.compile(expr.args[0])
        if self.evaluator.check:
            return Compiled(lambda row: None, "dynamic")
        lookup, af = self.evaluator.geo_ip.lookup, address.fn
        if address.const:
            return constant(lookup(af(())), "dynamic")
        return Compiled(lambda row: lookup(af(row)), "dynamic")

    def f_ingestion_time(self, expr: ast.Call) -> Compiled:
        """The row's hidden ingestion time (a fixture row's ``$IngestionTime``), null when it has none
        or the rows no longer come straight from a table (https://learn.microsoft.com/kusto/query/ingestion-time-function)."""
        if expr.args:
            raise semantic(expr, f"function 'ingestion_time()' takes 0 argument(s), got {len(expr.args)}")
        return Compiled(ingestion_time_of, "datetime")


# The functions the compiler builds itself (f_<name>): iff, case, ago, now, the window functions...
SPECIAL_FORMS = frozenset(name[2:] for name in dir(ExpressionCompiler) if name.startswith("f_"))


def is_kusto_function(name: str) -> bool:
    """Whether Kusto itself defines ``name`` (an unimplemented one is refused, an unknown one an error)."""
    return is_kusto_name(name, "scalar", "aggregate", "plugin")


def _list_get(values: list[Any], position: int) -> Any:
    if -len(values) <= position < len(values):
        return values[position]
    return None


def _column_hint(name: str, candidates: list[str]) -> str:
    """Timestamp/TimeGenerated names the other platform's column; a case slip is named first."""
    twins = {"Timestamp": "TimeGenerated", "TimeGenerated": "Timestamp"}
    if twins.get(name) in candidates:
        platform = "Sentinel (Log Analytics)" if name == "Timestamp" else "Defender advanced hunting"
        return f" ({platform} tables have '{twins[name]}')"
    lowered = {c.lower(): c for c in candidates}
    if name.lower() in lowered:
        return f" (did you mean '{lowered[name.lower()]}'?)"
    return did_you_mean(name, candidates)

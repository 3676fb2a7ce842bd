"""Tabular evaluation: runs a parsed query over in-memory tables.

Each operator takes a ``Table`` and returns a new one; expressions inside it
are compiled once per operator (see ``expressions``). Row order is preserved
wherever Kusto preserves it, so results are deterministic for a given input.
"""

from __future__ import annotations

import fnmatch
import math
import random
import operator as op
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Mapping

from dac.errors import did_you_mean
from dac.kql import ast
from dac.kql import bag_unpack
from dac.kql import values as V
from dac.kql import budget as B
from dac.kql.aggregates import AGGREGATES
from dac.kql.builtins import refused
from dac.kql.errors import KqlRuntimeError, KqlSemanticError, KqlUnresolvedName
from dac.kql.functions_math import bin_value
from dac.kql.expressions import (
    KNOWN_TYPES,
    Compiled,
    ExpressionCompiler,
    constant,
    derive_name,
    is_kusto_function,
    semantic,
    unsupported,
)
from dac.kql import search_schema
from dac.kql.geoip import GeoDatabase, GeoEntryError
from dac.kql.graph import GRAPH_OPERATORS, run_graph
from dac.kql.graph_model import refuse_two_results
from dac.kql.consume import consume
from dac.kql.macro_expand import macro_expand
from dac.kql.parse_kv import parse_kv
from dac.kql.parser import parse
from dac.kql.parse_pattern import parse_kind, parse_pattern
from dac.kql.partition import partition
from dac.kql.plugins import PLUGIN_FUNCTIONS
from dac.kql.refused_operators import refuse
from dac.kql import patterns, results
from dac.kql.project_by_names import project_by_names
from dac.kql.sample_distinct import sample_distinct
from dac.kql.scan import scan
from dac.kql.top_hitters import top_hitters
from dac.kql.naming import ColumnCounter, unique_names
from dac.kql.summarize import Summarizing
from dac.kql.streaming import RowSource, concatenate, row_local_head, slices
from dac.kql.table import OPEN_COLUMN, IngestedRow, Table, carry_ingestion, keep_ingestion


# Defender's AssignedIPAddresses() result: the documented columns, typed as DeviceNetworkInfo types them
# Operators not charged for their output rows: the row-local ones only keep or reshape the rows
# they were given (see ``budget``); the fan-out ones charge their rows while they build them.
_UNCHARGED = frozenset({ast.Where, ast.Extend, ast.Project, ast.ProjectAway, ast.ProjectKeep, ast.ProjectRename,
                        ast.ProjectByNames, ast.ProjectReorder, ast.Take, ast.Serialize, ast.As, ast.Render, ast.Parse, ast.Search,
                        ast.Join, ast.Lookup, ast.MvExpand, ast.MvApply, ast.UnionOp})
_CHARGE_EVERY = 4096  # rows a loop builds between two charges of the budget

ASSIGNED_IP_COLUMNS = (("Timestamp", "datetime"), ("IPAddress", "string"), ("IPType", "string"),
                       ("NetworkAdapterType", "string"), ("ConnectedNetworks", "dynamic"))


@dataclass
class Binding:
    """A ``let`` binding: a scalar expression, a table (evaluated once, on first use) or a function."""

    name: str
    node: ast.Node
    scope: "Scope"
    value: Any = None
    evaluated: bool = False


@dataclass
class Scope:
    bindings: dict[str, Binding] = field(default_factory=dict)
    parent: "Scope | None" = None

    def lookup(self, name: str) -> Binding | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.bindings:
                return scope.bindings[name]
            scope = scope.parent
        return None

    def child(self) -> "Scope":
        return Scope(parent=self)


# The built-in tabular functions table_from_expr evaluates (table() with a constant name).
TABULAR_FUNCTIONS = frozenset({"table", "materialize", "view"})


class Evaluator(Summarizing):
    def __init__(self, tables: Mapping[str, Table], now: datetime, budget: B.Budget | None = None,
                 check: bool = False, geo_ip: GeoDatabase | None = None, chunk_rows: int | None = None) -> None:
        self.tables = tables
        # With chunk_rows, every pipeline runs its row-local head chunk by chunk even over
        # in-memory tables (tests use it to hold chunked and whole-table execution equal);
        # a RowSource input (a file being read) is always read in chunks.
        self.chunk_rows = chunk_rows
        self.now = now
        self.budget = budget or B.Budget()  # what this evaluation may still build (see ``budget``)
        self.geo_ip = GeoDatabase.of(geo_ip)  # what geo_info_from_ip_address() knows (empty: every lookup fails)
        # Check mode binds a query over empty catalog tables to find semantic errors; features
        # the evaluator lacks then yield unknown (open) schemas instead of errors.
        self.check = check
        self.platform_functions: frozenset[str] = getattr(tables, "functions", frozenset())
        # Check mode: the nodes inside legs of ``union isfuzzy=true``, where a table name that resolves to
        # nothing stands for a table of unknown columns, as Kusto's binder takes it. (A call of a function
        # nothing declares is left out instead: an ASIM unifying parser's schema is its Empty parser's.)
        self.fuzzy_nodes: set[int] = set()

    # ------------------------------------------------------------ statements

    def run(self, body: ast.QueryBody, scope: Scope | None = None) -> Table:
        """The query's one result table.

        A query of several result tables (a batch, or a statement ending in fork, facet or
        preview) is refused once it has run, so that an error inside it is reported first (see
        ``results``). Check mode binds only the last statement, and an operator of several
        tables stands for its first one, as the official binder takes them.
        """
        if not self.check:
            tables = self.run_tables(body, scope)
            if len(tables) > 1:
                raise results.refuse_several(body)
            return tables[0]
        refuse_two_results(body)  # even in a statement before the one evaluated
        scope, bindings = bind_lets(body.statements, scope or Scope())
        result = body.result
        table = self.eval_pipeline(result, scope) if result is not None else Table([])
        for binding in bindings:
            if isinstance(binding.node, ast.PatternDeclaration):
                for definition in binding.node.definitions or []:  # every definition, invoked or not
                    self.definition_table(binding, definition, *patterns.defined(definition))
            elif not binding.evaluated:
                self.binding_value(binding)  # bind unused lets too, as Kusto's binder does
        return table

    def run_tables(self, body: ast.QueryBody, scope: Scope | None = None) -> list[Table]:
        """Every result table of the query: each tabular statement's, in statement order (batches page),
        a statement ending in fork, facet or preview giving all of that operator's tables."""
        refuse_two_results(body)
        scope, _ = bind_lets(body.statements, scope or Scope())
        statements = [s for s in body.statements if isinstance(s, ast.Pipeline)]
        if not statements:
            raise semantic(body, "the query has no tabular expression to return")
        return [table for statement in statements for table in self.statement_tables(statement, scope)]

    def statement_tables(self, statement: ast.Pipeline, scope: Scope) -> list[Table]:
        """The result tables of one tabular statement: one, or all of its last operator's."""
        last = statement.operators[-1] if statement.operators else None
        if results.table_count(last) is None:
            table = self.eval_pipeline(statement, scope)
            return [replace(table, name=results.trailing_name(statement.operators))]
        head = replace(statement, operators=statement.operators[:-1])
        return results.several(self, last, self.eval_pipeline(head, scope), scope)

    def binding_value(self, binding: Binding) -> Any:
        """Evaluate a let binding once: a Table for tabular values, a Compiled for scalars."""
        if binding.evaluated:
            return binding.value
        node = binding.node
        if isinstance(node, ast.Pipeline):
            value: Any = self.eval_pipeline(node, binding.scope)
        elif isinstance(node, ast.Lambda):
            kinds = [ptype.startswith("(") for _, ptype, _ in node.params]
            if any(tabular and any(not k for k in kinds[:i]) for i, tabular in enumerate(kinds)):
                raise semantic(node, "tabular parameters must be declared before scalar ones")
            value = node
        elif isinstance(node, ast.Tabular):
            value = self.eval_pipeline(node.query, binding.scope)
        elif isinstance(node, ast.Call) and node.name == "materialize":
            value = self.table_from_expr(node.args[0], binding.scope)
        else:
            compiled = ExpressionCompiler(self, [], binding.scope).compile(node)
            if compiled.type == "table":
                value = compiled.fn(())
            elif compiled.const:
                value = compiled
            else:
                # no row is in scope, so the value is the same for every row: compute it once
                # (toscalar(new_guid()) bound by let gives one guid)
                value = constant(compiled.fn(()), compiled.type)
        binding.value, binding.evaluated = value, True
        return value

    def scalar_binding(self, binding: Binding, reference: ast.Node) -> Compiled:
        value = self.binding_value(binding)
        if isinstance(value, Compiled):
            return value
        if isinstance(value, Table):
            return constant(value, "table")
        if _bare_callable(value):
            # a function whose parameters all have defaults may be used by its bare name
            call = ast.Call(binding.name, [], line=reference.line, column=reference.column)
            return self.call_user_function(binding, call, ExpressionCompiler(self, [], binding.scope))
        if isinstance(value, ast.PatternDeclaration):
            raise semantic(reference, f"the pattern '{binding.name}' is invoked with its arguments: {binding.name}(\"value\")")
        raise semantic(reference, f"the function '{binding.name}' requires an argument list")

    def call_user_function(self, binding: Binding, call: ast.Call, compiler: ExpressionCompiler) -> Compiled:
        value = self.binding_value(binding)
        if callable(value):  # a host function bound above the query (a workspace's stored function, _GetWatchlist)
            return value(self, call, compiler)
        if isinstance(value, ast.PatternDeclaration):
            return constant(self.pattern_table(binding, patterns.Invocation(call, None)), "table")
        if not isinstance(value, ast.Lambda):
            raise semantic(call, f"'{binding.name}' is not a function")
        scope = self.bind_arguments(value, call, binding, compiler)
        body_result = value.body.result
        if body_result is None:
            raise semantic(call, f"function '{binding.name}' has no result expression")
        scope, lets = bind_lets(value.body.statements, scope)
        if not body_result.operators and isinstance(body_result.source, ast.ExprSource):
            self.bind_row_lets(lets, compiler)
            inner = ExpressionCompiler(self, compiler.columns, scope, columns_visible=False)
            return inner.compile(body_result.source.expr)
        return constant(self.eval_pipeline(body_result, scope), "table")

    def bind_row_lets(self, lets: list[Binding], compiler: ExpressionCompiler) -> None:
        """Compile for the caller's row each scalar let of a function body that reads an argument
        taken from that row (let params = parse_urlquery(querystring), the parse-url-query page's
        getQueryParamValue): such a value differs by row, so it cannot be computed once as other
        lets are."""
        for binding in lets:
            if isinstance(binding.node, (ast.Pipeline, ast.Lambda, ast.Tabular)):
                continue
            reads = (binding.scope.lookup(n.name) for n in binding.node.walk() if isinstance(n, ast.Name))
            if any(b is not None and b.evaluated and isinstance(b.value, Compiled) and not b.value.const for b in reads):
                compiled = ExpressionCompiler(self, compiler.columns, binding.scope, columns_visible=False).compile(binding.node)
                if compiled.type != "table":
                    binding.value, binding.evaluated = compiled, True

    def bind_arguments(self, function: ast.Lambda, call: ast.Call, binding: Binding,
                       compiler: ExpressionCompiler | None, table_input: Table | None = None) -> Scope:
        scope = binding.scope.child()
        args = list(call.args)
        params = list(function.params)
        if table_input is not None:
            if not params:
                raise semantic(call, f"function '{binding.name}' takes no tabular input")
            first = params.pop(0)
            scope.bindings[first[0]] = Binding(first[0], ast.Name("$input"), scope, table_input, True)
        positional = [a for a in args if not (isinstance(a, ast.Call) and a.name == "$named")]
        named = {str(a.args[0].value): a.args[1] for a in args if isinstance(a, ast.Call) and a.name == "$named"}
        unknown = set(named) - {p[0] for p in params}
        if unknown:
            raise semantic(call, f"function '{binding.name}' has no parameter named {', '.join(sorted(unknown))}")
        if len(positional) + len(named) > len(params):
            raise semantic(call, f"function '{binding.name}' takes {len(params)} argument(s), got {len(args)}")
        # named arguments bind their parameters; positional ones fill the others in order, so that
        # checkLength(len=3, input) passes input as s (https://learn.microsoft.com/kusto/query/assert-function)
        by_position = dict(zip([p[0] for p in params if p[0] not in named], positional))
        for pname, _ptype, default in params:
            arg = named[pname] if pname in named else by_position.get(pname, default)
            if arg is None:
                raise semantic(call, f"function '{binding.name}' needs a value for parameter '{pname}'")
            if compiler is not None:
                compiled = compiler.compile(arg)
            else:
                compiled = ExpressionCompiler(self, [], binding.scope).compile(arg)
            scope.bindings[pname] = Binding(pname, arg, scope, compiled if compiled.type != "table" else compiled.fn(()), True)
        return scope

    def pattern_invocation(self, expr: ast.Expr, scope: Scope) -> Table | None:
        """The table of ``expr`` when it invokes a pattern with a path (``Name("v").p``), else None
        (a pathless ``Name("v")`` is a call, which ``call_user_function`` answers)."""
        invocation = patterns.invocation_of(expr)
        if invocation is None or invocation.path is None:
            return None
        binding = scope.lookup(invocation.call.name)
        if binding is None or not isinstance(binding.node, ast.PatternDeclaration):
            return None
        return self.pattern_table(binding, invocation)

    def pattern_table(self, binding: Binding, invocation: patterns.Invocation) -> Table:
        """The table of the definition an invocation names."""
        declaration = binding.node
        assert isinstance(declaration, ast.PatternDeclaration)
        if self.check and patterns.unsettled(declaration, invocation):
            return Table([OPEN_COLUMN])  # the official binder accepts it, giving no columns
        return self.definition_table(binding, *patterns.resolve(declaration, invocation))

    def definition_table(self, binding: Binding, definition: ast.PatternDefinition, args: list[str],
                         path: str | None) -> Table:
        """Evaluate a pattern's definition in the scope the pattern was declared in; the body sees the
        parameters and the path by name, bound to the invocation's strings (the official binder
        resolves them there)."""
        declaration = binding.node
        assert isinstance(declaration, ast.PatternDeclaration)
        scope = binding.scope.child()
        named = list(zip([p for p, _ in declaration.params], args))
        if declaration.path is not None and path is not None:
            named.append((declaration.path[0], path))
        for pname, text in named:
            scope.bindings[pname] = Binding(pname, definition, scope, constant(text, "string"), True)
        scope, _ = bind_lets(definition.body.statements, scope)
        result = definition.body.result
        if result is None:
            raise semantic(definition, f"this definition of pattern '{declaration.name}' has no tabular expression")
        return self.eval_pipeline(result, scope)

    # ------------------------------------------------------------ sources

    def eval_pipeline(self, pipeline: ast.Pipeline, scope: Scope) -> Table:
        operators = pipeline.operators
        if not self.check and operators and (self.chunk_rows is not None or self.streamed_source(pipeline.source, scope)):
            head = row_local_head(operators, lambda name: scope.lookup(name) is not None)
            follower = operators[head] if head < len(operators) else None
            streams_into = isinstance(follower, (ast.Take, ast.Summarize, ast.Count))
            chunks = self.source_chunks(pipeline.source, scope) if head or streams_into else None
            if chunks is not None and isinstance(follower, (ast.Summarize, ast.Count)):
                table = self.fold_chunks(chunks, operators[:head], follower, scope)
                return self.apply_operators(table, operators[head + 1:], scope)
            if chunks is not None:
                take = follower if isinstance(follower, ast.Take) else None
                table = self.run_chunked(chunks, operators[:head], take, scope)
                return self.apply_operators(table, operators[head:], scope)
        return self.apply_operators(self.eval_source(pipeline.source, scope), operators, scope)

    def table_named(self, name: str) -> Table:
        """An input table by name, read whole (a RowSource is materialized for this use)."""
        table = self.tables[name]
        return table.materialize() if isinstance(table, RowSource) else table

    def streamed_source(self, source: ast.Source, scope: Scope) -> RowSource | None:
        """The RowSource input a pipeline starts from (a bare table name), if any."""
        if isinstance(source, ast.ExprSource) and isinstance(source.expr, ast.Name) \
                and scope.lookup(source.expr.name) is None:
            table = self.tables.get(source.expr.name)
            if isinstance(table, RowSource):
                return table
        return None

    def source_chunks(self, source: ast.Source, scope: Scope) -> Iterator[Table] | None:
        """The pipeline's input as chunks when it is read piece by piece (see ``streaming``), else None."""
        streamed = self.streamed_source(source, scope)
        if streamed is not None:
            return streamed.chunks()
        if self.chunk_rows is None:
            return None
        return slices(self.eval_source(source, scope), self.chunk_rows)

    def fold_chunks(self, chunks: Iterator[Table], head: list[ast.Operator], fold: ast.Summarize | ast.Count,
                    scope: Scope) -> Table:
        """Feed the head's output of each chunk straight into summarize or count: only groups are held."""
        parts = (self.apply_operators(chunk, head, scope) for chunk in chunks)
        first = next(parts)

        def rows() -> Iterator[tuple]:
            yield from first.rows
            for part in parts:
                if part.columns != first.columns:
                    raise AssertionError("chunks of one pipeline produced different columns")
                yield from part.rows

        if isinstance(fold, ast.Count):
            return Table([("Count", "long")], [(sum(1 for _ in rows()),)])
        table = self.op_Summarize(fold, Table(first.columns, [], first.ordered), scope, rows())
        self.budget.rows(len(table.rows), fold)
        return table

    def run_chunked(self, chunks: Iterator[Table], head: list[ast.Operator], take: ast.Take | None,
                    scope: Scope) -> Table:
        """Run ``head`` on each chunk and keep what comes out; stop early once a following take is met."""
        limit = self._count(take.count, scope) if take is not None else None
        parts: list[Table] = []
        kept = 0
        for chunk in chunks:
            part = self.apply_operators(chunk, head, scope)
            parts.append(part)
            kept += len(part.rows)
            self.budget.rows(len(part.rows), head[-1] if head else take, "the rows kept from the input")
            if limit is not None and kept >= limit:
                break
        return concatenate(parts, parts[0].columns)

    def apply_operators(self, table: Table, operators: list[ast.Operator], scope: Scope) -> Table:
        at = 0
        while at < len(operators):
            operator = operators[at]
            at += 1
            if isinstance(operator, GRAPH_OPERATORS):  # make-graph and what follows it (dac.kql.graph)
                table, at = run_graph(self, table, operators, at - 1, scope)
                self.budget.rows(len(table.rows), operator)
                continue
            count = results.table_count(operator)
            if count is not None:  # one of several result tables where it cannot end a statement
                if not self.check:
                    raise results.refuse_placement(operator, count)
                table = results.several(self, operator, table, scope)[0]
                continue
            handler = getattr(self, "op_" + type(operator).__name__, None)
            if handler is None:
                if self.check:
                    table = table.opened()
                    continue
                name = operator.name if isinstance(operator, ast.Generic) else type(operator).__name__.lower()
                raise refused(operator, name, "operator") or unsupported(
                    operator, f"query operator '{name}' is not supported by the evaluator")
            table = handler(operator, table, scope)
            if operator.__class__ not in _UNCHARGED:
                self.budget.rows(len(table.rows), operator)
        return table

    def eval_source(self, source: ast.Source, scope: Scope) -> Table:
        if isinstance(source, ast.ExprSource):
            return self.table_from_expr(source.expr, scope)
        handler = getattr(self, "src_" + type(source).__name__, None)
        if handler is None:
            if self.check:
                return Table([OPEN_COLUMN])
            raise unsupported(source, f"'{type(source).__name__.lower()}' is not supported by the evaluator")
        return handler(source, scope)

    def table_from_expr(self, expr: ast.Expr, scope: Scope) -> Table:
        invoked = self.pattern_invocation(expr, scope)
        if invoked is not None:
            return invoked
        if isinstance(expr, ast.Name):
            binding = scope.lookup(expr.name)
            if binding is not None:
                value = self.binding_value(binding)
                if isinstance(value, Table):
                    return value
                if isinstance(value, Compiled) and value.type == "table":
                    return value.fn(())
                if _bare_callable(value):
                    # a function whose parameters all have defaults may be invoked by its bare name
                    call = ast.Call(expr.name, [], line=expr.line, column=expr.column)
                    return self.table_from_expr(call, scope)
                if isinstance(value, ast.Lambda):
                    raise semantic(expr, f"the function '{expr.name}' requires an argument list")
                if isinstance(value, ast.PatternDeclaration):
                    raise semantic(expr, f"the pattern '{expr.name}' is invoked with its arguments: {expr.name}(\"value\")")
                raise semantic(expr, f"'{expr.name}' is not a table")
            if expr.name in self.tables:
                return self.table_named(expr.name)
            if id(expr) in self.fuzzy_nodes:
                return Table([OPEN_COLUMN])
            hint = did_you_mean(expr.name, list(self.tables))
            raise KqlUnresolvedName(f"unknown table '{expr.name}'{hint}", expr.line, expr.column)
        if isinstance(expr, ast.Tabular):
            return self.eval_pipeline(expr.query, scope)
        if isinstance(expr, ast.Call):
            if expr.name in TABULAR_FUNCTIONS - {"table"} and expr.args:
                return self.table_from_expr(expr.args[0], scope)
            if expr.name == "table" and expr.args and isinstance(expr.args[0], ast.Literal):
                return self.table_from_expr(ast.Name(str(expr.args[0].value), line=expr.line, column=expr.column), scope)
            binding = scope.lookup(expr.name)
            if binding is not None:
                compiled = self.call_user_function(binding, expr, ExpressionCompiler(self, [], scope))
                if compiled.type == "table":
                    return compiled.fn(())
                raise semantic(expr, f"function '{expr.name}' does not return a table")
            platform = getattr(self, "platform_" + expr.name, None)
            if platform is not None and (not self.check or expr.name in self.platform_functions):
                return platform(expr, scope)
            if self.check and not (is_kusto_function(expr.name) or expr.name in self.platform_functions):
                raise KqlUnresolvedName(f"unknown function '{expr.name}'", expr.line, expr.column)
            if self.check:
                return Table([OPEN_COLUMN])
            if not is_kusto_function(expr.name):  # nothing defines it here: a leg isfuzzy may leave out
                raise KqlUnresolvedName(f"tabular function '{expr.name}()' is not supported by the evaluator",
                                        expr.line, expr.column)
            raise refused(expr, expr.name) or unsupported(
                expr, f"tabular function '{expr.name}()' is not supported by the evaluator")
        raise semantic(expr, "expected a tabular expression")

    def platform_AssignedIPAddresses(self, call: ast.Call, scope: Scope) -> Table:
        """Defender's ``AssignedIPAddresses(x, y)``
        (https://learn.microsoft.com/defender-xdr/advanced-hunting-assignedipaddresses-function),
        computed from the ``DeviceNetworkInfo`` table (no such table given: no rows).

        x is the device's DeviceId or DeviceName (the name compared case-insensitively, as host
        names are); y, optional, is the time to look back from ("the most recent IP addresses at
        the specified time"; omitted or null: the latest). Of the device's reports at or before y,
        each network adapter (NetworkAdapterName, MacAddress) contributes its most recent one, and
        each entry of that report's ``IPAddresses`` array is a row: Timestamp (of that report, "the
        latest time the device was observed using the IP address"), IPAddress, IPType (the entry's
        AddressType: Public, Private, ...), NetworkAdapterType and ConnectedNetworks of the adapter.

        Readings the page leaves open, settled here: per-adapter latest reports (so an adapter that
        reports less often still counts); no filter on NetworkAdapterStatus; no look-back limit. The
        page types NetworkAdapterType and ConnectedNetworks as int, yet describes ConnectedNetworks
        as JSON arrays, and DeviceNetworkInfo (the rows' source) documents NetworkAdapterType as a
        string enumeration name; the columns keep DeviceNetworkInfo's types (string, dynamic) so
        the values are not lost to a conversion the function does not describe.
        """
        args = [a.args[1] if isinstance(a, ast.Call) and a.name == "$named" else a for a in call.args]
        if not 1 <= len(args) <= 2:
            raise semantic(call, f"function 'AssignedIPAddresses()' takes 1 to 2 argument(s), got {len(args)}")
        compiler = ExpressionCompiler(self, [], scope)
        device, when = compiler.compile(args[0]), compiler.compile(args[1]) if len(args) > 1 else None
        if device.type in KNOWN_TYPES and device.type not in ("string", "dynamic"):
            raise semantic(args[0], f"AssignedIPAddresses() expects a DeviceId or DeviceName string, found {device.type}")
        if when is not None and when.type in KNOWN_TYPES and when.type not in ("datetime", "dynamic"):
            raise semantic(args[1], f"AssignedIPAddresses() expects a datetime as its second argument, found {when.type}")
        columns = list(ASSIGNED_IP_COLUMNS)
        source = None if self.check or "DeviceNetworkInfo" not in self.tables else self.table_named("DeviceNetworkInfo")
        if source is None:
            return Table(columns)
        if isinstance(source, RowSource):
            source = source.materialize()
        wanted = V.to_string(device.fn(()))
        until = V.to_datetime(when.fn(())) if when is not None else None
        index = source.index()
        get = {name: (op.itemgetter(index[name]) if name in index else (lambda row: None)) for name in (
            "DeviceId", "DeviceName", "NetworkAdapterName", "MacAddress", "IPAddresses", "NetworkAdapterType",
            "ConnectedNetworks")}
        time_column = index.get("Timestamp", index.get("TimeGenerated"))  # Defender's name, else Sentinel's

        def stamp(row: tuple) -> datetime | None:
            return V.to_datetime(row[time_column]) if time_column is not None else None

        latest: dict[tuple, tuple] = {}
        for row in source.rows:
            observed = stamp(row)
            if observed is None or (until is not None and observed > until):
                continue
            name = get["DeviceName"](row)
            if get["DeviceId"](row) != wanted and not (isinstance(name, str) and name.lower() == wanted.lower()):
                continue
            adapter = (get["NetworkAdapterName"](row), get["MacAddress"](row))
            if adapter not in latest or observed >= stamp(latest[adapter]):
                latest[adapter] = row
        rows = []
        for row in latest.values():
            addresses = get["IPAddresses"](row)
            if isinstance(addresses, str):
                addresses = V.to_dynamic(addresses)
            for entry in addresses if isinstance(addresses, list) else []:
                if isinstance(entry, dict):
                    address, kind = entry.get("IPAddress"), entry.get("AddressType")
                else:
                    address, kind = entry, None
                if address is None or address == "":
                    continue
                rows.append((stamp(row), V.to_string(address), V.to_string(kind),
                             V.to_string(get["NetworkAdapterType"](row)), get["ConnectedNetworks"](row)))
        return Table(columns, rows)

    def src_Datatable(self, source: ast.Datatable, scope: Scope) -> Table:
        columns = [(name, V.normal_type(kind)) for name, kind in source.columns]
        if any(isinstance(v, ast.Tabular) for v in source.values):
            return self.external_data(source, columns, scope)
        compiler = ExpressionCompiler(self, [], scope)
        values = [compiler.compile(v).fn(()) for v in source.values]
        width = len(columns)
        if width == 0 or len(values) % width:
            raise semantic(source, f"datatable has {len(values)} values, not a multiple of its {width} columns")
        rows = []
        for start in range(0, len(values), width):
            rows.append(tuple(V.convert(v, kind) if v is not None else V.default_value(kind)
                              for v, (_, kind) in zip(values[start:start + width], columns)))
        self.budget.rows(len(rows), source)
        return Table(columns, rows)

    def external_data(self, source: ast.Datatable, columns: list[tuple[str, str]], scope: Scope) -> Table:
        """externaldata never reaches the network: its rows come from a table named by its URL."""
        if self.check:
            return Table(columns)
        generic = source.values[0].query.operators[0]
        compiler = ExpressionCompiler(self, [], scope)
        urls = [V.to_string(compiler.compile(u).fn(())) for u in generic.args]
        for url in urls:
            if url in self.tables:
                given = self.table_named(url)
                self.budget.rows(len(given.rows), source)
                index = given.index()
                unknown = [n for n in given.names if n not in dict(columns)]
                if unknown:
                    raise semantic(source, f"rows given for '{url}' have columns the externaldata schema lacks: {', '.join(unknown)}")
                return Table(columns, [tuple(V.convert(row[index[n]], kind) if n in index and row[index[n]] is not None
                                             else V.default_value(kind) for n, kind in columns) for row in given.rows])
        shown = urls[0] if urls else "its URL"
        raise unsupported(source, f"externaldata reads no network data; provide rows for '{shown}' as a table of that name")

    def src_Print(self, source: ast.Print, scope: Scope) -> Table:
        compiler = ExpressionCompiler(self, [], scope)
        columns, values, stated = [], [], []
        for position, item in enumerate(source.items):
            compiled = compiler.compile(item.expr)
            if compiled.members:
                for name, kind, fn, named in self.tuple_columns(item, compiled, print_style=True):
                    columns.append((name, kind))
                    values.append(fn(()))
                    stated.append(named)
                continue
            name = item.names[0] if item.names else compiled.name or f"print_{position}"
            columns.append((name, compiled.type))
            values.append(compiled.fn(()))
            stated.append(bool(item.names))
        return Table(unique_names(source, columns, stated), [tuple(values)])

    def src_Range(self, source: ast.Range, scope: Scope) -> Table:
        compiler = ExpressionCompiler(self, [], scope)
        start = compiler.compile(source.start)
        stop, step = compiler.compile(source.stop).fn(()), compiler.compile(source.step).fn(())
        value, rows = start.fn(()), []
        if not step:
            raise semantic(source.step, "range step must not be zero")
        ascending = step > step * 0
        charge, pending = self.budget.rows, 0
        while value is not None and (value <= stop if ascending else value >= stop):
            rows.append((value,))
            pending += 1
            if pending == _CHARGE_EVERY:
                charge(pending, source, "range")
                pending = 0
            try:
                value = value + step
            except OverflowError:  # the next datetime would be past 9999-12-31: the range ends here
                break
        charge(pending, source, "range")
        return Table([(source.name, start.type)], rows)

    def src_MacroExpandSource(self, source: ast.MacroExpandSource, scope: Scope) -> Table:
        return macro_expand(self, source.macro, scope)

    def src_Union(self, source: ast.Union, scope: Scope) -> Table:
        return self.union([], source, scope)

    # ------------------------------------------------------------ operators

    def compiler(self, table: Table, scope: Scope) -> ExpressionCompiler:
        return ExpressionCompiler(self, table.columns, scope, rows=table.rows)

    def op_Where(self, node: ast.Where, table: Table, scope: Scope) -> Table:
        predicate = self.compiler(table, scope).compile(node.predicate)
        if node.named is not None and self.check:
            raise semantic(node, f"'{node.named} = ...' names the predicate instead of comparing; use '==' to compare")
        if predicate.type in KNOWN_TYPES and predicate.type != "bool":
            raise semantic(node.predicate, f"the predicate must be a bool expression, found {predicate.type}")
        fn = predicate.fn
        if predicate.type == "bool":
            rows = [row for row in table.rows if fn(row) is True]
        else:
            rows = [row for row in table.rows if V.to_bool(fn(row)) is True]
        return Table(table.columns, rows, table.ordered)

    def op_Extend(self, node: ast.Extend, table: Table, scope: Scope) -> Table:
        """All items see the input columns only (Kusto binds them side by side, not in sequence)."""
        compiler = self.compiler(table, scope)
        columns = list(table.columns)
        counter = ColumnCounter(columns)
        getters: list[tuple[int | None, Callable]] = []
        for item in node.items:
            compiled = compiler.compile(item.expr)
            if compiled.members:
                produced = self.tuple_columns(item, compiled)
            else:
                names = self.assigned_names(item, compiled, counter)
                # a member picked unnamed (f(a, b)[1]) takes a free name as the members do
                replaces = bool(item.names) or compiled.name is None
                # ``(a, b) = f(...)``: a function returning several values fills several columns
                produced = [(name, compiled.type if len(names) == 1 else "dynamic",
                             compiled.fn if len(names) == 1 else _element(compiled.fn, index), replaces)
                            for index, name in enumerate(names)]
            for name, kind, fn, replaces in produced:
                if not replaces:  # a multi-value call's unnamed value takes a free name (x, x1, x2...)
                    taken = {n for n, _ in columns}
                    name = next(f"{name}{n or ''}" for n in range(len(columns) + 1) if f"{name}{n or ''}" not in taken)
                existing = next((i for i, (n, _) in enumerate(columns) if n == name), None)
                if existing is None:
                    columns.append((name, kind))
                    existing = len(columns) - 1
                else:
                    columns[existing] = (name, kind)
                getters.append((existing, fn))
        width = len(columns)
        rows = []
        for row in table.rows:
            new = list(row) + [None] * (width - len(row))
            for position, fn in getters:
                new[position] = fn(row)
            rows.append(tuple(new))
        return Table(columns, keep_ingestion(table.rows, rows), table.ordered)

    def assigned_names(self, item: ast.Assignment, compiled: Compiled, counter: "ColumnCounter") -> list[str]:
        if item.names:
            return item.names
        return [compiled.name or derive_name(item.expr) or counter.next()]

    def tuple_columns(self, item: ast.Assignment, compiled: Compiled,
                      print_style: bool = False) -> list[tuple[str, str, Callable, bool]]:
        """(name, type, getter, named) for each value of a call returning several columns.

        The official binder's rule (Kusto.Language, Binder_Projection): names given take
        the values in order, ``x = f(...)`` naming only the first; the values left get the
        function's default names (``series_decompose_anomalies_y_ad_score``...), except
        in print, which keeps only the named ones when any name is given.
        """
        members = compiled.members or ()
        given = list(item.names)
        if len(given) > len(members):
            raise semantic(item.expr, f"{len(given)} names given for the {len(members)} values the expression returns")
        getters = _members(compiled.tuple_fn or compiled.fn, len(members))
        columns = []
        for index, (default, kind) in enumerate(members):
            if index < len(given):
                columns.append((given[index], kind, getters[index], True))
            elif not (print_style and given):
                columns.append((default, kind, getters[index], False))
        return columns

    def op_Project(self, node: ast.Project, table: Table, scope: Scope) -> Table:
        compiler = self.compiler(table, scope)
        counter = ColumnCounter([])
        columns: list[tuple[str, str]] = []
        explicit: list[bool] = []
        getters = []
        for item in node.items:
            compiled = compiler.compile(item.expr)
            if compiled.members:
                for name, kind, fn, named in self.tuple_columns(item, compiled):
                    columns.append((name, kind))
                    explicit.append(named)
                    getters.append(fn)
                continue
            columns.append((self.assigned_names(item, compiled, counter)[0], compiled.type))
            explicit.append(bool(item.names) or isinstance(item.expr, ast.Name))
            getters.append(compiled.fn)
        columns = unique_names(node, columns, explicit)
        rows = [tuple(g(row) for g in getters) for row in table.rows]
        return Table(columns, keep_ingestion(table.rows, rows), table.ordered)

    def _select(self, table: Table, keep: list[int]) -> Table:
        columns = [table.columns[i] for i in keep]
        rows = [tuple(row[i] for i in keep) for row in table.rows]
        return Table(columns, keep_ingestion(table.rows, rows), table.ordered)

    def _match(self, node: ast.Node, table: Table, pattern: str) -> list[int]:
        matched = [i for i, (name, _) in enumerate(table.columns) if fnmatch.fnmatchcase(name, pattern)]
        if not matched and "*" not in pattern and not table.is_open:
            raise semantic(node, f"unknown column '{pattern}'{did_you_mean(pattern, table.names)}")
        return matched

    def op_ProjectAway(self, node: ast.ProjectAway, table: Table, scope: Scope) -> Table:
        drop = {i for pattern in node.patterns for i in self._match(node, table, pattern)}
        return self._select(table, [i for i in range(len(table.columns)) if i not in drop])

    def op_ProjectKeep(self, node: ast.ProjectKeep, table: Table, scope: Scope) -> Table:
        keep = {i for pattern in node.patterns for i in self._match(node, table, pattern)}
        return self._select(table, sorted(keep))

    def op_ProjectReorder(self, node: ast.ProjectReorder, table: Table, scope: Scope) -> Table:
        order: list[int] = []
        for pattern, direction in node.patterns:
            matched = [i for i in self._match(node, table, pattern) if i not in order]
            if direction in ("asc", "desc"):
                matched.sort(key=lambda i: table.columns[i][0], reverse=direction == "desc")
            order.extend(matched)
        order.extend(i for i in range(len(table.columns)) if i not in order)
        return self._select(table, order)

    def op_ProjectRename(self, node: ast.ProjectRename, table: Table, scope: Scope) -> Table:
        columns = list(table.columns)
        index = table.index()
        for new, old in node.pairs:
            if old not in index and table.is_open:
                continue
            if old not in index:
                raise semantic(node, f"unknown column '{old}'{did_you_mean(old, table.names)}")
            columns[index[old]] = (new, columns[index[old]][1])
        return Table(columns, table.rows, table.ordered)

    def op_Render(self, node: ast.Render, table: Table, scope: Scope) -> Table:
        return table

    def op_Serialize(self, node: ast.Serialize, table: Table, scope: Scope) -> Table:
        if node.items:
            table = self.op_Extend(ast.Extend(node.items), table, scope)
        return Table(table.columns, table.rows, True)

    def op_As(self, node: ast.As, table: Table, scope: Scope) -> Table:
        scope.bindings[node.name] = Binding(node.name, node, scope, table, True)
        return table

    def op_Count(self, node: ast.Count, table: Table, scope: Scope) -> Table:
        return Table([("Count", "long")], [(len(table.rows),)])

    def op_Take(self, node: ast.Take, table: Table, scope: Scope) -> Table:
        count = self._count(node.count, scope)
        return Table(table.columns, table.rows[:count], table.ordered)

    def _count(self, expr: ast.Expr, scope: Scope) -> int:
        value = ExpressionCompiler(self, [], scope).compile(expr).fn(())
        count = V.to_long(value)
        if count is None or count < 0:
            raise semantic(expr, "expected a non-negative row count")
        return count

    def sort_rows(self, table: Table, keys: list[ast.SortKey], scope: Scope) -> list[tuple]:
        compiler = self.compiler(table, scope)
        rows = list(table.rows)
        for key in reversed(keys):
            fn = compiler.compile(key.expr).fn
            present = [r for r in rows if fn(r) is not None]
            missing = [r for r in rows if fn(r) is None]
            present.sort(key=lambda r: V.sort_key(fn(r)), reverse=key.descending)
            rows = missing + present if key.nulls_first else present + missing
        return rows

    def op_Sort(self, node: ast.Sort, table: Table, scope: Scope) -> Table:
        return Table(table.columns, self.sort_rows(table, node.keys, scope), True)

    def op_Top(self, node: ast.Top, table: Table, scope: Scope) -> Table:
        count = self._count(node.count, scope)
        return Table(table.columns, self.sort_rows(table, [node.key], scope)[:count], True)

    def op_Distinct(self, node: ast.Distinct, table: Table, scope: Scope) -> Table:
        if len(node.columns) == 1 and isinstance(node.columns[0], ast.Star):
            source = table
        else:
            source = self.op_Project(ast.Project([ast.Assignment([], c) for c in node.columns]), table, scope)
        seen: set[tuple] = set()
        rows = []
        for row in source.rows:
            key = tuple(V.hashable(v) for v in row)
            if key not in seen:
                seen.add(key)
                rows.append(tuple(row))  # a plain tuple: distinct is an aggregation (no ingestion time)
        return Table(source.columns, rows)

    # ------------------------------------------------------------ join, lookup, union

    def join_keys(self, node: ast.Join | ast.Lookup, left: Table, right: Table) -> tuple[list[int], list[int]]:
        left_index, right_index = left.index(), right.index()
        left_keys, right_keys = [], []
        if not node.on:
            raise semantic(node, "join needs 'on' keys")
        for key in node.on:
            if isinstance(key, ast.Name):
                lname = rname = key.name
            elif (isinstance(key, ast.Binary) and key.op == "==" and isinstance(key.left, ast.Member)
                  and isinstance(key.right, ast.Member) and isinstance(key.left.target, ast.Name)
                  and isinstance(key.right.target, ast.Name)):
                sides = {key.left.target.name: key.left.name, key.right.target.name: key.right.name}
                if set(sides) != {"$left", "$right"}:
                    raise semantic(key, "join keys compare $left.column with $right.column")
                lname, rname = sides["$left"], sides["$right"]
            else:
                raise unsupported(key, "join condition must be column names or $left.x == $right.y")
            if lname not in left_index and left.is_open:
                lname = OPEN_COLUMN[0]
            if rname not in right_index and right.is_open:
                rname = OPEN_COLUMN[0]
            if lname not in left_index:
                raise semantic(key, f"unknown column '{lname}' on the left side of the join{did_you_mean(lname, left.names)}")
            if rname not in right_index:
                raise semantic(key, f"unknown column '{rname}' on the right side of the join{did_you_mean(rname, right.names)}")
            left_keys.append(left_index[lname])
            right_keys.append(right_index[rname])
        return left_keys, right_keys

    def op_Join(self, node: ast.Join, table: Table, scope: Scope) -> Table:
        right = self.eval_pipeline(node.right, scope)
        kind = str(node.params.get("kind", "innerunique")).lower()
        left_keys, right_keys = self.join_keys(node, table, right)
        left_rows = table.rows
        if kind == "innerunique":
            seen: set[tuple] = set()
            unique = []
            for row in left_rows:
                key = tuple(V.hashable(row[i]) for i in left_keys)
                if key not in seen:
                    seen.add(key)
                    unique.append(row)
            left_rows, kind = unique, "inner"
        if kind not in ("inner", "leftouter", "rightouter", "fullouter", "leftanti", "leftantisemi", "rightanti",
                        "rightantisemi", "leftsemi", "rightsemi", "anti", "semi"):
            raise semantic(node, f"unknown join kind '{kind}'")
        kind = {"anti": "leftanti", "semi": "leftsemi", "leftantisemi": "leftanti", "rightantisemi": "rightanti"}.get(kind, kind)
        buckets: dict[tuple, list[int]] = {}
        for position, row in enumerate(right.rows):
            key = tuple(V.hashable(row[i]) for i in right_keys)
            if any(row[i] is None for i in right_keys):
                continue
            buckets.setdefault(key, []).append(position)

        def left_key(row: tuple) -> tuple | None:
            if any(row[i] is None for i in left_keys):
                return None
            return tuple(V.hashable(row[i]) for i in left_keys)

        # every join kind makes plain tuples: rows past a join have no ingestion time
        if kind == "leftsemi":
            return Table(table.columns, [tuple(r) for r in left_rows if left_key(r) in buckets])
        if kind == "leftanti":
            return Table(table.columns, [tuple(r) for r in left_rows if left_key(r) not in buckets])
        left_keyset = {k for k in (left_key(r) for r in left_rows) if k is not None}
        if kind == "rightsemi":
            return Table(right.columns, [tuple(r) for r in right.rows
                                         if tuple(V.hashable(r[i]) for i in right_keys) in left_keyset])
        if kind == "rightanti":
            return Table(right.columns, [tuple(r) for r in right.rows
                                         if tuple(V.hashable(r[i]) for i in right_keys) not in left_keyset])
        columns = list(table.columns)
        taken = {name for name, _ in columns}
        for name, kind_name in right.columns:
            new = name
            suffix = 1
            while new in taken:
                new = f"{name}{suffix}"
                suffix += 1
            taken.add(new)
            columns.append((new, kind_name))
        empty_right = tuple(V.default_value(t) for _, t in right.columns)
        empty_left = tuple(V.default_value(t) for _, t in table.columns)
        rows: list[tuple] = []
        matched_right: set[int] = set()
        charge, unmatched = self.budget.rows, 1 if kind in ("leftouter", "fullouter") else 0
        for row in left_rows:
            key = left_key(row)
            matches = buckets.get(key, []) if key is not None else []
            charge(len(matches) or unmatched, node, "join")
            for position in matches:
                rows.append(row + right.rows[position])
                matched_right.add(position)
            if not matches and kind in ("leftouter", "fullouter"):
                rows.append(row + empty_right)
        if kind in ("rightouter", "fullouter"):
            for position, row in enumerate(right.rows):
                if position not in matched_right:
                    rows.append(empty_left + row)
            charge(len(right.rows) - len(matched_right), node, "join")
        return Table(columns, rows)

    def op_Lookup(self, node: ast.Lookup, table: Table, scope: Scope) -> Table:
        right = self.eval_pipeline(node.right, scope)
        kind = str(node.params.get("kind", "leftouter")).lower()
        left_keys, right_keys = self.join_keys(node, table, right)
        same_named = {right.columns[r][0] for l, r in zip(left_keys, right_keys) if table.columns[l][0] == right.columns[r][0]}
        keep = [i for i, (name, _) in enumerate(right.columns) if name not in same_named]
        buckets: dict[tuple, list[tuple]] = {}
        for row in right.rows:
            buckets.setdefault(tuple(V.hashable(row[i]) for i in right_keys), []).append(tuple(row[i] for i in keep))
        columns = list(table.columns)
        taken = {n for n, _ in columns}
        for i in keep:
            name, kind_name = right.columns[i]
            new, suffix = name, 1
            while new in taken:
                new, suffix = f"{name}{suffix}", suffix + 1
            taken.add(new)
            columns.append((new, kind_name))
        empty = tuple(V.default_value(right.columns[i][1]) for i in keep)
        rows = []
        charge, unmatched = self.budget.rows, 1 if kind == "leftouter" else 0
        for row in table.rows:
            matches = buckets.get(tuple(V.hashable(row[i]) for i in left_keys), [])
            charge(len(matches) or unmatched, node, "lookup")
            for match in matches:
                rows.append(row + match)
            if not matches and kind == "leftouter":
                rows.append(row + empty)
        return Table(columns, rows, table.ordered)

    def op_UnionOp(self, node: ast.UnionOp, table: Table, scope: Scope) -> Table:
        return self.union([table], node.union, scope)

    def union(self, first: list[Table], node: ast.Union, scope: Scope) -> Table:
        legs: list[tuple[str, Table]] = [("", t) for t in first]
        fuzzy = str(node.params.get("isfuzzy", "false")).lower() == "true"
        if self.check and fuzzy:
            # a leg naming what does not exist is no error, but its columns are unknown: the union's schema
            # is then open, while an unknown column inside a leg that resolves is still reported
            self.fuzzy_nodes.update(id(inner) for leg in node.legs for inner in leg.walk())
        for leg in node.legs:
            if isinstance(leg, ast.Star) and self.check:
                legs.append(("", Table([OPEN_COLUMN])))  # every table of the workspace: schema unknown here
                continue
            if isinstance(leg, ast.Star):
                legs.extend((n, self.table_named(n)) for n in sorted(self.tables))
                continue
            if isinstance(leg, ast.Name) and "*" in leg.name:
                bound = {n for n in _scope_names(scope) if fnmatch.fnmatchcase(n, leg.name)}
                for name in sorted(bound):
                    legs.append((name, self.table_from_expr(ast.Name(name, line=leg.line, column=leg.column), scope)))
                names = sorted(n for n in self.tables if fnmatch.fnmatchcase(n, leg.name) and n not in bound)
                legs.extend((n, self.table_named(n)) for n in names)
                continue
            try:
                legs.append((_leg_name(leg), self.table_from_expr(leg, scope)))
            except KqlUnresolvedName:  # isfuzzy=true leaves out a leg naming what does not exist, nothing else
                if not fuzzy:
                    raise
        if self.check and fuzzy and not legs:
            return Table([OPEN_COLUMN])  # no leg resolves here: Kusto's binder, too, leaves the schema unknown
        kind = str(node.params.get("kind", "outer")).lower()
        columns: list[tuple[str, str]] = []
        if kind == "inner":
            common = set.intersection(*(set(t.columns) for _, t in legs)) if legs else set()
            columns = [c for c in legs[0][1].columns if c in common] if legs else []
        else:
            merged: dict[tuple[str, str], None] = {}
            for _, t in legs:
                merged.update(dict.fromkeys(t.columns))
            columns = list(merged)
        source_column = node.params.get("withsource")
        rows: list[tuple] = []
        for name, t in legs:
            self.budget.rows(len(t.rows), node, "union")
            index = {c: i for i, c in enumerate(t.columns)}
            for row in t.rows:
                values = tuple(row[index[c]] if c in index else V.default_value(c[1]) for c in columns)
                values = ((name,) + values) if source_column else values
                # rows of a union still come from their tables: each keeps its ingestion time
                rows.append(carry_ingestion(row, values) if row.__class__ is IngestedRow else values)
        if source_column:
            columns = [(str(source_column), "string")] + columns
        return Table(_union_names(columns), rows)

    # ------------------------------------------------------------ mv-expand, parse, evaluate

    def op_MvExpand(self, node: ast.MvExpand, table: Table, scope: Scope) -> Table:
        compiler = self.compiler(table, scope)
        columns = list(table.columns)
        targets: list[tuple[int, Callable, str | None]] = []
        for item in node.items:
            compiled = compiler.compile(item.expr)
            name = item.name or derive_name(item.expr)
            if name is None:
                raise semantic(item, "mv-expand needs a column or 'Name = expression'")
            new_type = V.normal_type(item.to_type) if item.to_type else "dynamic"
            existing = next((i for i, (n, _) in enumerate(columns) if n == name), None)
            if existing is None:
                columns.append((name, new_type))
                existing = len(columns) - 1
            else:
                columns[existing] = (name, new_type)
            targets.append((existing, compiled.fn, item.to_type and new_type))
        index_column = node.params.get("with_itemindex")
        if index_column:
            columns.append((str(index_column), "long"))
        bag_as_array = str(node.params.get("bagexpansion", node.params.get("kind", "bag"))).lower() == "array"
        limit = self._count(node.limit, scope) if node.limit is not None else None
        rows: list[tuple] = []
        width = len(table.columns)
        charge = self.budget.rows
        for row in table.rows:
            expansions = []
            for _, fn, _ in targets:
                value = fn(row)
                if isinstance(value, list):
                    expansions.append(value)
                elif isinstance(value, dict):
                    expansions.append([[k, v] if bag_as_array else {k: v} for k, v in value.items()])
                else:
                    expansions.append([value])
            length = max((len(e) for e in expansions), default=0)
            if limit is not None:
                length = min(length, limit)
            charge(length, node, "mv-expand")
            for position in range(length):
                new = list(row) + [None] * (len(columns) - width - (1 if index_column else 0))
                for (target, _, to_type), values in zip(targets, expansions):
                    value = values[position] if position < len(values) else None
                    new[target] = _cast(value, to_type) if to_type else value
                if index_column:
                    new.append(position)
                rows.append(carry_ingestion(row, tuple(new)) if row.__class__ is IngestedRow else tuple(new))
        return Table(columns, rows, table.ordered)

    def op_MvApply(self, node: ast.MvApply, table: Table, scope: Scope) -> Table:
        """mv-apply (https://learn.microsoft.com/kusto/query/mv-apply-operator).

        Each row becomes a subtable by expanding its arrays (the row's other columns
        stay visible to the subquery); the subquery's result rows are appended to the
        row's columns that were not expanded. Shape settled with the official binder:
        ``T | mv-apply y = xs on (project y)`` keeps T's columns and adds ``y``.
        """
        expand = ast.MvExpand(node.params, node.items, node.limit, line=node.line, column=node.column)
        expanded = self.op_MvExpand(expand, Table(table.columns, []), scope)
        replaced = {item.name or derive_name(item.expr) for item in node.items}
        keep = [i for i, (name, _) in enumerate(table.columns) if name not in replaced]
        kept_names = {table.columns[i][0] for i in keep}
        empty = self.apply_operators(Table(expanded.columns, []), node.subquery.operators, scope)
        extra = [i for i, (name, _) in enumerate(empty.columns) if name not in kept_names]
        rows: list[tuple] = []
        for row in table.rows:
            sub = self.op_MvExpand(expand, Table(table.columns, [row]), scope)
            result = self.apply_operators(sub, node.subquery.operators, scope)
            base = tuple(row[i] for i in keep)
            self.budget.rows(len(result.rows), node, "mv-apply")
            rows.extend(base + tuple(r[i] for i in extra) for r in result.rows)
        columns = [table.columns[i] for i in keep] + [empty.columns[i] for i in extra]
        return Table(columns, rows, table.ordered)

    def op_Parse(self, node: ast.Parse, table: Table, scope: Scope) -> Table:
        """parse / parse-where (https://learn.microsoft.com/kusto/query/parse-operator).

        simple: the whole text must match; string columns match lazily, long/int/real
        columns match numbers. regex: the pattern is a regex, columns match ``.*``
        (``.*?`` with flags=U), searched anywhere. relaxed: like simple, but a value
        that does not convert becomes null instead of failing the row.
        """
        import re2

        kind = parse_kind(node)
        source = self.compiler(table, scope).compile(node.source).fn
        text, new_columns = parse_pattern(node)
        try:
            regex = B.compile_regex(text, node)
        except re2.error as exc:
            raise semantic(node, f"invalid parse pattern: {exc}") from None
        index = table.index()
        columns = list(table.columns)
        positions = []
        for name, kind_name in new_columns:
            if name in index:
                positions.append(index[name])
                columns[index[name]] = (name, kind_name)
            else:
                columns.append((name, kind_name))
                positions.append(len(columns) - 1)
        rows = []
        for row in table.rows:
            new = list(row) + [None] * (len(columns) - len(row))
            match = regex.search(V.to_string(source(row)))
            values = None
            if match is not None:
                values = []
                for group, (_, kind_name) in enumerate(new_columns):
                    converted = V.convert(match.group(f"_c{group}") or "", kind_name)
                    if converted is None and kind_name != "string" and kind != "relaxed":
                        values = None
                        break
                    values.append(converted if converted is not None else V.default_value(kind_name))
            if values is None:
                if node.kind_where:
                    continue
                values = [V.default_value(kind_name) for _, kind_name in new_columns]
            for position, value in zip(positions, values):
                new[position] = value
            rows.append(carry_ingestion(row, tuple(new)) if row.__class__ is IngestedRow else tuple(new))
        return Table(columns, rows, table.ordered)

    def op_ParseKv(self, node: ast.ParseKv, table: Table, scope: Scope) -> Table:
        return parse_kv(self, node, table, scope)

    def op_Scan(self, node: ast.Scan, table: Table, scope: Scope) -> Table:
        return scan(self, node, table, scope)

    def op_Partition(self, node: ast.Partition, table: Table, scope: Scope) -> Table:
        return partition(self, node, table, scope)

    def op_Consume(self, node: ast.Consume, table: Table, scope: Scope) -> Table:
        return consume(node, table)

    def op_ProjectByNames(self, node: ast.ProjectByNames, table: Table, scope: Scope) -> Table:
        return project_by_names(self, node, table, scope)

    def op_SampleDistinct(self, node: ast.SampleDistinct, table: Table, scope: Scope) -> Table:
        return sample_distinct(self, node, table, scope)

    def op_TopHitters(self, node: ast.TopHitters, table: Table, scope: Scope) -> Table:
        return top_hitters(self, node, table, scope)

    def op_MacroExpand(self, node: ast.MacroExpand, table: Table, scope: Scope) -> Table:
        return refuse(self, node, table)

    def op_Unparsed(self, node: ast.Unparsed, table: Table, scope: Scope) -> Table:
        return refuse(self, node, table)

    def op_MakeSeries(self, node: ast.MakeSeries, table: Table, scope: Scope) -> Table:
        """make-series (https://learn.microsoft.com/kusto/query/make-series-operator).

        One row per by-group: the by columns, one array per aggregate (a value per bin,
        the default where a bin has no rows) and the axis as the array of bin starts.
        Bins run from ``from`` (else the first bin with data) up to, not including,
        ``to`` (else through the last bin with data); rows outside are ignored.
        """
        compiler = self.compiler(table, scope)
        axis = compiler.compile(node.on)
        axis_name = derive_name(node.on)
        if axis_name is None:
            raise semantic(node.on, "make-series needs a column on its axis ('on Column')")
        constant_of = lambda key: ExpressionCompiler(self, [], scope).compile(node.range[key]).fn(()) if key in node.range else None
        step, start, stop = constant_of("step"), constant_of("from"), constant_of("to")
        if step is None or not step > step * 0:
            raise semantic(node, "make-series needs a positive step")
        counter = ColumnCounter([])
        keys = []
        key_columns = []
        for item in node.by:
            compiled = compiler.compile(item.expr)
            keys.append(compiled.fn)
            key_columns.append((item.names[0] if item.names else (derive_name(item.expr) or counter.next()), compiled.type))
        plans: list[Any] = []  # an aggregate plan, or a constant's Compiled
        names, defaults = [], []
        for item in node.aggregates:
            expr, default = item.expr, None
            if isinstance(expr, ast.Call) and expr.name == "$default":
                expr, default = expr.args
            if not any(isinstance(n, ast.Call) and n.name in AGGREGATES for n in expr.walk()):
                # a constant in place of an aggregate is its value in each bin with rows, the default in
                # the others (make-series page: other=-1 default=-2; the official binder accepts a
                # constant, and names an unnamed one Column1, but not a column: "not an aggregate")
                constant_value = compiler.compile(expr)
                if not constant_value.const:
                    raise semantic(expr, "make-series expects an aggregate function or a constant")
                plans.append(constant_value)
                names.append(item.names[0] if item.names else counter.next())
            else:
                plan = self.plan_aggregate(ast.Assignment(item.names, expr), compiler, table, set(), counter)
                plans.append(plan)
                names.append(plan.columns[0][0])
            defaults.append(ExpressionCompiler(self, [], scope).compile(default).fn(()) if default is not None else 0)
        axis_values = [axis.fn(row) for row in table.rows]
        present = [v for v in axis_values if v is not None]
        if start is None:
            start = bin_value(min(present), step) if present else None
        if stop is None and present:
            stop = bin_value(max(present), step) + step
        bins = 0
        if start is not None and stop is not None:
            while start + step * bins < stop and bins <= self.budget.limits.series_points:
                bins += 1
        groups: dict[tuple, tuple[tuple, list[dict[int, list]]]] = {}
        for row, value in zip(table.rows, axis_values):
            key_values = tuple(f(row) for f in keys)
            entry = groups.setdefault(tuple(V.hashable(v) for v in key_values), (key_values, [{} for _ in plans]))
            if value is None or start is None or value < start or value >= stop:
                continue
            index = int((value - start) / step)
            for plan, states in zip(plans, entry[1]):
                if isinstance(plan, Compiled):
                    states[index] = plan
                    continue
                state = states.setdefault(index, plan.new())
                plan.add(state, row)
        columns = key_columns + [(name, "dynamic") for name in names] + [(axis_name, "dynamic")]
        self.budget.points(max(len(groups), 1) * bins * (len(names) + 1), node)  # each group's arrays and its axis
        axis_array = [start + step * i for i in range(bins)]
        rows = []
        for key_values, per_plan in groups.values():
            series = []
            for plan, states, default in zip(plans, per_plan, defaults):
                series.append([default if i not in states else plan.fn(()) if isinstance(plan, Compiled)
                               else plan.result(states[i])[0] for i in range(bins)])
            rows.append(key_values + tuple(series) + (list(axis_array),))
        if not groups and str(node.params.get("kind", "")).lower() == "nonempty":
            # kind=nonempty "produces a default result when the input of make-series operator is empty":
            # one row of defaults; the page does not say what its by columns would hold
            if key_columns:
                raise unsupported(node, "make-series kind=nonempty over an empty input with by columns is not supported")
            rows.append(tuple([default] * bins for default in defaults) + (list(axis_array),))
        return Table(unique_names(node, columns, [False] * len(columns)), rows)

    def op_TopNested(self, node: ast.TopNested, table: Table, scope: Scope) -> Table:
        """top-nested (https://learn.microsoft.com/kusto/query/top-nested-operator): at each level,
        group the rows of the parent group by the ``of`` value, aggregate, keep the top N; one
        output row per leaf with each level's value and aggregate (``aggregated_<of>``).

        ``with others = C`` follows the page's multi-level StormEvents example: where a level
        drops values and that level or a deeper one has ``with others``, the dropped rows of
        the group become one more row. In it, each level from that one down that has ``with
        others`` shows its C and the aggregate of the dropped rows; the other levels are empty
        (null aggregate). A group that drops nothing adds no row (the page does not show one).
        """
        compiler = self.compiler(table, scope)
        levels = []
        for level in node.levels:
            of = compiler.compile(level.of.expr)
            of_name = level.of.names[0] if level.of.names else (derive_name(level.of.expr) or "Column1")
            plan = self.plan_aggregate(ast.Assignment([], level.by.expr), compiler, table, set(), ColumnCounter([]))
            agg_name = level.by.names[0] if level.by.names else f"aggregated_{of_name}"
            count = self._count(level.count, scope) if level.count is not None else None
            others = None
            if level.others is not None:
                constant_others = ExpressionCompiler(self, [], scope).compile(level.others)
                if not constant_others.const:
                    raise semantic(level.others, "'with others' needs a constant value")
                others = (constant_others.fn(()),)
            levels.append((of, of_name, plan, agg_name, count, level.descending, others))
        others_below = [any(level[6] is not None for level in levels[depth:]) for depth in range(len(levels))]

        def aggregate(plan: Any, rows: list[tuple]) -> Any:
            state = plan.new()
            for row in rows:
                plan.add(state, row)
            return plan.result(state)[0]

        def others_row(rows: list[tuple], depth: int) -> tuple:
            cells: list[Any] = []
            for of, _, plan, _, _, _, others in levels[depth:]:
                if others is None:
                    cells += [V.default_value(of.type), None]
                else:
                    cells += [others[0], aggregate(plan, rows)]
            return tuple(cells)

        def expand(rows: list[tuple], depth: int) -> list[tuple]:
            if depth == len(levels):
                return [()]
            of, _, plan, _, count, descending, _ = levels[depth]
            groups: dict[Any, tuple[Any, list, list[tuple]]] = {}
            for row in rows:
                value = of.fn(row)
                entry = groups.setdefault(V.hashable(value), (value, plan.new(), []))
                plan.add(entry[1], row)
                entry[2].append(row)
            ranked = sorted(((value, plan.result(state)[0], members) for value, state, members in groups.values()),
                            key=lambda item: V.sort_key(item[1]), reverse=descending)
            kept, dropped = (ranked, []) if count is None else (ranked[:count], ranked[count:])
            out = []
            for value, aggregated, members in kept:
                out.extend((value, aggregated) + tail for tail in expand(members, depth + 1))
            if dropped and others_below[depth]:
                out.append(others_row([row for _, _, members in dropped for row in members], depth))
            return out

        columns = []
        for of, of_name, plan, agg_name, _, _, _ in levels:
            columns += [(of_name, of.type), (agg_name, plan.columns[0][1])]
        return Table(unique_names(node, columns, [False] * len(columns)), expand(table.rows, 0))

    def op_Generic(self, node: ast.Generic, table: Table, scope: Scope) -> Table:
        if node.name == "getschema":
            kinds = {"string": "System.String", "bool": "System.SByte", "int": "System.Int32", "long": "System.Int64",
                     "real": "System.Double", "decimal": "System.Data.SqlTypes.SqlDecimal", "datetime": "System.DateTime",
                     "timespan": "System.TimeSpan", "guid": "System.Guid", "dynamic": "System.Object"}
            rows = [(name, index, kinds.get(kind, "System.Object"), kind) for index, (name, kind) in enumerate(table.columns)]
            return Table([("ColumnName", "string"), ("ColumnOrdinal", "int"), ("DataType", "string"),
                          ("ColumnType", "string")], rows)
        if node.name == "sample":
            return self.sample(node, table, scope)
        if self.check:
            return table.opened()
        raise refused(node, node.name, "operator") or unsupported(
            node, f"query operator '{node.name}' is not supported by the evaluator")

    def sample(self, node: ast.Generic, table: Table, scope: Scope) -> Table:
        """sample N (https://learn.microsoft.com/kusto/query/sample-operator): up to N random rows.

        Kusto picks differently on every run; a test needs the same rows each time, so the
        choice is pseudo-random from a seed made of the clock and the input size. Any such
        choice is one Kusto could have made. Rows keep their input order.
        """
        if len(node.args) != 1:
            raise semantic(node, "sample takes the number of rows to return")
        compiled = ExpressionCompiler(self, [], scope).compile(node.args[0])
        if compiled.type not in ("int", "long", "real", "decimal", "dynamic"):
            raise semantic(node.args[0], f"sample needs a number of rows, found {compiled.type}")
        if self.check:
            return Table(table.columns, [], False)
        wanted = V.to_real(compiled.fn(()))
        count = max(0, int(wanted)) if wanted is not None and math.isfinite(wanted) else 0
        if count >= len(table.rows):
            return Table(table.columns, list(table.rows), False)
        chooser = random.Random(f"{self.now.isoformat()}/{len(table.rows)}/{count}")
        picked = sorted(chooser.sample(range(len(table.rows)), count))
        return Table(table.columns, [table.rows[i] for i in picked], False)

    def op_Search(self, node: ast.Search, table: Table, scope: Scope) -> Table:
        predicate = SearchPredicate(self, scope, node).compile(table)
        return Table(table.columns, [row for row in table.rows if predicate(row)], table.ordered)

    def src_SearchSource(self, source: ast.SearchSource, scope: Scope) -> Table:
        """search over tables: the union of the named (else all) tables, with ``$table`` first."""
        node = source.search
        patterns = node.tables or ["*"]
        names = sorted({n for n in self.tables for p in patterns if fnmatch.fnmatchcase(n, p)})
        if self.check:
            legs = self.scoped_tables(node.tables, scope, source)
            if legs is None:
                return Table([("$table", "string"), OPEN_COLUMN])
            table = Table(search_schema.search_columns(legs, everywhere=not node.tables))
            SearchPredicate(self, scope, node).compile(table)  # binds the predicate: an unknown column is an error
            return table
        pieces = []
        for name in names:
            legs = self.table_named(name)
            matcher = SearchPredicate(self, scope, node).compile(legs, skip_unknown=True)
            if matcher is not None:
                pieces.append(("", Table([("$table", "string")] + legs.columns,
                                         [carry_ingestion(row, (name,) + row) for row in legs.rows if matcher(row)])))
        merged: dict[tuple[str, str], None] = {("$table", "string"): None}
        for _, piece in pieces:
            merged.update(dict.fromkeys(piece.columns))
        columns = list(merged)
        rows = []
        for _, piece in pieces:
            index = {c: i for i, c in enumerate(piece.columns)}
            rows.extend(carry_ingestion(row, tuple(row[index[c]] if c in index else V.default_value(c[1]) for c in columns))
                        for row in piece.rows)
        return Table(columns, rows)

    def scoped_tables(self, patterns: list[str], scope: Scope, at: ast.Node) -> list[Table] | None:
        """The (empty) tables ``search``/``find`` read in check mode: those ``in (...)`` names, else the whole
        catalog; None when a wildcard matches none of them (see ``search_schema``)."""
        if not patterns:
            return [self.table_named(name) for name in self.tables]
        names = search_schema.scope_names(patterns, self.tables, _scope_names(scope))
        if names is None:
            return None
        return [self.table_from_expr(ast.Name(name, line=at.line, column=at.column), scope) for name in names]

    def src_FindSource(self, source: ast.FindSource, scope: Scope) -> Table:
        """find in (T, ...) where p [project cols]: ``source_`` names the table; without project,
        ``pack_`` holds each row's non-empty columns (https://learn.microsoft.com/kusto/query/find-operator)."""
        node = source.find
        source_column = str(node.params.get("withsource", "source_"))
        patterns = node.tables or ["*"]
        names = sorted({n for n in self.tables for p in patterns if fnmatch.fnmatchcase(n, p)})
        if self.check:
            legs = self.scoped_tables(node.tables, scope, source)
            if legs is None:
                return Table([(source_column, "string"), OPEN_COLUMN])
            merged = search_schema.columns_by_name(legs)
            ExpressionCompiler(self, merged, scope).compile(node.predicate)
            return Table(search_schema.find_columns(source_column, merged, node.project, source))
        projected = node.project or []
        columns: list[tuple[str, str]] = [(source_column, "string")]
        rows = []
        for name in names:
            legs = self.table_named(name)
            try:
                predicate = ExpressionCompiler(self, legs.columns, scope).compile(node.predicate).fn
            except KqlSemanticError:
                continue  # a table without the columns the predicate names is skipped
            index = legs.index()
            for column in projected:
                if column in index and (column, legs.columns[index[column]][1]) not in columns:
                    columns.append((column, legs.columns[index[column]][1]))
            for row in legs.rows:
                if V.to_bool(predicate(row)) is True:
                    rows.append((name, legs, row))
        if not projected:
            columns.append(("pack_", "dynamic"))
        out = []
        for name, legs, row in rows:
            index = legs.index()
            if projected:
                found = (name,) + tuple(row[index[c]] if c in index else V.default_value(t) for c, t in columns[1:])
            else:
                found = (name, {c: v for (c, _), v in zip(legs.columns, row) if v is not None and v != ""})
            out.append(carry_ingestion(row, found))
        return Table(columns, out)

    def op_Invoke(self, node: ast.Invoke, table: Table, scope: Scope) -> Table:
        binding = scope.lookup(node.call.name)
        if binding is None and self.check and node.call.name in self.platform_functions:
            return table.opened()  # a platform function (Defender's FileProfile): columns unknown here
        if binding is None:
            raise semantic(node.call, f"unknown function '{node.call.name}'")
        function = self.binding_value(binding)
        if callable(function):  # a host function (a workspace's stored function) with the pipe as its input
            return function(self, node.call, ExpressionCompiler(self, [], scope), table).fn(())
        if not isinstance(function, ast.Lambda):
            raise semantic(node.call, f"'{node.call.name}' is not a function")
        inner = self.bind_arguments(function, node.call, binding, ExpressionCompiler(self, [], scope), table_input=table)
        result = function.body.result
        inner, _ = bind_lets(function.body.statements, inner)
        if result is None:
            raise semantic(node.call, f"function '{node.call.name}' has no result")
        return self.eval_pipeline(result, inner)

    def op_Evaluate(self, node: ast.Evaluate, table: Table, scope: Scope) -> Table:
        plugin = getattr(self, "plugin_" + node.call.name, None)
        if plugin is None and node.call.name in PLUGIN_FUNCTIONS:
            return PLUGIN_FUNCTIONS[node.call.name](self, node.call, table, scope)
        if plugin is None:
            if self.check:
                return table.opened()
            raise refused(node.call, node.call.name, "plugin") or unsupported(
                node.call, f"plugin '{node.call.name}' is not supported by the evaluator")
        if node.schema is not None:
            if node.call.name != "bag_unpack":
                raise unsupported(node.call, f"an output schema after '{node.call.name}' is not supported by the evaluator")
            return self.plugin_bag_unpack(node.call, table, scope, node.schema, node.schema_keeps_input)
        return plugin(node.call, table, scope)

    def plugin_bag_unpack(self, call: ast.Call, table: Table, scope: Scope,
                          schema: list[tuple[str, str]] | None = None, keep_input: bool = False) -> Table:
        positional = [a for a in call.args if not (isinstance(a, ast.Call) and a.name == "$named")]
        named = {str(a.args[0].value): a.args[1] for a in call.args if isinstance(a, ast.Call) and a.name == "$named"}
        if not positional or not isinstance(positional[0], ast.Name):
            raise semantic(call, "bag_unpack() takes the dynamic column to unpack")
        column = positional[0].name
        index = table.index()
        if column not in index:
            raise semantic(positional[0], f"unknown column '{column}'")
        prefix_arg = named.pop("OutputColumnPrefix", positional[1] if len(positional) > 1 else None)
        if len(positional) > 2 or named:  # columnsConflict, ignoredProperties
            if self.check:
                return table.opened()
            raise unsupported(call, "bag_unpack(): only the column and OutputColumnPrefix arguments are "
                                    "supported by the evaluator")
        prefix = ""
        if prefix_arg is not None:
            prefix = V.to_string(ExpressionCompiler(self, [], scope).compile(prefix_arg).fn(()))
        if self.check and schema is None:  # the bags' keys are only known from rows: any column may follow
            position = index[column]
            return Table([c for i, c in enumerate(table.columns) if i != position]).opened()
        unpacked, added = bag_unpack.unpack(table, index[column], prefix)
        self.budget.value_bytes(len(table.rows) * len(added) * B.ITEM_BYTES, call)  # a cell per row and key
        kept = len(table.columns) - 1
        existing = set(unpacked.names[:kept])
        clash = next((name for name in added if name in existing), None)
        if clash is not None:
            raise semantic(call, f"bag_unpack: column '{clash}' already exists")
        if schema is None:
            return unpacked
        retyped = next((name for name, _ in schema if keep_input and name in existing), None)
        if retyped is not None:
            raise unsupported(call, f"bag_unpack: an output schema column naming the input column '{retyped}' "
                                    "is not supported by the evaluator")
        return bag_unpack.apply_schema(unpacked, kept, schema, keep_input)

    def plugin_pivot(self, call: ast.Call, table: Table, scope: Scope) -> Table:
        if not call.args or not isinstance(call.args[0], ast.Name):
            raise semantic(call, "pivot() takes the pivot column first")
        pivot_name = call.args[0].name
        if table.is_open:
            return Table([OPEN_COLUMN])  # check mode after an operator with unknown output: so is this one's
        index = table.index()
        if pivot_name not in index:
            raise semantic(call.args[0], f"unknown column '{pivot_name}'")
        aggregate = call.args[1] if len(call.args) > 1 else ast.Call("count", [], line=call.line, column=call.column)
        group_args = [a for a in call.args[2:] if isinstance(a, ast.Name)]
        for arg in group_args:
            if arg.name not in index:
                raise semantic(arg, f"unknown column '{arg.name}'{did_you_mean(arg.name, table.names)}")
        group_names = [a.name for a in group_args]
        if len(call.args) == 1:
            group_names = [n for n in table.names if n != pivot_name]
        pivot_position = index[pivot_name]
        pivot_values: list[Any] = []
        for row in table.rows:
            if row[pivot_position] not in pivot_values:
                pivot_values.append(row[pivot_position])
        compiler = self.compiler(table, scope)
        plan = self.plan_aggregate(ast.Assignment([], aggregate), compiler, table, set(group_names), ColumnCounter([]))
        group_positions = [index[n] for n in group_names]
        groups: dict[tuple, dict[Any, Any]] = {}
        keys: dict[tuple, tuple] = {}
        for row in table.rows:
            key_values = tuple(row[i] for i in group_positions)
            key = tuple(V.hashable(v) for v in key_values)
            keys.setdefault(key, key_values)
            states = groups.setdefault(key, {})
            pivot = V.hashable(row[pivot_position])
            if pivot not in states:
                states[pivot] = plan.new()
            plan.add(states[pivot], row)
        result_type = plan.columns[0][1]
        columns = [table.columns[i] for i in group_positions] + [(V.to_string(v), result_type) for v in pivot_values]
        rows = []
        for key, states in groups.items():
            values = []
            for v in pivot_values:
                state = states.get(V.hashable(v))
                values.append(plan.result(state)[0] if state is not None else (0 if result_type == "long" else None))
            rows.append(keys[key] + tuple(values))
        return Table(columns, rows)


class SearchPredicate:
    """The predicate of ``search``: a bare string matches a term in any column (case-insensitive
    unless kind=case_sensitive), with ``*`` wildcards for prefixes/suffixes/contains; ``*`` alone
    matches every row; everything else is an ordinary expression."""

    def __init__(self, evaluator: Evaluator, scope: Scope, node: ast.Search) -> None:
        self.evaluator = evaluator
        self.scope = scope
        self.node = node
        self.case = str(node.params.get("kind", "")).lower() == "case_sensitive"

    def compile(self, table: Table, skip_unknown: bool = False) -> Callable[[tuple], bool] | None:
        try:
            fn = self._compile(self.node.predicate, table)
        except KqlSemanticError:
            if skip_unknown:
                return None
            raise
        return lambda row: fn(row) is True

    def _compile(self, expr: ast.Expr, table: Table) -> Callable[[tuple], Any]:
        if isinstance(expr, ast.Star):
            return lambda row: True
        if isinstance(expr, ast.Literal) and isinstance(expr.value, str):
            return self._term(expr.value, table)
        if isinstance(expr, ast.Binary) and expr.op in ("and", "or"):
            left, right = self._compile(expr.left, table), self._compile(expr.right, table)
            if expr.op == "and":
                return lambda row: left(row) is True and right(row) is True
            return lambda row: left(row) is True or right(row) is True
        if isinstance(expr, ast.Call) and expr.name == "not" and len(expr.args) == 1:
            inner = self._compile(expr.args[0], table)
            return lambda row: inner(row) is not True
        compiled = ExpressionCompiler(self.evaluator, table.columns, self.scope).compile(expr).fn
        return lambda row: V.to_bool(compiled(row))

    def _term(self, text: str, table: Table) -> Callable[[tuple], bool]:
        core = text.strip("*")
        starts, ends = text.startswith("*"), text.endswith("*")
        case = self.case

        def test(value: str) -> bool:
            if starts and ends:
                return (core in value) if case else (core.lower() in value.lower())
            if starts:
                return V.find_term(value, core, suffix=True, case=case)
            if ends:
                return V.find_term(value, core, prefix=True, case=case)
            return V.find_term(value, core, case=case)

        positions = list(range(len(table.columns)))
        return lambda row: any(row[i] is not None and test(V.to_string(row[i])) for i in positions)


_CAST_ACCEPTS = {
    "long": (int,), "int": (int,), "real": (int, float), "decimal": (int, float), "bool": (bool,), "string": (str,),
}


def _cast(value: Any, type_name: str) -> Any:
    """``to typeof(T)`` casts without parsing: a value of another kind becomes null
    (https://learn.microsoft.com/kusto/query/mv-expand-operator); a string is never null, so
    a missing or non-string value becomes "" there
    (https://learn.microsoft.com/kusto/query/scalar-data-types/null-values)."""
    if type_name == "string":
        return value if isinstance(value, str) else ""
    if value is None or type_name == "dynamic":
        return value
    accepted = _CAST_ACCEPTS.get(type_name)
    if accepted is not None:
        if isinstance(value, bool) and bool not in accepted:
            return None
        return V.convert(value, type_name) if isinstance(value, accepted) else None
    return V.convert(value, type_name)


def bind_lets(statements: list, scope: Scope) -> tuple[Scope, list[Binding]]:
    """Each let sees the names bound before it; one name bound twice is an error, as in Kusto.

    A pattern declaration binds its name too. The official binder lets it hide an earlier let or
    pattern of its name, but reports a let after it of the same name as declared twice (KS201).
    """
    bindings = []
    declared: set[str] = set()
    if any(isinstance(s, ast.PatternDeclaration) for s in statements):
        for statement in statements:
            if isinstance(statement, ast.PatternDeclaration):
                patterns.check_declaration(statement)
        patterns.check_references(statements)
    for statement in statements:
        if isinstance(statement, ast.PatternDeclaration):
            declared.add(statement.name)
            binding = Binding(statement.name, statement, scope, statement, True)
            scope = scope.child()
            scope.bindings[statement.name] = binding
            bindings.append(binding)
        elif isinstance(statement, ast.Let):
            if statement.name in declared:
                raise semantic(statement, f"a variable named '{statement.name}' is already declared")
            declared.add(statement.name)
            binding = Binding(statement.name, statement.value, scope)
            scope = scope.child()
            scope.bindings[statement.name] = binding
            bindings.append(binding)
    return scope, bindings


# The plugins evaluate runs: each is an Evaluator.plugin_<name> method, registered in dac.kql.plugins,
# or one of several result tables (dac.kql.results).
PLUGINS = frozenset(name[len("plugin_"):] for name in dir(Evaluator) if name.startswith("plugin_")) \
    | frozenset(PLUGIN_FUNCTIONS) | frozenset(results.PLUGIN_TABLES)


def _bare_callable(value: Any) -> bool:
    """Whether a bound function may be invoked by its bare name: Kusto allows it when every
    parameter has a default (an ASIM parser is queried as ``imAuthentication | ...``)."""
    return callable(value) or isinstance(value, ast.Lambda) and all(default is not None for *_, default in value.params)


def _scope_names(scope: Scope) -> set[str]:
    names: set[str] = set()
    current: Scope | None = scope
    while current is not None:
        names.update(current.bindings)
        current = current.parent
    return names


def _element(fn: Callable[[tuple], Any], index: int) -> Callable[[tuple], Any]:
    def run(row: tuple) -> Any:
        value = fn(row)
        return value[index] if isinstance(value, (list, tuple)) and index < len(value) else None

    return run


def _members(fn: Callable[[tuple], Any], count: int) -> list[Callable[[tuple], Any]]:
    """Getters of each value of a multi-value call; the call runs once per row, not once per column."""
    last: list[Any] = [None, None]  # the row last computed (kept alive, so identity is safe) and its values

    def getter(index: int) -> Callable[[tuple], Any]:
        def run(row: tuple) -> Any:
            if last[0] is not row:
                last[1] = fn(row)
                last[0] = row
            values = last[1]
            return values[index] if values is not None and index < len(values) else None

        return run

    return [getter(index) for index in range(count)]


# What a typed column matches in simple and relaxed parse patterns.

def _leg_name(leg: ast.Node) -> str:
    """The name ``withsource`` gives a union leg: the table's, or the one its ``as`` operator sets."""
    if isinstance(leg, ast.Name):
        return leg.name
    query = leg.query if isinstance(leg, ast.Tabular) else leg
    if isinstance(query, ast.Pipeline) and query.operators and isinstance(query.operators[-1], ast.As):
        return query.operators[-1].name
    return ""


def _union_names(columns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Union columns of one name and several types become name_type; one such name already taken gets 1, 2, ...

    A column whose name is unique keeps it: the union page's example names the columns of
    ``union (print x=1), (print x=toint(2)), (print x_long=3)`` x_long1, x_int, x_long
    (https://learn.microsoft.com/kusto/query/union-operator). The official binder
    (Kusto.Language) says x_long, x_int, x_long1 instead; the page shows the engine's output.
    """
    names = [n for n, _ in columns]
    taken = {n for n in names if names.count(n) == 1}
    result = []
    for name, kind in columns:
        if names.count(name) == 1:
            result.append((name, kind))
            continue
        base = f"{name}_{kind}"
        new, suffix = base, 1
        while new in taken:
            new, suffix = f"{base}{suffix}", suffix + 1
        taken.add(new)
        result.append((new, kind))
    return result


def _as_table(name: str, value: Any) -> Table | RowSource:
    if isinstance(value, (Table, RowSource)):
        return value
    try:
        return Table.from_dicts(value)
    except ValueError as exc:
        raise KqlRuntimeError(f"table '{name}': {exc}") from None


def evaluate(query: str | ast.QueryBody, tables: Mapping[str, Any], now: datetime | None = None,
             max_rows: int | None = None, as_table: bool = False, check: bool = False,
             geo_ip: GeoDatabase | list[Mapping[str, Any]] | None = None, chunk_rows: int | None = None,
             limits: B.Limits | None = None, evaluator: type[Evaluator] | None = None,
             as_tables: bool = False) -> Any:
    """Run ``query`` over ``tables`` (name -> Table, RowSource or list of dict rows).

    ``now`` fixes the clock for ``now()`` and ``ago()`` (tests pass a fixed one;
    an aware datetime is converted to naive UTC). A dict row may carry the
    reserved key ``$IngestionTime`` (a datetime), which ``ingestion_time()``
    returns for it. ``geo_ip`` is the database ``geo_info_from_ip_address()``
    consults: entries ``{network, country, state, city, latitude, longitude}``
    (see ``dac.kql.geoip``); without it every lookup gives null. Returns
    the result rows as dicts in result order, or the ``Table`` itself with
    ``as_table=True``. A RowSource table is read chunk by chunk where the plan
    allows (see ``dac.kql.streaming``); ``chunk_rows`` makes every
    pipeline run that way, over chunks of that many rows. The evaluation gets
    one budget of ``limits`` (``max_rows`` overrides their row limit; see
    ``dac.kql.budget``): a query needing more fails with ``BudgetExceeded``.
    ``evaluator`` is a subclass of ``Evaluator`` to run with (``dac test --coverage``
    watches each ``where`` through one). ``as_tables=True`` returns every result table
    of the query as a list of ``Table`` (a batch's statements, fork's legs, facet's and
    preview's tables; see ``dac.kql.results``), each with the ``name`` the query gives it;
    without it such a query is refused (KqlUnsupportedError at the operator or statement).
    """
    body = parse(query) if isinstance(query, str) else query
    if now is None:
        now = datetime.now(timezone.utc).replace(tzinfo=None)
    elif now.tzinfo is not None:
        now = now.astimezone(timezone.utc).replace(tzinfo=None)
    root = getattr(tables, "root_scope", None)  # functions the tables' workspace defines (dac.workspace), above the query
    prepared = tables if check else {name: _as_table(name, value) for name, value in tables.items()}
    try:
        database = GeoDatabase.of(geo_ip)
    except GeoEntryError as exc:
        raise KqlRuntimeError(f"geo_ip entry {exc.index + 1}: {exc}") from None
    budget = B.Budget((limits or B.Limits()).replace(rows=max_rows))
    try:
        with B.active(budget):
            running = (evaluator or Evaluator)(prepared, now, budget, check, database, chunk_rows)
            result = (running.run_tables if as_tables else running.run)(body, root() if root else None)
    except RecursionError:
        raise KqlRuntimeError("the query is nested too deeply to evaluate") from None
    except MemoryError:
        raise KqlRuntimeError("the query needs more memory than is available; reduce the data or the fan-out") from None
    return result if as_table or as_tables else result.to_dicts()

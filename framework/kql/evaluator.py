"""Tabular evaluation: runs a parsed query over in-memory tables.

Each operator takes a ``Table`` and returns a new one; expressions inside it
are compiled once per operator (see ``expressions``). Row order is preserved
wherever Kusto preserves it, so results are deterministic for a given input.

This module holds the core of ``Evaluator``: statements and the values their lets bind
(``scope`` holds the bindings), function and pattern invocation, and the pipeline (its source,
chunked streaming, the dispatch of each operator to its ``op_<Node>`` method, budget charges).
The operator handlers are mixins, a module per family: ``sources``, ``row_operators``,
``joins``, ``expansion``, ``summarize``, ``grouping``, ``search`` and ``evaluate_plugins``.
Operators whose code is a module of its own (scan, partition, consume, ...) are dispatched from
here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Iterator, Mapping

from dac.errors import did_you_mean
from dac.kql import ast
from dac.kql import values as V
from dac.kql import budget as B
from dac.kql.builtins import refused
from dac.kql.errors import KqlRuntimeError, KqlUnresolvedName
from dac.kql.expressions import Compiled, ExpressionCompiler, constant, is_kusto_function, semantic, unsupported
from dac.kql.geoip import GeoDatabase, GeoEntryError
from dac.kql.graph import GRAPH_OPERATORS, run_graph
from dac.kql.graph_model import refuse_two_results
from dac.kql.consume import consume
from dac.kql.parser import parse
from dac.kql.partition import partition
from dac.kql.plugins import PLUGIN_FUNCTIONS
from dac.kql.refused_operators import refuse
from dac.kql import patterns, results
from dac.kql.project_by_names import project_by_names
from dac.kql.sample_distinct import sample_distinct
from dac.kql.scan import scan
from dac.kql.top_hitters import top_hitters
from dac.kql.summarize import Summarizing
from dac.kql.streaming import RowSource, concatenate, row_local_head, slices
from dac.kql.table import OPEN_COLUMN, Table
from dac.kql.scope import Binding, Scope, bind_lets
from dac.kql.sources import SourceOperators
from dac.kql.row_operators import RowOperators
from dac.kql.joins import JoinOperators
from dac.kql.expansion import ExpansionOperators
from dac.kql.grouping import GroupingOperators
from dac.kql.search import SearchOperators
from dac.kql.evaluate_plugins import PluginOperators

# Operators not charged for their output rows: the row-local ones only keep or reshape the rows
# they were given (see ``budget``); the fan-out ones charge their rows while they build them.
_UNCHARGED = frozenset({ast.Where, ast.Extend, ast.Project, ast.ProjectAway, ast.ProjectKeep, ast.ProjectRename,
                        ast.ProjectByNames, ast.ProjectReorder, ast.Take, ast.Serialize, ast.As, ast.Render, ast.Parse, ast.Search,
                        ast.Join, ast.Lookup, ast.MvExpand, ast.MvApply, ast.UnionOp})


# The built-in tabular functions table_from_expr evaluates (table() with a constant name).
TABULAR_FUNCTIONS = frozenset({"table", "materialize", "view"})


class Evaluator(SourceOperators, RowOperators, JoinOperators, ExpansionOperators, Summarizing,
                GroupingOperators, SearchOperators, PluginOperators):
    """Evaluates one query over ``tables``; the operator families are its mixins (see the module docstring)."""

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

    # ------------------------------------------------------------ the pipeline

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

    def compiler(self, table: Table, scope: Scope) -> ExpressionCompiler:
        return ExpressionCompiler(self, table.columns, scope, rows=table.rows)

    def _count(self, expr: ast.Expr, scope: Scope) -> int:
        value = ExpressionCompiler(self, [], scope).compile(expr).fn(())
        count = V.to_long(value)
        if count is None or count < 0:
            raise semantic(expr, "expected a non-negative row count")
        return count

    # ------------------------------------------------------------ invoke, and the operators with modules of their own

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


# The plugins evaluate runs: each is an Evaluator.plugin_<name> method, registered in dac.kql.plugins,
# or one of several result tables (dac.kql.results).
PLUGINS = frozenset(name[len("plugin_"):] for name in dir(Evaluator) if name.startswith("plugin_")) \
    | frozenset(PLUGIN_FUNCTIONS) | frozenset(results.PLUGIN_TABLES)


def _bare_callable(value: Any) -> bool:
    """Whether a bound function may be invoked by its bare name: Kusto allows it when every
    parameter has a default (an ASIM parser is queried as ``imAuthentication | ...``)."""
    return callable(value) or isinstance(value, ast.Lambda) and all(default is not None for *_, default in value.params)


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

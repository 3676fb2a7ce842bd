"""Canonical KQL layout: ``format_query(tree)`` prints a syntax tree back as text.

One statement per block, ``;`` after each ``let``; a pipeline's source on its
own line and each operator on a new line starting with ``| ``; nested queries
indented by four spaces inside parentheses. Parentheses are added only where
precedence needs them, so parse(format(q)) gives the tree parse(q) gave.
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from dac.kql import ast, keywords
from dac.kql import graph_ast as G
from dac.kql import values as V

INDENT = "    "
_BARE = re.compile(r"^[A-Za-z_][A-Za-z_0-9]*$")
# Words that would be read as operators or keywords where a name is expected, and every keyword the
# official parser refuses bare in some name position (bracketed, a keyword is a name everywhere).
_RESERVED = keywords.RESERVED | keywords.DECLARABLE | keywords.REFERABLE | {
    "and", "or", "by", "on", "with", "of", "to", "in", "has", "contains", "between", "true", "false", "null",
    "asc", "desc", "nulls", "first", "last", "let", "set", "declare", "step", "from", "limit", "typeof",
    "matches", "startswith", "endswith", "hasprefix", "hassuffix", "like", "notlike", "has_any", "has_all",
    "datatable", "print", "range", "union", "externaldata", "external_data", "evaluate", "find", "search",
    "dynamic", "datetime", "date", "time", "timespan", "guid", "uuid", "uniqueid", "default", "others", "view",
}
_PRECEDENCE = {"or": 1, "and": 2, "+": 4, "-": 4, "*": 5, "/": 5, "%": 5}
_COMPARISON = 3


def name(text: str) -> str:
    if text.startswith("$") and _BARE.match(text[1:]):
        return text
    if _BARE.match(text) and text not in _RESERVED and text.lower() not in _RESERVED:
        return text
    return "[" + quote(text) + "]"


def pattern(text: str) -> str:
    """A column pattern with ``*`` wildcards stays bare; other odd names are bracketed."""
    if "*" in text and re.match(r"^[A-Za-z_0-9*$]+$", text):
        return text
    return name(text)


def quote(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 or ch in "\u200b\u200c\u200d\u2060\ufeff\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def timespan(value: timedelta) -> str:
    ticks = V.to_long(value)
    sign = "-" if ticks < 0 else ""
    ticks = abs(ticks)
    for unit, size in (("d", 864_000_000_000), ("h", 36_000_000_000), ("m", 600_000_000), ("s", 10_000_000), ("ms", 10_000)):
        if ticks % size == 0:
            return f"{sign}{ticks // size}{unit}"
    return f"{sign}{ticks}tick"


def datetime_text(value: datetime) -> str:
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def real(value: float) -> str:
    if math.isnan(value):
        return "real(nan)"
    if math.isinf(value):
        return "real(+inf)" if value > 0 else "real(-inf)"
    return repr(value)


def dynamic_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return real(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, datetime):
        return f"datetime({datetime_text(value)})"
    if isinstance(value, timedelta):
        return timespan(value)
    if isinstance(value, uuid.UUID):
        return f"guid({value})"
    if isinstance(value, list):
        return "[" + ", ".join(dynamic_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{quote(str(k))}: {dynamic_value(v)}" for k, v in value.items()) + "}"
    return quote(str(value))


def literal(node: ast.Literal) -> str:
    if node.raw is not None:
        return node.raw
    value, kind = node.value, node.type
    if value is None:
        return "dynamic(null)" if kind == "dynamic" else f"{kind}(null)"
    if kind == "string":
        return quote(value)
    if kind == "bool":
        return "true" if value else "false"
    if kind == "long":
        return str(value)
    if kind == "real":
        return real(value)
    if kind == "timespan":
        return timespan(value)
    if kind == "datetime":
        return f"datetime({datetime_text(value)})"
    if kind == "guid":
        return f"guid({value})"
    if kind == "dynamic":
        return f"dynamic({dynamic_value(value)})"
    return f"{kind}({value})"


def param_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    return text if _BARE.match(text) else quote(text)


def params(values: dict[str, Any]) -> str:
    return "".join(f"{key}={param_value(value)} " for key, value in values.items())


class Formatter:
    def __init__(self) -> None:
        self.level = 0

    # ------------------------------------------------------------ statements

    def body(self, node: ast.QueryBody) -> str:
        parts = []
        for statement in node.statements:
            if isinstance(statement, ast.Let):
                parts.append(self.let(statement))
            elif isinstance(statement, ast.PatternDeclaration):
                parts.append(self.pattern(statement))
            else:
                parts.append(self.pipeline(statement))
        pad = "\n" + INDENT * self.level
        return (";" + pad).join(parts)

    def let(self, node: ast.Let) -> str:
        value = node.value
        if isinstance(value, ast.Pipeline):
            text = self.pipeline(value)
        elif isinstance(value, ast.Lambda):
            text = self.lambda_(value)
        else:
            text = self.expr(value)
        return f"let {name(node.name)} = {text}"

    def pattern(self, node: ast.PatternDeclaration) -> str:
        """``declare pattern``, one definition a line, each body laid out as a function's."""
        head = f"declare pattern {name(node.name)}"
        if node.definitions is None:
            return head
        params = ", ".join(f"{name(pname)}:{ptype}" for pname, ptype in node.params)
        path = f"[{name(node.path[0])}:{node.path[1]}]" if node.path else ""
        pad = INDENT * self.level
        self.level += 1
        lines = [self.definition(definition) for definition in node.definitions]
        self.level -= 1
        inner = "".join(f"{pad}{INDENT}{line};\n" for line in lines)
        return f"{head} = ({params}){path} {{\n{inner}{pad}}}"

    def definition(self, node: ast.PatternDefinition) -> str:
        values = ", ".join(self.expr(value) for value in node.values)
        path = f".[{self.expr(node.path)}]" if node.path is not None else ""
        if not node.body.statements:
            return f"({values}){path} = {{ }}"
        self.level += 1
        inner = self.body(node.body)
        self.level -= 1
        pad = INDENT * self.level
        return f"({values}){path} = {{\n{pad}{INDENT}{inner}\n{pad}}}"

    def lambda_(self, node: ast.Lambda) -> str:
        parts = []
        for pname, ptype, default in node.params:
            text = f"{name(pname)}:{ptype}"
            if default is not None:
                text += f" = {self.expr(default)}"
            parts.append(text)
        self.level += 1
        inner = self.body(node.body)
        self.level -= 1
        pad = INDENT * self.level
        return f"({', '.join(parts)}) {{\n{pad}{INDENT}{inner}\n{pad}}}"

    # ------------------------------------------------------------ pipelines

    def pipeline(self, node: ast.Pipeline) -> str:
        pad = "\n" + INDENT * self.level + "| "
        return self.source(node.source) + "".join(pad + self.operator(op) for op in node.operators)

    def nested(self, node: ast.Pipeline) -> str:
        """A pipeline inside parentheses, indented one level."""
        self.level += 1
        text = self.pipeline(node)
        self.level -= 1
        pad = INDENT * self.level
        return f"(\n{pad}{INDENT}{text}\n{pad})"

    def source(self, node: ast.Source) -> str:
        if isinstance(node, ast.ExprSource):
            expr = node.expr
            if isinstance(expr, ast.Tabular):
                if isinstance(expr.query.source, ast.ExprSource) and isinstance(expr.query.source.expr, ast.Name) and expr.query.source.expr.name == "$evaluate":
                    return "evaluate " + self.operator(expr.query.operators[0])[len("evaluate "):]
                return self.nested(expr.query)
            return self.expr(expr)
        if isinstance(node, ast.Datatable):
            columns = ", ".join(f"{name(c)}:{t}" for c, t in node.columns)
            if node.values and isinstance(node.values[0], ast.Tabular):
                generic = node.values[0].query.operators[0]
                urls = ", ".join(self.expr(u) for u in generic.args)
                return f"externaldata({columns}) [{urls}]"
            values = ", ".join(self.expr(v) for v in node.values)
            return f"datatable({columns}) [{values}]"
        if isinstance(node, ast.Print):
            return "print " + self.assignments(node.items)
        if isinstance(node, ast.Range):
            return f"range {name(node.name)} from {self.expr(node.start)} to {self.expr(node.stop)} step {self.expr(node.step)}"
        if isinstance(node, ast.Union):
            return "union " + self.union(node)
        if isinstance(node, ast.MacroExpandSource):
            return self.op_MacroExpand(node.macro)
        if isinstance(node, ast.SearchSource):
            return self.search(node.search)
        if isinstance(node, ast.FindSource):
            return self.find(node.find)
        raise TypeError(f"cannot format {type(node).__name__}")

    def union(self, node: ast.Union) -> str:
        legs = []
        for leg in node.legs:
            if isinstance(leg, ast.Tabular):
                legs.append(self.nested(leg.query))
            elif isinstance(leg, ast.Name) and "*" in leg.name:
                legs.append(leg.name)
            else:
                legs.append(self.expr(leg))
        return params(node.params) + ", ".join(legs)

    def search(self, node: ast.Search) -> str:
        tables = f"in ({', '.join(pattern(t) for t in node.tables)}) " if node.tables else ""
        return f"search {params(node.params)}{tables}{self.expr(node.predicate)}"

    def find(self, node: ast.Find) -> str:
        tables = f"in ({', '.join(pattern(t) for t in node.tables)}) " if node.tables else ""
        text = f"find {params(node.params)}{tables}where {self.expr(node.predicate)}"
        if node.project is not None:
            text += " project " + ", ".join(pattern(p) for p in node.project) if node.project else " project-smart"
        return text

    def assignment(self, node: ast.Assignment) -> str:
        if not node.names:
            return self.expr(node.expr)
        if len(node.names) == 1:
            return f"{name(node.names[0])} = {self.expr(node.expr)}"
        return f"({', '.join(name(n) for n in node.names)}) = {self.expr(node.expr)}"

    def assignments(self, items: list[ast.Assignment]) -> str:
        return ", ".join(self.assignment(i) for i in items)

    def sort_key(self, key: ast.SortKey) -> str:
        return f"{self.expr(key.expr)} {'desc' if key.descending else 'asc'} nulls {'first' if key.nulls_first else 'last'}"

    def operator(self, node: ast.Operator) -> str:
        method = getattr(self, "op_" + type(node).__name__)
        return method(node)

    def op_Where(self, node: ast.Where) -> str:
        named = f"{name(node.named)} = " if node.named is not None else ""
        return "where " + named + self.expr(node.predicate)

    def op_Extend(self, node: ast.Extend) -> str:
        return "extend " + self.assignments(node.items)

    def op_Project(self, node: ast.Project) -> str:
        return "project " + self.assignments(node.items)

    def op_ProjectAway(self, node: ast.ProjectAway) -> str:
        return "project-away " + ", ".join(pattern(p) for p in node.patterns)

    def op_ProjectKeep(self, node: ast.ProjectKeep) -> str:
        return "project-keep " + ", ".join(pattern(p) for p in node.patterns)

    def op_ProjectRename(self, node: ast.ProjectRename) -> str:
        return "project-rename " + ", ".join(f"{name(new)} = {name(old)}" for new, old in node.pairs)

    def op_ProjectByNames(self, node: ast.ProjectByNames) -> str:
        return "project-by-names " + ", ".join(self.expr(spec) for spec in node.specs)

    def op_ProjectReorder(self, node: ast.ProjectReorder) -> str:
        return "project-reorder " + ", ".join(pattern(p) + (f" {d}" if d else "") for p, d in node.patterns)

    def op_Summarize(self, node: ast.Summarize) -> str:
        text = "summarize " + params(node.params) + self.assignments(node.aggregates)
        if node.by:
            text += (" " if node.aggregates else "") + "by " + self.assignments(node.by)
        return text.rstrip()

    def op_Sort(self, node: ast.Sort) -> str:
        return "sort by " + ", ".join(self.sort_key(k) for k in node.keys)

    def op_Take(self, node: ast.Take) -> str:
        return "take " + self.expr(node.count)

    def op_Top(self, node: ast.Top) -> str:
        return f"top {self.expr(node.count)} by {self.sort_key(node.key)}"

    def op_Distinct(self, node: ast.Distinct) -> str:
        return "distinct " + ", ".join(self.expr(c) for c in node.columns)

    def op_Count(self, node: ast.Count) -> str:
        return "count"

    def join_right(self, node: ast.Pipeline) -> str:
        return self.nested(node)

    def join_on(self, keys: list[ast.Expr]) -> str:
        return (" on " + ", ".join(self.expr(k) for k in keys)) if keys else ""

    def op_Join(self, node: ast.Join) -> str:
        return f"join {params(node.params)}{self.join_right(node.right)}{self.join_on(node.on)}"

    def op_Lookup(self, node: ast.Lookup) -> str:
        return f"lookup {params(node.params)}{self.join_right(node.right)}{self.join_on(node.on)}"

    def op_UnionOp(self, node: ast.UnionOp) -> str:
        return "union " + self.union(node.union)

    def mv_items(self, items: list[ast.MvExpandItem]) -> str:
        parts = []
        for item in items:
            text = (f"{name(item.name)} = " if item.name else "") + self.expr(item.expr)
            if item.to_type:
                text += f" to typeof({item.to_type})"
            parts.append(text)
        return ", ".join(parts)

    def op_MvExpand(self, node: ast.MvExpand) -> str:
        text = "mv-expand " + params(node.params) + self.mv_items(node.items)
        return text + (f" limit {self.expr(node.limit)}" if node.limit is not None else "")

    def op_MvApply(self, node: ast.MvApply) -> str:
        text = "mv-apply " + params(node.params) + self.mv_items(node.items)
        if node.limit is not None:
            text += f" limit {self.expr(node.limit)}"
        self.level += 1
        pad = "\n" + INDENT * self.level
        inner = (pad + "| ").join(self.operator(op) for op in node.subquery.operators)
        self.level -= 1
        return f"{text} on ({pad}{inner}\n{INDENT * self.level})"

    def op_Parse(self, node: ast.Parse) -> str:
        parts = []
        for part in node.pattern:
            if part is None:
                parts.append("*")
            elif isinstance(part, str):
                parts.append(quote(part))
            else:
                parts.append(f"{name(part[0])}:{part[1]}")
        keyword = "parse-where" if node.kind_where else "parse"
        return f"{keyword} {params(node.params)}{self.expr(node.source)} with {' '.join(parts)}"

    def op_ParseKv(self, node: ast.ParseKv) -> str:
        keys = ", ".join(f"{name(key)}:{kind}" for key, kind in node.keys)
        text = f"parse-kv {self.expr(node.source)} as ({keys})"
        if node.options:
            text += " with (" + ", ".join(f"{key}={self.expr(value)}" for key, value in node.options) + ")"
        return text

    def op_Scan(self, node: ast.Scan) -> str:
        text = "scan "
        if node.match_id is not None:
            text += f"with_match_id={name(node.match_id)} "
        if node.declarations:
            items = [f"{name(d.name)}:{d.type}" + (f" = {self.expr(d.default)}" if d.default is not None else "")
                     for d in node.declarations]
            text += f"declare ({', '.join(items)}) "
        pad = INDENT * (self.level + 1)
        steps = []
        for step in node.steps:
            line = f"{pad}step {name(step.name)}" + (f" output={step.output}" if step.output != "all" else "")
            line += ": " + self.expr(step.condition)
            if step.assignments:
                line += " => " + self.assignments(step.assignments)
            steps.append(line + ";")
        return text + "with (\n" + "\n".join(steps) + ("\n" if steps else "") + INDENT * self.level + ")"

    def op_Partition(self, node: ast.Partition) -> str:
        head = f"partition {params(node.params)}by {name(node.by)} "
        if node.braced:
            self.level += 1
            inner = self.pipeline(node.subquery)
            self.level -= 1
            return head + "{\n" + INDENT * (self.level + 1) + inner + "\n" + INDENT * self.level + "}"
        self.level += 1
        pad = "\n" + INDENT * self.level
        inner = (pad + "| ").join(self.operator(op) for op in node.subquery.operators)
        self.level -= 1
        return f"{head}({pad}{inner}\n{INDENT * self.level})"

    def op_Consume(self, node: ast.Consume) -> str:
        return ("consume " + params(node.params)).rstrip()

    def op_SampleDistinct(self, node: ast.SampleDistinct) -> str:
        return f"sample-distinct {self.expr(node.count)} of {self.expr(node.of)}"

    def op_TopHitters(self, node: ast.TopHitters) -> str:
        text = f"top-hitters {self.expr(node.count)} of {self.expr(node.of)}"
        return text + (f" by {self.expr(node.by)}" if node.by is not None else "")

    def subquery_operators(self, operators: list[ast.Operator]) -> str:
        """``(operator | ...)`` on indented lines: the subquery of fork and facet."""
        self.level += 1
        pad = "\n" + INDENT * self.level
        inner = (pad + "| ").join(self.operator(op) for op in operators)
        self.level -= 1
        return f"({pad}{inner}\n{INDENT * self.level})"

    def op_Fork(self, node: ast.Fork) -> str:
        legs = [(f"{name(leg.name)} = " if leg.name is not None else "") + self.subquery_operators(leg.operators)
                for leg in node.legs]
        return "fork " + " ".join(legs)

    def op_Facet(self, node: ast.Facet) -> str:
        text = "facet by " + ", ".join(name(c) for c in node.columns)
        return text + (" with " + self.subquery_operators(node.with_operators) if node.with_operators else "")

    def op_MacroExpand(self, node: ast.MacroExpand) -> str:
        group = name(node.group) if node.group is not None else (
            "entity_group [" + ", ".join(self.expr(e) for e in node.entities) + "]")
        return f"macro-expand {params(node.params)}{group} as {name(node.name)} {self.nested(node.subquery)}"

    def op_MakeGraph(self, node: G.MakeGraph) -> str:
        text = f"make-graph {name(node.source)} --> {name(node.target)}"
        if node.node_id is not None:
            text += f" with_node_id={name(node.node_id)}"
        if node.nodes:
            text += " with " + ", ".join(f"{self.nested(n.table)} on {name(n.key)}" for n in node.nodes)
        if node.partition is not None:
            text += f" partitioned-by {name(node.partition)} " + self.subquery_operators(node.partition_operators or [])
        return text

    def op_GraphMatch(self, node: G.GraphMatch) -> str:
        key = "cycles" if node.name == "graph-match" else "output"
        text = node.name + (f" {key}={node.option}" if node.option is not None else "")
        text += " " + ", ".join(self.pattern_path(path) for path in node.paths)
        if node.where is not None:
            text += " where " + self.expr(node.where)
        if node.project is not None:
            text += " project " + self.assignments(node.project)
        return text

    def pattern_path(self, path: G.PatternPath) -> str:
        def node_text(n: G.PatternNode) -> str:
            return f"({name(n.variable) if n.variable is not None else ''})"
        text = node_text(path.nodes[0])
        for edge, target in zip(path.edges, path.nodes[1:]):
            inner = name(edge.variable) if edge.variable is not None else ""
            if edge.low is not None and edge.high is not None:
                inner += f"*{self.expr(edge.low)}..{self.expr(edge.high)}"
            left = "<-" if edge.direction in ("<-", "<->") else "-"
            right = "->" if edge.direction in ("->", "<->") else "-"
            text += (f"{left}[{inner}]{right}" if inner else left + right) + node_text(target)
        return text

    def op_GraphToTable(self, node: G.GraphToTable) -> str:
        parts = []
        for export in node.exports:
            part = export.kind + (f" as {name(export.alias)}" if export.alias is not None else "")
            part += "".join(f" {key}={name(value)}" for key, value in export.ids.items())
            parts.append(part)
        return "graph-to-table " + ", ".join(parts)

    def op_GraphMarkComponents(self, node: G.GraphMarkComponents) -> str:
        text = "graph-mark-components"
        if node.kind is not None:
            text += f" kind={node.kind}"
        if node.component_id is not None:
            text += f" with_component_id={name(node.component_id)}"
        return text

    def op_Unparsed(self, node: ast.Unparsed) -> str:
        return (node.name + " " + node.text).rstrip()

    def op_Render(self, node: ast.Render) -> str:
        text = "render " + name(node.chart)
        if node.properties:
            text += " with (" + ", ".join(f"{name(k)} = {self.expr(v)}" for k, v in node.properties) + ")"
        return text

    def op_As(self, node: ast.As) -> str:
        return f"as {params(node.params)}{name(node.name)}"

    def op_Serialize(self, node: ast.Serialize) -> str:
        return ("serialize " + self.assignments(node.items)).rstrip()

    def op_Invoke(self, node: ast.Invoke) -> str:
        return "invoke " + self.expr(node.call)

    def op_Evaluate(self, node: ast.Evaluate) -> str:
        text = f"evaluate {params(node.params)}{self.expr(node.call)}"
        if node.schema is None:
            return text
        columns = (["*"] if node.schema_keeps_input else []) + [f"{name(c)}:{t}" for c, t in node.schema]
        return f"{text} : ({', '.join(columns)})"

    def op_MakeSeries(self, node: ast.MakeSeries) -> str:
        aggregates = []
        for item in node.aggregates:
            expr = item.expr
            default = None
            if isinstance(expr, ast.Call) and expr.name == "$default":
                expr, default = expr.args
            text = self.assignment(ast.Assignment(item.names, expr))
            if default is not None:
                text += f" default = {self.expr(default)}"
            aggregates.append(text)
        text = f"make-series {params(node.params)}{', '.join(aggregates)} on {self.expr(node.on)}"
        rng = node.range
        for key in ("from", "to", "step"):
            if key in rng:
                text += f" {key} {self.expr(rng[key])}"
        if node.by:
            text += " by " + self.assignments(node.by)
        return text

    def op_TopNested(self, node: ast.TopNested) -> str:
        levels = []
        for level in node.levels:
            text = (self.expr(level.count) + " " if level.count is not None else "") + "of " + self.assignment(level.of)
            if level.others is not None:
                text += f" with others = {self.expr(level.others)}"
            text += " by " + self.assignment(level.by) + (" desc" if level.descending else " asc")
            levels.append(text)
        return "top-nested " + ", top-nested ".join(levels)

    def op_Search(self, node: ast.Search) -> str:
        return self.search(node)

    def op_Generic(self, node: ast.Generic) -> str:
        return (node.name + " " + ", ".join(self.expr(a) for a in node.args)).rstrip()

    # ------------------------------------------------------------ expressions

    def expr(self, node: ast.Expr, parent: int = 0, right: bool = False) -> str:
        text, precedence = self._expr(node)
        if precedence < parent or (right and precedence == parent and precedence > 0):
            return f"({text})"
        return text

    def _expr(self, node: ast.Expr) -> tuple[str, int]:
        atom = 10
        if isinstance(node, ast.Literal):
            text = literal(node)
            return text, (6 if text.startswith("-") else atom)
        if isinstance(node, ast.Name):
            return name(node.name), atom
        if isinstance(node, ast.Star):
            return "*", atom
        if isinstance(node, ast.TypeName):
            return f"typeof({node.name})", atom
        if isinstance(node, ast.Tabular):
            return self.nested(node.query), atom
        if isinstance(node, ast.Unary):
            return node.op + self.expr(node.operand, 6), 6
        if isinstance(node, ast.Binary):
            if node.op in _PRECEDENCE:
                level = _PRECEDENCE[node.op]
            else:
                level = _COMPARISON
            op_text = node.op
            return f"{self.expr(node.left, level)} {op_text} {self.expr(node.right, level, right=True)}", level
        if isinstance(node, ast.InList):
            items = ", ".join(self.expr(i) if not isinstance(i, ast.Tabular) else self.nested(i.query) for i in node.items)
            return f"{self.expr(node.left, _COMPARISON)} {node.op} ({items})", _COMPARISON
        if isinstance(node, ast.Between):
            op_text = "!between" if node.negated else "between"
            return f"{self.expr(node.left, _COMPARISON)} {op_text} ({self.expr(node.low)} .. {self.expr(node.high)})", _COMPARISON
        if isinstance(node, ast.Member):
            member = node.name if node.name.isdigit() else name(node.name)
            return f"{self.expr(node.target, 9)}.{member}", 9
        if isinstance(node, ast.Index):
            return f"{self.expr(node.target, 9)}[{self.expr(node.index)}]", 9
        if isinstance(node, ast.Call):
            return self.call(node), atom
        if isinstance(node, ast.Lambda):
            return self.lambda_(node), atom
        raise TypeError(f"cannot format {type(node).__name__}")

    def call(self, node: ast.Call) -> str:
        args = []
        for arg in node.args:
            if isinstance(arg, ast.Call) and arg.name == "$named":
                args.append(f"{arg.args[0].value}={self.expr(arg.args[1])}")
            elif isinstance(arg, ast.Tabular):
                args.append(self.nested(arg.query))
            else:
                args.append(self.expr(arg))
        return f"{node.name}({', '.join(args)})"


def format_query(tree: ast.QueryBody) -> str:
    return Formatter().body(tree) + "\n"


def format_text(text: str) -> str:
    from dac.kql.parser import parse

    return format_query(parse(text))

"""KQL syntax tree.

Every node records the line and column where it starts so that later stages
(schema checks, the evaluator) can report errors at the exact place. Nodes are
plain dataclasses; ``children()`` gives generic traversal for tools such as the
formatter and the table/column collectors.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Iterator


@dataclass
class Node:
    line: int = field(default=0, kw_only=True, compare=False, repr=False)
    column: int = field(default=0, kw_only=True, compare=False, repr=False)

    def children(self) -> Iterator["Node"]:
        for name in _child_fields(type(self)):
            yield from _nodes_in(getattr(self, name))

    def walk(self) -> Iterator["Node"]:
        """This node and every node below it, depth first, without recursion (trees can be deep)."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(list(node.children())))


_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(kind: type) -> tuple[str, ...]:
    """Names of the fields that may hold nodes (all but the position), computed once per class."""
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(f.name for f in fields(kind) if f.name not in ("line", "column"))
    return names


def _nodes_in(value: Any) -> Iterator[Node]:
    if isinstance(value, Node):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _nodes_in(item)


# ---------------------------------------------------------------- expressions


class Expr(Node):
    """Scalar expression (may also stand for a tabular value where KQL allows it)."""


@dataclass
class Literal(Expr):
    value: Any
    type: str  # string, bool, int, long, real, decimal, datetime, timespan, guid, dynamic
    error: str | None = field(default=None, compare=False)  # text Kusto parses but cannot interpret
    raw: str | None = None  # the source text of such a literal, kept so formatting preserves it
    refused: bool = field(default=False, compare=False)  # its error is a refusal (KqlUnsupportedError)


@dataclass
class Name(Expr):
    name: str


@dataclass
class Star(Expr):
    """``*`` as a function argument (``arg_max(T, *)``) or column wildcard."""


@dataclass
class Call(Expr):
    name: str
    args: list[Expr]


@dataclass
class Unary(Expr):
    op: str
    operand: Expr


@dataclass
class Binary(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass
class InList(Expr):
    """``x in (a, b)``, ``in~``, ``!in``, ``has_any``, ``has_all``: right side is a list or a tabular expression."""

    op: str
    left: Expr
    items: list[Expr]


@dataclass
class Between(Expr):
    negated: bool
    left: Expr
    low: Expr
    high: Expr


@dataclass
class Member(Expr):
    target: Expr
    name: str


@dataclass
class Index(Expr):
    target: Expr
    index: Expr


@dataclass
class Tabular(Expr):
    """A tabular expression used where a scalar is expected (``toscalar(T | count)``, ``x in (T | project y)``)."""

    query: "Pipeline"


@dataclass
class TypeName(Expr):
    """A scalar type name, as in ``typeof(string)`` or ``to typeof(long)``."""

    name: str


@dataclass
class Lambda(Expr):
    """A user function: ``(x:long, T:(*)) { body }``."""

    params: list[tuple[str, str, Expr | None]]  # (name, type text, default)
    body: "QueryBody"


# ---------------------------------------------------------------- tabular


class Source(Node):
    """The first element of a pipeline."""


@dataclass
class ExprSource(Source):
    """A table, a let-bound name, a function call, or a parenthesised query."""

    expr: Expr


@dataclass
class Datatable(Source):
    columns: list[tuple[str, str]]
    values: list[Expr]


@dataclass
class Print(Source):
    items: list["Assignment"]


@dataclass
class Range(Source):
    name: str
    start: Expr
    stop: Expr
    step: Expr


@dataclass
class Union(Source):
    """``union`` as a source or as an operator (then the pipe input is the first leg)."""

    params: dict[str, Any]
    legs: list[Expr]


@dataclass
class Pipeline(Node):
    source: Source
    operators: list["Operator"]


@dataclass
class Assignment(Node):
    """``Name = expr``, ``(A, B) = expr`` or just ``expr`` (name derived)."""

    names: list[str]
    expr: Expr


@dataclass
class SortKey(Node):
    expr: Expr
    descending: bool
    nulls_first: bool


class Operator(Node):
    """A ``| operator``."""


@dataclass
class Where(Operator):
    predicate: Expr
    named: str | None = None  # ``where a = b``: Kusto names the predicate ``a``, it does not compare


@dataclass
class Extend(Operator):
    items: list[Assignment]


@dataclass
class Project(Operator):
    items: list[Assignment]


@dataclass
class ProjectAway(Operator):
    patterns: list[str]


@dataclass
class ProjectKeep(Operator):
    patterns: list[str]


@dataclass
class ProjectByNames(Operator):
    """``project-by-names Spec, ...``: each spec a constant string, name pattern or dynamic array of names."""

    specs: list[Expr]


@dataclass
class ProjectRename(Operator):
    pairs: list[tuple[str, str]]  # (new, old)


@dataclass
class ProjectReorder(Operator):
    patterns: list[tuple[str, str | None]]  # (pattern, asc/desc/granny-asc...)


@dataclass
class Summarize(Operator):
    aggregates: list[Assignment]
    by: list[Assignment]
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Sort(Operator):
    keys: list[SortKey]


@dataclass
class Take(Operator):
    count: Expr


@dataclass
class Top(Operator):
    count: Expr
    key: SortKey


@dataclass
class Distinct(Operator):
    columns: list[Expr]  # [Star()] for distinct *


@dataclass
class Count(Operator):
    name: str = "Count"


@dataclass
class Join(Operator):
    params: dict[str, Any]
    right: "Pipeline"
    on: list[Expr]  # Name (same column both sides) or Binary('==', $left.x, $right.y)


@dataclass
class Lookup(Operator):
    params: dict[str, Any]
    right: "Pipeline"
    on: list[Expr]


@dataclass
class UnionOp(Operator):
    union: Union


@dataclass
class MvExpandItem(Node):
    name: str | None
    expr: Expr
    to_type: str | None


@dataclass
class MvExpand(Operator):
    params: dict[str, Any]
    items: list[MvExpandItem]
    limit: Expr | None


@dataclass
class Parse(Operator):
    kind_where: bool  # parse-where drops rows that do not match
    params: dict[str, Any]
    source: Expr
    pattern: list[Any]  # str parts and (column name, type) pairs in order


@dataclass
class Render(Operator):
    chart: str
    properties: list[tuple[str, Expr]]


@dataclass
class As(Operator):
    name: str
    params: dict[str, Any]


@dataclass
class Serialize(Operator):
    items: list[Assignment]


@dataclass
class Invoke(Operator):
    call: Call


@dataclass
class Evaluate(Operator):
    params: dict[str, Any]
    call: Call
    # ``evaluate f(...) : (*, Name:type, ...)``: the output schema's columns, and whether its ``*``
    # keeps the input's columns (https://learn.microsoft.com/kusto/query/bag-unpack-plugin)
    schema: list[tuple[str, str]] | None = None
    schema_keeps_input: bool = False


@dataclass
class MakeSeries(Operator):
    aggregates: list[Assignment]
    on: Expr
    range: dict[str, Expr]
    by: list[Assignment]
    params: dict[str, Any]


@dataclass
class MvApply(Operator):
    params: dict[str, Any]
    items: list[MvExpandItem]
    subquery: "Pipeline"
    limit: Expr | None


@dataclass
class TopNestedLevel(Node):
    count: Expr | None
    of: "Assignment"
    others: Expr | None
    by: "Assignment"
    descending: bool


@dataclass
class TopNested(Operator):
    levels: list[TopNestedLevel]


@dataclass
class Search(Operator):
    """``search [in (T, ...)] predicate``: bare strings match terms in any column."""

    params: dict[str, Any]
    tables: list[str]
    predicate: Expr


@dataclass
class SearchSource(Source):
    search: Search


@dataclass
class Find(Node):
    params: dict[str, Any]
    tables: list[str]
    predicate: Expr
    project: list[str] | None


@dataclass
class FindSource(Source):
    find: Find


@dataclass
class ParseKv(Operator):
    """``parse-kv Expr as (Key:type, ...) [with (option = value, ...)]``."""

    source: Expr
    keys: list[tuple[str, str]]
    options: list[tuple[str, Expr]]


@dataclass
class ScanDeclaration(Node):
    name: str
    type: str
    default: Expr | None


@dataclass
class ScanStep(Node):
    name: str
    output: str  # all, last or none
    condition: Expr
    assignments: list[Assignment]


@dataclass
class Scan(Operator):
    """``scan [with_match_id=Col] [declare (...)] with (step s: condition [=> assignments]; ...)``."""

    match_id: str | None
    declarations: list[ScanDeclaration]
    steps: list[ScanStep]


@dataclass
class Partition(Operator):
    """``partition [hint.strategy=...] by Column (subquery)`` or ``{ subquery with its own source }``.

    In parentheses the subquery starts from ``$partition`` (the rows of one partition);
    ``braced`` marks the ``{ ... }`` form, whose subquery names its own source.
    """

    params: dict[str, Any]
    by: str
    subquery: "Pipeline"
    braced: bool


@dataclass
class Consume(Operator):
    """``consume [decodeblocks = bool]``: reads its input and returns no table."""

    params: dict[str, Any]


@dataclass
class SampleDistinct(Operator):
    """``sample-distinct Count of Column``."""

    count: Expr
    of: Expr


@dataclass
class TopHitters(Operator):
    """``top-hitters Count of Column [by SummingExpression]``."""

    count: Expr
    of: Expr
    by: Expr | None


@dataclass
class ForkLeg(Node):
    name: str | None  # ``name = (...)``
    operators: list[Operator]


@dataclass
class Fork(Operator):
    """``fork [name=](operators) ...``: one result table per leg."""

    legs: list[ForkLeg]


@dataclass
class Facet(Operator):
    """``facet by Column, ... [with (operators)]``: one result table per column, and one for ``with``."""

    columns: list[str]
    with_operators: list[Operator] | None


@dataclass
class MacroExpand(Operator):
    """``macro-expand [kind=...] [isfuzzy=...] entity_group [Entity, ...] as Name (subquery)``.

    ``group`` is the name of a stored or let-defined entity group when the
    operator names one instead of listing ``entities``.
    """

    params: dict[str, Any]
    entities: list[Expr]
    group: str | None
    name: str
    subquery: "Pipeline"


@dataclass
class MacroExpandSource(Source):
    """``macro-expand ...`` at the start of a query (it takes no input)."""

    macro: MacroExpand


@dataclass
class Unparsed(Operator):
    """An operator of the official grammar the evaluator refuses, kept as its source text (``text``)."""

    name: str
    text: str


@dataclass
class Generic(Operator):
    """An operator the parser accepts by its shape but no stage interprets (e.g. ``getschema``, ``sample``)."""

    name: str
    args: list[Expr]


# ---------------------------------------------------------------- statements


@dataclass
class Let(Node):
    name: str
    value: Expr | Pipeline


@dataclass
class PatternDefinition(Node):
    """One mapping of a pattern: ``("v1", "v2").["path"] = { body }``.

    The values are expressions as the official parser reads them (``(USA)`` parses; binding
    then requires string literals); ``path`` is None when the definition has no ``.[...]``.
    """

    values: list[Expr]
    path: Expr | None
    body: "QueryBody"


@dataclass
class PatternDeclaration(Node):
    """``declare pattern Name [= (arg:type, ...) [[path:type]] { definition; ... }]``.

    ``definitions`` is None for an empty pattern (``declare pattern Name;``), whose every
    invocation is an error (https://learn.microsoft.com/kusto/query/pattern-statement).
    """

    name: str
    params: list[tuple[str, str]]
    path: tuple[str, str] | None
    definitions: list[PatternDefinition] | None


@dataclass
class QueryBody(Node):
    """Statements separated by ``;``: ``let`` bindings, pattern declarations and query expressions, in order.

    The value of the body is that of its last query expression (a function
    body's last statement is its return value).
    """

    statements: list[Let | PatternDeclaration | Pipeline]

    @property
    def result(self) -> Pipeline | None:
        for statement in reversed(self.statements):
            if isinstance(statement, Pipeline):
                return statement
        return None


Query = QueryBody

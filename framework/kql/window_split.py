"""Splitting a query for many time windows: a clock-free row-local head read once, a tail per window.

An alert simulation runs a rule thousands of times (30 days every 5 minutes is 8,640
runs), each over the rows of its own time window, with ``now()`` at the run's time.
Most rules start ``Table | where ... | extend ... | project ...``: operators whose
output for a row depends only on that row. When those operators also do not read the
clock (no ``now()``/``ago()``, directly or through a ``let``), running them once over
the whole table and then cutting each window out of their output gives, for every
window, exactly the rows that running them on the window's input gives, in the same
order (a row-local operator commutes with selecting rows). So the expensive part,
reading and filtering the logs, is done in one pass, and only the survivors are cut
into windows for the rest of the query (``summarize``, ``top``, ``now()`` tests...).

To cut the head's output by window, the head carries each source row's window time in
a hidden column (``KEY``): added right after the source and kept through every
``project``. The tail reads the cut rows, without that column, as table ``SLICE``.

A query is split only when its result pipeline reads one table and nothing else reads
a table (no join, union, lookup, sub-query or tabular ``let`` anywhere): another
table would be read whole instead of windowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dac.kql import ast
from dac.kql.streaming import row_local_head

KEY = "$window"  # a name no query can write without brackets, so none collides with it
SLICE = "$slice"
CLOCK_FUNCTIONS = frozenset({"now", "ago"})
# Nodes that read a table, a function body or another query: the tail would see it unwindowed.
_READS_TABLES = (ast.Tabular, ast.Pipeline, ast.Join, ast.Lookup, ast.UnionOp, ast.Union, ast.Invoke,
                 ast.MvApply, ast.Partition, ast.Fork, ast.Facet, ast.Search, ast.Find, ast.MacroExpand)


@dataclass(frozen=True)
class WindowSplit:
    """``head`` runs once over ``table``; ``tail`` runs per window over ``SLICE`` (the head's rows in it)."""

    table: str
    head: ast.QueryBody
    tail: ast.QueryBody
    head_operators: int  # how many of the pipeline's operators the head runs


def split_for_windows(tree: ast.QueryBody, time_column: str,
                      is_function: Callable[[str], bool] = lambda name: False) -> WindowSplit | None:
    """The split of ``tree`` for windows on ``time_column``, or None when it cannot be split exactly.

    ``is_function`` tells the names a workspace defines as functions (their bodies are not inspected).
    """
    lets = [s for s in tree.statements if isinstance(s, ast.Let)]
    pipelines = [s for s in tree.statements if isinstance(s, ast.Pipeline)]
    if len(pipelines) != 1 or tree.statements[-1] is not pipelines[0]:
        return None
    if any(isinstance(s, ast.PatternDeclaration) for s in tree.statements):
        return None  # an invocation reads its definition's tables, which a window's slice does not hold
    pipeline = pipelines[0]
    let_names = {let.name for let in lets}
    source = pipeline.source
    if not (isinstance(source, ast.ExprSource) and isinstance(source.expr, ast.Name)):
        return None
    table = source.expr.name
    if table in let_names or is_function(table):
        return None
    for let in lets:
        if isinstance(let.value, ast.Pipeline) or _reads_tables(let.value, is_function):
            return None
    if any(_reads_tables(op, is_function) for op in pipeline.operators):
        return None
    if any(node.name == KEY for op in pipeline.operators for node in op.walk()
           if isinstance(node, ast.Name)):
        return None
    clocked = _clock_names(lets)
    count = row_local_head(pipeline.operators, lambda name: name in let_names or is_function(name))
    head_ops: list[ast.Operator] = []
    for op in pipeline.operators[:count]:
        if _reads_clock(op, clocked) or _assigns(op, KEY):
            break
        kept = _keeping_key(op)
        if kept is None:
            break
        head_ops.append(kept)
    key = ast.Extend([ast.Assignment([KEY], ast.Name(time_column))])
    head = ast.QueryBody([*lets, ast.Pipeline(source, [key, *head_ops])])
    tail_source = ast.ExprSource(ast.Name(SLICE))
    tail = ast.QueryBody([*lets, ast.Pipeline(tail_source, list(pipeline.operators[len(head_ops):]))])
    return WindowSplit(table, head, tail, len(head_ops))


def _reads_tables(node: ast.Node, is_function: Callable[[str], bool]) -> bool:
    for sub in node.walk():
        if isinstance(sub, _READS_TABLES):
            return True
        if isinstance(sub, ast.Call) and (sub.name in ("toscalar", "table", "materialize") or is_function(sub.name)):
            return True
    return False


def _clock_names(lets: list[ast.Let]) -> set[str]:
    """The ``let`` names whose value reads the clock, directly or through an earlier such name."""
    clocked: set[str] = set()
    for let in lets:
        if _reads_clock(let.value, clocked):
            clocked.add(let.name)
    return clocked


def _reads_clock(node: ast.Node, clocked: set[str]) -> bool:
    for sub in node.walk():
        if isinstance(sub, ast.Call) and sub.name in CLOCK_FUNCTIONS:
            return True
        if isinstance(sub, ast.Name) and sub.name in clocked:
            return True
    return False


def _assigns(op: ast.Operator, name: str) -> bool:
    items = getattr(op, "items", None) or []
    return any(isinstance(item, ast.Assignment) and name in item.names for item in items) or \
        (isinstance(op, ast.ProjectRename) and any(new == name for new, _ in op.pairs))


def _keeping_key(op: ast.Operator) -> ast.Operator | None:
    """``op`` rewritten to pass the key column through, or None when it cannot (a wildcard project-away)."""
    key = ast.Assignment([KEY], ast.Name(KEY))
    if isinstance(op, ast.Project):
        return ast.Project([*op.items, key], line=op.line, column=op.column)
    if isinstance(op, ast.ProjectKeep):
        return ast.ProjectKeep([*op.patterns, KEY], line=op.line, column=op.column)
    if isinstance(op, ast.ProjectAway):
        return None if any("*" in pattern for pattern in op.patterns) else op
    return op

"""``join``: Kusto's join kinds as SQL joins on equal keys.

As the row engine (``Evaluator.op_Join``): a null key matches nothing (SQL's ``=``
agrees); innerunique keeps the first left row of each key, in the input order
(so it needs the ordinal); outer kinds fill the missing side with nulls and
"" for strings; semi and anti kinds keep one side's rows as they are.
"""

from __future__ import annotations

from sqlglot import exp

from dac.engines.compiler import ORDINAL, Compiler, Relation
from dac.engines.sql_operators import operator
from dac.engines.sql_scalars import column
from dac.kql import ast
from dac.kql.table import Table

KINDS = {"anti": "leftanti", "semi": "leftsemi", "leftantisemi": "leftanti", "rightantisemi": "rightanti"}
FAMILIES = {"int": "integer", "long": "integer"}


def _keys(compiler: Compiler, node: ast.Join | ast.Lookup, left: Relation, right: Relation) -> list[tuple[str, str]]:
    left_index, right_index = compiler.context.evaluator.join_keys(node, Table(left.columns), Table(right.columns))
    pairs = []
    for li, ri in zip(left_index, right_index):
        (lname, ltype), (rname, rtype) = left.columns[li], right.columns[ri]
        if FAMILIES.get(ltype, ltype) != FAMILIES.get(rtype, rtype) or ltype in ("dynamic", "real"):
            raise compiler.refuse(f"join keys of types {ltype} and {rtype}", node,
                                  "Kusto's key equality differs from SQL's for them")
        pairs.append((lname, rname))
    return pairs


def _first_per_key(compiler: Compiler, relation: Relation, keys: list[str], node: ast.Node) -> Relation:
    if not relation.ordinal:
        raise compiler.refuse("join kind=innerunique over a left side in no defined order", node,
                              "which left row of a key it keeps would depend on the engine")
    window = exp.Window(this=exp.RowNumber(), partition_by=[column(k) for k in keys],
                        order=exp.Order(expressions=[exp.Ordered(this=column(ORDINAL))]))
    ranked = exp.select(exp.Star(), exp.alias_(window, "__dac_first", quoted=True)).from_(compiler.subquery(relation))
    query = exp.select(*[column(n) for n in relation.names()], column(ORDINAL)).from_(
        ranked.subquery(compiler.alias())).where(exp.EQ(this=column("__dac_first"), expression=exp.Literal.number(1)))
    return Relation(query, relation.columns, ordinal=True)


@operator(ast.Join)
def join(compiler: Compiler, left: Relation, node: ast.Join) -> Relation:
    extra = set(node.params) - {"kind"}
    if extra:
        raise compiler.refuse(f"join with {', '.join(sorted(extra))}", node)
    kind = str(node.params.get("kind", "innerunique")).lower()
    kind = KINDS.get(kind, kind)
    right = compiler.pipeline(node.right)
    out = compiler.schema_after(left, node)
    keys = _keys(compiler, node, left, right)
    if kind == "innerunique":
        left, kind = _first_per_key(compiler, left, [l for l, _ in keys], node), "inner"
    la, ra = compiler.alias(), compiler.alias()
    condition = exp.and_(*[exp.EQ(this=exp.column(l, la, quoted=True), expression=exp.column(r, ra, quoted=True))
                           for l, r in keys])
    left_from, right_from = left.query.subquery(la), right.query.subquery(ra)
    if kind in ("leftsemi", "leftanti", "rightsemi", "rightanti"):
        keep, other = (left_from, right_from) if kind.startswith("left") else (right_from, left_from)
        kept = left if kind.startswith("left") else right
        alias = la if kind.startswith("left") else ra
        exists = exp.Exists(this=exp.select(exp.Literal.number(1)).from_(other).where(condition))
        test = exists if kind.endswith("semi") else exp.Not(this=exists)
        query = exp.select(*[exp.column(n, alias, quoted=True) for n in kept.names()]).from_(keep).where(test)
        return Relation(query, out)
    if kind not in ("inner", "leftouter", "rightouter", "fullouter"):
        raise compiler.refuse(f"join kind={kind}", node)
    if len(out) != len(left.columns) + len(right.columns):
        raise compiler.refuse("this join's columns", node)
    sides = [(la, name, kind_name, kind in ("rightouter", "fullouter")) for name, kind_name in left.columns] + \
            [(ra, name, kind_name, kind in ("leftouter", "fullouter")) for name, kind_name in right.columns]
    projections = _side_projections(sides, out)
    join_kind = {"inner": None, "leftouter": "LEFT", "rightouter": "RIGHT", "fullouter": "FULL"}[kind]
    query = exp.select(*projections).from_(left_from).join(right_from, on=condition, join_type=join_kind)
    return Relation(query, out)


@operator(ast.Lookup)
def lookup(compiler: Compiler, left: Relation, node: ast.Lookup) -> Relation:
    """lookup: each left row with every right row of its key, or with nulls ("" for strings) when none
    (leftouter, the default) or dropped (inner); the right side's same-named keys are left out
    (https://learn.microsoft.com/kusto/query/lookup-operator). As the row engine's op_Lookup, keys
    compare by value, so a null key matches a null key: IS NOT DISTINCT FROM."""
    extra = set(node.params) - {"kind"}
    kind = str(node.params.get("kind", "leftouter")).lower()
    if extra or kind not in ("leftouter", "inner"):
        raise compiler.refuse(f"lookup with {', '.join(sorted(extra)) or 'kind=' + kind}", node)
    right = compiler.pipeline(node.right)
    out = compiler.schema_after(left, node)
    keys = _keys(compiler, node, left, right)
    dropped = {r for l, r in keys if l == r}
    kept = [(name, kind_name) for name, kind_name in right.columns if name not in dropped]
    if len(out) != len(left.columns) + len(kept):
        raise compiler.refuse("this lookup's columns", node)
    la, ra = compiler.alias(), compiler.alias()
    condition = exp.and_(*[exp.NullSafeEQ(this=exp.column(l, la, quoted=True), expression=exp.column(r, ra, quoted=True))
                           for l, r in keys])
    sides = [(la, name, kind_name, False) for name, kind_name in left.columns] + \
            [(ra, name, kind_name, kind == "leftouter") for name, kind_name in kept]
    projections = _side_projections(sides, out)
    query = exp.select(*projections).from_(left.query.subquery(la)).join(
        right.query.subquery(ra), on=condition, join_type="LEFT" if kind == "leftouter" else None)
    return Relation(query, out)


def _side_projections(sides: list[tuple[str, str, str, bool]], out: list[tuple[str, str]]) -> list[exp.Expression]:
    """Each (alias, column, kind, may be missing) of a join's two sides under its output name; a string
    column of a side an outer join may leave out reads "" there, as the row engine fills it."""
    projections = []
    for (alias, name, kind_name, may_be_missing), (out_name, _) in zip(sides, out):
        value: exp.Expression = exp.column(name, alias, quoted=True)
        if may_be_missing and kind_name == "string":
            value = exp.Coalesce(this=value, expressions=[exp.Literal.string("")])
        projections.append(exp.alias_(value, out_name, quoted=True))
    return projections

"""The names a query binds: ``let`` statements, pattern declarations and function parameters.

Kept apart from the evaluator because the binding rules (each let sees the ones bound before it,
one name bound twice is an error, a pattern declaration binds its name) serve code that runs no
operator: the workspace's stored functions (``dac.workspace.environment``) and the SQL engines'
compiler bind a query's lets with them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dac.kql import ast
from dac.kql.compiled import semantic
from dac.kql import patterns


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
    """One level of bindings: a name is looked up here, then in the parents."""

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

    def visible_names(self) -> set[str]:
        """Every name bound here or above (what a wildcard union leg or a search scope may match)."""
        names: set[str] = set()
        scope: Scope | None = self
        while scope is not None:
            names.update(scope.bindings)
            scope = scope.parent
        return names


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

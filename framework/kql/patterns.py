"""The pattern statement's semantics: which definition an invocation names, and the errors Kusto gives.

A pattern maps string tuples to tabular expressions
(https://learn.microsoft.com/kusto/query/pattern-statement). Its arguments and path are
string literals, so an invocation is resolved from the text alone: ``Name("v1", ...)`` with a
path ``.p``, ``.["p"]`` or ``.['p']`` (all one reference, the page's "Normalization"). The
page settles what dac does where the official binder (Kusto.Language) is silent:

- An invocation of an empty pattern (``declare pattern Name;``), or one no definition
  matches, is semantic error SEM0036 "One or more pattern references were not declared.
  Detected pattern references: [...]", listing every such reference of the query once, so that
  a middle-tier application can define them all in one round trip. ``*`` is no wildcard: it
  matches a definition whose path is the string ``"*"`` and nothing else ("No wildcards").
- Values are compared exactly, case included (the official binder finds no definition for
  ``c("usa")`` when only ``("USA")`` is defined).

An invocation without the path a pattern declares is refused (KqlUnsupportedError): the official
binder accepts it, with no columns, and the page shows none. What the official binder reports,
dac reports too, at the same place: a parameter or path of a
type other than string, a definition with as many values as parameters or not, a path given or
given against a declaration without one, an argument that is no string literal, a wrong argument count.
Where two definitions give the same tuple (the binder accepts it; the page does not say which
wins) the first one answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from dac.kql import ast
from dac.kql.compiled import semantic, unsupported
from dac.kql.errors import KqlError, KqlSemanticError

PAGE = "https://learn.microsoft.com/kusto/query/pattern-statement"


@dataclass(frozen=True)
class Invocation:
    """The shape of a pattern invocation: a call, and the node after it naming the path (if any)."""

    call: ast.Call
    path: ast.Member | ast.Index | None


def invocation_of(expr: ast.Node) -> Invocation | None:
    """The invocation ``expr`` is when its name turns out to be a pattern (``Name(...)``, ``Name(...).p``)."""
    if isinstance(expr, ast.Call):
        return Invocation(expr, None)
    if isinstance(expr, (ast.Member, ast.Index)) and isinstance(expr.target, ast.Call):
        return Invocation(expr.target, expr)
    return None


def check_declaration(declaration: ast.PatternDeclaration) -> None:
    """Raise the first error the official binder reports in the declaration itself."""
    for pname, ptype in declaration.params + ([declaration.path] if declaration.path else []):
        if ptype != "string":
            raise semantic(declaration, f"pattern '{declaration.name}': '{pname}' is declared {ptype}; a pattern's "
                                        f"arguments and path are of type string ({PAGE})")
    for definition in declaration.definitions or []:
        if len(definition.values) != len(declaration.params):
            raise semantic(definition, f"pattern '{declaration.name}' has {len(declaration.params)} parameter(s); "
                                       f"this definition gives {len(definition.values)} value(s)")
        if declaration.path is None and definition.path is not None:
            raise semantic(definition.path, f"pattern '{declaration.name}' declares no path, so its definitions "
                                            "give none: remove the .[...]")
        if declaration.path is not None and definition.path is None:
            raise semantic(definition, f"pattern '{declaration.name}' declares the path "
                                       f"[{declaration.path[0]}:string]: each definition gives one, (...).[\"value\"]")
        for value in definition.values + ([definition.path] if definition.path is not None else []):
            _string_literal(value, f"a value of pattern '{declaration.name}'")


def resolve(declaration: ast.PatternDeclaration,
            invocation: Invocation) -> tuple[ast.PatternDefinition, list[str], str | None]:
    """The definition ``invocation`` names, with its argument strings and path string; a semantic
    error at the invocation when there is none."""
    args, path = arguments(declaration, invocation)
    definition = definition_for(declaration, args, path)
    if definition is None:
        raise not_declared([(invocation.call, reference(declaration.name, args, path))])
    return definition, args, path


def defined(definition: ast.PatternDefinition) -> tuple[list[str], str | None]:
    """The argument strings and path string a definition answers (check_declaration made them literals)."""
    values = [_string_literal(v, "") for v in definition.values]
    return values, _string_literal(definition.path, "") if definition.path is not None else None


def definition_for(declaration: ast.PatternDeclaration, args: list[str], path: str | None) -> ast.PatternDefinition | None:
    """The first definition of exactly these values and path (check_declaration made them string literals)."""
    for definition in declaration.definitions or []:
        if defined(definition) == (args, path):
            return definition
    return None


def arguments(declaration: ast.PatternDeclaration, invocation: Invocation) -> tuple[list[str], str | None]:
    """The argument strings and the path string of an invocation, checked against the declaration."""
    call, name = invocation.call, declaration.name
    args = [_string_literal(a, f"an argument of pattern '{name}'") for a in call.args]
    path = _path(invocation)
    if declaration.definitions is None:  # an empty pattern: any reference is one the application must define
        return args, path
    if len(args) != len(declaration.params):
        raise semantic(call, f"pattern '{name}' takes {len(declaration.params)} argument(s), got {len(args)}")
    if unsettled(declaration, invocation):
        assert declaration.path is not None
        raise unsupported(call, f"pattern '{name}' declares the path [{declaration.path[0]}:string]; what an "
                                f"invocation without one returns is not documented: invoke it as "
                                f"{name}(...).value or {name}(...).[\"value\"]")
    if declaration.path is None and path is not None:
        assert invocation.path is not None
        raise semantic(invocation.path, f"pattern '{name}' declares no path: nothing follows {name}(...)")
    return args, path


def unsettled(declaration: ast.PatternDeclaration, invocation: Invocation) -> bool:
    """Whether ``invocation`` leaves out the path the pattern declares while a definition has its
    arguments: the official binder accepts that (with no columns), the page shows no such
    invocation, so what Kusto returns is not settled (without such a definition it is SEM0036)."""
    if declaration.path is None or invocation.path is not None:
        return False
    args = [a.value if isinstance(a, ast.Literal) and a.type == "string" else None for a in invocation.call.args]
    return any(defined(definition)[0] == args for definition in declaration.definitions or [])


def _path(invocation: Invocation) -> str | None:
    node = invocation.path
    if node is None:
        return None
    if isinstance(node, ast.Index):  # ``Name(...)["p"]`` or ``Name(...).[expr]``: not a path
        raise semantic(node, f"a pattern path is written .name or .[\"name\"] after {invocation.call.name}(...)")
    return node.name


def _string_literal(node: ast.Node, what: str) -> str:
    if isinstance(node, ast.Literal) and node.type == "string" and node.error is None and isinstance(node.value, str):
        return node.value
    raise semantic(node, f"{what} must be a string literal ({PAGE})")


def reference(name: str, args: list[str], path: str | None) -> str:
    """A reference as the page's SEM0036 message spells it: ``app('ApplicationX').['*']``."""
    text = f"{name}({','.join(_quoted(a) for a in args)})"
    return text if path is None else f"{text}.[{_quoted(path)}]"


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def not_declared(found: list[tuple[ast.Node, str]]) -> KqlSemanticError:
    """SEM0036 for these references (distinct, in query order), at the first one."""
    names: list[str] = []
    for _, text in found:
        if text not in names:
            names.append(text)
    listed = ", ".join('"' + n.replace("\\", "\\\\").replace('"', '\\"') + '"' for n in names)
    return semantic(found[0][0], "One or more pattern references were not declared. "
                                 f"Detected pattern references: [{listed}]")


def check_references(statements: list[ast.Node]) -> None:
    """Raise SEM0036 for every well-formed invocation in ``statements`` that names no definition.

    Kusto reports them all at once (the middle-tier application reads the list); the evaluator,
    which resolves one invocation when it runs it, would name only the first. Each statement
    sees the patterns declared before it; a function's parameters and lets hide a pattern of their
    name inside its body. A malformed invocation is left to the evaluator, which names its fault.
    """
    active: dict[str, ast.PatternDeclaration] = {}
    found: list[tuple[ast.Node, str]] = []
    for statement in statements:
        if isinstance(statement, ast.PatternDeclaration):
            for definition in statement.definitions or []:
                _collect(definition.body, active, found)
            active[statement.name] = statement
        elif isinstance(statement, ast.Let):
            _collect(statement.value, active, found)
        else:
            _collect(statement, active, found)
    if found:
        raise not_declared(found)


def _collect(root: ast.Node, active: dict[str, ast.PatternDeclaration], found: list[tuple[ast.Node, str]]) -> None:
    stack: list[tuple[ast.Node, dict[str, ast.PatternDeclaration]]] = [(root, active)]
    while stack:
        node, patterns = stack.pop()
        if not patterns:
            continue
        if isinstance(node, ast.Lambda):
            hidden = {p[0] for p in node.params} | {s.name for s in node.body.statements if isinstance(s, ast.Let)}
            patterns = {k: v for k, v in patterns.items() if k not in hidden}
        invocation = invocation_of(node)
        declaration = patterns.get(invocation.call.name) if invocation is not None else None
        if invocation is not None and declaration is not None:
            _note(declaration, invocation, found)
            stack.extend((child, patterns) for child in invocation.call.args)
            if isinstance(invocation.path, ast.Index):
                stack.append((invocation.path.index, patterns))
            continue
        stack.extend((child, patterns) for child in reversed(list(node.children())))


def _note(declaration: ast.PatternDeclaration, invocation: Invocation, found: list[tuple[ast.Node, str]]) -> None:
    try:
        args, path = arguments(declaration, invocation)
    except KqlError:
        return  # malformed: the evaluator names its fault when it reaches the invocation
    if definition_for(declaration, args, path) is None:
        found.append((invocation.call, reference(declaration.name, args, path)))

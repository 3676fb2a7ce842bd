"""Workspace functions and parsers: KQL stored functions, declared in the YAML forms Sentinel users have.

* Solutions' parsers: ``FunctionName``, ``FunctionAlias`` (the name queries use),
  ``FunctionQuery``, optional ``FunctionParams``;
* ASIM parsers: ``ParserName``, ``EquivalentBuiltInParser`` (the ``_Im_``/``_ASim_``
  name of the same parser), ``ParserQuery``, optional ``ParserParams``.

Parameters are ``{Name, Type, Default}`` entries. A function is defined as a
let-lambda ``(params) { body }``, parsed once, and bound above the rule's query
(see ``dac.workspace.environment``), so the evaluator's own user-function
machinery binds and runs it: with and without arguments, tabular or scalar.
A problem inside the body is reported at its line and column in the function's
file, not in the rule that calls it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dac.errors import DacError, Location
from dac.kql import ast
from dac.kql.errors import KqlError, KqlSemanticError
from dac.rules.yamlfile import YamlDocument, load_yaml

_FORMS = (  # (name key, query key, parameters key, alias key)
    ("FunctionName", "FunctionQuery", "FunctionParams", "FunctionAlias"),
    ("ParserName", "ParserQuery", "ParserParams", "EquivalentBuiltInParser"),
)
_DECLARES = re.compile(r"^(FunctionName|ParserName)\s*:", re.MULTILINE)
_LAMBDA = "__stored_function"
_STRING_LITERAL = re.compile(r"""^(@?'.*'|@?".*")$""", re.DOTALL)


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: str | None  # KQL text; None: the caller must give a value


@dataclass(eq=False)
class StoredFunction:
    """One function file: its names, parameters and query, with the positions to report problems at."""

    name: str
    aliases: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    query: str
    doc: YamlDocument
    keys: tuple[str, str, str, str]
    schema: str | None = None  # the ASIM schema a parser normalizes to (Normalization: Schema:)
    unifies: bool = False  # an ASIM unifying parser (its file lists its source parsers, or says "Source agnostic")
    _definition: ast.Lambda | None = field(default=None, repr=False)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @property
    def location(self) -> Location:
        return self.doc.location((self.keys[0],))

    def definition(self) -> ast.Lambda:
        """The function as a let-lambda, parsed once; a syntax error is a FunctionError in its file."""
        if self._definition is None:
            from dac.kql.parser import parse

            header = ", ".join(f"{p.name}:{p.type}" + (f" = {p.default}" if p.default is not None else "")
                               for p in self.parameters)
            # the header on a line of its own: line L + 1 of this text is line L of the query
            text = f"let {_LAMBDA} = ({header}) {{\n{self.query}\n}};\n{_LAMBDA}"
            try:
                tree = parse(text)
            except KqlError as error:
                raise FunctionError(self, error) from None
            let = tree.statements[0]
            if not (isinstance(let, ast.Let) and isinstance(let.value, ast.Lambda)) or len(tree.statements) != 2:
                raise FunctionError(self, KqlSemanticError("the query must be one function body", 2, 1))
            self._definition = let.value
        return self._definition

    def locate(self, line: int, column: int) -> Location:
        """A position of the definition's text (see ``definition``) in the function's file."""
        if line <= 1:  # the parameter list
            return self.doc.location((self.keys[2],)) if self.parameters else self.location
        return self.doc.text_location((self.keys[1],), line - 1, column) or self.doc.location((self.keys[1],))


class FunctionError(KqlSemanticError):
    """A problem inside a workspace function's body, located in the function's file.

    Its own line and column are those of the call in the caller's text, so a
    caller that only knows positions in its query still points at the call;
    ``origin`` is where the problem is written.
    """

    def __init__(self, function: StoredFunction, error: KqlError, call: ast.Node | None = None) -> None:
        self.function_name = function.name
        self.origin = function.locate(error.line, error.column)
        self.reason = error.message
        super().__init__(f"{error.message} (in workspace function '{function.name}' at {self.origin})",
                         call.line if call is not None else 0, call.column if call is not None else 0)

    def at_call(self, call: ast.Node) -> "FunctionError":
        """The same problem, now at ``call`` (the function that called the failing one was called there)."""
        self.line, self.column = call.line, call.column
        return self

    def finding(self, called_at: Location) -> DacError:
        """The problem as a finding in the function's file, saying where the rule calls it."""
        return DacError(f"{self.reason} (in workspace function '{self.function_name}', which the query calls at "
                        f"{called_at})", self.origin)


def functions_in(path: Path, text: str) -> list[StoredFunction]:
    """The functions a YAML file declares (none for any other YAML, such as rule files)."""
    if not _DECLARES.search(text):
        return []
    doc = load_yaml(path)
    data = doc.data
    if not isinstance(data, dict):
        return []
    for keys in _FORMS:
        name_key, query_key, params_key, alias_key = keys
        if name_key not in data:
            continue
        name = data[name_key]
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise DacError(f"{name_key} must be a KQL name, found {name!r}", doc.location((name_key,)))
        query = data.get(query_key)
        if not isinstance(query, str) or not query.strip():
            raise DacError(f"function '{name}' has no {query_key}", doc.location((name_key,)))
        aliases = tuple(a for a in _names(data.get(alias_key)) if a != name)
        normalization = data.get("Normalization")
        schema = normalization.get("Schema") if isinstance(normalization, dict) else None
        product = data.get("Product")
        agnostic = isinstance(product, dict) and str(product.get("Name", "")).strip().lower() == "source agnostic"
        return [StoredFunction(name, aliases, _parameters(doc, params_key), query, doc, keys,
                               schema if isinstance(schema, str) else None,
                               isinstance(data.get("Parsers"), list) or agnostic)]
    return []


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    return [str(v).strip() for v in value if isinstance(v, str) and v.strip()] if isinstance(value, list) else []


def _parameters(doc: YamlDocument, key: str) -> tuple[Parameter, ...]:
    entries = doc.data.get(key) or []
    if not isinstance(entries, list):
        raise DacError(f"{key} must be a list of {{Name, Type, Default}}", doc.location((key,)))
    parameters = []
    for index, entry in enumerate(entries):
        where = doc.location((key, index))
        if not isinstance(entry, dict) or not isinstance(entry.get("Name"), str) or not isinstance(entry.get("Type"), str):
            raise DacError(f"{key}[{index}]: expected a mapping with Name and Type", where)
        kind = entry["Type"].strip()
        default = _default_text(entry["Default"], kind) if "Default" in entry else None
        parameters.append(Parameter(entry["Name"].strip(), kind, default))
    return tuple(parameters)


def _default_text(value: Any, kind: str) -> str:
    """A parameter's Default as KQL text: the files give KQL (``datetime(null)``) or, for strings
    and booleans, the plain value (``'*'``, ``false``), as Sentinel's deployment templates quote them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return f"{kind}(null)"
    text = str(value)
    if kind.lower() == "string" and not _STRING_LITERAL.match(text.strip()):
        return json.dumps(text)
    return text

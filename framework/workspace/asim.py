"""ASIM parser names (https://learn.microsoft.com/azure/sentinel/normalization-about-parsers).

Every ASIM schema has unifying parsers under two families of names: built into
Sentinel, ``_Im_<Schema>`` (with filtering parameters) and ``_ASim_<Schema>``
(without); and deployed to a workspace from Azure-Sentinel, ``im<Schema>`` and
``ASim<Schema>``. Source parsers follow the same pattern (``_Im_<Schema>_<Source>``,
``vim<Schema><Source>``, ``ASim<Schema><Source>``), and ``vim<Schema>Empty``
(``_Im_<Schema>_Empty``) returns no rows with every column of the schema.

A parser file's ``EquivalentBuiltInParser`` links its two names; a unifying
parser whose file says only ``ParserName: imAuthentication`` with
``Normalization: Schema: Authentication`` is linked to ``_Im_Authentication`` too.
A unifying name no file declares, of a schema whose Empty parser is declared,
is typed by that schema: it returns the Empty parser's columns (and a test's rows).
The unifying parsers union their source parsers with ``union isfuzzy=true``, so,
as in Kusto, a source parser the workspace does not declare is left out: it adds
no rows, and no columns beyond the schema's (every source parser returns the
schema). When the schema's Empty parser is not declared either, the columns of
the unifying parser's result are not all known: binding then treats a column
it does not know as one of unknown type rather than as an error.
"""

from __future__ import annotations

import re

from dac.workspace import Workspace
from dac.workspace.functions import StoredFunction

BUILT_IN = re.compile(r"^_(Im|ASim)_[A-Za-z0-9]+(_[A-Za-z0-9]+)?$")
DEPLOYED = re.compile(r"^(im|ASim|vim)[A-Z][A-Za-z0-9]*$")
_EMPTY = re.compile(r"^(?:vim([A-Za-z0-9]+)Empty|_Im_([A-Za-z0-9]+)_Empty)$")


def unifying_names(schema: str) -> tuple[str, ...]:
    """The four names of a schema's unifying parsers: built-in and deployed, filtering and not."""
    return (f"_Im_{schema}", f"im{schema}", f"_ASim_{schema}", f"ASim{schema}")


def link(workspace: Workspace) -> None:
    """Add each unifying parser's built-in name when its file gives only the deployed one."""
    for name, function in list(workspace.functions.items()):
        if function.schema is None or name != function.name:
            continue
        for deployed, built_in in ((f"im{function.schema}", f"_Im_{function.schema}"),
                                   (f"ASim{function.schema}", f"_ASim_{function.schema}")):
            if name == deployed and built_in not in workspace.functions:
                workspace.functions[built_in] = function


def schema_typed(workspace: Workspace) -> dict[str, StoredFunction]:
    """Unifying names no file declares, each with the Empty parser of its schema."""
    typed: dict[str, StoredFunction] = {}
    for name, function in workspace.functions.items():
        match = _EMPTY.match(name)
        if match is None:
            continue
        for unifying in unifying_names(match.group(1) or match.group(2)):
            if unifying not in workspace.functions:
                typed.setdefault(unifying, function)
    return typed


def is_asim_name(name: str) -> bool:
    return bool(BUILT_IN.match(name) or DEPLOYED.match(name))


def schema_of(name: str) -> str | None:
    """The schema part of a unifying parser's name (``_Im_Dns`` -> ``Dns``), else None."""
    match = re.match(r"^(?:_Im_|_ASim_)([A-Za-z0-9]+)$", name) or re.match(r"^(?:im|ASim)([A-Z][A-Za-z0-9]*)$", name)
    return match.group(1) if match else None


def has_empty_parser(workspace: Workspace, schema: str | None) -> bool:
    """Whether the workspace declares the Empty parser of ``schema``, which lists all of its columns."""
    return any(_EMPTY.match(name) and function.schema == schema for name, function in workspace.functions.items())

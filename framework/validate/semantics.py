"""The query must make sense on the rule's platforms, and the rule must fit its query.

The query is bound against each target platform's table catalog (see
``dac.kql.binder``): unknown tables and columns (``Timestamp`` on a
Sentinel table), wrong arities and operand types Kusto rejects are reported
where they are in the query. With the result schema known, the rule's own
references are checked against it: entity mappings, custom details and alert
details overrides must name columns the query returns, and the tables the
query reads must be declared in ``requiredDataConnectors`` (and the other
way round), so the rule's metadata cannot drift from what it really needs.
"""

from __future__ import annotations

import re
from typing import Any

from dac import catalog
from dac.errors import DacError, DacWarning, Location, did_you_mean
from dac.kql import KqlSyntaxError
from dac.kql.errors import KqlUnsupportedError
from dac.kql import ast
from dac.kql.binder import Binding, bind
from dac.rules.model import Rule
from dac.workspace.functions import FunctionError

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class QueryBindingCheck:
    """Binds the query on each platform and checks the rule's column and table references."""

    id = "kql-binding"
    summary = "the query binds on the rule's platforms and the rule's mappings match its result"

    def check(self, rule: Rule) -> list[DacError]:
        query = rule.query
        if query is None:
            return []
        try:
            platforms = [catalog.normalise_platform(p) for p in rule.platforms]
        except DacError:
            return []  # an unknown platform name is the schema check's finding
        findings: list[DacError] = []
        first: Binding | None = None
        try:
            tree = rule.syntax_tree()
        except KqlSyntaxError:
            return []  # QuerySyntaxCheck reports it
        for platform in platforms:
            binding = bind(tree, platform)
            suffix = f" (on {catalog.PLATFORMS[platform]})" if len(platforms) > 1 else ""
            for error in binding.errors:
                if isinstance(error, KqlSyntaxError):
                    continue  # QuerySyntaxCheck reports it
                where = rule.query_location(error.line, error.column) if error.line else rule.location("query")
                if isinstance(error, FunctionError):  # inside a workspace function: reported in its file
                    findings.append(error.finding(where))
                elif isinstance(error, KqlUnsupportedError):
                    # valid KQL the evaluator cannot run (hll(), a plugin): not the rule's defect, but its
                    # unit tests cannot run either, which validate says before dac test refuses
                    findings.append(DacWarning(f"{error.message}{suffix}; the query is valid KQL, but dac test "
                                               "cannot run it", where, check="kql-binding"))
                else:
                    findings.append(DacError(error.message + suffix, where, check=getattr(error, "check", "")))
            first = first or binding
        if first is None or first.errors:
            return findings
        if first.columns is not None:
            findings.extend(self._column_references(rule, [name for name, _ in first.columns]))
        findings.extend(self._data_types(rule, first.tables, first.through_functions, _calls_asim(tree)))
        return findings

    def _column_references(self, rule: Rule, columns: list[str]) -> list[DacError]:
        findings = []

        def need(column: Any, what: str, *key: Any) -> None:
            if isinstance(column, str) and column not in columns:
                findings.append(DacError(
                    f"{what} '{column}' is not a column of the query's result{did_you_mean(column, columns)}",
                    rule.location(*key)))

        for i, mapping in enumerate(rule.data.get("entityMappings") or []):
            for j, field in enumerate((mapping or {}).get("fieldMappings") or [] if isinstance(mapping, dict) else []):
                if isinstance(field, dict):
                    need(field.get("columnName"), "entity mapping column", "entityMappings", i, "fieldMappings", j, "columnName")
        details = rule.data.get("customDetails")
        if isinstance(details, dict):
            for name, column in details.items():
                need(column, f"custom detail '{name}' column", "customDetails", name)
        override = rule.data.get("alertDetailsOverride")
        if isinstance(override, dict):
            for key, value in override.items():
                if key.endswith("ColumnName"):
                    need(value, f"{key}", "alertDetailsOverride", key)
                elif isinstance(value, str):
                    for placeholder in _PLACEHOLDER.findall(value):
                        need(placeholder, f"{key} placeholder", "alertDetailsOverride", key)
        return findings

    def _data_types(self, rule: Rule, tables: set[str], through_functions: set[str],
                    calls_asim: bool = False) -> list[DacError]:
        """Warnings, not errors: connectors provide tables their dataTypes do not all name.

        A table read through a workspace function (a parser) counts as read for a connector the
        rule lists, but needs no connector of its own: an ASIM parser reads many sources, of
        which the rule's connectors name the ones it is about. A query that calls an ASIM parser
        reads whatever source parsers the workspace deploys, which the rule files cannot know:
        the connectors such a rule lists are its sources and are not second-guessed.
        """
        connectors = rule.data.get("requiredDataConnectors")
        if not isinstance(connectors, list):
            return []
        provided: list[tuple[set[str], list[tuple[str, Location]]]] = []
        for i, connector in enumerate(connectors):
            if not isinstance(connector, dict):
                continue
            declared = [(t, rule.location("requiredDataConnectors", i, "dataTypes", j))
                        for j, t in enumerate(connector.get("dataTypes") or []) if isinstance(t, str)]
            # 'OfficeActivity (Teams)', 'SecurityAlert (IPC)': Sentinel's data types name a table, then
            # in brackets the part of it a connector fills
            names = {_DATA_TYPE_PART.sub("", t) for t, _ in declared} | CONNECTOR_TABLES.get(
                str(connector.get("connectorId")), set())
            provided.append((names, declared))
        everything = set().union(*(names for names, _ in provided)) if provided else set()
        findings: list[DacError] = [
            DacWarning(f"the query reads table '{table}', which no requiredDataConnectors entry provides",
                       rule.location("requiredDataConnectors"), check="data-connectors")
            for table in sorted(tables - everything)
        ]
        for names, declared in provided:
            if calls_asim or names & (tables | through_functions):
                continue  # the connector is needed for some table the query reads
            findings.extend(DacWarning(f"dataTypes lists '{name}', but the query reads no table of this connector", where,
                                       check="data-connectors")
                            for name, where in declared)
        return findings


_DATA_TYPE_PART = re.compile(r"\s*\([^()]*\)\s*$")


def _calls_asim(tree: ast.QueryBody) -> bool:
    """Whether the query calls an ASIM parser (``_Im_Dns(...)``, ``imAuthentication``, ``ASimDns``)."""
    from dac.workspace.asim import is_asim_name

    return any(isinstance(node, (ast.Call, ast.Name)) and is_asim_name(node.name) for node in tree.walk())


# Tables a connector provides beyond the dataTypes rule files usually list (Sentinel's UEBA
# connector, "BehaviorAnalytics", also fills IdentityInfo and the peer/access analytics tables).
CONNECTOR_TABLES = {
    "BehaviorAnalytics": {"BehaviorAnalytics", "IdentityInfo", "UserPeerAnalytics", "UserAccessAnalytics"},
}


# Functions that reach outside the workspace's own tables.
_CROSS_RESOURCE = {"workspace", "app", "resource", "adx", "arg", "cluster", "database"}


class NrtRestrictionsCheck:
    """Near-real-time rules run on each ingestion batch of the workspace's own tables.

    Sentinel refuses NRT queries that reach other workspaces or resources
    (workspace(), app(), resource(), adx(), arg()) or range over every table
    (union *, table wildcards, search/find across tables); see
    https://learn.microsoft.com/azure/sentinel/near-real-time-rules#considerations
    """

    id = "nrt-restrictions"
    summary = "an NRT rule avoids what Sentinel refuses in near-real-time queries"

    def check(self, rule: Rule) -> list[DacError]:
        if rule.kind != "NRT" or rule.query is None:
            return []
        try:
            tree = rule.syntax_tree()
        except KqlSyntaxError:
            return []
        findings = []
        for node in tree.walk():
            problem = None
            if isinstance(node, ast.Call) and node.name in _CROSS_RESOURCE:
                problem = f"NRT rules cannot query other workspaces or resources ({node.name}())"
            elif isinstance(node, ast.Union) and any(
                isinstance(leg, ast.Star) or (isinstance(leg, ast.Name) and "*" in leg.name) for leg in node.legs
            ):
                problem = "NRT rules cannot union every table or tables by wildcard"
            elif isinstance(node, (ast.Search, ast.Find)):
                problem = "NRT rules cannot use search or find across tables"
            if problem:
                findings.append(DacError(problem, rule.query_location(node.line, node.column)))
        return findings

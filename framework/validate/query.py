"""The rule's query must parse as KQL.

A syntax error is reported where it is in the YAML file, not in the query
text, so an editor jumps straight to the offending token.
"""

from __future__ import annotations

from dac.errors import DacError, DacWarning
from dac.kql import KqlSyntaxError, KqlUnsupportedError
from dac.rules.model import Rule


class QuerySyntaxCheck:
    """Parses ``query``; a rule without a string query is the schema check's concern."""

    id = "kql-syntax"
    summary = "the query parses as KQL"

    def check(self, rule: Rule) -> list[DacError]:
        query = rule.query
        if query is None:
            return []
        try:
            rule.syntax_tree()
        except KqlSyntaxError as err:
            where = rule.query_location(err.line, err.column) if err.line >= 1 else rule.location("query")
            if isinstance(err, KqlUnsupportedError):  # a Kusto operator dac refuses (refusals.yaml): valid KQL
                return [DacWarning(f"{err.message}; the query is valid KQL, but dac test cannot run it", where,
                                   check=self.id)]
            finding = DacError(f"KQL syntax error: {err.message}", where)
            finding.detail = err.caret()  # the query line with a caret under the column
            return [finding]
        return []

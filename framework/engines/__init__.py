"""Engines that run a parsed KQL query: the row engine (``dac.kql.evaluate``) and SQL engines.

The row engine is the reference: fixtures, unit tests and every semantic of Kusto
that dac implements live there. A SQL engine (DuckDB on one machine, Spark past
one) runs the same syntax tree compiled to SQL with sqlglot, for log volumes the
row engine cannot read in reasonable time. A SQL engine answers exactly as the
row engine would or refuses before running (``EngineRefusal``, naming the
operator or function and its position): never a different answer.

Every engine sees values in one physical form, described in ``dac.engines.physical``.
"""

from __future__ import annotations

ENGINES = ("python", "duckdb", "spark")

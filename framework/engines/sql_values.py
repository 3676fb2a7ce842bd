"""KQL values as SQL literals in the physical form of ``dac.engines.physical``.

Used for the query's literals, for datatable rows, and for constant
subexpressions the row engine folds (a value it computed is exact by definition).
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlglot import exp

from dac.engines.physical import EngineRefusal, sql_type
from dac.kql import values as V


def typed_null(kql_type: str, dialect: str) -> exp.Expression:
    return exp.cast(exp.null(), sql_type(kql_type, dialect))


def micros(span: timedelta) -> int:
    """A timespan as the BIGINT microseconds that hold it."""
    return (span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds


def literal(value: Any, kql_type: str, dialect: str) -> exp.Expression:
    """``value`` (held as the row engine holds a value of ``kql_type``) as a typed SQL literal."""
    if value is None:
        return typed_null(kql_type, dialect)
    if kql_type == "string":
        return exp.Literal.string(V.to_string(value))
    if kql_type == "bool":
        return exp.true() if value else exp.false()
    if kql_type in ("int", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise EngineRefusal(f"the {kql_type} value {value!r}", dialect)
        return exp.cast(exp.Literal.number(value), sql_type(kql_type, dialect))
    if kql_type == "real":
        number = float(value)
        text = "nan" if math.isnan(number) else ("inf" if number > 0 else "-inf") if math.isinf(number) else repr(number)
        return exp.cast(exp.Literal.string(text), sql_type("real", dialect))
    if kql_type == "datetime" and isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ", timespec="microseconds")),
                        sql_type("datetime", dialect))
    if kql_type == "timespan" and isinstance(value, timedelta):
        return exp.cast(exp.Literal.number(micros(value)), sql_type("timespan", dialect))
    if kql_type == "guid" and isinstance(value, uuid.UUID):
        return exp.Literal.string(str(value))
    if kql_type == "dynamic":
        return exp.cast(exp.Literal.string(V.to_json_text(value)), sql_type("dynamic", dialect))
    raise EngineRefusal(f"a {kql_type} literal", dialect)

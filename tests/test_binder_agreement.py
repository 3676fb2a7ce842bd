"""dac's binder agrees with Kusto's (the official language service) where rules depend on it.

Each case is a query and the finding dac reports on it (None: it binds clean). The
expectations were settled by running the official binder (../shared/tools/kusto-oracle)
against the Log Analytics catalog; ``test_the_official_binder_gives_the_same_verdicts``
re-runs it when node and the package are available, so a case cannot drift from Kusto.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import CORPUS, SHARED
from dac.kql.binder import check_query

# (query, platform, a piece of dac's first finding, or None when the query binds clean)
CASES = [
    # union isfuzzy=true: an unknown column inside a leg that resolves is still an error; a leg naming what
    # does not exist, anywhere in it, is none (https://learn.microsoft.com/kusto/query/union-operator)
    ("union isfuzzy=true (SigninLogs | where Bogus == 1), (NoSuchTable | where x == 1)", "sentinel",
     "unknown column or variable 'Bogus'"),
    ("union isfuzzy=true SigninLogs, (AuditLogs | where Nope == 1)", "sentinel", "unknown column or variable 'Nope'"),
    ("union isfuzzy=true SigninLogs, AuditLogs | where Nope == 1", "sentinel", "unknown column or variable 'Nope'"),
    ("union isfuzzy=true SigninLogs, (NoSuchTable | where tolower(1, 2) == 1)", "sentinel", "takes 1 argument"),
    # ... and the union's columns are then unknown: the missing table may have any
    ("union isfuzzy=true SigninLogs, NoSuchTable | project Bogus", "sentinel", None),
    ("union isfuzzy=true SigninLogs, (SigninLogs | join NoSuch on UserPrincipalName) | where Bogus == 1", "sentinel",
     None),
    ("union isfuzzy=true SigninLogs, NoSuchTable | where UserPrincipalName > 1", "sentinel", "operator '>'"),
    ("union isfuzzy=false SigninLogs, NoSuchTable", "sentinel", "'NoSuchTable' is not declared"),
    # bag_unpack: the bags' keys become columns, so the output schema is open
    # (https://learn.microsoft.com/kusto/query/bag-unpack-plugin)
    ("SigninLogs | evaluate bag_unpack(LocationDetails) | where city == 'x'", "sentinel", None),
    ("SigninLogs | evaluate bag_unpack(LocationDetails, 'p_') | summarize count() by p_city", "sentinel", None),
    ("SigninLogs | project LocationDetails | evaluate bag_unpack(LocationDetails) | where UserPrincipalName == 'x'",
     "sentinel", None),
    ("SigninLogs | evaluate bag_unpack(LocationDetails) | where UserPrincipalName > 1", "sentinel", "operator '>'"),
    ("SigninLogs | evaluate bag_unpack(Nope)", "sentinel", "unknown column 'Nope'"),
    # search: the union of its tables behind $table (https://learn.microsoft.com/kusto/query/search-operator)
    ("search in (SigninLogs) 'x' | where Timestamp > ago(1d)", "sentinel", "unknown column or variable 'Timestamp'"),
    ("search in (DeviceNetworkEvents) 'tcp' | where Timestamp > ago(30d)", "sentinel",
     "unknown column or variable 'Timestamp'"),
    ("search in (SigninLogs, AuditLogs) Bogus == 1", "sentinel", "unknown column or variable 'Bogus'"),
    ("search in (SigninLogs, AuditLogs) 'x' | where OperationName == 'a' and AppDisplayName == 'b' and $table == 'c'",
     "sentinel", None),
    ("search in (Signin*) 'x' | where Bogus == 1", "sentinel", "unknown column or variable 'Bogus'"),
    ("search in (SigninLogs) 'x' | where UserPrincipalName > 1", "sentinel", "operator '>'"),
    ("let T = SigninLogs | project UserPrincipalName; search in (T) 'x' | where AppDisplayName == 'b'", "sentinel",
     "unknown column or variable 'AppDisplayName'"),
    ("search in (CrowdStrikeAlerts, CloudProcessEvents) 'x' | project ProcessId_string, ProcessId_long", "sentinel",
     None),
    ("search in (CrowdStrikeAlerts, CloudProcessEvents) 'x' | where ProcessId == 1", "sentinel",
     "unknown column or variable 'ProcessId'"),
    ("search in (NoSuch_CL) 'x'", "sentinel", "table 'NoSuch_CL' is not declared"),
    ("search 'x' | where Bogus == 1", "defender", "unknown column or variable 'Bogus'"),
    ("search 'x' | where FileName == 'a'", "defender", None),
    # find: source_, then the project list, else the tables' columns (https://learn.microsoft.com/kusto/query/find-operator)
    ("find in (SigninLogs, AuditLogs) where Bogus == 'x'", "sentinel", "unknown column or variable 'Bogus'"),
    ("find in (SigninLogs, AuditLogs) where UserPrincipalName == 'x' | project AppDisplayName, OperationName",
     "sentinel", None),
    ("find in (SigninLogs, AuditLogs) where UserPrincipalName == 'x' project AppDisplayName | project ActivityDisplayName",
     "sentinel", "unknown column or variable 'ActivityDisplayName'"),
    ("find in (SigninLogs) where UserPrincipalName == 'x' project Bogus", "sentinel", "no table has the column 'Bogus'"),
    ("find withsource=T in (SigninLogs) where UserPrincipalName == 'x' | project T, source_", "sentinel",
     "unknown column or variable 'source_'"),
    ("find in (CrowdStrikeAlerts, CloudProcessEvents) where ProcessId == 1 | project ProcessId", "sentinel", None),
    ("find in (DeviceFileEvents, DeviceProcessEvents) where SHA1 == 'a' | where Timestamp > ago(10d)", "sentinel",
     "unknown column or variable 'Timestamp'"),
    # argument types the binder insists on (https://learn.microsoft.com/kusto/query/parse-json-function and each
    # function's page): a known type that is not the parameter's is an error
    ("print parse_json(1)", "sentinel", "expects a string"),
    ("SigninLogs | extend d = todynamic(IsInteractive)", "sentinel", "expects a string"),
    ("SigninLogs | extend d = parse_json(LocationDetails), e = todynamic(tostring(LocationDetails))", "sentinel", None),
    ("SigninLogs | extend d = todynamic(LocationDetails.city)", "sentinel", None),
    ("print toguid(1)", "sentinel", "expects a string"),
    ("print url_encode(1)", "sentinel", "expects a string"),
    ("print base64_decode_tostring(true)", "sentinel", "expects a string"),
    ("print ipv4_is_private(1)", "sentinel", "expects a string"),
    ("print sqrt('4')", "sentinel", "expects a number"),
    ("print abs(true)", "sentinel", "expects a number or timespan"),
    ("print abs(1d)", "sentinel", None),
    ("print not(1)", "sentinel", "expects a bool"),
    ("print array_length('abc')", "sentinel", "expects a dynamic"),
    ("print array_length(dynamic([1, 2]))", "sentinel", None),
    ("print make_string(1.5)", "sentinel", "expects an integer"),
    ("print unicode_codepoints_to_string(65)", "sentinel", None),
    # a pattern invocation has its definition's schema, and a pattern is no undeclared function
    # (https://learn.microsoft.com/kusto/query/pattern-statement)
    ("declare pattern p = (a:string) { ('x') = { SigninLogs | project UserPrincipalName }; };"
     " p('x') | where UserPrincipalName != ''", "sentinel", None),
    ("declare pattern p = (a:string) { ('x') = { SigninLogs | project UserPrincipalName }; };"
     " p('x') | where AppDisplayName != ''", "sentinel", "unknown column or variable 'AppDisplayName'"),
    ("declare pattern p = (a:string)[k:string] { ('x').['s'] = { SigninLogs }; ('x').['a'] = { AuditLogs }; };"
     " p('x').s | join kind=inner (p('x').['a']) on OperationName | project UserPrincipalName, ActivityDisplayName",
     "sentinel", None),
    ("declare pattern p = (a:string) { ('x') = { SigninLogs | where Bogus == 1 }; }; print 1", "sentinel",
     "unknown column or variable 'Bogus'"),
    ("declare pattern p = (a:string, b:string) { ('x', 'y') = { SigninLogs }; }; p('x')", "sentinel",
     "takes 2 argument(s)"),
    # without the declared path: the official binder accepts it, with no columns (dac's evaluator refuses it)
    ("declare pattern p = (a:string)[k:string] { ('x').['s'] = { SigninLogs }; }; p('x') | count",
     "sentinel", None),
    ("declare pattern p; p('x')", "sentinel", "One or more pattern references were not declared"),
]


@pytest.mark.parametrize(("query", "platform", "finding"), CASES, ids=[c[0][:60] for c in CASES])
def test_dac_reports_what_the_official_binder_reports(query: str, platform: str, finding: str | None) -> None:
    errors = check_query(query, platform)
    if finding is None:
        assert errors == []
    else:
        assert errors and finding in errors[0].message, [str(e) for e in errors]


def test_the_official_binder_gives_the_same_verdicts() -> None:
    """The expectations above are Kusto's: the official binder rejects exactly the cases with a finding."""
    from test_kql_oracle import _oracle_package

    script = SHARED / "tools" / "kusto-oracle" / "oracle.js"
    catalog = CORPUS / "log_analytics_tables.csv"
    if not script.is_file() or not catalog.is_file():
        pytest.skip("../shared (the kusto-oracle and the Log Analytics catalog) is not available")
    package = _oracle_package()
    # Defender's tables are in the Log Analytics catalog too (with TimeGenerated instead of Timestamp)
    lines = "".join(json.dumps({"id": str(i), "query": q.replace("Timestamp", "TimeGenerated") if p == "defender"
                                else q}) + "\n" for i, (q, p, _) in enumerate(CASES))
    done = subprocess.run(["node", str(script), str(catalog)], input=lines, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "KUSTO_LS": str(package)}, check=True)
    official = {r["id"]: bool(r["errors"]) for r in map(json.loads, done.stdout.splitlines())}
    differ = [query for i, (query, _, finding) in enumerate(CASES) if official[str(i)] != (finding is not None)]
    assert differ == []

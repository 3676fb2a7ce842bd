"""dac validate binds each query on its platforms and checks the rule against the query's result."""

from __future__ import annotations

from pathlib import Path

import pytest

from dac.cli import main
from dac.errors import DacWarning
from dac.validate import validate_paths

HEADER = """id: 5d1d2a52-7b0e-4a3e-9a54-8d3f3b6c1a10
name: Test rule
description: test
severity: Medium
requiredDataConnectors:
  - connectorId: MicrosoftThreatProtection
    dataTypes:
      - UrlClickEvents
queryFrequency: 1h
queryPeriod: 1h
triggerOperator: gt
triggerThreshold: 0
tactics: [InitialAccess]
platforms: [Defender]
relevantTechniques:
  - T1566
version: 1.0.0
kind: Scheduled
"""


def write_rule(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "rule.yaml"
    path.write_text(header + body)
    return path


def messages(path: Path) -> list[str]:
    return [f"{f.location.line}:{f.location.column}: {'warning: ' if isinstance(f, DacWarning) else ''}{f.message}"
            for f in validate_paths([path])]


def test_timestamp_on_a_sentinel_table_is_reported_with_the_right_column(tmp_path: Path) -> None:
    path = write_rule(tmp_path, "platforms: [Sentinel, Defender]\nquery: |\n  UrlClickEvents\n  | where Timestamp > ago(1h)\n",
                      HEADER.replace("platforms: [Defender]\n", ""))
    assert messages(path) == [
        "21:11: unknown column or variable 'Timestamp' (Sentinel (Log Analytics) tables have 'TimeGenerated') (on Sentinel)"
    ]


def test_unknown_table_suggests_the_catalog_name(tmp_path: Path) -> None:
    path = write_rule(tmp_path, "query: |\n  UrlClickEvent\n  | take 1\n")
    assert messages(path)[0] == "20:3: unknown table 'UrlClickEvent' (did you mean 'UrlClickEvents'?)"


def test_operand_types_kusto_rejects(tmp_path: Path) -> None:
    path = write_rule(tmp_path, "query: |\n  UrlClickEvents\n  | where Timestamp > 1h\n")
    assert messages(path) == ["21:21: the operator '>' is not defined for the operand types datetime and timespan"]


def test_seed_style_bool_against_string_binds(tmp_path: Path) -> None:
    # The official binder accepts IsClickedThrough != "0" on a bool column (see the kusto-oracle README).
    path = write_rule(tmp_path, 'query: |\n  UrlClickEvents\n  | where IsClickedThrough != "0"\n')
    assert messages(path) == []


def test_entity_mappings_and_custom_details_must_be_result_columns(tmp_path: Path) -> None:
    body = (
        "query: |\n  UrlClickEvents\n  | summarize Clicks = count() by AccountUpn\n"
        "entityMappings:\n  - entityType: Account\n    fieldMappings:\n"
        "      - identifier: FullName\n        columnName: AccountUPN\n"
        "customDetails:\n  Clicks: Clicks\n  Url: Url\n"
        "alertDetailsOverride:\n  alertDisplayNameFormat: Clicks by {{AccountUpn}} on {{Workload}}\n"
    )
    assert messages(write_rule(tmp_path, body)) == [
        "26:21: entity mapping column 'AccountUPN' is not a column of the query's result (did you mean 'AccountUpn'?)",
        "29:8: custom detail 'Url' column 'Url' is not a column of the query's result",
        "31:27: alertDisplayNameFormat placeholder 'Workload' is not a column of the query's result",
    ]


def test_data_type_drift_is_a_warning_not_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_rule(tmp_path, "query: |\n  EmailEvents\n  | take 1\n")
    assert messages(path) == [
        "6:3: warning: the query reads table 'EmailEvents', which no requiredDataConnectors entry provides",
        "8:9: warning: dataTypes lists 'UrlClickEvents', but the query reads no table of this connector",
    ]
    assert main(["validate", str(path)]) == 0
    assert "all rules valid (2 warning(s))" in capsys.readouterr().out


def test_nrt_rules_cannot_union_every_table(tmp_path: Path) -> None:
    header = HEADER.replace("kind: Scheduled", "kind: NRT").replace("queryFrequency: 1h\nqueryPeriod: 1h\ntriggerOperator: gt\ntriggerThreshold: 0\n", "")
    path = write_rule(tmp_path, "query: |\n  union UrlClick*\n  | take 1\n", header)
    assert "16:3: NRT rules cannot union every table or tables by wildcard" in messages(path)


def test_approximated_series_functions_are_a_warning_at_the_call(tmp_path: Path) -> None:
    query = ("query: |\n  UrlClickEvents\n  | make-series n = count() on Timestamp step 1h\n"
             "  | extend (marks, score, baseline) = series_decompose_anomalies(n)\n")
    path = write_rule(tmp_path, query)
    assert messages(path) == ["22:39: warning: series_decompose_anomalies(): its anomaly score and its seasonality "
                              "autodetection follow our reading of Kusto's documentation, which gives no formula; "
                              "results near a threshold may differ from Kusto's"]
    assert main(["validate", str(path)]) == 0  # a warning, not a failure
    weekly = write_rule(tmp_path, query.replace("anomalies(n)", "anomalies(n, 1.5, 168)"))
    assert [m.split(" follow")[0] for m in messages(weekly)] == [
        "22:39: warning: series_decompose_anomalies(): its anomaly score"]
    fitted = write_rule(tmp_path, query.replace("(marks, score, baseline) = series_decompose_anomalies(n)",
                                                "(b, s, t, r) = series_decompose(n, 0, 'linefit')"))
    assert messages(fitted) == []
    detected = write_rule(tmp_path, query.replace("(marks, score, baseline) = series_decompose_anomalies(n)",
                                                  "(b, s, t, r) = series_decompose(n, -1)"))
    assert [m.split(" follow")[0] for m in messages(detected)] == [
        "22:27: warning: series_decompose(): its seasonality autodetection"]


def test_an_asim_rules_source_connectors_are_not_second_guessed(tmp_path: Path) -> None:
    """ASIM parsers read whatever sources the workspace deploys: the dataTypes such a rule lists are its sources."""
    from dac.kql import parse
    from dac.rules.model import load_rule
    from dac.validate.semantics import QueryBindingCheck, _calls_asim

    assert _calls_asim(parse("_Im_Dns(starttime=ago(1h)) | take 1"))
    assert _calls_asim(parse("imAuthentication | take 1"))
    assert not _calls_asim(parse("DnsEvents | take 1"))
    path = tmp_path / "asim.yaml"
    path.write_text("id: 3f0a0f3e-8a53-4b2b-9d1e-0c1b2a3d4e5f\nname: n\nrequiredDataConnectors:\n"
                    "  - connectorId: DNS\n    dataTypes:\n      - DnsEvents\nquery: |\n  DnsEvents\n", encoding="utf-8")
    rule = load_rule(path)
    unrelated = QueryBindingCheck()._data_types(rule, {"SigninLogs"}, set())
    assert any("dataTypes lists 'DnsEvents'" in f.message for f in unrelated)
    assert not any("dataTypes lists" in f.message
                   for f in QueryBindingCheck()._data_types(rule, {"SigninLogs"}, set(), calls_asim=True))


def test_a_data_type_naming_part_of_a_table_provides_the_table(tmp_path: Path) -> None:
    """Sentinel's data types such as 'OfficeActivity (Teams)' are the OfficeActivity table, in part."""
    from dac.rules.model import load_rule
    from dac.validate.semantics import QueryBindingCheck

    path = tmp_path / "teams.yaml"
    path.write_text("id: 3f0a0f3e-8a53-4b2b-9d1e-0c1b2a3d4e5f\nname: n\nrequiredDataConnectors:\n"
                    "  - connectorId: Office365\n    dataTypes:\n      - OfficeActivity (Teams)\nquery: |\n"
                    "  OfficeActivity\n", encoding="utf-8")
    assert QueryBindingCheck()._data_types(load_rule(path), {"OfficeActivity"}, set()) == []
    assert QueryBindingCheck()._data_types(load_rule(path), {"SigninLogs"}, set()) != []


def test_tables_named_to_a_function_that_reads_table_of_its_parameter_are_read() -> None:
    """Entra ID rules write let f = (tableName:string) { table(tableName) | ... }; f("SigninLogs")."""
    from dac.kql import parse
    from dac.kql.binder import CatalogTables, tables_read

    query = ('let aadFunc = (tableName:string) { table(tableName) | where ResultType == 500121 };\n'
             'let a = aadFunc("SigninLogs"); let b = aadFunc("AADNonInteractiveUserSignInLogs");\nunion a, b')
    assert tables_read(parse(query), CatalogTables("sentinel")) == {"SigninLogs", "AADNonInteractiveUserSignInLogs"}
    plain = 'let f = (x:string) { SigninLogs | where UserPrincipalName == x };\nf("AuditLogs")'
    assert tables_read(parse(plain), CatalogTables("sentinel")) == {"SigninLogs"}


def test_names_may_start_with_digits_and_underscore() -> None:
    """5_Min_Count is a name to the official parser (issue 14's corpus rule); 5m stays a timespan."""
    from dac.kql import parse
    from dac.kql.binder import bind

    assert bind("SigninLogs | summarize 5_Min_Count = count() by bin(TimeGenerated, 5m) | where 5_Min_Count > 1",
                "sentinel").errors == []
    assert parse("print x = 5m").statements[0].source.items[0].expr.__class__.__name__ == "Literal"


def test_a_kusto_aggregate_the_evaluator_lacks_is_a_warning_not_a_finding_against_the_rule(tmp_path: Path) -> None:
    from dac.validate import validate_paths

    path = tmp_path / "hll.yaml"
    path.write_text("id: 3f0a0f3e-8a53-4b2b-9d1e-0c1b2a3d4e5f\nname: n\nquery: |\n"
                    "  SigninLogs\n  | summarize hll(ResultType)\nversion: 1.0.0\n", encoding="utf-8")
    findings = [f for f in validate_paths([path]) if f.check == "kql-binding"]
    assert [type(f).__name__ for f in findings] == ["DacWarning"]
    assert "aggregate function 'hll()' cannot be evaluated by dac (inexact)" in findings[0].message
    assert "the query is valid KQL" in findings[0].message


def test_columns_made_by_parse_kv_scan_and_partition_are_known(tmp_path: Path) -> None:
    # Each operator's output schema comes from the same code that runs it (check mode over empty tables).
    path = write_rule(tmp_path, (
        "query: |\n  UrlClickEvents\n"
        '  | parse-kv Url as (host:string, port:long) with (pair_delimiter="&", kv_delimiter="=")\n'
        "  | sort by Timestamp asc\n"
        "  | scan with_match_id=m declare (started:datetime) with (step s1: port > 0 => started = Timestamp;)\n"
        "  | partition hint.strategy=native by host (top 1 by started)\n"
        '  | where * has "x"\n'
        "  | project host, port, started, m\n"))
    assert messages(path) == []


def test_a_scan_step_reference_to_a_missing_column_is_reported(tmp_path: Path) -> None:
    path = write_rule(tmp_path, "query: |\n  UrlClickEvents\n  | scan with (step s1: s1.NoSuch == 1;)\n")
    assert messages(path) == ["21:27: step 's1' has no column 'NoSuch'"]


def test_columns_made_by_top_hitters_sample_distinct_and_macro_expand_are_known(tmp_path: Path) -> None:
    # top-hitters names its count column after the value; sample-distinct keeps only its column.
    path = write_rule(tmp_path, (
        "query: |\n  let Hosts = UrlClickEvents | sample-distinct 5 of Url;\n"
        "  macro-expand entity_group [UrlClickEvents] as X (X | top-hitters 3 of Url)\n"
        "  | where Url in (Hosts)\n"
        "  | project Url, approximate_count_Url\n"))
    assert messages(path) == []


def test_a_column_dropped_by_sample_distinct_is_reported(tmp_path: Path) -> None:
    path = write_rule(tmp_path, "query: |\n  UrlClickEvents\n  | sample-distinct 5 of Url\n  | project Timestamp\n")
    assert len(messages(path)) == 1 and "Timestamp" in messages(path)[0]


def test_fork_and_graph_operators_are_no_finding_and_the_rest_is_still_bound(tmp_path: Path) -> None:
    # fork stands for its first leg in check mode (as the official binder takes it), make-graph opens the
    # schema: neither is a finding, and the query before them is still checked
    path = write_rule(tmp_path, "query: |\n  UrlClickEvents\n  | where NoSuch > 1\n  | fork (where Url has 'x')\n"
                                "  | make-graph Url --> Url with UrlClickEvents on Url\n")
    found = messages(path)
    assert len(found) == 1 and "NoSuch" in found[0]


@pytest.mark.parametrize("query, columns", [
    # the official binder's result type of each is a group whose first member is shown here
    ("SigninLogs | fork (project UserPrincipalName) (count)", [("UserPrincipalName", "string")]),
    ("SigninLogs | facet by ResultType with (project AppId)", [("AppId", "string")]),
    ("SigninLogs | facet by ResultType, AppId", [("ResultType", "string"), ("count_ResultType", "long")]),
    ("SigninLogs | project AppId | evaluate preview(5)", [("AppId", "string")]),
])
def test_a_query_of_several_result_tables_binds_to_its_first(query: str, columns: list) -> None:
    from dac.kql.binder import bind

    binding = bind(query, "sentinel")
    assert binding.errors == [] and binding.columns == columns


def test_an_error_in_any_fork_subquery_is_reported() -> None:
    from dac.kql.binder import bind

    (error,) = bind("SigninLogs | fork (count) (where NoSuch == 1)", "sentinel").errors
    assert "NoSuch" in error.message and (error.line, error.column) == (1, 34)

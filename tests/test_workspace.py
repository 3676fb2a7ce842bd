"""The workspace around the rules: custom tables, functions and parsers, ASIM names and watchlists.

Each declaration kind is used alike by ``dac validate`` (binding), ``dac test``
(fixture rows typed by it, the function evaluated) and ``dac run`` (data files
typed by it); names nothing declares are reported once, with the declaration
they need, by validate and test alike.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from conftest import SHARED
from dac import config
from dac.cli import main
from dac.kql.binder import bind
from dac.testing.runner import run_tests
from dac.validate import validate_paths
from dac.workspace import load_workspace

RULE_HEAD = """\
id: {id}
name: {name}
description: test
requiredDataConnectors: []
tactics: [InitialAccess]
relevantTechniques: [T1566]
version: 1.0.0
"""
OKTA_TABLE = {"Name": "Okta_CL", "Properties": [
    {"Name": "TimeGenerated", "Type": "DateTime"}, {"Name": "eventType_s", "Type": "String"},
    {"Name": "actor_alternateId_s", "Type": "String"}, {"Name": "client_ipAddress_s", "Type": "String"},
    {"Name": "outcome_result_s", "Type": "String"}, {"Name": "severity_d", "Type": "Double"},
]}
OKTA_PARSER = """\
id: 11111111-2222-3333-4444-555555555555
Function:
  Title: Parser for Okta
FunctionName: OktaEvents
FunctionAlias: Okta
FunctionParams:
  - Name: outcome
    Type: string
    Default: FAILURE
  - Name: since
    Type: timespan
    Default: 1d
FunctionQuery: |
  Okta_CL
  | where outcome_result_s == outcome
  | where TimeGenerated > ago(since)
  | project TimeGenerated, User = actor_alternateId_s, SrcIp = client_ipAddress_s, Outcome = outcome_result_s
"""


def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str], settings: str = "") -> Path:
    """A rules repository: pyproject.toml with [tool.dac], and ``files`` (path -> text) under it."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(f"[tool.dac]\nrules = [\"detections\"]\n{settings}", encoding="utf-8")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    config.use(None)
    return tmp_path


def rule(query: str, name: str = "Rule", rule_id: str = "7c7f1a39-3b1f-4a39-9f0c-7a5a1f3e2d10") -> str:
    return RULE_HEAD.format(id=rule_id, name=name) + "query: |\n" + textwrap.indent(textwrap.dedent(query), "  ")


def findings(path: str = "detections") -> list[str]:
    """Validation findings (the connector warnings aside: these rules name no connector)."""
    return [f"{Path(f.location.path).as_posix()}:{f.location.line}:{f.location.column}: [{f.check}] {f.message}"
            for f in validate_paths([path]) if f.check != "data-connectors"]


def results_of(path: str = "detections") -> list[tuple[str, str, list[str]]]:
    return [(r.case, r.status, r.details) for r in run_tests([path], jobs=1).results]


# --- custom tables ---------------------------------------------------------------


def test_custom_table_serves_validate_test_and_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    root = repo(tmp_path, monkeypatch, {
        "workspace/CustomTables/Okta_CL.json": json.dumps(OKTA_TABLE, indent=2),
        "detections/okta.yaml": rule("""\
            Okta_CL
            | where eventType_s == "user.session.start" and severity_d > 1
            | project actor_alternateId_s, TenantId
            """),
        "detections/okta.tests.yaml": textwrap.dedent("""\
            cases:
              - name: a session start is reported
                tables:
                  Okta_CL:
                    - {eventType_s: user.session.start, actor_alternateId_s: alice, severity_d: 2}
                    - {eventType_s: user.session.end, actor_alternateId_s: bob, severity_d: 2}
                expect:
                  - {actor_alternateId_s: alice, TenantId: ""}
            """),
        "data/Okta_CL.jsonl": '{"eventType_s": "user.session.start", "actor_alternateId_s": "carol", "severity_d": 3}\n',
    })
    assert findings() == []
    assert results_of() == [("a session start is reported", "PASS", [])]
    assert main(["run", "detections/okta.yaml", "--data", "data/Okta_CL.jsonl"]) == 0
    assert json.loads(capsys.readouterr().out) == {"actor_alternateId_s": "carol", "TenantId": ""}
    # a _CL table gets Log Analytics' standard columns; the declared type maps to KQL's
    columns = dict(load_workspace([root / "workspace"]).tables["Okta_CL"].columns)
    assert (columns["severity_d"], columns["TenantId"], columns["_ResourceId"]) == ("real", "string", "string")


def test_log_analytics_table_schema_form(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = {"properties": {"schema": {"name": "App_CL", "columns": [
        {"name": "TimeGenerated", "type": "datetime"}, {"name": "Count", "type": "int"}]}}}
    repo(tmp_path, monkeypatch, {"workspace/tables/App_CL.json": json.dumps(table),
                                 "detections/a.yaml": rule("App_CL | where Count > 1\n")})
    assert findings() == []
    assert bind("App_CL | where Count > 'x'", "sentinel").errors[0].message == \
        "the operator '>' is not defined for the operand types int and string"


def test_a_bad_declaration_is_a_located_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = '{\n  "Name": "Bad_CL",\n  "Properties": [\n    {"Name": "x", "Type": "Strin"},\n  ]\n}\n'
    repo(tmp_path, monkeypatch, {"workspace/CustomTables/Bad_CL.json": table,
                                 "workspace/CustomTables/Broken_CL.json": '{"Name": "Broken_CL", "Properties": [}',
                                 "detections/a.yaml": rule("Broken_CL | take 1\n")})
    assert findings() == [
        "detections/a.yaml:9:3: [workspace] 'Broken_CL' is declared in workspace/CustomTables/Broken_CL.json, which "
        "does not load: workspace/CustomTables/Broken_CL.json:1:38: JSON error: Expecting value",
        "workspace/CustomTables/Bad_CL.json:4:27: [workspace] table 'Bad_CL', column 'x': unknown type 'Strin' "
        "(did you mean 'string'?)",
        "workspace/CustomTables/Broken_CL.json:1:38: [workspace] JSON error: Expecting value",
    ]


# --- functions and parsers ---------------------------------------------------------


def okta_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, query: str, tests: str = "") -> Path:
    files = {"workspace/CustomTables/Okta_CL.json": json.dumps(OKTA_TABLE),
             "workspace/Parsers/OktaEvents.yaml": OKTA_PARSER, "detections/r.yaml": rule(query)}
    if tests:
        files["detections/r.tests.yaml"] = textwrap.dedent(tests)
    return repo(tmp_path, monkeypatch, files)


def test_function_with_defaults_binds_by_its_alias_and_bare_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    okta_repo(tmp_path, monkeypatch, "Okta\n| summarize count() by User, SrcIp\n")
    assert findings() == []
    assert bind("OktaEvents('SUCCESS', 2d) | project User, Outcome", "sentinel").columns == [
        ("User", "string"), ("Outcome", "string")]
    assert bind("Okta(since=1h) | project Nope", "sentinel").errors[0].message == "unknown column or variable 'Nope'"
    # the call's own problems stay in the query
    assert bind("Okta(1, 2, 3)", "sentinel").errors[0].message == "function 'Okta' takes 2 argument(s), got 3"


def test_function_runs_in_tests_and_run_with_its_parameters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    okta_repo(tmp_path, monkeypatch, "Okta(since=2h)\n| project User\n", """\
        now: 2025-01-01T12:00:00Z
        cases:
          - name: failures of the last two hours
            tables:
              Okta_CL:
                - {TimeGenerated: now-1h, actor_alternateId_s: alice, outcome_result_s: FAILURE}
                - {TimeGenerated: now-3h, actor_alternateId_s: bob, outcome_result_s: FAILURE}
                - {TimeGenerated: now-1h, actor_alternateId_s: carol, outcome_result_s: SUCCESS}
            expect:
              - {User: alice}
          - name: rows given for the function stand for its output
            tables:
              OktaEvents:
                - {User: dave, Outcome: SUCCESS}
            expect:
              - {User: dave}
        """)
    assert results_of() == [("failures of the last two hours", "PASS", []),
                          ("rows given for the function stand for its output", "PASS", [])]
    # dac run evaluates the function over the data files as the tests do
    (tmp_path / "Okta_CL.jsonl").write_text(
        '{"TimeGenerated": "2025-01-01T11:00:00Z", "actor_alternateId_s": "erin", "outcome_result_s": "FAILURE"}\n'
        '{"TimeGenerated": "2025-01-01T11:00:00Z", "actor_alternateId_s": "frank", "outcome_result_s": "SUCCESS"}\n',
        encoding="utf-8")
    assert main(["run", "detections/r.yaml", "--data", "Okta_CL.jsonl", "--now", "2025-01-01T12:00:00Z"]) == 0
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == [{"User": "erin"}]


def test_scalar_function_and_required_parameter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parser = textwrap.dedent("""\
        FunctionName: NormaliseUser
        FunctionParams:
          - Name: upn
            Type: string
        FunctionQuery: |
          tolower(trim_end("@contoso.com", upn))
        """)
    repo(tmp_path, monkeypatch, {
        "workspace/NormaliseUser.yaml": parser,
        "detections/r.yaml": rule('print User = NormaliseUser("Alice@contoso.com")\n'),
        "detections/r.tests.yaml": "cases:\n  - name: lower case\n    tables: {}\n    expect:\n      - {User: alice}\n",
    })
    assert findings() == []
    assert results_of() == [("lower case", "PASS", [])]
    assert bind("print NormaliseUser()", "sentinel").errors[0].message == \
        "function 'NormaliseUser' needs a value for parameter 'upn'"
    assert bind("print x = NormaliseUser", "sentinel").errors[0].message == \
        "function 'NormaliseUser' needs a value for parameter 'upn'"  # a bare name is a call without arguments


def test_an_error_in_a_function_body_is_located_in_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    okta_repo(tmp_path, monkeypatch, "Okta\n| take 1\n")
    broken = OKTA_PARSER.replace("outcome_result_s == outcome", "outcome_result == outcome")
    (tmp_path / "workspace/Parsers/OktaEvents.yaml").write_text(broken, encoding="utf-8")
    config.use(None)
    assert findings() == [
        "workspace/Parsers/OktaEvents.yaml:15:11: [kql-binding] unknown column or variable 'outcome_result' "
        "(did you mean 'outcome_result_s'?) (in workspace function 'OktaEvents', which the query calls at "
        "detections/r.yaml:9:3)"]
    syntax = OKTA_PARSER.replace("| project TimeGenerated", "| project ,")
    (tmp_path / "workspace/Parsers/OktaEvents.yaml").write_text(syntax, encoding="utf-8")
    config.use(None)
    assert findings()[0].startswith("workspace/Parsers/OktaEvents.yaml:17:13: [kql-binding] ")


# --- what nothing declares ---------------------------------------------------------


QUERY_WITH_UNDECLARED = """\
let window = 1d;
Okta_CL
| where TimeGenerated > ago(window)
| join (Okta_CL | summarize by actor_alternateId_s) on actor_alternateId_s
| extend Risk = RiskScore(actor_alternateId_s), Again = RiskScore("x")
| union EnrichedSignins()
"""


def test_undeclared_names_are_reported_once_each_with_the_declaration_they_need(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo(tmp_path, monkeypatch, {"detections/r.yaml": rule(QUERY_WITH_UNDECLARED),
                                 "detections/r.tests.yaml": "cases:\n  - name: c\n    tables: {}\n    expect: []\n"})
    place = "in a [tool.dac] workspace folder"
    messages = [
        f"detections/r.yaml:10:3: [workspace] table 'Okta_CL' is not declared: declare custom table 'Okta_CL' as "
        f"CustomTables/Okta_CL.json {place}",
        f"detections/r.yaml:13:19: [workspace] function 'RiskScore' is not declared: declare it as its YAML "
        f"(FunctionName/FunctionQuery) {place}",
        f"detections/r.yaml:14:11: [workspace] function 'EnrichedSignins' is not declared: declare it as its YAML "
        f"(FunctionName/FunctionQuery) {place}",
    ]
    assert findings() == messages
    (case, status, details), = results_of()
    assert (case, status) == ("(workspace)", "ERROR")
    assert details == [m.replace("[workspace] ", "") for m in messages]


def test_a_call_to_an_unknown_function_fails_validation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It used to pass validation (an unknown schema) and fail only in dac test."""
    repo(tmp_path, monkeypatch, {"detections/r.yaml": rule("NoSuchParser()\n| take 1\n")})
    assert [f.split(": ", 1)[1] for f in findings()] == [
        "[workspace] function 'NoSuchParser' is not declared: declare it as its YAML (FunctionName/FunctionQuery) "
        "in a [tool.dac] workspace folder"]


def test_schemas_in_a_test_file_no_longer_declare_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo(tmp_path, monkeypatch, {
        "detections/r.yaml": rule("Mine_CL | take 1\n"),
        "detections/r.tests.yaml": "schemas:\n  Mine_CL: {x: string}\ncases:\n  - name: c\n    tables: {}\n    expect: []\n",
    })
    assert findings() == [
        "detections/r.tests.yaml:1:1: [test-file] schemas: a test file no longer declares tables; declare each as a "
        "custom table (CustomTables/<Table>.json) in a [tool.dac] workspace folder, which validate, test, build and "
        "run all read",
        "detections/r.yaml:9:3: [workspace] table 'Mine_CL' is not declared: declare custom table 'Mine_CL' as "
        "CustomTables/Mine_CL.json in a [tool.dac] workspace folder",
    ]
    assert results_of()[0][:2] == ("(load tests)", "ERROR")


# --- watchlists ----------------------------------------------------------------------


WATCHLIST_YAML = "watchlistAlias: BreakGlass\nitemsSearchKey: UserPrincipalName\nsource: breakglass.csv\n"
WATCHLIST_CSV = "UserPrincipalName,Owner\nbg1@contoso.com,Team A\nbg2@contoso.com,Team B\n"


def test_watchlist_binds_with_sentinel_columns_and_the_csv_columns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo(tmp_path, monkeypatch, {"workspace/Watchlists/breakglass.yaml": WATCHLIST_YAML,
                                 "workspace/Watchlists/breakglass.csv": WATCHLIST_CSV})
    assert bind("_GetWatchlist('BreakGlass')", "sentinel").columns == [
        ("_DTItemId", "string"), ("LastUpdatedTimeUTC", "datetime"), ("SearchKey", "string"),
        ("UserPrincipalName", "string"), ("Owner", "string")]
    assert bind("_GetWatchlist('BreakGlas')", "sentinel").errors[0].message.startswith(
        "watchlist 'BreakGlas' is not declared (did you mean 'BreakGlass'?): declare it")


def test_watchlist_rows_in_tests_and_run_from_the_csv_or_the_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    query = """\
        SigninLogs
        | where UserPrincipalName in ((_GetWatchlist('BreakGlass') | project SearchKey))
        | project UserPrincipalName
        """
    repo(tmp_path, monkeypatch, {
        "workspace/Watchlists/breakglass.yaml": WATCHLIST_YAML, "workspace/Watchlists/breakglass.csv": WATCHLIST_CSV,
        "detections/r.yaml": rule(query),
        "detections/r.tests.yaml": textwrap.dedent("""\
            cases:
              - name: the csv's items
                tables:
                  SigninLogs: [{UserPrincipalName: bg2@contoso.com}, {UserPrincipalName: eve@contoso.com}]
                expect: [{UserPrincipalName: bg2@contoso.com}]
              - name: the case's items
                tables:
                  SigninLogs: [{UserPrincipalName: bg2@contoso.com}, {UserPrincipalName: eve@contoso.com}]
                watchlists:
                  BreakGlass: [{UserPrincipalName: eve@contoso.com, Owner: Team C}]
                expect: [{UserPrincipalName: eve@contoso.com}]
            """),
    })
    assert findings() == []
    assert [status for _, status, _ in results_of()] == ["PASS", "PASS"]
    (tmp_path / "SigninLogs.jsonl").write_text('{"UserPrincipalName": "bg1@contoso.com"}\n'
                                               '{"UserPrincipalName": "eve@contoso.com"}\n', encoding="utf-8")
    assert main(["run", "detections/r.yaml", "--data", "SigninLogs.jsonl"]) == 0
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == [{"UserPrincipalName": "bg1@contoso.com"}]


def test_azure_sentinel_watchlist_template_form() -> None:
    watchlists = load_workspace([SHARED / "corpus" / "azure-sentinel" / "Watchlists"]).watchlists
    if not watchlists:
        pytest.skip("../shared/corpus/azure-sentinel/Watchlists is not available")
    disabled = watchlists["ASimDisabledParsers"]
    assert (disabled.search_key, disabled.fields, disabled.items) == (
        "CallingParser", ("CallingParser", "SourceSpecificParser"),
        ({"CallingParser": "imNone", "SourceSpecificParser": "NoneParser"},))


# --- ASIM ---------------------------------------------------------------------------------


EMPTY_PARSER = """\
ParserName: vimThingEmpty
EquivalentBuiltInParser: _Im_Thing_Empty
ParserQuery: |
  datatable(TimeGenerated: datetime, EventType: string, User: string)[]
"""
UNIFYING = """\
ParserName: imThing
EquivalentBuiltInParser: _Im_Thing
Normalization:
  Schema: Thing
ParserParams:
  - Name: starttime
    Type: datetime
    Default: datetime(null)
ParserQuery: |
  union isfuzzy=true
    vimThingEmpty,
    vimThingSourceNotSupplied(starttime=starttime),
    vimThingOther(starttime)
"""


def test_asim_names_resolve_to_the_parser_files_and_are_typed_by_the_schema(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo(tmp_path, monkeypatch, {"workspace/vimThingEmpty.yaml": EMPTY_PARSER, "workspace/imThing.yaml": UNIFYING})
    columns = [("TimeGenerated", "datetime"), ("EventType", "string"), ("User", "string")]
    # the unifying parser's union leaves out the source parsers nothing declares, as Kusto's isfuzzy does
    for name in ("imThing", "_Im_Thing", "imThing(starttime=ago(1d))", "_Im_Thing_Empty"):
        assert (bind(name, "sentinel").errors, bind(name, "sentinel").columns) == ([], columns), name
    # no file declares ASimThing: it is typed by the schema's Empty parser
    assert bind("ASimThing | where EventType == 'x'", "sentinel").columns == columns
    assert bind("_Im_Thing | where Nope == 1", "sentinel").errors[0].message == "unknown column or variable 'Nope'"


def test_asim_rows_in_tests_and_the_builtin_parser_without_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo(tmp_path, monkeypatch, {
        "workspace/vimThingEmpty.yaml": EMPTY_PARSER, "workspace/imThing.yaml": UNIFYING,
        "detections/r.yaml": rule("_Im_Thing(starttime=ago(1h))\n| where EventType == 'Logon'\n| project User\n"),
        "detections/r.tests.yaml": textwrap.dedent("""\
            cases:
              - name: rows of the normalized schema
                tables:
                  imThing: [{EventType: Logon, User: alice}, {EventType: Logoff, User: bob}]
                expect: [{User: alice}]
              - name: without rows the parsers return none
                tables: {}
                expect: []
            """),
        "detections/widget.yaml": rule("_Im_Widget | take 1\n", "Widget", "5b0f4e55-5a8b-4c4d-9a55-3b3e2a6f0c11"),
    })
    assert findings() == [
        "detections/widget.yaml:9:3: [workspace] ASIM parser '_Im_Widget' is built into Sentinel, but dac does not know "
        "its schema: declare it by adding the ASIM parsers (Azure-Sentinel's Parsers/ASimWidget/Parsers/*.yaml) in a "
        "[tool.dac] workspace folder"]
    assert [(case, status) for case, status, _ in results_of("detections/r.yaml")] == [
        ("rows of the normalized schema", "PASS"), ("without rows the parsers return none", "PASS")]


# --- settings --------------------------------------------------------------------------------


def test_the_workspace_setting_and_its_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo(tmp_path, monkeypatch, {"workspace/CustomTables/Okta_CL.json": json.dumps(OKTA_TABLE),
                                        "sentinel/CustomTables/Other_CL.json": json.dumps({**OKTA_TABLE, "Name": "Other_CL"})})
    assert config.current().workspace_folders() == [root / "workspace"]
    (root / "pyproject.toml").write_text('[tool.dac]\nworkspace = ["sentinel"]\n', encoding="utf-8")
    config.use(None)
    assert config.current().workspace_folders() == [root.resolve() / "sentinel"]
    assert bind("Other_CL | take 1", "sentinel").errors == []
    assert bind("Okta_CL | take 1", "sentinel").errors[0].message.startswith("table 'Okta_CL' is not declared")
    (root / "pyproject.toml").write_text('[tool.dac]\nworkspace = ["nowhere"]\n', encoding="utf-8")
    config.use(None)
    with pytest.raises(Exception, match=r"pyproject.toml:2:1: \[tool.dac\] workspace: no such folder 'nowhere'"):
        config.current()


def test_workspace_declarations_apply_to_sentinel_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo(tmp_path, monkeypatch, {"workspace/CustomTables/Okta_CL.json": json.dumps(OKTA_TABLE)})
    assert bind("Okta_CL | take 1", "defender").errors[0].message == "unknown table 'Okta_CL'"


"""The ASIM unifying parsers built into Sentinel are known without workspace files (dac.workspace.asim_builtin).

Sentinel ships ``_Im_<Schema>`` and ``_ASim_<Schema>`` in every workspace
(https://learn.microsoft.com/azure/sentinel/normalization-about-parsers), for the schemas
https://learn.microsoft.com/azure/sentinel/normalization-about-schemas lists; a rule copied
unchanged from Azure-Sentinel that calls one validates, tests and keeps its real problems reported.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import CORPUS, REPO
from dac import config
from dac.cli import main
from dac.kql.binder import bind
from dac.workspace.asim_builtin import parsers, schemas
from test_workspace import findings, repo, results_of, rule

AZURE_SENTINEL = CORPUS / "azure-sentinel"
CORPUS_RULES = (
    "Solutions/Network Session Essentials/Analytic Rules/NetworkPortSweepFromExternalNetwork.yaml",
    "Solutions/Web Session Essentials/Analytic Rules/KnownMaliciousUserAgents.yaml",
)
# the schemas the schemas page lists (Alert Event ... Web Session)
DOCUMENTED = {"AlertEvent", "AuditEvent", "Authentication", "DhcpEvent", "Dns", "FileEvent", "NetworkSession",
              "ProcessEvent", "RegistryEvent", "UserManagement", "WebSession"}


@pytest.fixture
def empty_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A rules repository with no workspace folder at all."""
    return repo(tmp_path, monkeypatch, {})


def test_every_documented_schema_is_known_with_its_unifying_parsers_and_its_source() -> None:
    assert set(schemas()) == DOCUMENTED
    assert all(version for version in schemas().values())
    document = json.loads((REPO / "schemas" / "asim.json").read_text(encoding="utf-8"))
    for schema, entry in document["schemas"].items():
        assert entry["source"]["path"].startswith(f"Parsers/ASim{schema}/Parsers/vim"), schema
        assert len(entry["source"]["commit"]) == 40, schema
        assert {"TimeGenerated", "EventProduct"} <= set(entry["columns"]), schema
        assert f"_Im_{schema}" in parsers() and f"_ASim_{schema}" in parsers(), schema
    assert parsers()["_Im_NetworkSession"].columns[:2] == (("TimeGenerated", "datetime"), ("_ResourceId", "string"))


@pytest.mark.skipif(not AZURE_SENTINEL.is_dir(), reason="../shared corpus absent")
@pytest.mark.parametrize("path", CORPUS_RULES)
def test_a_corpus_rule_calling_a_built_in_parser_validates_with_no_workspace(
        path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(AZURE_SENTINEL / path, tmp_path / Path(path).name)
    monkeypatch.chdir(tmp_path)  # as a user would: a folder holding only the rule
    config.use(None)
    assert main(["validate", Path(path).name]) == 0
    assert "ASIM" not in capsys.readouterr().out


def test_the_rows_of_a_built_in_parser_are_its_schema(empty_repo: Path) -> None:
    query = "_Im_NetworkSession(starttime=ago(1h), endtime=now()) | where NetworkDirection == 'Inbound'"
    binding = bind(query, "sentinel")
    assert binding.errors == [] and ("DstPortNumber", "int") in binding.columns
    assert bind("_ASim_Dns | project DnsQuery", "sentinel").columns == [("DnsQuery", "string")]
    assert bind("_Im_Authentication | take 1", "sentinel").errors == []  # without parentheses too


@pytest.mark.parametrize(("query", "message"), [
    ("_Im_NetworkSession(starttime=ago(1h)) | where NoSuchColumn == 1", "unknown column or variable 'NoSuchColumn'"),
    ("_Im_NetworkSession(starttime=ago(1h), srcipaddr='10.0.0.1')",
     "function '_Im_NetworkSession' has no parameter named srcipaddr (its parameters: starttime, endtime, "
     "srcipaddr_has_any_prefix, dstipaddr_has_any_prefix, ipaddr_has_any_prefix, dstportnumber, hostname_has_any, "
     "dvcaction, eventresult)"),
    ("_Im_NetworkSession(starttime='yesterday')",
     "parameter 'starttime' of '_Im_NetworkSession' is of type datetime, the argument is of type string"),
    ("_Im_Dns(ago(1h), now(), '*', dynamic([]), '*', '*', dynamic([]), 'lookup', false, 1)",
     "function '_Im_Dns' takes 9 argument(s), got 10"),
    ("_ASim_NetworkSession(pack=1h)", "parameter 'pack' of '_ASim_NetworkSession' is of type bool, the argument is of type timespan"),
])
def test_a_wrong_call_of_a_built_in_parser_is_still_reported(empty_repo: Path, query: str, message: str) -> None:
    assert [error.message for error in bind(query, "sentinel").errors] == [message]


def test_a_deployed_name_is_not_built_in_and_the_finding_names_its_built_in_twin(empty_repo: Path) -> None:
    assert [error.message for error in bind("imDns | take 1", "sentinel").errors] == [
        "ASIM parser 'imDns' is not declared: declare its parser YAML (ParserName: imDns) in a [tool.dac] workspace "
        "folder, or call the parser built into Sentinel, '_Im_Dns'"]


def test_dac_test_gives_rows_to_a_built_in_parser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    query = """\
        let lookback = 1h;
        let threshold = 2;
        _Im_NetworkSession(starttime=ago(lookback),endtime=now())
        | where NetworkDirection == "Inbound"
        | summarize make_set(DstIpAddr,100) by DstPortNumber
        | where array_length(set_DstIpAddr) > threshold
        | project DstPortNumber
        """
    rows = [{"NetworkDirection": "Inbound", "DstPortNumber": 22, "DstIpAddr": f"10.0.0.{n}"} for n in range(1, 4)]
    rows.append({"NetworkDirection": "Outbound", "DstPortNumber": 443, "DstIpAddr": "10.0.0.9"})
    repo(tmp_path, monkeypatch, {
        "detections/sweep.yaml": rule(query),
        "detections/sweep.tests.yaml": textwrap.dedent(f"""\
            cases:
              - name: three inbound destinations on one port
                tables:
                  _Im_NetworkSession: {json.dumps(rows)}
                expect: [{{DstPortNumber: 22}}]
              - name: too few destinations
                tables:
                  _Im_NetworkSession: {json.dumps(rows[1:])}
                expect: []
            """),
    })
    assert findings() == []
    assert [(case, status) for case, status, _ in results_of("detections/sweep.yaml")] == [
        ("three inbound destinations on one port", "PASS"),
        ("too few destinations", "PASS")]


def test_a_row_column_the_schema_lacks_is_an_error_of_the_test_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo(tmp_path, monkeypatch, {
        "detections/r.yaml": rule("_Im_Dns | project DnsQuery\n"),
        "detections/r.tests.yaml": "cases:\n  - name: c\n    tables:\n      _Im_Dns: [{DnsQeury: x}]\n    expect: []\n",
    })
    [(_, status, details)] = results_of("detections/r.yaml")
    assert status == "ERROR" and "DnsQeury" in " ".join(details)


def test_a_workspace_empty_parser_overrides_the_built_in_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo(tmp_path, monkeypatch, {"workspace/vimDnsEmpty.yaml": textwrap.dedent("""\
        ParserName: vimDnsEmpty
        EquivalentBuiltInParser: _Im_Dns_Empty
        Normalization:
          Schema: Dns
        ParserQuery: |
          datatable(TimeGenerated: datetime, DnsQuery: string, MyOwnColumn: long)[]
        """)})
    columns = [("TimeGenerated", "datetime"), ("DnsQuery", "string"), ("MyOwnColumn", "long")]
    assert bind("_Im_Dns", "sentinel").columns == columns
    assert bind("_Im_Dns | project DnsQueryTypeName", "sentinel").errors[0].message == (
        "unknown column or variable 'DnsQueryTypeName'")
    # the schemas the workspace does not declare stay built in
    assert bind("_Im_WebSession | project Url", "sentinel").columns == [("Url", "string")]


@pytest.mark.skipif(not (AZURE_SENTINEL / "Parsers").is_dir(), reason="../shared corpus absent")
def test_the_generator_reads_the_empty_parsers_as_shipped(tmp_path: Path) -> None:
    folder = AZURE_SENTINEL / "Parsers" / "ASimNetworkSession" / "Parsers"
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "build_asim.py"),
                          f"{folder / 'vimNetworkSessionEmpty.yaml'}@{'0' * 40}", str(folder / "imNetworkSession.yaml")],
                         capture_output=True, text=True, check=True).stdout
    built = json.loads(out)
    assert built["schemas"]["NetworkSession"]["columns"] == dict(parsers()["_Im_NetworkSession"].columns)
    assert built["schemas"]["NetworkSession"]["source"] == {
        "path": "Parsers/ASimNetworkSession/Parsers/vimNetworkSessionEmpty.yaml", "commit": "0" * 40}
    assert [p["name"] for p in built["parsers"]["_Im_NetworkSession"]["parameters"]] == [
        name for name, _ in parsers()["_Im_NetworkSession"].parameters]


# A documented filtering parameter of each schema whose parameters this data now records: the filtering
# parameters tables of normalization-schema-alert / -dhcp / -registry-event / -process-event
# (https://learn.microsoft.com/azure/sentinel/normalization-schema-process-event lists imProcessEvent,
# imProcessCreate and imProcessTerminate), and each _ASim_ parser's one parameter, pack.
NEWLY_RECORDED = [
    ("_Im_AlertEvent(starttime=ago(1d), attacktactics_has_any=dynamic(['Persistence']))", "AlertName"),
    ("_Im_DhcpEvent(srchostname_has_any=dynamic(['host1']), eventresult='Success')", "DhcpLeaseDuration"),
    ("_Im_RegistryEvent(registrykey_has_any=dynamic(['Run']), pack=true)", "RegistryValueData"),
    ("_Im_ProcessEvent(starttime=ago(1h), actorusername='admin')", "CommandLine"),
    ("_Im_ProcessCreate(commandline_has_any=dynamic(['-enc']), targetusername='admin')", "CommandLine"),
    ("_Im_ProcessTerminate(targetprocess_has_any=dynamic(['cmd.exe']), actorusername='admin')", "TargetProcessName"),
    ("_ASim_AlertEvent(pack=true)", "AlertName"),
    ("_ASim_DhcpEvent(pack=false)", "DhcpSessionId"),
    ("_ASim_RegistryEvent(pack=true)", "RegistryKey"),
    ("_ASim_UserManagement(pack=true)", "TargetUsername"),
]


@pytest.mark.parametrize(("call", "column"), NEWLY_RECORDED)
def test_a_documented_parameter_of_a_newly_recorded_parser_binds(empty_repo: Path, call: str, column: str) -> None:
    binding = bind(f"{call} | project {column}", "sentinel")
    assert binding.errors == [] and [name for name, _ in binding.columns] == [column]


@pytest.mark.parametrize("call", [call for call, _ in NEWLY_RECORDED])
def test_an_unknown_parameter_of_a_newly_recorded_parser_is_reported(empty_repo: Path, call: str) -> None:
    name = call.split("(")[0]
    [error] = bind(f"{call.split('(')[0]}(no_such_filter=1)", "sentinel").errors
    assert error.message.startswith(f"function '{name}' has no parameter named no_such_filter (its parameters: ")


def test_a_built_in_parser_without_parameters_refuses_an_argument(empty_repo: Path) -> None:
    # ASimProcessEvent.yaml declares no ParserParams and its query takes none
    assert [e.message for e in bind("_ASim_ProcessEvent(pack=true)", "sentinel").errors] == [
        "function '_ASim_ProcessEvent' has no parameter named pack (its parameters: none)"]
    assert bind("_ASim_ProcessEvent | project CommandLine", "sentinel").errors == []

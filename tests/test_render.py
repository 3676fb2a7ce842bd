"""`dac build`: every rule renders to a Sentinel ARM template and a Defender detection rule.

Expected values are worked out here from the rule YAML, independently of the
renderer's own conversion code, and every artifact is read back with json.loads.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from jinja2.exceptions import TemplateError

from dac.cli import main
from dac.errors import DacError
from dac.render import build, render_rule, writer
from dac.render.environment import environment
from dac.rules.model import load_rule

from conftest import REPO, SHARED


@pytest.fixture(autouse=True)
def _both_platforms():
    """These tests hold both renderers to every rule: as in a repository whose [tool.dac] platforms
    names both, so rules that declare no platforms get a Sentinel and a Defender artifact."""
    from dac import config

    config.use(config.Settings(platforms=("Sentinel", "Defender")))

SEED = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"
DATA = REPO / "tests" / "data" / "render"
SCHEDULED = DATA / "scheduled-encoded-powershell.yaml"
NRT = DATA / "nrt-inbox-forwarding.yaml"
SHAPES = json.loads((DATA / "shapes.json").read_text(encoding="utf-8"))
SENTINEL_CORPUS = SHARED / "corpus" / "azure-sentinel"
STUB = SENTINEL_CORPUS / "Detections" / "SigninLogs" / "MFARejectedbyUser.yaml"

OPERATORS = {"gt": "GreaterThan", "lt": "LessThan", "eq": "Equal", "ne": "NotEqual"}
TACTICS = {
    "Reconnaissance", "ResourceDevelopment", "InitialAccess", "Execution", "Persistence",
    "PrivilegeEscalation", "DefenseEvasion", "CredentialAccess", "Discovery", "LateralMovement",
    "Collection", "Exfiltration", "CommandAndControl", "Impact",
}


# --- helpers -----------------------------------------------------------------


def iso(kusto: str) -> str:
    number, unit = re.fullmatch(r"([0-9]+)([mhd])", kusto).groups()
    return {"m": f"PT{number}M", "h": f"PT{number}H", "d": f"P{number}D"}[unit]


def hours(kusto: str) -> float:
    number, unit = re.fullmatch(r"([0-9]+)([mhd])", kusto).groups()
    return int(number) * {"m": 1 / 60, "h": 1, "d": 24}[unit]


def expected_period(data: dict) -> str:
    if data.get("kind") == "NRT":
        return "0"
    if "kind" not in data:
        return "24H"
    frequency = hours(data["queryFrequency"])
    return next((f"{p}H" for p in (1, 3, 12, 24) if frequency <= p), "24H")


def run_build(out: Path, *paths: Path) -> list[Path]:
    return build([str(p) for p in paths], out).artifacts


def without_nulls(value):
    """What a rule's value says once its null members (an export's way of writing "unset") are left out."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def artifacts(out: Path, stem: str) -> tuple[dict, dict]:
    sentinel = json.loads((out / "sentinel" / f"{stem}.json").read_text(encoding="utf-8"))
    defender = json.loads((out / "defender" / f"{stem}.json").read_text(encoding="utf-8"))
    return sentinel, defender


def index_entry(out: Path, stem: str) -> dict:
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    entries = [e for e in index["rules"] if e["artifacts"]["sentinel"] == f"sentinel/{stem}.json"]
    assert len(entries) == 1, index
    return entries[0]


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def write_rule(folder: Path, stem: str, data: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def scheduled_rule(**overrides) -> dict:
    rule = {
        "id": "0d6f3c2a-1b4e-4c8d-9e7f-2a3b4c5d6e7f",
        "name": "Generated rule",
        "description": "A rule written by the test.\n",
        "severity": "Low",
        "queryFrequency": "1h",
        "queryPeriod": "1h",
        "triggerOperator": "gt",
        "triggerThreshold": 0,
        "tactics": ["Persistence"],
        "relevantTechniques": ["T1098"],
        "query": "DeviceEvents\n| where ActionType == \"Test\"\n",
        "version": "1.0.0",
        "kind": "Scheduled",
    }
    rule.update(overrides)
    return rule


def check_analytics(data: dict, arm: dict, graph: dict) -> None:
    """Every field carried over from an analytics rule, in both artifacts."""
    shape = SHAPES["sentinel"]["analyticsRule"]
    assert arm["$schema"] == SHAPES["sentinel"]["deploymentTemplate"]["schema"]
    assert arm["parameters"] == {"workspace": {"type": "string"}}
    (resource,) = arm["resources"]
    assert resource["type"] == shape["resourceType"]
    assert resource["apiVersion"] == shape["apiVersion"]
    assert resource["kind"] == data["kind"]
    assert resource["name"] == f"[concat(parameters('workspace'), '/Microsoft.SecurityInsights/', '{data['id']}')]"
    props = resource["properties"]
    optional = [key for key in shape["properties"]["optional"] if without_nulls(data.get(key))]
    assert list(props) == shape["properties"][data["kind"]] + optional  # nothing written as null
    assert props["displayName"] == data["name"]
    assert props["description"] == data["description"]
    assert props["severity"] == data["severity"]
    assert props["query"] == data["query"]
    assert props["enabled"] is True
    assert props["tactics"] == (data.get("tactics") or [])  # an empty value (tactics:) is no tactic
    # sub-techniques listed under subTechniques join those of relevantTechniques
    techniques = list(dict.fromkeys((data.get("relevantTechniques") or []) + (data.get("subTechniques") or [])))
    assert props["techniques"] == list(dict.fromkeys(t.split(".")[0] for t in techniques))
    assert props["subTechniques"] == [t for t in techniques if "." in t]
    if data["kind"] == "Scheduled":
        assert props["queryFrequency"] == iso(data["queryFrequency"])
        assert props["queryPeriod"] == iso(data["queryPeriod"])
        long_names = set(OPERATORS.values())  # the API's names are accepted as they are
        assert props["triggerOperator"] == (data["triggerOperator"] if data["triggerOperator"] in long_names
                                            else OPERATORS[data["triggerOperator"]])
        assert props["triggerThreshold"] == data["triggerThreshold"]
    else:
        for key in ("queryFrequency", "queryPeriod", "triggerOperator", "triggerThreshold"):
            assert key not in props
    assert props["suppressionEnabled"] == data.get("suppressionEnabled", False)
    assert props["suppressionDuration"] == iso(data.get("suppressionDuration", "1h"))
    for key in shape["properties"]["optional"]:
        assert props.get(key) == (without_nulls(data.get(key)) or None), key
    assert props["eventGroupingSettings"] == data.get("eventGroupingSettings", {"aggregationKind": "SingleAlert"})
    assert props["incidentConfiguration"]["createIncident"] is (data.get("incidentConfiguration") or {}).get(
        "createIncident", True)

    assert graph["id"] == data["id"]
    assert graph["displayName"] == data["name"]
    assert (graph["status"], graph["isEnabled"]) == ("enabled", True)
    assert graph["queryCondition"] == {"queryText": data["query"]}
    assert graph["schedule"] == {"period": expected_period(data)}
    alert = graph["detectionAction"]["alertTemplate"]
    assert alert["title"] == data["name"]
    assert alert["description"] == data["description"]
    assert alert["severity"] == data["severity"].lower()
    tactics = data.get("tactics") or []
    assert alert["category"] == (tactics[0] if tactics and tactics[0] in TACTICS else "SuspiciousActivity")
    assert alert["mitreTechniques"] == techniques
    assert graph["detectionAction"]["organizationalScope"] is None
    assert graph["detectionAction"]["responseActions"] == []


def corpus_analytics_rules() -> list[Path]:
    """The corpus's analytics rules that build, read as dac reads them (YAML 1.2 tabs included).

    A file that does not load or that build refuses with a located error (no queryFrequency,
    a comment inside queryPeriod...) is left out: its verdict is in tests/data/corpus_verdicts.json.
    """
    if not SENTINEL_CORPUS.is_dir():
        return []
    found = []
    for path in sorted(SENTINEL_CORPUS.rglob("*.yaml")):
        try:
            rule = load_rule(path)
            if rule.data.get("kind") not in ("Scheduled", "NRT") or not rule.data.get("query"):
                continue
            render_rule(rule)
        except DacError:
            continue
        found.append(path)
    return found


# --- the seed hunting query --------------------------------------------------


def test_seed_hunting_query(tmp_path: Path) -> None:
    data = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    out = tmp_path / "out"
    written = run_build(out, SEED)
    stem = SEED.stem
    assert written == [out / "sentinel" / f"{stem}.json", out / "defender" / f"{stem}.json"]
    arm, graph = artifacts(out, stem)

    shape = SHAPES["sentinel"]["huntingQuery"]
    assert arm["$schema"] == SHAPES["sentinel"]["deploymentTemplate"]["schema"]
    assert arm["contentVersion"] == "1.0.0.0"
    (resource,) = arm["resources"]
    assert resource["type"] == shape["resourceType"]
    assert resource["apiVersion"] == shape["apiVersion"]
    assert resource["name"] == f"[concat(parameters('workspace'), '/', '{data['id']}')]"
    props = resource["properties"]
    assert list(props) == shape["properties"]
    assert props["category"] == "Hunting Queries"
    assert props["displayName"] == data["name"]
    assert props["query"] == data["query"]
    assert props["version"] == 2
    assert props["tags"] == [
        {"name": "description", "value": data["description"]},
        {"name": "tactics", "value": "InitialAccess"},
        {"name": "techniques", "value": "T1566"},
    ]

    assert graph["displayName"] == data["name"]
    assert graph["queryCondition"]["queryText"] == data["query"]
    assert graph["schedule"]["period"] == "24H"
    alert = graph["detectionAction"]["alertTemplate"]
    assert alert["title"] == data["name"]
    assert alert["description"] == data["description"]
    assert alert["severity"] == "informational"
    assert alert["category"] == "InitialAccess"
    assert alert["mitreTechniques"] == ["T1566"]
    assert alert["impactedAssets"] == []

    entry = index_entry(out, stem)
    assert entry["id"] == data["id"] and entry["name"] == data["name"]
    assert entry["kind"] == "Hunting" and entry["version"] == data["version"]
    assert entry["artifacts"] == {"sentinel": f"sentinel/{stem}.json", "defender": f"defender/{stem}.json"}


def test_hunting_query_with_several_tactics_and_techniques(tmp_path: Path) -> None:
    rule = write_rule(tmp_path / "rules", "hunt", {
        "id": "3c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
        "name": "Hunt",
        "description": "d",
        "tactics": ["Discovery", "PreAttack"],
        "relevantTechniques": ["T1087.002", "T1069"],
        "query": "IdentityQueryEvents | take 10",
    })
    run_build(tmp_path / "out", rule)
    arm, graph = artifacts(tmp_path / "out", "hunt")
    tags = arm["resources"][0]["properties"]["tags"]
    assert tags[1:] == [{"name": "tactics", "value": "Discovery,PreAttack"},
                        {"name": "techniques", "value": "T1087.002,T1069"}]
    assert graph["detectionAction"]["alertTemplate"]["category"] == "Discovery"


# --- analytics rules -----------------------------------------------------------


@pytest.mark.parametrize("path", [SCHEDULED, NRT], ids=lambda p: p.stem)
def test_test_data_analytics_rules(tmp_path: Path, path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = tmp_path / "out"
    run_build(out, path)
    arm, graph = artifacts(out, path.stem)
    check_analytics(data, arm, graph)
    entry = index_entry(out, path.stem)
    assert (entry["id"], entry["name"], entry["kind"], entry["version"]) == (
        data["id"], data["name"], data["kind"], data["version"])


@pytest.mark.parametrize("path", corpus_analytics_rules() or [None], ids=lambda p: p.stem if p else "absent")
def test_corpus_analytics_rules(tmp_path: Path, path: Path | None) -> None:
    if path is None:
        pytest.skip("../shared/corpus/azure-sentinel has no analytics rules here")
    data = load_rule(path).data
    out = tmp_path / "out"
    run_build(out, path)
    arm, graph = artifacts(out, path.stem)
    check_analytics(data, arm, graph)


def test_scheduled_rule_details(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_build(out, SCHEDULED)
    arm, graph = artifacts(out, SCHEDULED.stem)
    props = arm["resources"][0]["properties"]
    assert props["queryFrequency"] == "PT2H" and props["queryPeriod"] == "P14D"
    assert props["triggerOperator"] == "LessThan" and props["triggerThreshold"] == 3
    assert props["suppressionDuration"] == "PT5H" and props["suppressionEnabled"] is True
    assert props["techniques"] == ["T1059", "T1105"] and props["subTechniques"] == ["T1059.001"]
    assert props["incidentConfiguration"] == {
        "createIncident": True,
        "groupingConfiguration": {
            "enabled": True,
            "reopenClosedIncident": False,
            "lookbackDuration": "P1D",
            "matchingMethod": "Selected",
            "groupByEntities": ["Host"],
            "groupByAlertDetails": [],
            "groupByCustomDetails": ["CommandLine"],
        },
    }
    # Sentinel's own {{Column}} placeholders are data to Jinja: they come out unchanged.
    assert props["alertDetailsOverride"]["alertDisplayNameFormat"] == "Encoded PowerShell download on {{DeviceName}}"
    assert props["alertDetailsOverride"]["alertDescriptionFormat"] == "{{AccountUpn}} ran {{ProcessCommandLine}}"
    assert props["customDetails"] == {"CommandLine": "ProcessCommandLine", "ParentProcess": "InitiatingProcessFileName"}
    assert graph["schedule"]["period"] == "3H"
    assert graph["detectionAction"]["alertTemplate"]["impactedAssets"] == [
        {"@odata.type": "#microsoft.graph.security.impactedDeviceAsset", "identifier": "deviceName"},
        {"@odata.type": "#microsoft.graph.security.impactedUserAsset", "identifier": "accountUpn"},
    ]
    notes = index_entry(out, SCHEDULED.stem)["notes"]
    assert any("RemoteUrl" in note for note in notes)
    assert any("queryPeriod 14d" in note for note in notes)


def test_nrt_rule_details(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_build(out, NRT)
    arm, graph = artifacts(out, NRT.stem)
    resource = arm["resources"][0]
    assert resource["kind"] == "NRT"
    assert "queryFrequency" not in resource["properties"]
    assert graph["schedule"] == {"period": "0"}
    assert graph["detectionAction"]["alertTemplate"]["impactedAssets"] == [
        {"@odata.type": "#microsoft.graph.security.impactedUserAsset", "identifier": "accountUpn"},
        {"@odata.type": "#microsoft.graph.security.impactedUserAsset", "identifier": "accountObjectId"},
        {"@odata.type": "#microsoft.graph.security.impactedMailboxAsset", "identifier": "accountUpn"},
    ]


@pytest.mark.parametrize(
    ("frequency", "iso_frequency", "period"),
    [("5m", "PT5M", "1H"), ("1h", "PT1H", "1H"), ("90m", "PT90M", "3H"), ("3h", "PT3H", "3H"),
     ("5h", "PT5H", "12H"), ("12h", "PT12H", "12H"), ("13h", "PT13H", "24H"), ("1d", "P1D", "24H"),
     ("2d", "P2D", "24H"), ("14d", "P14D", "24H")],
)
def test_frequency_conversion_and_defender_period(tmp_path: Path, frequency: str, iso_frequency: str,
                                                  period: str) -> None:
    rule = write_rule(tmp_path / "rules", "r", scheduled_rule(queryFrequency=frequency, queryPeriod="14d"))
    run_build(tmp_path / "out", rule)
    arm, graph = artifacts(tmp_path / "out", "r")
    assert arm["resources"][0]["properties"]["queryFrequency"] == iso_frequency
    assert arm["resources"][0]["properties"]["queryPeriod"] == "P14D"
    assert graph["schedule"]["period"] == period


@pytest.mark.parametrize(("given", "expected"), [("gt", "GreaterThan"), ("lt", "LessThan"), ("eq", "Equal"),
                                                 ("ne", "NotEqual"), ("GreaterThan", "GreaterThan")])
def test_trigger_operator_mapping(tmp_path: Path, given: str, expected: str) -> None:
    rule = write_rule(tmp_path / "rules", "r", scheduled_rule(triggerOperator=given))
    run_build(tmp_path / "out", rule)
    arm, _ = artifacts(tmp_path / "out", "r")
    assert arm["resources"][0]["properties"]["triggerOperator"] == expected


def test_clock_style_timespans(tmp_path: Path) -> None:
    rule = write_rule(tmp_path / "rules", "r", scheduled_rule(queryFrequency="02:30:00", queryPeriod="1.12:00:00"))
    run_build(tmp_path / "out", rule)
    arm, graph = artifacts(tmp_path / "out", "r")
    props = arm["resources"][0]["properties"]
    assert (props["queryFrequency"], props["queryPeriod"]) == ("PT2H30M", "P1DT12H")
    assert graph["schedule"]["period"] == "3H"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"triggerOperator": "gte"}, "triggerOperator"), ({"queryFrequency": "soon"}, "queryFrequency"),
     ({"severity": "Critical"}, "severity"), ({"triggerThreshold": "3"}, "triggerThreshold"),
     ({"queryPeriod": None}, "queryPeriod"), ({"relevantTechniques": ["T59"]}, "relevantTechniques")],
)
def test_unconvertible_values_are_located_errors(tmp_path: Path, overrides: dict, message: str) -> None:
    data = {k: v for k, v in scheduled_rule(**overrides).items() if v is not None}
    rule = write_rule(tmp_path / "rules", "r", data)
    with pytest.raises(DacError) as caught:
        run_build(tmp_path / "out", rule)
    assert message in caught.value.message
    assert caught.value.location.path == str(rule)
    missing = None in overrides.values()
    assert caught.value.location.line == 1 if missing else caught.value.location.line > 1
    assert not (tmp_path / "out").exists()


# --- hostile values ----------------------------------------------------------

HOSTILE_TEXT = (
    'He said "stop" \\ and left.\nSecond line\ttab {{ 7*7 }} {% raw %}x{% endraw %} </script>'
    " \u2028 caf\u00e9 [not an expression"
)
HOSTILE_NAME = "[concat(parameters('workspace'), '/evil')]"


@pytest.mark.parametrize("kind", ["Scheduled", "Hunting"])
def test_hostile_values_are_literal_data(tmp_path: Path, kind: str) -> None:
    query = 'T\n| where Msg == "{{ 7*7 }}" and X == "]"\n| extend S = "</script>"\n'
    if kind == "Scheduled":
        data = scheduled_rule(name=HOSTILE_NAME, description=HOSTILE_TEXT, query=query,
                              customDetails={"Detail": "[Column]"},
                              alertDetailsOverride={"alertDescriptionFormat": "[{{Column}}]",
                                                    "alertDisplayNameFormat": "[not closed"})
    else:
        data = {"id": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a", "name": HOSTILE_NAME,
                "description": HOSTILE_TEXT, "query": query}
    rule = write_rule(tmp_path / "rules", "hostile", data)
    out = tmp_path / "out"
    run_build(out, rule)
    arm, graph = artifacts(out, "hostile")
    resource = arm["resources"][0]
    props = resource["properties"]

    # ARM: a string that ARM would evaluate ([...]) gets the documented [[ escape; nothing else changes.
    assert props["displayName"] == "[" + HOSTILE_NAME
    description = props["description"] if kind == "Scheduled" else props["tags"][0]["value"]
    assert description == HOSTILE_TEXT
    assert props["query"] == query
    if kind == "Scheduled":
        assert props["customDetails"] == {"Detail": "[[Column]"}
        # ARM reads a string as an expression only if it also ends with ]; others stay as they are.
        assert props["alertDetailsOverride"] == {"alertDescriptionFormat": "[[{{Column}}]",
                                                 "alertDisplayNameFormat": "[not closed"}
    # The only ARM expressions left are the renderer's own resource id and name.
    expressions = [s for s in _strings(arm) if s.startswith("[") and s.endswith("]") and not s.startswith("[[")]
    assert sorted(expressions) == sorted(v for k, v in resource.items() if k in ("id", "name"))

    # Defender (Graph) JSON is not evaluated: values are written exactly.
    assert graph["displayName"] == HOSTILE_NAME
    assert graph["detectionAction"]["alertTemplate"]["title"] == HOSTILE_NAME
    assert graph["detectionAction"]["alertTemplate"]["description"] == HOSTILE_TEXT
    assert graph["queryCondition"]["queryText"] == query

    # The files hold the text itself (UTF-8), not a rendering of it.
    raw = (out / "defender" / "hostile.json").read_text(encoding="utf-8")
    assert "{{ 7*7 }}" in raw and "{% raw %}" in raw and "</script>" in raw and "caf\u00e9" in raw
    assert "49" not in raw


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)


def test_id_that_is_not_a_guid_is_rejected(tmp_path: Path) -> None:
    rule = write_rule(tmp_path / "rules", "r", scheduled_rule(id="x'), parameters('evil"))
    with pytest.raises(DacError, match="not a GUID"):
        run_build(tmp_path / "out", rule)


def test_templates_only_write_filtered_values() -> None:
    env = environment()
    assert env.from_string("{{ v | json }}").render(v='a"b') == '"a\\"b"'
    with pytest.raises(TypeError, match="without the json"):
        env.from_string("{{ v }}").render(v="plain")
    with pytest.raises(TemplateError):
        env.from_string("{{ missing | json }}").render()
    with pytest.raises((TemplateError, TypeError)):
        env.from_string("{{ v.__class__.__mro__ | json }}").render(v="x")
    with pytest.raises(TypeError, match="arm_expression"):
        env.from_string("{{ v | arm_expression }}").render(v="[concat('from data')]")


# --- output: layout, determinism, atomicity -------------------------------------


def test_build_is_deterministic(tmp_path: Path) -> None:
    sources = [SEED, SCHEDULED, NRT]
    run_build(tmp_path / "a", *sources)
    run_build(tmp_path / "b", *sources)
    first, second = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert first == second
    assert sorted(first) == [
        "defender/nrt-inbox-forwarding.json", "defender/scheduled-encoded-powershell.json",
        "defender/user-clicked-through-events.json", "index.json",
        "sentinel/nrt-inbox-forwarding.json", "sentinel/scheduled-encoded-powershell.json",
        "sentinel/user-clicked-through-events.json",
    ]
    for content in first.values():
        assert content.endswith(b"\n") and b"\r" not in content
    # Rebuilding over the previous output gives the same bytes again.
    run_build(tmp_path / "a", *sources)
    assert tree(tmp_path / "a") == second
    index = json.loads(first["index.json"])
    assert [e["artifacts"]["sentinel"] for e in index["rules"]] == [
        "sentinel/nrt-inbox-forwarding.json", "sentinel/scheduled-encoded-powershell.json",
        "sentinel/user-clicked-through-events.json",
    ]


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_failed_build_leaves_previous_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_build(out, SEED)
    before = tree(out)
    rules = tmp_path / "rules"
    write_rule(rules, "a-good", scheduled_rule())
    write_rule(rules, "b-stub", {"id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "name": "Moved",
                                 "description": "moved elsewhere", "version": "1.0.0"})
    with pytest.raises(DacError, match="no query") as caught:
        build([str(rules)], out)
    assert caught.value.location.path == str(rules / "b-stub.yaml")
    assert tree(out) == before
    assert _leftovers(tmp_path) == []


def test_failed_write_leaves_previous_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    run_build(out, SEED)
    before = tree(out)
    real = writer.write_json
    calls = []

    def failing(path: Path, document: object) -> None:
        calls.append(path)
        if len(calls) == 3:  # the first artifact of the second rule
            raise OSError(28, "No space left on device")
        real(path, document)

    monkeypatch.setattr("dac.render.write_json", failing)
    with pytest.raises(OSError):
        run_build(out, SCHEDULED, NRT)
    assert len(calls) == 3
    assert tree(out) == before
    assert _leftovers(tmp_path) == []


def test_rule_without_query_is_an_error(tmp_path: Path) -> None:
    if not STUB.is_file():
        pytest.skip("../shared/corpus/azure-sentinel is not available")
    with pytest.raises(DacError, match="no query") as caught:
        run_build(tmp_path / "out", STUB)
    assert caught.value.location.path == str(STUB)
    assert not (tmp_path / "out").exists()
    assert _leftovers(tmp_path) == []


def test_two_rules_with_the_same_stem_are_an_error(tmp_path: Path) -> None:
    write_rule(tmp_path / "rules" / "one", "same", scheduled_rule())
    write_rule(tmp_path / "rules" / "two", "same", scheduled_rule(id="7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"))
    with pytest.raises(DacError, match="same artifacts 'same.json'"):
        build([str(tmp_path / "rules")], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_refuses_to_replace_a_folder_that_is_not_build_output(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(DacError, match="refusing to replace"):
        run_build(precious, SEED)
    assert (precious / "notes.txt").read_text() == "keep me"
    assert _leftovers(tmp_path) == []


def test_cli_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["build", "--out", str(out), str(SEED)]) == 0
    assert "wrote 2 artifact(s)" in capsys.readouterr().out
    assert (out / "sentinel" / f"{SEED.stem}.json").is_file()
    assert (out / "defender" / f"{SEED.stem}.json").is_file()
    rules = tmp_path / "rules"
    write_rule(rules, "stub", {"id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "name": "Moved",
                               "description": "moved", "version": "1.0.0"})
    assert main(["build", "--out", str(out), str(rules)]) == 2
    assert "no query" in capsys.readouterr().err
    assert (out / "sentinel" / f"{SEED.stem}.json").is_file()


def test_text_utf8_cannot_hold_is_a_located_error(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    text = (SEED.read_text(encoding="utf-8")
            .replace("name: User clicked through events", 'name: "bad \\ud800 name"'))
    (rules / "surrogate.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(DacError, match="surrogate") as caught:
        build([str(rules)], tmp_path / "out")
    assert caught.value.location.path == str(rules / "surrogate.yaml")
    assert not (tmp_path / "out").exists()

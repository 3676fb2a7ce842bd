"""Build fidelity: every rendered resource validates against the published schemas, every field of a
rule reaches its artifact or is reported, and a build reports every bad file at once.

The ARM schemas are the published ones (tests/data/arm/, Azure/azure-resource-manager-schemas);
the Defender one is ours, from Microsoft Graph's beta documentation (tests/data/graph/). Both
are read offline: the ARM files' cross-references are resolved from a local registry.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from dac.cli import main
from dac.errors import DacError, RuleFileError
from dac.importer import import_arm
from dac.render import BuildFailed, build, render_rule
from dac.render.sentinel import ALERT_RULE_API_VERSION, ALERT_RULE_TYPE, SAVED_SEARCH_API_VERSION
from dac.rules.model import discover_rule_files, load_rule

from conftest import REPO, SHARED


@pytest.fixture(autouse=True)
def _both_platforms():
    """These tests hold both renderers to every rule: as in a repository whose [tool.dac] platforms
    names both, so rules that declare no platforms get a Sentinel and a Defender artifact."""
    from dac import config

    config.use(config.Settings(platforms=("Sentinel", "Defender")))

ARM = REPO / "tests" / "data" / "arm"
GRAPH_SCHEMA = REPO / "tests" / "data" / "graph" / "detectionRule.beta.schema.json"
RENDER_DATA = REPO / "tests" / "data" / "render"
CORPUS = SHARED / "corpus" / "azure-sentinel"
HUNTING = RENDER_DATA / "hunting-entity-mappings.yaml"
SUBTECHNIQUES = RENDER_DATA / "scheduled-subtechniques.yaml"
SEED = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"


# --- the schemas -------------------------------------------------------------------------


def _arm(name: str) -> dict[str, Any]:
    return json.loads((ARM / name).read_text(encoding="utf-8"))


SECURITY_INSIGHTS = _arm("Microsoft.SecurityInsights.2023-12-01-preview.alertRules.json")
OPERATIONAL_INSIGHTS = _arm("Microsoft.OperationalInsights.2020-08-01.savedSearches.json")
COMMON = _arm("common.definitions.expression.json")
REGISTRY = Registry().with_resources(
    (document["id"].rstrip("#"), Resource.from_contents(document, default_specification=DRAFT4))
    for document in (SECURITY_INSIGHTS, OPERATIONAL_INSIGHTS, COMMON)
)
SI = SECURITY_INSIGHTS["id"].rstrip("#")
# The file's id names its apiVersion: .../schemas/2023-12-01-preview/Microsoft.SecurityInsights.json
SI_VERSION = SI.split("/schemas/")[1].split("/")[0]

# The kinds' definitions are the published part; the file no longer defines the resource itself
# (tests/data/README.md), so its apiVersion and the workspaces/providers type are checked here.
ALERT_RULE = {
    "type": "object",
    "required": ["name", "type", "apiVersion", "kind", "properties"],
    "properties": {
        "name": {"type": "string"},
        "type": {"enum": [ALERT_RULE_TYPE]},
        "apiVersion": {"enum": [SI_VERSION]},
    },
    "oneOf": [{"$ref": f"{SI}#/definitions/ScheduledAlertRule"}, {"$ref": f"{SI}#/definitions/NrtAlertRule"}],
}
SAVED_SEARCH = {"$ref": OPERATIONAL_INSIGHTS["id"].rstrip("#") + "#/resourceDefinitions/workspaces_savedSearches"}
ALERT_RULE_VALIDATOR = jsonschema.Draft4Validator(ALERT_RULE, registry=REGISTRY)
SAVED_SEARCH_VALIDATOR = jsonschema.Draft4Validator(SAVED_SEARCH, registry=REGISTRY)
GRAPH = json.loads(GRAPH_SCHEMA.read_text(encoding="utf-8"))
GRAPH_VALIDATOR = jsonschema.Draft202012Validator(GRAPH)


def arm_errors(resource: dict[str, Any]) -> list[str]:
    validator = SAVED_SEARCH_VALIDATOR if resource.get("type", "").endswith("/savedSearches") else ALERT_RULE_VALIDATOR
    return [f"{'/'.join(map(str, e.absolute_path)) or '/'}: {e.message}" for e in validator.iter_errors(resource)]


def graph_errors(body: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '/'}: {e.message}" for e in GRAPH_VALIDATOR.iter_errors(body)]


def without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    return [without_nulls(item) for item in value] if isinstance(value, list) else value


def nulls(value: Any, where: str = "") -> list[str]:
    if value is None:
        return [where or "/"]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in nulls(item, f"{where}/{key}")]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in nulls(item, f"{where}/{index}")]
    return []


def test_schemas_are_the_ones_the_renderer_targets() -> None:
    assert SI_VERSION == ALERT_RULE_API_VERSION
    assert OPERATIONAL_INSIGHTS["resourceDefinitions"]["workspaces_savedSearches"]["properties"]["apiVersion"][
        "enum"] == [SAVED_SEARCH_API_VERSION]
    for document in (SECURITY_INSIGHTS, OPERATIONAL_INSIGHTS, COMMON):
        jsonschema.Draft4Validator.check_schema(document)
    jsonschema.Draft202012Validator.check_schema(GRAPH)


def _resource(path: Path) -> dict[str, Any]:
    (resource,) = render_rule(load_rule(path))["sentinel"]["resources"]
    return json.loads(json.dumps(resource))


def test_the_schemas_refuse_what_they_should() -> None:
    """The validators are not vacuous: null, an unknown entity type or tactic, an escaped literal
    where an enum is expected are refused; an ARM expression is accepted wherever a value is."""
    good = _resource(RENDER_DATA / "scheduled-encoded-powershell.yaml")
    assert arm_errors(good) == []
    cases = {
        "alertRuleTemplateName": None,
        "customDetails": None,
        "entityMappings": [{"entityType": "Azure resource", "fieldMappings": []}],
        "tactics": ["Command and control"],
        "severity": "[[High]",  # the ARM escape of a literal: no expression, so no severity either
        "triggerThreshold": "3",
    }
    for key, value in cases.items():
        bad = json.loads(json.dumps(good))
        bad["properties"][key] = value
        assert arm_errors(bad), key
    expression = json.loads(json.dumps(good))
    for key in ("severity", "tactics", "entityMappings", "triggerThreshold", "customDetails"):
        expression["properties"][key] = "[parameters('x')]"
    assert arm_errors(expression) == []
    wrong_kind = json.loads(json.dumps(good))
    wrong_kind["kind"] = "Fusion"
    assert arm_errors(wrong_kind)
    hunting = _resource(SEED)
    assert arm_errors(hunting) == []
    hunting["properties"]["tags"] = [{"name": "tactics", "value": None}]
    assert arm_errors(hunting)
    body = render_rule(load_rule(SEED))["defender"]
    assert graph_errors(body) == []
    for change in ({"status": "on"}, {"schedule": {"period": "2H"}}, {"id": None}):
        assert graph_errors({**body, **change}), change
    assert graph_errors({key: value for key, value in body.items() if key != "status"})


# --- every rule that builds validates --------------------------------------------------


def _rule_files() -> list:
    files = discover_rule_files([REPO / "detections"]) + sorted(RENDER_DATA.glob("*.yaml"))
    params = [pytest.param(p, id=p.relative_to(REPO).as_posix()) for p in files]
    if not CORPUS.is_dir():
        return params + [pytest.param(None, marks=pytest.mark.skip(reason=f"{CORPUS} is absent"), id="corpus")]
    return params + [pytest.param(p, id="corpus/" + p.relative_to(CORPUS).as_posix())
                     for p in discover_rule_files([CORPUS])]


@pytest.mark.parametrize("path", _rule_files())
def test_rendered_artifacts_validate(path: Path) -> None:
    """A file either builds into schema-valid artifacts with no null anywhere, or is a located error."""
    try:
        artifacts = render_rule(load_rule(path))
    except DacError as exc:
        assert exc.location.path == str(path) and exc.location.line >= 1, exc
        assert not isinstance(exc, BuildFailed)
        return
    (resource,) = artifacts["sentinel"]["resources"]
    assert arm_errors(resource) == []
    assert nulls(resource["properties"]) == []
    assert graph_errors(artifacts["defender"]) == []


def test_most_of_the_corpus_builds() -> None:
    """Figures for the corpus: what builds, and that every refusal is a located error."""
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is absent")
    built, refused = 0, 0
    for path in discover_rule_files([CORPUS]):
        try:
            rule = load_rule(path)
        except RuleFileError:
            refused += 1
            continue
        if rule.query is None or "id" not in rule.data or "name" not in rule.data:
            continue  # a migration stub, or an ASIM parser stored beside the rules
        try:
            render_rule(rule)
            built += 1
        except DacError:
            refused += 1
    assert built >= 280 and refused <= 20, (built, refused)


# --- subTechniques ------------------------------------------------------------------------


def write_rule(folder: Path, stem: str, data: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def scheduled(**overrides: Any) -> dict:
    rule = {
        "id": "0d6f3c2a-1b4e-4c8d-9e7f-2a3b4c5d6e7f", "name": "Generated rule", "description": "d",
        "severity": "Low", "queryFrequency": "1h", "queryPeriod": "1h", "triggerOperator": "gt",
        "triggerThreshold": 0, "tactics": ["DefenseEvasion"], "relevantTechniques": ["T1562"],
        "query": "DeviceEvents | take 1\n", "version": "1.0.0", "kind": "Scheduled",
    }
    rule.update(overrides)
    return {k: v for k, v in rule.items() if v is not None}


def test_sub_techniques_reach_the_alert_rule(tmp_path: Path) -> None:
    """``subTechniques: [T1562.007]`` is the API's subTechniques list (it was written as [])."""
    rule = load_rule(write_rule(tmp_path, "r", scheduled(subTechniques=["T1562.007"])))
    artifacts = render_rule(rule)
    props = artifacts["sentinel"]["resources"][0]["properties"]
    assert (props["techniques"], props["subTechniques"]) == (["T1562"], ["T1562.007"])
    assert artifacts["defender"]["detectionAction"]["alertTemplate"]["mitreTechniques"] == ["T1562", "T1562.007"]
    assert [n for n in artifacts["notes"] if "subTechniques" in n.message] == []
    # Azure-Sentinel's other spelling: the sub-technique among relevantTechniques, no parent named.
    rule = load_rule(write_rule(tmp_path, "s", scheduled(relevantTechniques=["T1562.008"])))
    props = render_rule(rule)["sentinel"]["resources"][0]["properties"]
    assert (props["techniques"], props["subTechniques"]) == (["T1562"], ["T1562.008"])


def test_a_sub_technique_list_holds_sub_techniques_only(tmp_path: Path) -> None:
    path = write_rule(tmp_path, "r", scheduled(subTechniques=["T1562"]))
    with pytest.raises(DacError, match=r"subTechniques\[0\]: 'T1562' is not a sub-technique") as caught:
        render_rule(load_rule(path))
    assert caught.value.location.line > 1


def test_sub_techniques_of_a_hunting_query_are_techniques_in_its_tags() -> None:
    tags = {t["name"]: t["value"] for t in _resource(HUNTING)["properties"]["tags"]}
    assert tags["techniques"] == "T1070,T1070.001"


@pytest.mark.parametrize("path", [HUNTING, SUBTECHNIQUES], ids=lambda p: p.stem)
def test_round_trip_keeps_sub_techniques_and_hunting_entity_mappings(path: Path) -> None:
    rule = load_rule(path)
    (imported,) = import_arm(render_rule(rule)["sentinel"], "rendered.json")
    assert imported == without_nulls(rule.data)  # a null says nothing: it is not written
    assert imported["subTechniques"] == rule.data["subTechniques"]
    assert imported["relevantTechniques"] == rule.data["relevantTechniques"]


# --- what is not carried is reported ------------------------------------------------------


def _key_line(path: Path, key: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if line.startswith(f"{key}:"))


def test_hunting_entity_mappings_are_kept_and_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["build", "--out", str(out), str(HUNTING)]) == 0
    err = capsys.readouterr().err
    line = _key_line(HUNTING, "entityMappings")
    assert (f"{HUNTING}:{line}:1: note: sentinel: 'entityMappings' of a hunting query is not carried by "
            "savedSearches (the API has no such property); kept in template metadata") in err.splitlines()
    template = json.loads((out / "sentinel" / f"{HUNTING.stem}.json").read_text(encoding="utf-8"))
    kept = template["metadata"]["dac"]["rules"][load_rule(HUNTING).id]
    assert kept["entityMappings"] == load_rule(HUNTING).data["entityMappings"]
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    assert any("'entityMappings' of a hunting query" in note for note in index["rules"][0]["notes"])


def test_pack_and_json_output_report_the_notes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pack", "--out", str(tmp_path / "p.zip"), "--version", "1.0.0", str(HUNTING)]) == 0
    assert "note: sentinel: 'entityMappings' of a hunting query" in capsys.readouterr().err
    assert main(["build", "--format", "json", "--out", str(tmp_path / "out"), str(HUNTING)]) == 0
    document = json.loads(capsys.readouterr().out)
    (note,) = [n for n in document["notes"] if "entityMappings" in n["message"] and "sentinel" in n["message"]]
    assert (note["file"], note["line"], note["column"]) == (str(HUNTING), _key_line(HUNTING, "entityMappings"), 1)


def test_fields_no_resource_holds_are_kept_and_reported(tmp_path: Path) -> None:
    """An NRT rule's schedule and a key outside the format go to the metadata with a note; a
    bookkeeping field (version, connectors) goes there silently; Defender notes what it leaves out."""
    data = scheduled(kind="NRT", enabled=False, customDetails={"Cmd": "ProcessCommandLine"},
                     suppressionEnabled=True, suppressionDuration="2h")
    rule = load_rule(write_rule(tmp_path, "nrt", data))
    artifacts = render_rule(rule)
    kept = artifacts["sentinel"]["metadata"]["dac"]["rules"][rule.id]
    assert {"queryFrequency", "queryPeriod", "triggerOperator", "triggerThreshold", "enabled", "version"} <= set(kept)
    messages = [note.message for note in artifacts["notes"]]
    for key in ("queryFrequency", "queryPeriod", "triggerOperator", "triggerThreshold"):
        assert f"sentinel: '{key}' of an NRT rule is not carried by alertRules" in " ".join(messages), key
    assert any(m.startswith("sentinel: 'enabled' is not a field of the Azure-Sentinel rule format") for m in messages)
    assert not any("version" in m for m in messages)
    assert "defender: 'customDetails' is not carried by the custom detection (the request body has no such " \
           "property)" in messages
    assert any(m.startswith("defender: suppression for 2h is not carried") for m in messages)
    (imported,) = import_arm(artifacts["sentinel"], "x.json")
    assert imported == rule.data


def test_defender_notes_a_threshold_it_cannot_keep(tmp_path: Path) -> None:
    quiet = render_rule(load_rule(write_rule(tmp_path, "a", scheduled())))["notes"]
    assert not any("threshold" in note.message for note in quiet)  # more than 0 results: what Defender does
    loud = render_rule(load_rule(write_rule(tmp_path, "b", scheduled(triggerThreshold=5))))["notes"]
    assert any(note.message == "defender: alert threshold gt 5 is not carried; Defender alerts on any result"
               for note in loud)


def test_explicit_nulls_are_not_written() -> None:
    """alertRuleTemplateName, customDetails, sentinelEntitiesMappings and an override member set to
    null are left out: the published schema types each and refuses null."""
    rule = load_rule(SUBTECHNIQUES)
    assert {"alertRuleTemplateName", "customDetails", "sentinelEntitiesMappings"} <= {
        k for k, v in rule.data.items() if v is None}
    resource = _resource(SUBTECHNIQUES)
    props = resource["properties"]
    assert not {"alertRuleTemplateName", "customDetails", "sentinelEntitiesMappings"} & set(props)
    assert props["alertDetailsOverride"] == {"alertDisplayNameFormat": "Firewall disabled on {{DeviceName}}"}
    assert nulls(props) == [] and arm_errors(resource) == []


# --- entity types Sentinel refuses --------------------------------------------------------


@pytest.mark.parametrize("entity", ["Azure resource", "Url", "IoTDevice"])
def test_an_entity_type_sentinel_refuses_fails_the_build_at_its_key(tmp_path: Path, entity: str) -> None:
    mappings = [{"entityType": "Host", "fieldMappings": [{"identifier": "HostName", "columnName": "DeviceName"}]},
                {"entityType": entity, "fieldMappings": [{"identifier": "ResourceId", "columnName": "Id"}]}]
    path = write_rule(tmp_path / "rules", "r", scheduled(entityMappings=mappings))
    out = tmp_path / "out"
    with pytest.raises(DacError, match=r"entityMappings\[1\]\.entityType: .* is not a value the alertRules API") as c:
        build([str(path)], out)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if f"entityType: {entity}" in text
                or f"entityType: '{entity}'" in text)
    assert (c.value.location.path, c.value.location.line) == (str(path), line)
    assert not out.exists()


@pytest.mark.parametrize(("overrides", "where"), [
    ({"tactics": ["Command and control"]}, "tactics[0]"),
    ({"eventGroupingSettings": {"aggregationKind": "PerResult"}}, "eventGroupingSettings.aggregationKind"),
    ({"incidentConfiguration": {"createIncident": True, "groupingConfiguration": {
        "enabled": True, "matchingMethod": "Selected", "groupByEntities": ["Url"]}}},
     "incidentConfiguration.groupingConfiguration.groupByEntities[0]"),
    ({"alertDetailsOverride": {"alertDynamicProperties": [{"alertProperty": "Severity", "value": "S"}]}},
     "alertDetailsOverride.alertDynamicProperties[0].alertProperty"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_other_values_sentinel_refuses_are_located_errors(tmp_path: Path, overrides: dict, where: str) -> None:
    path = write_rule(tmp_path, "r", scheduled(**overrides))
    with pytest.raises(DacError, match="is not a value the alertRules API accepts") as c:
        render_rule(load_rule(path))
    assert c.value.message.startswith(f"{where}: ")
    assert c.value.location.path == str(path) and c.value.location.line > 1


# --- every bad file in one run ------------------------------------------------------------


def _bad_rules(folder: Path) -> list[Path]:
    good = write_rule(folder, "a-good", scheduled())
    bad = [
        write_rule(folder, "b-entity", scheduled(id="1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d", entityMappings=[
            {"entityType": "Azure resource", "fieldMappings": [{"identifier": "ResourceId", "columnName": "R"}]}])),
        write_rule(folder, "c-stub", {"id": "2c3d4e5f-6071-4b8c-9d0e-1f2a3b4c5d6e", "name": "Moved", "version": "1.0.0"}),
        folder / "d-broken.yaml",
    ]
    bad[2].write_text("id: x\nname: [unclosed\n", encoding="utf-8")
    return [good, *bad]


@pytest.mark.parametrize("command", ["build", "pack"])
def test_every_bad_file_is_reported_and_nothing_is_written(tmp_path: Path, command: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules"
    write_rule(rules, "a-good", scheduled())
    out = tmp_path / ("out" if command == "build" else "pack.zip")
    args = ["--out", str(out)] + (["--version", "1.0.0"] if command == "pack" else [])
    assert main([command, *args, str(rules)]) == 0
    before = sorted(p.read_bytes() for p in ([out] if out.is_file() else out.rglob("*")) if p.is_file())
    capsys.readouterr()

    _, *bad = _bad_rules(rules)
    assert main([command, *args, str(rules)]) == 2
    err = capsys.readouterr().err.splitlines()
    errors = [line for line in err if line.startswith("error: ")]
    assert [line.split(":")[1].strip() for line in errors] == [str(p) for p in bad]
    assert all(line.count(":") >= 4 for line in errors)  # error: file:line:col: message
    assert err[-1] == f"3 rule file(s) cannot be built (3 error(s)); nothing was written; {out} is unchanged"
    after = sorted(p.read_bytes() for p in ([out] if out.is_file() else out.rglob("*")) if p.is_file())
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["rules", out.name])

    assert main([command, "--format", "json", *args, str(rules)]) == 2
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is False and [e["file"] for e in document["errors"]] == [str(p) for p in bad]
    assert all(e["line"] and e["message"] for e in document["errors"])


def test_build_failed_carries_every_error(tmp_path: Path) -> None:
    _, *bad = _bad_rules(tmp_path / "rules")
    with pytest.raises(BuildFailed) as caught:
        build([str(tmp_path / "rules")], tmp_path / "out")
    assert [e.location.path for e in caught.value.errors] == [str(p) for p in bad]
    assert isinstance(caught.value, DacError)


def test_pack_zip_holds_what_build_writes(tmp_path: Path) -> None:
    """The pack's per-rule artifacts are the build's, so the schema test above covers them too."""
    out, pack = tmp_path / "out", tmp_path / "pack.zip"
    build([str(HUNTING), str(SUBTECHNIQUES)], out)
    assert main(["pack", "--out", str(pack), "--version", "1.0.0", str(HUNTING), str(SUBTECHNIQUES)]) == 0
    with zipfile.ZipFile(pack) as archive:
        for name in ("sentinel", "defender"):
            for path in sorted((out / name).glob("*.json")):
                assert archive.read(f"{name}/{path.name}") == path.read_bytes()
        deployment = json.loads(archive.read("deployment/sentinel.json"))
    assert all(arm_errors(resource) == [] for resource in deployment["resources"])

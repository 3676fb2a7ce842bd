"""Pack-level deployment (ARM JSON and Bicep) and `dac deploy --dry-run` (drift report, REST requests).

The Bicep text is read back by a small parser written here for the subset the
renderer emits (params, resources, objects, arrays, single-quoted strings with
Bicep's escapes), so every check is on decoded values, not on substrings.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO

from dac.cli import main
from dac.deploy import build_requests, desired_rules, parse_export, plan
from dac.errors import DacError
from dac.render import render_rule
from dac.render.deployment import (
    BICEP_NAME,
    JSON_NAME,
    arm_unescape,
    bicep_environment,
    bicep_string,
    collect,
    pack_files,
)
from dac.rules.model import load_rule

SEED = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"
DATA = REPO / "tests" / "data" / "render"
SCHEDULED = DATA / "scheduled-encoded-powershell.yaml"
NRT = DATA / "nrt-inbox-forwarding.yaml"
SHAPES = json.loads((DATA / "shapes.json").read_text(encoding="utf-8"))
BICEP_SHAPE = SHAPES["sentinel"]["packDeployment"]["bicep"]

SEED_ID = "f075d4c4-cf76-4e5d-9c2d-9ed524286316"
SCHEDULED_ID = "5b0c5f4e-9d3a-4f7e-8c21-3a6e2d9b7f10"
NRT_ID = "8e3f1a92-47c6-4d1b-9b5e-0f2a6c7d8e91"

OLD_ID = "11111111-2222-4333-8444-555555555555"
SUB = "00000000-1111-2222-3333-444444444444"
WS_BASE = (f"https://management.azure.com/subscriptions/{SUB}/resourceGroups/rg-sec"
           "/providers/Microsoft.OperationalInsights/workspaces/law-sentinel")
RULES_URL = f"{WS_BASE}/providers/Microsoft.SecurityInsights/alertRules"


# --- a reader for the Bicep the renderer writes ------------------------------

ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "'": "'", "$": "$"}
TOKEN = re.compile(r"(?P<nl>\n)|(?P<ws>[ \t]+)|(?P<comment>//[^\n]*)|(?P<str>')|(?P<num>-?[0-9]+)"
                   r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[{}\[\]:=()@])")


def decode_string(text: str, start: int) -> tuple[str, int]:
    """Decode the Bicep string literal opening at ``text[start]``; return (value, index after it)."""
    out, i = [], start + 1
    while True:
        char = text[i]
        if char in "\r\n":
            raise AssertionError(f"raw line break inside a string at {i}")
        if char == "'":
            return "".join(out), i + 1
        if char == "$" and text[i + 1] == "{":
            raise AssertionError(f"unescaped interpolation at {i}")
        if char == "\\":
            code = text[i + 1]
            if code == "u":
                match = re.compile(r"\{([0-9A-Fa-f]+)\}").match(text, i + 2)
                assert match, f"bad \\u escape at {i}"
                out.append(chr(int(match.group(1), 16)))
                i = match.end()
                continue
            assert code in ESCAPES, f"unknown escape \\{code} at {i}"
            out.append(ESCAPES[code])
            i += 2
            continue
        assert " " <= char <= "~", f"character {char!r} written raw at {i}"
        out.append(char)
        i += 1


def tokens(text: str) -> list[tuple[str, Any]]:
    result, i = [], 0
    while i < len(text):
        match = TOKEN.match(text, i)
        assert match, f"unexpected text at {i}: {text[i:i + 20]!r}"
        kind = match.lastgroup
        if kind == "str":
            value, i = decode_string(text, i)
            result.append(("str", value))
            continue
        i = match.end()
        if kind in ("ws", "comment"):
            continue
        if kind == "nl":
            if not result or result[-1][0] != "nl":
                result.append(("nl", None))
        else:
            result.append((kind, match.group()))
    return result


class BicepReader:
    def __init__(self, text: str) -> None:
        self.toks = tokens(text)
        self.pos = 0

    def peek(self) -> tuple[str, Any]:
        return self.toks[self.pos] if self.pos < len(self.toks) else ("eof", None)

    def take(self, kind: str, value: Any = None) -> Any:
        tok = self.peek()
        assert tok[0] == kind and (value is None or tok[1] == value), f"expected {kind} {value}, found {tok}"
        self.pos += 1
        return tok[1]

    def skip_nl(self) -> None:
        while self.peek()[0] == "nl":
            self.pos += 1

    def value(self) -> Any:
        kind, text = self.peek()
        if kind == "str":
            self.pos += 1
            return text
        if kind == "num":
            self.pos += 1
            return int(text)
        if kind == "punct" and text == "{":
            return self.obj()
        if kind == "punct" and text == "[":
            return self.array()
        if kind == "ident":
            self.pos += 1
            if text in ("true", "false", "null"):
                return {"true": True, "false": False, "null": None}[text]
            if text == "json":
                self.take("punct", "(")
                number = float(self.take("str"))
                self.take("punct", ")")
                return number
            return ("ref", text)
        raise AssertionError(f"unexpected {kind} {text}")

    def obj(self) -> dict:
        self.take("punct", "{")
        result: dict = {}
        if self.peek() == ("punct", "}"):
            self.pos += 1
            return result
        self.take("nl")
        while self.peek() != ("punct", "}"):
            kind, key = self.peek()
            assert kind in ("ident", "str"), f"bad key {key!r}"
            self.pos += 1
            self.take("punct", ":")
            assert key not in result, f"duplicate key {key}"
            result[key] = self.value()
            self.take("nl")
        self.take("punct", "}")
        return result

    def array(self) -> list:
        self.take("punct", "[")
        if self.peek() == ("punct", "]"):
            self.pos += 1
            return []
        self.take("nl")
        result = []
        while self.peek() != ("punct", "]"):
            result.append(self.value())
            self.take("nl")
        self.take("punct", "]")
        return result

    def program(self) -> dict:
        params: dict = {}
        resources: dict = {}
        decorators: list = []
        self.skip_nl()
        while self.peek()[0] != "eof":
            if self.peek() == ("punct", "@"):
                self.pos += 1
                name = self.take("ident")
                self.take("punct", "(")
                decorators.append((name, self.value()))
                self.take("punct", ")")
            elif self.peek() == ("ident", "param"):
                self.pos += 1
                name = self.take("ident")
                params[name] = (self.take("ident"), decorators)
                decorators = []
            elif self.peek() == ("ident", "resource"):
                self.pos += 1
                symbol = self.take("ident")
                type_version = self.take("str")
                existing = self.peek() == ("ident", "existing")
                if existing:
                    self.pos += 1
                self.take("punct", "=")
                assert symbol not in resources and symbol not in params, f"symbol {symbol} declared twice"
                resources[symbol] = {"type": type_version, "existing": existing, "body": self.obj()}
            else:
                raise AssertionError(f"unexpected statement {self.peek()}")
            self.skip_nl()
        return {"params": params, "resources": resources}


def read_bicep(text: str) -> dict:
    return BicepReader(text).program()


# --- helpers -----------------------------------------------------------------


def write_rule(folder: Path, stem: str, data: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def per_rule_resource(path: Path) -> dict:
    (resource,) = render_rule(load_rule(path))["sentinel"]["resources"]
    return resource


def files_for(*paths: Path) -> dict[str, bytes]:
    rules = [load_rule(p) for p in paths]
    return pack_files([(rule, render_rule(rule)["sentinel"]) for rule in rules])


HOSTILE = ("It's a 'quote' \\ back\\slash\nnew line\r\ncarriage\ttab ${workspace} $ {x} \\${y} "
           "{{ 7*7 }} [concat(parameters('workspace'))] caf\u00e9 \u2028 \U0001F600 \\u{41} '''")
HOSTILE_NAME = "[Bob's ${rule} concat('a', 'b')]"
HOSTILE_ID = "3c2b1a09-8f7e-4d6c-9b5a-0e1d2c3b4a59"


def hostile_rules(folder: Path) -> list[Path]:
    scheduled = {
        "id": HOSTILE_ID, "name": HOSTILE_NAME, "description": HOSTILE, "severity": "Low",
        "queryFrequency": "1h", "queryPeriod": "1h", "triggerOperator": "gt", "triggerThreshold": 0,
        "tactics": ["Persistence"], "relevantTechniques": ["T1098"],
        "query": "DeviceEvents\n| where Msg == 'it''s' and P == @'C:\\x' and S == \"${x}\"\n",
        "customDetails": {"Detail": "[Column]"},
        "alertDetailsOverride": {"alertDescriptionFormat": "[{{Column}}] it's", "alertDisplayNameFormat": "a\\b"},
        "version": "1.0.0", "kind": "Scheduled",
    }
    hunting = {"id": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a", "name": "Hunt 'x' ${y}", "description": HOSTILE,
               "query": "T | where X == '\\''\n"}
    return [write_rule(folder, "hostile", scheduled), write_rule(folder, "hostile-hunt", hunting)]


# --- the pack's ARM template -------------------------------------------------


def test_pack_arm_template_holds_every_per_rule_resource() -> None:
    document = json.loads(files_for(SEED, SCHEDULED, NRT)[JSON_NAME])
    assert document["$schema"] == SHAPES["sentinel"]["deploymentTemplate"]["schema"]
    assert document["contentVersion"] == SHAPES["sentinel"]["deploymentTemplate"]["contentVersion"]
    # workspace only: neither resource type has a location (see deployment.py)
    assert document["parameters"] == {"workspace": {"type": "string"}}
    # one resource per rule, by name: Encoded..., Inbox..., User...; each exactly the per-rule one
    assert document["resources"] == [per_rule_resource(SCHEDULED), per_rule_resource(NRT), per_rule_resource(SEED)]
    assert all("location" not in resource for resource in document["resources"])


def test_pack_arm_template_keeps_the_arm_escape_once(tmp_path: Path) -> None:
    paths = hostile_rules(tmp_path)
    document = json.loads(files_for(*paths)[JSON_NAME])
    scheduled = next(r for r in document["resources"] if r.get("kind") == "Scheduled")
    assert scheduled == per_rule_resource(paths[0])
    assert scheduled["properties"]["displayName"] == "[" + HOSTILE_NAME  # escaped once, not twice
    assert scheduled["properties"]["customDetails"] == {"Detail": "[[Column]"}


def test_duplicate_ids_in_a_pack_are_an_error(tmp_path: Path) -> None:
    one = write_rule(tmp_path, "one", yaml.safe_load(SCHEDULED.read_text()))
    two = write_rule(tmp_path, "two", {**yaml.safe_load(SCHEDULED.read_text()), "name": "Another"})
    rules = [load_rule(p) for p in (one, two)]
    with pytest.raises(DacError, match="two rules in the pack have the id"):
        collect([(rule, render_rule(rule)["sentinel"]) for rule in rules])


def test_a_smuggled_expression_is_refused() -> None:
    rule = load_rule(SCHEDULED)
    template = copy.deepcopy(render_rule(rule)["sentinel"])
    template["resources"][0]["properties"]["description"] = "[parameters('x')]"
    with pytest.raises(DacError, match="ARM expression"):
        collect([(rule, template)])


# --- Bicep -------------------------------------------------------------------


def test_bicep_has_one_resource_per_rule_with_the_right_type() -> None:
    program = read_bicep(files_for(SEED, SCHEDULED, NRT)[BICEP_NAME].decode("ascii"))
    assert list(program["params"]) == ["workspace"] and program["params"]["workspace"][0] == "string"
    resources = program["resources"]
    ws_shape = BICEP_SHAPE["workspace"]
    workspace = resources.pop(ws_shape["symbol"])
    assert workspace == {"type": f"{ws_shape['type']}@{ws_shape['apiVersion']}", "existing": True,
                         "body": {"name": ("ref", "workspace")}}
    hunting, analytics = BICEP_SHAPE["huntingQuery"], BICEP_SHAPE["analyticsRule"]
    expected = [(SCHEDULED, SCHEDULED_ID, "Scheduled"), (NRT, NRT_ID, "NRT"), (SEED, SEED_ID, None)]
    assert len(resources) == len(expected)
    for (path, guid, kind), (symbol, resource) in zip(expected, resources.items()):
        body = resource["body"]
        assert not resource["existing"] and guid.replace("-", "_") in symbol
        assert body["name"] == guid
        literal = arm_unescape(per_rule_resource(path)["properties"])
        if kind is None:
            assert resource["type"] == f"{hunting['type']}@{hunting['apiVersion']}"
            assert body == {"parent": ("ref", ws_shape["symbol"]), "name": guid, "properties": literal}
        else:
            assert resource["type"] == f"{analytics['type']}@{analytics['apiVersion']}"
            assert body == {"scope": ("ref", ws_shape["symbol"]), "name": guid, "kind": kind, "properties": literal}


def test_bicep_writes_hostile_strings_as_their_literal_values(tmp_path: Path) -> None:
    paths = hostile_rules(tmp_path)
    text = files_for(*paths)[BICEP_NAME].decode("ascii")  # plain ASCII, whatever the rules hold
    resources = read_bicep(text)["resources"]
    by_name = {r["body"]["name"]: r["body"]["properties"] for r in resources.values() if "properties" in r["body"]}
    scheduled = by_name[HOSTILE_ID]
    source = yaml.safe_load(paths[0].read_text(encoding="utf-8"))
    # literal values: no ARM [[ escape (Bicep adds it when compiling), nothing evaluated
    assert scheduled["displayName"] == HOSTILE_NAME
    assert scheduled["description"] == HOSTILE
    assert scheduled["query"] == source["query"]
    assert scheduled["customDetails"] == {"Detail": "[Column]"}
    assert scheduled["alertDetailsOverride"] == source["alertDetailsOverride"]
    assert scheduled == arm_unescape(per_rule_resource(paths[0])["properties"])
    hunt = by_name["9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"]
    assert hunt["displayName"] == "Hunt 'x' ${y}" and hunt["query"] == "T | where X == '\\''\n"
    assert hunt["tags"][0] == {"name": "description", "value": HOSTILE}
    assert "49" not in text


@pytest.mark.parametrize("text", ["", "'", "\\", "${", "$", "\\'", "a\r\nb", "\u2028", "\x00\x1f\x7f", "\U0010FFFF",
                                  "'''", "\\u{41}", "}'${x}'{"])
def test_bicep_string_round_trips(text: str) -> None:
    literal = bicep_string(text)
    assert decode_string(literal, 0) == (text, len(literal))


def test_bicep_string_round_trips_random_text() -> None:
    generator = random.Random(7)
    alphabet = "ab'\\$\n\r\t{}[] \u00e9\u2028\x00\U0001F600"
    for _ in range(500):
        text = "".join(generator.choice(alphabet) for _ in range(generator.randrange(12)))
        literal = bicep_string(text)
        assert literal.isascii() and decode_string(literal, 0) == (text, len(literal))


def test_bicep_values_need_a_filter_and_keys_are_quoted_when_needed() -> None:
    env = bicep_environment()
    with pytest.raises(TypeError, match="without the bicep"):
        env.from_string("{{ v }}").render(v="x")
    with pytest.raises(TypeError, match="not a Bicep identifier"):
        env.from_string("{{ v | bicep_identifier }}").render(v="a b")
    text = env.from_string("{{ v | bicep }}").render(v={"ok_key": 1, "with space": [], "null": {}, "n": -2, "f": 1.5})
    assert read_bicep("param p string\nresource r 't' = " + text + "\n")["resources"]["r"]["body"] == {
        "ok_key": 1, "with space": [], "null": {}, "n": -2, "f": 1.5}
    assert "'with space'" in text and "'null'" in text


# --- in the pack -------------------------------------------------------------


def test_pack_zip_holds_both_deployment_files_reproducibly(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    for path in (SEED, SCHEDULED, NRT):
        (rules / path.name).write_bytes(path.read_bytes())
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    assert main(["pack", "--out", str(first), "--version", "2.0.0", str(rules)]) == 0
    assert main(["pack", "--out", str(second), "--version", "2.0.0", str(rules)]) == 0
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert {JSON_NAME, BICEP_NAME} <= set(archive.namelist())
        assert archive.read(JSON_NAME) == files_for(SEED, SCHEDULED, NRT)[JSON_NAME]
        assert archive.read(BICEP_NAME) == files_for(SEED, SCHEDULED, NRT)[BICEP_NAME]
        sums = dict(reversed(line.split("  ")) for line in archive.read("SHA256SUMS").decode().splitlines())
        for name in (JSON_NAME, BICEP_NAME):
            assert sums[name] == hashlib.sha256(archive.read(name)).hexdigest()


# --- drift report ------------------------------------------------------------


def export(tmp_path: Path) -> Path:
    """A hand-written workspace export: list responses of alertRules and savedSearches."""
    scheduled = arm_unescape(per_rule_resource(SCHEDULED)["properties"])
    scheduled["description"] = "An older description"
    scheduled["query"] = "DeviceProcessEvents | take 1"
    scheduled["lastModifiedUtc"] = "2024-01-01T00:00:00Z"  # written by the service: ignored
    nrt = arm_unescape(per_rule_resource(NRT)["properties"])
    assert "alertDetailsOverride" not in nrt  # unset in the rule: not written (the schema refuses null)
    nrt["lastModifiedUtc"] = "2024-01-01T00:00:00Z"
    alert_rules = {"value": [
        {"id": f"{RULES_URL}/{SCHEDULED_ID.upper()}", "name": SCHEDULED_ID.upper(), "kind": "Scheduled",
         "etag": '"1"', "type": "Microsoft.SecurityInsights/alertRules", "properties": scheduled},
        {"id": f"{RULES_URL}/{NRT_ID}", "name": NRT_ID, "kind": "NRT", "properties": nrt},
        {"id": f"{RULES_URL}/11111111-2222-4333-8444-555555555555", "name": "11111111-2222-4333-8444-555555555555",
         "kind": "Scheduled", "properties": {"displayName": "Old rule", "query": "T"}},
        {"id": f"{RULES_URL}/BuiltInFusionAlert", "name": "BuiltInFusionAlert", "kind": "Fusion",
         "properties": {"displayName": "Advanced Multistage Attack Detection"}},
    ]}
    saved_searches = {"value": [
        {"id": f"{WS_BASE}/savedSearches/aaaaaaaa-0000-4000-8000-000000000001",
         "properties": {"category": "Hunting Queries", "displayName": "Retired hunt", "query": "T"}},
        {"id": f"{WS_BASE}/savedSearches/LogManagement(law)_General|AlphabeticallySortedComputers",
         "properties": {"category": "General Exploration", "displayName": "All Computers", "query": "Heartbeat"}},
    ]}
    path = tmp_path / "export.json"
    path.write_text(json.dumps([alert_rules, saved_searches]), encoding="utf-8")
    return path


def rules_folder(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    for path in (SEED, SCHEDULED, NRT):
        (rules / path.name).write_bytes(path.read_bytes())
    return rules


def test_drift_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    current, rules = export(tmp_path), rules_folder(tmp_path)
    assert main(["deploy", "--dry-run", "--current", str(current), str(rules)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"update Encoded PowerShell with a download ({SCHEDULED_ID}): description, query",
        f"create User clicked through events ({SEED_ID})",
        "unmanaged Old rule (11111111-2222-4333-8444-555555555555)",
        "unmanaged Retired hunt (aaaaaaaa-0000-4000-8000-000000000001)",
        "1 unchanged",
        "2 unmanaged (in the workspace, not in the rules; --prune deletes them)",
        "2 other workspace item(s) ignored (not Scheduled/NRT rules or hunting queries)",
    ]
    assert main(["deploy", "--dry-run", "--prune", "--current", str(current), str(rules)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2:5] == ["delete Old rule (11111111-2222-4333-8444-555555555555)",
                          "delete Retired hunt (aaaaaaaa-0000-4000-8000-000000000001)", "1 unchanged"]


def test_kind_change_and_empty_workspace() -> None:
    desired = desired_rules([str(NRT)])
    props = dict(desired[0].properties)
    current = parse_export({"value": [{"id": f"{RULES_URL}/{NRT_ID}", "kind": "Scheduled", "properties": props}]})
    assert [c.line() for c in plan(desired, current).changes] == [
        f"update Inbox rule forwarding mail outside the organisation ({NRT_ID}): kind"]
    drift = plan(desired, parse_export({"value": []}))
    assert [c.action for c in drift.changes] == ["create"] and drift.unchanged == []


def test_deploy_without_dry_run_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    current, rules = export(tmp_path), rules_folder(tmp_path)
    assert main(["deploy", "--current", str(current), str(rules)]) == 2
    err = capsys.readouterr().err
    assert all(word in err for word in ("--subscription", "--resource-group", "--workspace", "token"))
    assert main(["deploy", "--dry-run", str(rules)]) == 2
    assert "--current" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"value": [{"id": "/subscriptions/x/providers/Microsoft.Web/sites/y"}]}')
    assert main(["deploy", "--dry-run", "--current", str(bad), str(rules)]) == 2


# --- REST requests -----------------------------------------------------------


def test_build_requests_for_every_rule(tmp_path: Path) -> None:
    paths = hostile_rules(tmp_path)
    desired = desired_rules([str(SEED), str(SCHEDULED)] + [str(p) for p in paths])
    requests = build_requests(desired, subscription=SUB, resource_group="rg-sec", workspace="law-sentinel")
    assert [(method, url) for method, url, _ in requests] == [
        ("PUT", f"{RULES_URL}/{HOSTILE_ID}?api-version=2023-12-01-preview"),
        ("PUT", f"{RULES_URL}/{SCHEDULED_ID}?api-version=2023-12-01-preview"),
        ("PUT", f"{WS_BASE}/savedSearches/9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a?api-version=2020-08-01"),
        ("PUT", f"{WS_BASE}/savedSearches/{SEED_ID}?api-version=2020-08-01"),
    ]
    hostile_body = requests[0][2]
    assert hostile_body == {"kind": "Scheduled",
                            "properties": arm_unescape(per_rule_resource(paths[0])["properties"])}
    # REST is not template-evaluated: literal values, no [[ escape
    assert hostile_body["properties"]["displayName"] == HOSTILE_NAME
    assert hostile_body["properties"]["customDetails"] == {"Detail": "[Column]"}
    seed_body = requests[3][2]
    assert seed_body == {"etag": "*", "properties": per_rule_resource(SEED)["properties"]}
    json.dumps(requests)  # bodies are plain JSON


def test_build_requests_from_a_drift_plan(tmp_path: Path) -> None:
    desired = desired_rules([str(rules_folder(tmp_path))])
    current = parse_export(json.loads(export(tmp_path).read_text()))
    drift = plan(desired, current, prune=True)
    requests = build_requests(desired, subscription=SUB, resource_group="rg-sec", workspace="law-sentinel",
                              drift=drift)
    assert [(m, u.split("/workspaces/law-sentinel")[1], b is None) for m, u, b in requests] == [
        ("PUT", f"/providers/Microsoft.SecurityInsights/alertRules/{SCHEDULED_ID}?api-version=2023-12-01-preview",
         False),
        ("PUT", f"/savedSearches/{SEED_ID}?api-version=2020-08-01", False),
        ("DELETE", f"/providers/Microsoft.SecurityInsights/alertRules/{OLD_ID}?api-version=2023-12-01-preview", True),
        ("DELETE", "/savedSearches/aaaaaaaa-0000-4000-8000-000000000001?api-version=2020-08-01", True),
    ]
    # without --prune nothing is deleted
    kept = build_requests(desired, subscription=SUB, resource_group="rg-sec", workspace="law-sentinel",
                          drift=plan(desired, current))
    assert [m for m, _, _ in kept] == ["PUT", "PUT"]


@pytest.mark.parametrize("target", [
    {"subscription": "not-a-guid", "resource_group": "rg", "workspace": "law-sentinel"},
    {"subscription": SUB, "resource_group": "rg/../x", "workspace": "law-sentinel"},
    {"subscription": SUB, "resource_group": "rg", "workspace": "ws?api-version=1"},
])
def test_build_requests_refuses_bad_targets(target: dict) -> None:
    with pytest.raises(DacError, match="not a"):
        build_requests(desired_rules([str(SEED)]), **target)


def test_dry_run_lists_the_requests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    current, rules = export(tmp_path), rules_folder(tmp_path)
    assert main(["deploy", "--dry-run", "--current", str(current), "--subscription", SUB, "--resource-group",
                 "rg-sec", "--workspace", "law-sentinel", str(rules)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("would send")]
    assert lines == [f"would send: PUT {RULES_URL}/{SCHEDULED_ID}?api-version=2023-12-01-preview",
                     f"would send: PUT {WS_BASE}/savedSearches/{SEED_ID}?api-version=2020-08-01"]

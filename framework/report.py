"""``dac report``: a coverage and health report of the rules, for people and for Navigator.

Two files are written into the output folder:

* ``attack-navigator-layer.json`` - an ATT&CK Navigator layer (layer format 4.5)
  with one entry per technique or sub-technique named in the rules'
  ``relevantTechniques`` or ``subTechniques`` and per tactic it is placed under
  (``tactic``, Navigator's short name such as ``initial-access``). Its score is
  the number of rules placing it there, its comment lists those rules and its
  metadata carries the technique's name. A sub-technique is its own entry; it
  does not raise its parent's score.
* ``index.html`` - a static page without scripts or external assets: summary
  counts, one table row per rule (kind, platforms, tables read, validation and
  test outcome; with ``--mutate`` the mutation score) and a matrix of the ATT&CK tactics in kill-chain order with the
  techniques (id and name) the rules place under each.

Placement follows the ATT&CK Enterprise catalog (:mod:`dac.validate.attack`): a
technique goes under each of the rule's tactics it belongs to. When it belongs to
none of them (``dac validate`` warns), it goes under its own ATT&CK tactics, which
is where Navigator would show it; a technique the catalog does not have (an ICS
id, a typo) goes under the rule's tactics as declared, and has no ``tactic`` in
the layer. The layer's ATT&CK version is the catalog's.

Rule text is untrusted. The page is rendered in a sandboxed Jinja environment
with HTML autoescaping on, rule data is only ever passed as values, and the
page carries a Content-Security-Policy that forbids scripts as a second line of
defence. The output is deterministic (no clock, sorted everything) and is
written atomically: staged in a folder beside the target, then swapped in.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from dac.errors import DacError, DacWarning, Location
from dac.files import MAX_JSON_BYTES, read_bytes
from dac.render.environment import sandbox
from dac.render.writer import staged_output
from dac.validate.attack import AttackCatalog, attack_catalog

LAYER_NAME = "attack-navigator-layer.json"
HTML_NAME = "index.html"
TEMPLATE = "report.html.j2"
GENERATOR = "dac report"

# Navigator layer format 4.5 (mitre-attack/attack-navigator, layers/spec/v4.5/layerformat.md);
# the ATT&CK version is the catalog's (layer_versions).
NAVIGATOR_VERSION = "5.2.0"
LAYER_FORMAT = "4.5"
GRADIENT_COLORS = ["#ffffff", "#66b1ff"]

TECHNIQUE_ID = re.compile(r"^T[0-9]{4}(\.[0-9]{3})?$")
TECHNIQUE_KEYS = ("relevantTechniques", "subTechniques")
NO_TACTIC = "(no tactic)"


def layer_versions() -> dict[str, str]:
    """The layer's ``versions``: Navigator names the ATT&CK version by its major number."""
    return {"attack": attack_catalog().major_version, "navigator": NAVIGATOR_VERSION, "layer": LAYER_FORMAT}


@dataclass
class RuleRow:
    """What the report shows about one rule file."""

    path: str
    name: str
    id: str = ""
    kind: str = ""
    platforms: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    tactics: list[str] = field(default_factory=list)
    techniques: list[str] = field(default_factory=list)
    errors: int = 0
    warnings: int = 0
    passed: int = 0
    failed: int = 0
    has_query: bool = True
    loaded: bool = True
    mutation: str = ""  # with ``dac report --mutate``: the mutation score and counts, or why it has none
    mutation_score: float | None = None

    @property
    def validation(self) -> str:
        text = "clean" if not self.errors else f"{self.errors} finding{'s' if self.errors != 1 else ''}"
        if self.warnings:
            text += f", {self.warnings} warning{'s' if self.warnings != 1 else ''}"
        return text


def _techniques(data: dict[str, Any]) -> list[str]:
    found: set[str] = set()
    for key in TECHNIQUE_KEYS:
        raw = data.get(key)
        if isinstance(raw, list):
            found |= {str(t).strip() for t in raw if TECHNIQUE_ID.match(str(t).strip())}
    return sorted(found)


def _tactics(data: dict[str, Any]) -> list[str]:
    """The rule's tactics Sentinel knows, as Sentinel spells them (``Defense evasion`` too), kill-chain order."""
    raw = data.get("tactics")
    if not isinstance(raw, list):
        return []
    catalog = attack_catalog()
    order = [tactic.name for tactic in catalog.tactics]
    named = {tactic.name for tactic in map(catalog.tactic, raw) if tactic is not None}
    return sorted(named, key=order.index)


def placement(row: RuleRow, catalog: AttackCatalog) -> dict[str, list[str]]:
    """technique id -> the tactics the rule's technique is shown under (see the module's docstring)."""
    placed: dict[str, list[str]] = {}
    for ident in row.techniques:
        technique = catalog.techniques.get(ident)
        if technique is None:
            placed[ident] = list(row.tactics) or [NO_TACTIC]
        else:
            placed[ident] = [t for t in row.tactics if t in technique.tactics] or list(technique.tactics)
    return placed


def _tables_read(query: str | None, platforms: list[str]) -> list[str]:
    from dac.kql import KqlError, parse
    from dac.kql.binder import CatalogTables, tables_read

    if query is None:
        return []
    try:
        tree = parse(query)
    except KqlError:
        return []
    names: set[str] = set()
    for platform in platforms:
        try:
            names |= tables_read(tree, CatalogTables(platform))
        except DacError:  # an unknown platform name: validation reports it
            continue
    return sorted(names)


def _key(path: str | Path) -> str:
    return os.path.normpath(os.path.abspath(str(path)))


def collect(paths: Sequence[str | Path], mutate: bool = False) -> list[RuleRow]:
    """Load, validate and test every rule under ``paths``; one row per rule file, in path order.

    With ``mutate`` each rule's mutation score is computed too (``dac test --mutate``'s analysis).
    """
    from dac.rules.model import discover_rule_files, load_rule, test_file_for
    from dac.testing.runner import run_rule
    from dac.validate import validate_paths

    files = discover_rule_files(list(paths))
    findings = validate_paths(list(paths))
    mutations = {}
    if mutate:
        from dac.testing.mutation import mutate_rules

        mutations = {_key(rule.path): rule for rule in mutate_rules([str(p) for p in paths]).rules}
    rows: list[RuleRow] = []
    for path in files:
        try:
            rule = load_rule(path)
        except DacError:
            row = RuleRow(path=str(path), name=path.name, loaded=False, has_query=False)
        else:
            row = RuleRow(
                path=str(path), name=rule.name or path.stem, id=rule.id, kind=rule.kind,
                platforms=list(rule.platforms), tables=_tables_read(rule.query, rule.platforms),
                tactics=_tactics(rule.data), techniques=_techniques(rule.data), has_query=rule.query is not None,
            )
        own = {_key(path)}
        test_file = test_file_for(path)
        if test_file is not None:
            own.add(_key(test_file))
        for finding in findings:
            if finding.location.path and _key(finding.location.path) in own:
                if isinstance(finding, DacWarning):
                    row.warnings += 1
                else:
                    row.errors += 1
        if row.loaded:
            for result in run_rule(path):
                if result.status == "PASS":
                    row.passed += 1
                else:
                    row.failed += 1
        if _key(path) in mutations:
            _mutation_cell(row, mutations[_key(path)])
        rows.append(row)
    return rows


def _mutation_cell(row: RuleRow, mutation: Any) -> None:
    """The report's mutation column for one rule: "85.0% (17 of 20 killed)", or why there is no score."""
    from dac.testing.mutation import KILLED, SURVIVED

    row.mutation_score = mutation.score
    if mutation.problem:
        row.mutation = f"not scored: {mutation.problem}"
    elif mutation.score is None:
        row.mutation = "no mutants to score"
    else:
        judged = mutation.count(KILLED) + mutation.count(SURVIVED)
        row.mutation = f"{mutation.score * 100:.1f}% ({mutation.count(KILLED)} of {judged} killed)"


def _cells(rows: Sequence[RuleRow], catalog: AttackCatalog) -> dict[str, dict[str, set[int]]]:
    """tactic -> technique id -> the rules (indexes into ``rows``) placing the technique there.

    Rules are counted by file, not by name: two files with the same name both count.
    """
    cells: dict[str, dict[str, set[int]]] = {}
    for index, row in enumerate(rows):
        for technique, tactics in placement(row, catalog).items():
            for tactic in tactics:
                cells.setdefault(tactic, {}).setdefault(technique, set()).add(index)
    return cells


def navigator_layer(rows: Sequence[RuleRow]) -> dict[str, Any]:
    """The ATT&CK Navigator layer: one scored entry per technique and tactic the rules place it under."""
    catalog = attack_catalog()
    shortnames = {tactic.name: tactic.shortname for tactic in catalog.tactics if tactic.shortname}
    entries: dict[tuple[str, str], set[int]] = {}
    for tactic, found in _cells(rows, catalog).items():
        for technique, indexes in found.items():
            # placement puts a catalog technique under Enterprise tactics only; one the catalog
            # lacks gets a single entry without a tactic, as Navigator has no tactic for it
            key = (technique, shortnames[tactic] if technique in catalog.techniques else "")
            entries.setdefault(key, set()).update(indexes)
    top = max((len(indexes) for indexes in entries.values()), default=0)
    order = {shortname: index for index, shortname in enumerate(shortnames.values())}
    techniques = []
    for (technique, tactic), indexes in sorted(entries.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], -1))):
        entry: dict[str, Any] = {"techniqueID": technique}
        if tactic:
            entry["tactic"] = tactic
        names = sorted(rows[index].name for index in indexes)
        entry.update({"score": len(names), "comment": "; ".join(names), "enabled": True})
        if technique in catalog.techniques:
            entry["metadata"] = [{"name": "technique", "value": catalog.techniques[technique].name}]
        techniques.append(entry)
    return {
        "name": "dac detection coverage",
        "versions": layer_versions(),
        "domain": "enterprise-attack",
        "description": f"Techniques named by {len(rows)} rule(s), under the tactics the rules place them; "
                       "score = number of rules placing the technique there.",
        "sorting": 3,
        "layout": {"layout": "side", "showID": True, "showName": True, "expandedSubtechniques": "annotated"},
        "hideDisabled": False,
        "techniques": techniques,
        "gradient": {"colors": list(GRADIENT_COLORS), "minValue": 0, "maxValue": max(top, 1)},
        "legendItems": [
            {"label": "not named by any rule", "color": GRADIENT_COLORS[0]},
            {"label": f"named by {max(top, 1)} rule{'s' if top > 1 else ''}", "color": GRADIENT_COLORS[1]},
        ],
        "metadata": [{"name": "generator", "value": GENERATOR}],
    }


def tactic_matrix(rows: Sequence[RuleRow]) -> list[dict[str, Any]]:
    """Rows of the coverage matrix: each tactic (kill-chain order) with its techniques, names and rule counts."""
    catalog = attack_catalog()
    cells = _cells(rows, catalog)
    matrix = []
    for tactic in (*catalog.tactics, None):
        name, label = (tactic.name, tactic.label) if tactic else (NO_TACTIC, NO_TACTIC)
        found = cells.get(name, {})
        if (tactic is None or tactic.shortname is None) and not found:
            continue  # PreAttack, the ICS tactics and "no tactic" only when a rule uses them
        matrix.append({
            "tactic": label,
            "techniques": [{"id": t, "name": catalog.techniques[t].name if t in catalog.techniques else "",
                            "rules": len(found[t])} for t in sorted(found)],
        })
    return matrix


def summary(rows: Sequence[RuleRow]) -> dict[str, int]:
    return {
        "rules": len(rows),
        "hunting": sum(1 for r in rows if r.kind == "Hunting"),
        "scheduled": sum(1 for r in rows if r.kind == "Scheduled"),
        "nrt": sum(1 for r in rows if r.kind == "NRT"),
        "techniques": len({technique for row in rows for technique in row.techniques}),
        "tactics": len(set(_cells(rows, attack_catalog())) - {NO_TACTIC}),
        "clean": sum(1 for r in rows if r.loaded and not r.errors),
        "findings": sum(r.errors for r in rows),
        "passed": sum(r.passed for r in rows),
        "failed": sum(r.failed for r in rows),
    }


def _environment() -> ImmutableSandboxedEnvironment:
    return sandbox(autoescape=True)


def render_html(rows: Sequence[RuleRow], mutated: bool = False) -> str:
    context = {
        "generator": GENERATOR,
        "mutated": mutated,
        "summary": summary(rows),
        "rules": [
            {
                "name": r.name, "id": r.id, "path": r.path, "kind": r.kind, "platforms": list(r.platforms),
                "tables": list(r.tables), "validation": r.validation, "clean": r.loaded and not r.errors,
                "passed": r.passed, "failed": r.failed, "tested": bool(r.passed or r.failed), "loaded": r.loaded,
                "mutation": r.mutation, "mutation_score": r.mutation_score,
            }
            for r in rows
        ],
        "matrix": tactic_matrix(rows),
    }
    try:
        return _environment().get_template(TEMPLATE).render(context)
    except TemplateError as exc:
        raise DacError(f"cannot render {TEMPLATE}: {exc}") from None


def _is_report_output(folder: Path) -> bool:
    entries = list(folder.iterdir())
    if not entries:
        return True
    try:
        layer = json.loads(read_bytes(folder / LAYER_NAME, MAX_JSON_BYTES))
    except (DacError, ValueError, RecursionError):  # missing, a device, too large, not JSON: not ours
        return False
    return isinstance(layer, dict) and {"name": "generator", "value": GENERATOR} in (layer.get("metadata") or [])


def _write_atomically(out: Path, files: dict[str, bytes]) -> None:
    with staged_output(out, _is_report_output, "dac report") as stage:
        try:
            for name, content in files.items():
                (stage / name).write_bytes(content)
        except OSError as exc:
            raise DacError(f"cannot write the report: {exc.strerror}", Location(str(out))) from None


def build_report(paths: Sequence[str | Path], out: str | Path, mutate: bool = False) -> list[Path]:
    """Write the Navigator layer and the HTML report for the rules under ``paths`` into ``out``.

    With ``mutate`` the page has a column with each rule's mutation score.
    """
    rows = collect(paths, mutate)
    layer = json.dumps(navigator_layer(rows), indent=2, ensure_ascii=False) + "\n"
    files = {LAYER_NAME: layer.encode("utf-8"), HTML_NAME: render_html(rows, mutate).encode("utf-8")}
    _write_atomically(Path(out), files)
    return [Path(out) / name for name in files]


__all__ = ["RuleRow", "build_report", "collect", "layer_versions", "navigator_layer", "placement", "render_html",
           "summary", "tactic_matrix"]

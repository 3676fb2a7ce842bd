"""``dac build``: render every rule into deployable JSON.

Output layout (``out`` is replaced as a whole, see :mod:`dac.render.writer`)::

    out/index.json                  every rule: id, name, kind, version, artifacts, notes
    out/sentinel/<file stem>.json   ARM deployment template (hunting query or analytics rule)
    out/defender/<file stem>.json   Graph detectionRule request body (Defender XDR)

Artifacts are named after the rule file, so two rule files with the same stem
in different folders are an error rather than one silently overwriting the
other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dac.errors import DacError, Location
from dac.render import defender, sentinel
from dac.render.writer import GENERATOR, INDEX_NAME, staged_output, write_json
from dac.rules.model import Rule, discover_rule_files, load_rule

SENTINEL_DIR = "sentinel"
DEFENDER_DIR = "defender"


def render_rule(rule: Rule) -> dict[str, Any]:
    """Both artifacts of one rule and the notes on what Defender approximates."""
    arm = sentinel.render(rule)
    graph, notes = defender.render(rule)
    return {"sentinel": arm, "defender": graph, "notes": notes}


def _by_stem(paths: list[Path]) -> dict[str, Path]:
    stems: dict[str, Path] = {}
    for path in paths:
        stem = path.name.rsplit(".", 1)[0]
        if stem in stems:
            raise DacError(
                f"two rule files would write the same artifacts '{stem}.json' (the other is {stems[stem]}); "
                "rename one of them",
                Location(str(path)),
            )
        stems[stem] = path
    return dict(sorted(stems.items()))


def build(paths: list[str], out: Path) -> list[Path]:
    """Render every rule under ``paths`` into ``out``; return the artifact paths written.

    All rules are rendered before anything is written; any DacError (a rule
    without a query, an unconvertible value, clashing file names, an ``out``
    that is not a build output) leaves ``out`` untouched.
    """
    files = _by_stem(discover_rule_files(list(paths) if paths else []))
    rendered: dict[str, tuple[Rule, dict[str, Any]]] = {}
    for stem, path in files.items():
        rule = load_rule(path)
        rendered[stem] = (rule, render_rule(rule))

    out = Path(out)
    index_rules = []
    relative: list[Path] = []
    with staged_output(out) as stage:
        for stem, (rule, artifacts) in rendered.items():
            entry_artifacts = {}
            for folder in (SENTINEL_DIR, DEFENDER_DIR):
                name = Path(folder) / f"{stem}.json"
                write_json(stage / name, artifacts[folder])
                entry_artifacts[folder] = name.as_posix()
                relative.append(name)
            version = rule.data.get("version")
            index_rules.append({
                "id": rule.id,
                "name": rule.name,
                "kind": rule.kind,
                "version": version if isinstance(version, str) else None,
                "artifacts": entry_artifacts,
                "notes": artifacts["notes"],
            })
        write_json(stage / INDEX_NAME, {"generator": GENERATOR, "rules": index_rules})
    return [out / name for name in relative]


__all__ = ["build", "render_rule"]

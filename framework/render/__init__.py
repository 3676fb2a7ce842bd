"""``dac build``: render every rule into deployable JSON.

Output layout (``out`` is replaced as a whole, see :mod:`dac.render.writer`)::

    out/index.json                  every rule: id, name, kind, version, artifacts, notes
    out/sentinel/<file stem>.json   ARM deployment template (hunting query or analytics rule), for rules on Sentinel
    out/defender/<file stem>.json   Graph detectionRule request body, for rules on Defender XDR

Artifacts are named after the rule file, so two rule files with the same stem
in different folders are an error rather than one silently overwriting the
other. Every bad file is reported in one run (:class:`BuildFailed`), and a
build with any bad file writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dac.errors import DacError, Location
from dac.render import defender, sentinel
from dac.render.notes import BuildFailed, Note
from dac.render.writer import GENERATOR, INDEX_NAME, staged_output, write_json
from dac.rules.model import Rule, discover_rule_files, load_rule

SENTINEL_DIR = "sentinel"
DEFENDER_DIR = "defender"


@dataclass
class Built:
    """What a build wrote, and the notes on fields the artifacts do not carry as written."""

    artifacts: list[Path] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


def render_rule(rule: Rule) -> dict[str, Any]:
    """The artifacts of one rule for each platform it targets, and the notes on what they do not carry.

    A rule runs where its ``platforms`` say (see :attr:`Rule.platforms`): a Defender-only
    rule (one using ``Timestamp``) has no Sentinel template, which would fail in a
    workspace, and a Sentinel rule no Defender detection. The keys ``sentinel`` and
    ``defender`` are present only for the targeted platforms; notes come Sentinel's first.
    """
    artifacts: dict[str, Any] = {}
    notes: list[Note] = []
    for platform, renderer in ((SENTINEL_DIR, sentinel), (DEFENDER_DIR, defender)):
        if platform in rule.platforms:
            artifacts[platform], platform_notes = renderer.render(rule)
            notes.extend(platform_notes)
    return {**artifacts, "notes": notes}


def stem_of(path: Path) -> str:
    """The artifacts' file name stem: the rule file's name without its extension."""
    return path.name.rsplit(".", 1)[0]


def render_all(paths: Iterable[Path], errors: list[DacError]) -> dict[str, tuple[Rule, dict[str, Any]]]:
    """Load and render every rule file; the results keyed (and sorted) by the stem their artifacts take.

    Every located error is added to ``errors``: that of a file that does not load
    or render, and one for a file whose stem an earlier file already has (it is
    rendered all the same, so its own errors show too). One bad file does not
    stop the others, so a run reports all of them.
    """
    first: dict[str, Path] = {}
    done: dict[str, tuple[Rule, dict[str, Any]]] = {}
    for path in paths:
        stem = stem_of(path)
        if stem in first:
            errors.append(DacError(
                f"two rule files would write the same artifacts '{stem}.json' (the other is {first[stem]}); "
                "rename one of them",
                Location(str(path)),
            ))
        else:
            first[stem] = path
        try:
            rule = load_rule(path)
            if rule.declares_function:
                continue  # a workspace parser or function kept among the rules: no artifact (validate says so)
            artifacts = render_rule(rule)
        except DacError as exc:
            errors.append(exc)
            continue
        if first[stem] == path:
            done[stem] = (rule, artifacts)
    return dict(sorted(done.items()))


def build(paths: list[str], out: Path) -> Built:
    """Render every rule under ``paths`` into ``out``; return the artifact paths written and the notes.

    All rules are rendered before anything is written. If any file cannot be
    built (it does not load, a rule without a query, an unconvertible value, a
    file name another file already uses), :class:`BuildFailed` carries every
    such error and ``out`` is left untouched; so is it on any other error (an
    ``out`` that is not a build output).
    """
    errors: list[DacError] = []
    rendered = render_all(discover_rule_files(list(paths) if paths else []), errors)
    if errors:
        raise BuildFailed(errors)

    out = Path(out)
    index_rules = []
    built = Built()
    with staged_output(out) as stage:
        for stem, (rule, artifacts) in rendered.items():
            entry_artifacts = {}
            for folder in (folder for folder in (SENTINEL_DIR, DEFENDER_DIR) if folder in artifacts):
                name = Path(folder) / f"{stem}.json"
                write_json(stage / name, artifacts[folder])
                entry_artifacts[folder] = name.as_posix()
                built.artifacts.append(out / name)
            version = rule.data.get("version")
            index_rules.append({
                "id": rule.id,
                "name": rule.name,
                "kind": rule.kind,
                "version": version if isinstance(version, str) else None,
                "artifacts": entry_artifacts,
                "notes": [note.message for note in artifacts["notes"]],
            })
            built.notes.extend(artifacts["notes"])
        write_json(stage / INDEX_NAME, {"generator": GENERATOR, "rules": index_rules})
    return built


__all__ = ["BuildFailed", "Built", "Note", "build", "render_all", "render_rule", "stem_of"]

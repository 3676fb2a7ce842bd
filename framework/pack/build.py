"""``dac pack``: a reproducible zip of the rendered artifacts with manifest, changelog and checksums.

Reproducible means the same sources give the same bytes: entries are sorted, every
entry carries the same fixed timestamp and permissions, and nothing depends on the
clock or the machine. The zip is written to a temporary file beside the target and
moved into place only when complete, so a failure never leaves a partial pack.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dac.errors import DacError, Location
from dac.files import output_file, regular_file, replaced_file
from dac.pack.changelog import compare, render_markdown
from dac.pack.manifest import rule_entry
from dac.render import deployment, render_all, stem_of
from dac.render.notes import BuildFailed, Note
from dac.render.writer import serialise
from dac.rules.history import rules_at
from dac.rules.model import discover_rule_files

SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def _previous_entries(previous: str | None, base: str | None, paths: list[str]) -> tuple[list[dict[str, Any]], str | None]:
    if previous and base:
        raise DacError("give either --previous PACK or --base REF, not both")
    if previous:
        manifest = _previous_manifest(previous)
        return manifest["rules"], f"pack {manifest.get('version', '?')}"
    if base:
        rules = rules_at(base, paths)
        return [rule_entry(rule, stem_of(Path(path))) for path, rule in rules.items()], base
    return [], None


# Bounds on what --previous may make dac read: the zip itself, its members, what they
# decompress to (a zip bomb declares small sizes only in its local headers, so the
# manifest is also read through a bounded read).
MAX_PREVIOUS_BYTES = 500_000_000
MAX_PREVIOUS_MEMBERS = 100_000
MAX_PREVIOUS_UNCOMPRESSED = 2_000_000_000
MAX_MANIFEST_BYTES = 100_000_000


def _previous_manifest(previous: str) -> dict[str, Any]:
    """The manifest of the pack ``previous``, its size and shape checked before it is used."""
    where = Location(previous)

    def refuse(problem: str) -> DacError:
        return DacError(f"cannot read the previous pack's manifest: {problem}", where)

    if regular_file(previous, missing="no such file").stat().st_size > MAX_PREVIOUS_BYTES:
        raise refuse(f"the pack is larger than {MAX_PREVIOUS_BYTES} bytes")
    try:
        with zipfile.ZipFile(previous) as archive:
            members = archive.infolist()
            if len(members) > MAX_PREVIOUS_MEMBERS:
                raise refuse(f"the pack has more than {MAX_PREVIOUS_MEMBERS} members")
            if sum(member.file_size for member in members) > MAX_PREVIOUS_UNCOMPRESSED:
                raise refuse(f"the pack would decompress to more than {MAX_PREVIOUS_UNCOMPRESSED} bytes")
            info = archive.getinfo("manifest.json")
            if info.file_size > MAX_MANIFEST_BYTES:
                raise refuse(f"manifest.json is larger than {MAX_MANIFEST_BYTES} bytes")
            with archive.open(info) as member:
                raw = member.read(MAX_MANIFEST_BYTES + 1)
        if len(raw) > MAX_MANIFEST_BYTES:
            raise refuse(f"manifest.json is larger than {MAX_MANIFEST_BYTES} bytes")
        manifest = json.loads(raw)
    except KeyError:
        raise refuse("the pack has no manifest.json") from None
    except RecursionError:
        raise refuse("manifest.json is nested too deeply") from None
    except (OSError, EOFError, zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError) as exc:
        raise refuse(str(exc)) from None
    rules = manifest.get("rules") if isinstance(manifest, dict) else None
    if not isinstance(rules, list) or not all(
            isinstance(entry, dict) and all(isinstance(entry.get(key), str) for key in ("id", "name", "sha256"))
            for entry in rules):
        raise refuse("it is not a dac pack manifest (a 'rules' list of entries with id, name and sha256)")
    return manifest


def _zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, files[name])
    return buffer.getvalue()


@dataclass
class Packed:
    """The pack written, and the notes on fields its artifacts do not carry as written."""

    path: Path
    notes: list[Note]


def build_pack(paths: list[str], out: Path, version: str, previous: str | None = None,
               base: str | None = None) -> Packed:
    """Render every rule under ``paths`` into the pack ``out`` (a .zip); return its path and the notes.

    Like ``dac build``, every rule file that cannot be built is reported at once
    (:class:`~dac.render.notes.BuildFailed`) and nothing is written then.
    """
    if not SEMVER.match(version):
        raise DacError(f"pack version '{version}' is not a semantic version such as 1.2.0")
    output_file(out)  # a folder, / or a device is refused before any work is done
    files: dict[str, bytes] = {}
    errors: list[DacError] = []
    rendered = render_all(discover_rule_files(paths), errors)
    if errors:
        raise BuildFailed(errors)
    entries = []
    deployable = []
    notes: list[Note] = []
    for stem, (rule, artifacts) in rendered.items():
        for platform in ("sentinel", "defender"):  # only the platforms the rule targets have artifacts
            if platform in artifacts:
                files[f"{platform}/{stem}.json"] = serialise(artifacts[platform])
        if "sentinel" in artifacts:
            deployable.append((rule, artifacts["sentinel"]))
        entries.append(rule_entry(rule, stem))
        notes.extend(artifacts["notes"])
    entries.sort(key=lambda e: (e["name"].lower(), e["id"]))
    files.update(deployment.pack_files(deployable))  # deployment/sentinel.json and deployment/sentinel.bicep
    before, against = _previous_entries(previous, base, paths)
    changes = compare(before, entries)
    files["manifest.json"] = serialise({"version": version, "generator": "dac pack", "rules": entries,
                                        "changes": {k: [e["id"] for e in v] for k, v in changes.items()}})
    files["CHANGELOG.md"] = render_markdown(version, changes, against).encode("utf-8")
    files["SHA256SUMS"] = "".join(f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in sorted(files)).encode()
    _write_atomically(Path(out), _zip_bytes(files))
    return Packed(Path(out), notes)


def _write_atomically(out: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file in ``out``'s folder and move it over ``out``.

    The temporary file is only ever made in that folder; a folder that cannot be
    made or written, or an ``out`` that became a folder meanwhile, is an error at
    ``out`` and leaves nothing behind.
    """
    with replaced_file(output_file(out), "cannot write the pack", Location(str(out)), 0o644) as stream:
        stream.write(data)

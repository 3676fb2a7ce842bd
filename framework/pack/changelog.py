"""What changed between two manifests: added, changed, deprecated and removed rules."""

from __future__ import annotations

from typing import Any

from dac.output.escape import printable


def compare(previous: list[dict[str, Any]], current: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    before = {entry["id"].lower(): entry for entry in previous}
    after = {entry["id"].lower(): entry for entry in current}
    changes: dict[str, list[dict[str, Any]]] = {"added": [], "changed": [], "deprecated": [], "removed": []}
    for key, entry in after.items():
        old = before.get(key)
        if old is None:
            changes["added"].append(entry)
        elif entry["deprecated"] and not old.get("deprecated"):
            changes["deprecated"].append({**entry, "previous_version": old.get("version")})
        elif entry["sha256"] != old.get("sha256"):
            changes["changed"].append({**entry, "previous_version": old.get("version")})
    changes["removed"] = [entry for key, entry in before.items() if key not in after]
    for items in changes.values():
        items.sort(key=lambda e: (e["name"].lower(), e["id"]))
    return changes


def render_markdown(version: str, changes: dict[str, list[dict[str, Any]]], against: str | None) -> str:
    lines = [f"# Rule pack {version}", ""]
    lines.append(f"Changes since {printable(against)}." if against else "First pack: every rule is new.")
    for section in ("added", "changed", "deprecated", "removed"):
        items = changes[section]
        lines += ["", f"## {section.capitalize()} ({len(items)})", ""]
        if not items:
            lines.append("- none")
        for entry in items:
            version_text = entry.get("version") or "?"
            if "previous_version" in entry:
                version_text = f"{entry.get('previous_version') or '?'} -> {version_text}"
            # names, ids and versions come from rule files and the previous pack: escaped, none can add a line
            lines.append(f"- {printable(entry['name'])} ({printable(entry['id'])}), {printable(version_text)}")
    return "\n".join(lines) + "\n"

#!/usr/bin/env python3
"""Render the README's built-ins section from the decision point (dac.kql.builtins).

The counts (per kind: Kusto's names, implemented, refused per category) and the table of
refused names come from schemas/kusto_functions.json, schemas/kusto_operators.json, the
evaluator's registries and framework/kql/refusals.yaml, so the README cannot claim more than
the evaluator does; tests/test_builtins.py fails when the README differs from this rendering.

Run: python scripts/render_builtins.py [--write]   (prints the section, or rewrites README.md)
"""

from __future__ import annotations

import sys
from pathlib import Path

from dac.kql import builtins

README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN = "<!-- builtins:begin (rendered by scripts/render_builtins.py; do not edit) -->"
END = "<!-- builtins:end -->"
KIND_TITLES = {"scalar": "scalar functions", "aggregate": "aggregate functions", "plugin": "plugins",
               "operator": "tabular operators"}


def _counts() -> list[str]:
    categories = list(builtins.categories())
    refused = builtins.refusals().values()
    lines = ["| kind | Kusto's | implemented | " + " | ".join(f"`{c}`" for c in categories) + " |",
             "|---|---:|---:|" + "---:|" * len(categories)]
    totals = [0] * (2 + len(categories))
    for kind in builtins.KINDS:
        names = builtins.kusto_names(kind)
        row = [len(names), len(names & builtins.implemented(kind))]
        row += [sum(1 for r in refused if r.kind == kind and r.category == c) for c in categories]
        totals = [t + v for t, v in zip(totals, row)]
        lines.append(f"| {KIND_TITLES[kind]} | " + " | ".join(str(v) for v in row) + " |")
    lines.append("| **all** | " + " | ".join(f"**{v}**" for v in totals) + " |")
    return lines


def _refused_table() -> list[str]:
    """One row per kind, category and reason, with the names that share them."""
    groups: dict[tuple[int, int, str], list[str]] = {}
    order = list(builtins.categories())
    for refusal in builtins.refusals().values():
        key = (builtins.KINDS.index(refusal.kind), order.index(refusal.category), refusal.reason)
        groups.setdefault(key, []).append(refusal.name)
    lines = ["| kind | category | reason | names |", "|---|---|---|---|"]
    for (kind, category, reason), names in sorted(groups.items()):
        shown = ", ".join(f"`{n}`" for n in sorted(names))
        lines.append(f"| {builtins.KINDS[kind]} | `{order[category]}` | {reason} | {shown} |")
    return lines


def render() -> str:
    """The README section, markers included."""
    legend = [f"- `{name}`: {meaning}" for name, meaning in builtins.categories().items()]
    parts = [
        BEGIN,
        "Every name of Kusto's catalogs (`schemas/kusto_functions.json`, read off the official language "
        "service, internal `__` names left out; `schemas/kusto_operators.json`, the documented tabular "
        "operators) is decided: implemented, with at least one conformance case using it, or refused "
        "from `framework/kql/refusals.yaml` with its category and reason, at the call's line:col. "
        "Categories:",
        "",
        *legend,
        "",
        *_counts(),
        "",
        "Refused names:",
        "",
        *_refused_table(),
        END,
    ]
    return "\n".join(parts) + "\n"


def replaced(text: str, section: str) -> str:
    """``text`` with its rendered section (between the markers) replaced by ``section``."""
    start, end = text.index(BEGIN), text.index(END) + len(END) + 1
    return text[:start] + section + text[end:]


def current(text: str) -> str:
    """The rendered section as it stands in ``text``."""
    return text[text.index(BEGIN):text.index(END) + len(END) + 1]


def main(argv: list[str]) -> int:
    section = render()
    if argv[1:] == ["--write"]:
        README.write_text(replaced(README.read_text(encoding="utf-8"), section), encoding="utf-8")
    else:
        sys.stdout.write(section)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Regenerate the table catalog in schemas/tables/ from the facts in ../shared.

Two sources, one per platform:
- Sentinel (Log Analytics): ../shared/corpus/log_analytics_tables.csv (table, column, type).
- Defender XDR advanced hunting: Microsoft's reference pages of the tables
  (../shared/seeds/*-table.md), whose column tables give name and type.

Only column names and types are taken (facts); descriptions are not copied.
Run: python scripts/build_catalog.py [--shared ../shared] [TABLE ...]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TABLES = ["UrlClickEvents"]
_DOC_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*`([^`]+)`\s*\|")
_DOC_TITLE = re.compile(r"^#\s+(\w+)\s*$", re.MULTILINE)


def sentinel_columns(csv_path: Path, tables: set[str]) -> dict[str, list[dict[str, str]]]:
    found: dict[str, list[dict[str, str]]] = {}
    with csv_path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["table"] in tables:
                found.setdefault(row["table"], []).append({"name": row["column"], "type": row["type"]})
    return found


def defender_columns(doc_paths: list[Path], tables: set[str]) -> dict[str, list[dict[str, str]]]:
    found: dict[str, list[dict[str, str]]] = {}
    for path in doc_paths:
        text = path.read_text(encoding="utf-8")
        title = _DOC_TITLE.search(text)
        if not title or title.group(1) not in tables:
            continue
        columns = []
        for line in text.splitlines():
            match = _DOC_ROW.match(line)
            if match:
                columns.append({"name": match.group(1), "type": match.group(2).strip()})
        found[title.group(1)] = columns
    return found


def write(platform: str, table: str, columns: list[dict[str, str]], source: str) -> Path:
    out = ROOT / "schemas" / "tables" / platform / f"{table}.json"
    document = {"table": table, "platform": platform, "source": source, "columns": columns}
    out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("tables", nargs="*", default=DEFAULT_TABLES)
    args = parser.parse_args(argv)
    shared = Path(args.shared)
    wanted = set(args.tables)
    sentinel = sentinel_columns(shared / "corpus" / "log_analytics_tables.csv", wanted)
    defender = defender_columns(sorted((shared / "seeds").glob("*-table.md")), wanted)
    for table in sorted(wanted):
        if table in sentinel:
            print(write("sentinel", table, sentinel[table], "corpus/log_analytics_tables.csv"))
        if table in defender:
            print(write("defender", table, defender[table], "Microsoft advanced hunting schema reference"))
        if table not in sentinel and table not in defender:
            print(f"no facts found for table {table}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

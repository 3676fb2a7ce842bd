"""Table catalog: the columns and types of each table, per platform.

Defender XDR advanced hunting tables carry ``Timestamp``; the Log Analytics
flavour used by Sentinel carries ``TimeGenerated``. A rule or a test names the
platform whose schema it is checked and typed against.
"""

from __future__ import annotations

import json
from functools import lru_cache

from framework.errors import DacError
from framework.paths import TABLES_DIR

PLATFORMS = {"defender": "Defender", "sentinel": "Sentinel"}


def normalise_platform(name: str) -> str:
    """``Defender``/``defender`` -> ``defender``; unknown names are an error."""
    key = str(name).strip().lower()
    if key not in PLATFORMS:
        raise DacError(f"unknown platform '{name}' (expected one of: {', '.join(PLATFORMS.values())})")
    return key


@lru_cache(maxsize=None)
def table_columns(platform: str, table: str) -> tuple[tuple[str, str], ...] | None:
    """The (column, type) pairs of ``table`` on ``platform``, or None if the catalog lacks it."""
    path = TABLES_DIR / normalise_platform(platform) / f"{table}.json"
    if not path.is_file():
        return None
    document = json.loads(path.read_text(encoding="utf-8"))
    return tuple((column["name"], column["type"]) for column in document["columns"])


def known_tables(platform: str) -> list[str]:
    folder = TABLES_DIR / normalise_platform(platform)
    return sorted(p.stem for p in folder.glob("*.json"))

"""Watchlists of the workspace, which ``_GetWatchlist('alias')`` reads.

Two forms, with the property names of Sentinel's watchlist resource
(https://learn.microsoft.com/rest/api/securityinsights/watchlists):

* the ARM template Azure-Sentinel ships (``Watchlists/*.json``): resources of type
  ``.../Watchlists`` whose properties carry ``watchlistAlias`` (else the resource
  name's last segment), ``itemsSearchKey`` and the CSV in ``rawContent``;
* a small YAML or JSON file of our own with the same keys, the CSV beside it::

      watchlistAlias: BreakGlassAccounts
      itemsSearchKey: UserPrincipalName
      source: BreakGlassAccounts.csv      # or rawContent: the CSV text itself

``_GetWatchlist`` returns, per item, ``_DTItemId``, ``LastUpdatedTimeUTC`` and
``SearchKey`` (the value of the search key column) followed by the CSV's columns,
every one a string: Sentinel's function unpacks each item's bag of CSV fields
(https://learn.microsoft.com/azure/sentinel/watchlists-queries; the columns are
the Watchlist table's, https://learn.microsoft.com/azure/azure-monitor/reference/tables/watchlist).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dac.errors import DacError, Location, did_you_mean
from dac.workspace.jsonfile import read_text

ITEM_COLUMNS = (("_DTItemId", "string"), ("LastUpdatedTimeUTC", "datetime"), ("SearchKey", "string"))
_RESOURCE_TYPE = re.compile(r"/watchlists$", re.IGNORECASE)
_NAME_SEGMENT = re.compile(r"([A-Za-z0-9_\-. ]+)'?\)?\]?$")


@dataclass(frozen=True)
class Watchlist:
    alias: str
    search_key: str
    fields: tuple[str, ...]  # the CSV's columns, in order
    items: tuple[dict[str, str], ...]
    location: Location

    @property
    def columns(self) -> tuple[tuple[str, str], ...]:
        """What ``_GetWatchlist`` returns for this watchlist: the item columns, then the CSV's (strings)."""
        named = {name for name, _ in ITEM_COLUMNS}
        return ITEM_COLUMNS + tuple((name, "string") for name in self.fields if name not in named)

    def row(self, item: dict[str, Any], number: int) -> dict[str, Any]:
        """One ``_GetWatchlist`` row of an item (CSV fields by name): SearchKey from the search key column."""
        row = {"_DTItemId": f"{self.alias}-{number}", "SearchKey": item.get(self.search_key, "")}
        row.update(item)
        return row


def watchlists_in(data: Any, path: Path, locate: Any) -> list[Watchlist] | None:
    """The watchlists a parsed JSON/YAML file declares, or None when it declares none.

    ``locate(*keys)`` gives the position of a value in the file.
    """
    if not isinstance(data, dict):
        return None
    resources = data.get("resources")
    if isinstance(resources, list):
        found = [r for r in resources if isinstance(r, dict) and _RESOURCE_TYPE.search(str(r.get("type", "")))]
        if not found:
            return None
        return [_watchlist(resource.get("properties") or {}, path, locate, resource.get("name")) for resource in found]
    if "watchlistAlias" in data and "itemsSearchKey" in data:
        return [_watchlist(data, path, locate, None)]
    return None


def _watchlist(properties: dict[str, Any], path: Path, locate: Any, resource_name: Any) -> Watchlist:
    alias = properties.get("watchlistAlias")
    if not alias and isinstance(resource_name, str):
        match = _NAME_SEGMENT.search(resource_name.split("/")[-1])
        alias = match.group(1).strip() if match else None
    if not isinstance(alias, str) or not alias:
        raise DacError("a watchlist needs its alias (watchlistAlias)", locate("watchlistAlias"))
    search_key = properties.get("itemsSearchKey")
    if not isinstance(search_key, str) or not search_key:
        raise DacError(f"watchlist '{alias}' needs its search key column (itemsSearchKey)", locate(alias))
    content, where = _content(properties, path, locate, alias)
    delimiter = "\t" if "tsv" in str(properties.get("contentType", "")).lower() else ","
    skip = properties.get("numberOfLinesToSkip") or 0
    if not isinstance(skip, int) or skip < 0:
        raise DacError(f"watchlist '{alias}': numberOfLinesToSkip must be a whole number", locate("numberOfLinesToSkip"))
    lines = content.splitlines()[skip:]
    records = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    if not records or not any(records[0]):
        raise DacError(f"watchlist '{alias}' has no header line in its CSV", where)
    header = [name.strip() for name in records[0]]
    if search_key not in header:
        raise DacError(f"watchlist '{alias}': the search key '{search_key}' is not a CSV column"
                       f"{did_you_mean(search_key, header)} (columns: {', '.join(header)})", locate(search_key))
    items = []
    for number, record in enumerate(records[1:], 2):
        if not any(field.strip() for field in record):
            continue
        if len(record) != len(header):
            raise DacError(f"watchlist '{alias}': CSV line {number + skip} has {len(record)} fields, "
                           f"the header {len(header)}", where)
        items.append(dict(zip(header, record)))
    return Watchlist(alias, search_key, tuple(header), tuple(items), locate(alias))


def _content(properties: dict[str, Any], path: Path, locate: Any, alias: str) -> tuple[str, Location]:
    """The watchlist's CSV text and where it is written: rawContent, else the ``source`` file beside ``path``."""
    raw = properties.get("rawContent")
    if isinstance(raw, str):
        return raw, locate("rawContent")
    source = properties.get("source")
    if not isinstance(source, str) or not source:
        raise DacError(f"watchlist '{alias}' has no items: give rawContent (the CSV text) or source (a CSV file)",
                       locate(alias))
    csv_path = path.parent / source
    if not csv_path.is_file():
        raise DacError(f"watchlist '{alias}': its source file {source!r} is not beside {path.name}", locate(source))
    return read_text(csv_path), Location(str(csv_path), 1, 1)

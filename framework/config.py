"""Settings of a rules repository: ``[tool.dac]`` in ``pyproject.toml``, or ``dac.toml``.

A detection team configures dac once, in the repository that holds its rules,
instead of repeating flags in every pre-commit hook and pipeline step::

    [tool.dac]                      # in dac.toml the same keys stand at the top level
    rules = ["detections"]          # rules folders: the default PATHs, and the scope of id uniqueness
    platforms = ["Sentinel"]        # for rules that name no `platforms:` of their own
    disable = ["data-connectors"]   # check ids whose findings are switched off
    workspace = ["workspace"]       # folders declaring the Sentinel workspace around the rules (dac.workspace)
    max-rows = 20_000_000           # the evaluation budget (dac.kql.budget): rows, max-value-mb,
                                    # max-series-points, max-regex-groups, max-data-mb
    min-mutation-score = 0.8        # `dac test --mutate` fails a rule scoring below it (0..1, or "80%")

The file is found from the current folder upwards: the first folder holding a
``dac.toml``, or a ``pyproject.toml`` with a ``[tool.dac]`` table, wins. The walk
stops at a repository boundary (a folder with ``.git``) so that settings of an
enclosing project never leak into a rules repository without any. Paths in the
file are relative to the folder that holds it. A key or check id the file
misspells is an error naming the file and line, never silently ignored.
Without ``workspace``, a folder named ``workspace`` beside a rules folder is the
workspace when there is one.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dac.errors import DacError, Location, did_you_mean
from dac.kql.budget import SETTINGS, Limits

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_RULES = ("detections",)
LIST_KEYS = ("rules", "platforms", "disable", "workspace")
# [tool.dac] setting -> the evaluation budget limit it sets (dac.kql.budget.Limits)
LIMIT_KEYS = {setting: limit for limit, (setting, _unit) in SETTINGS.items()}
KEYS = LIST_KEYS + tuple(LIMIT_KEYS) + ("min-mutation-score",)
DEFAULT_WORKSPACE = "workspace"


@dataclass(frozen=True)
class Settings:
    """What a rules repository configured; the defaults when it configured nothing."""

    source: str = ""  # the file read, "" for the defaults
    root: Path = field(default_factory=Path.cwd)  # the folder paths are relative to
    rules: tuple[str, ...] = DEFAULT_RULES
    platforms: tuple[str, ...] = ()
    disable: frozenset[str] = frozenset()
    workspace: tuple[str, ...] | None = None  # None: the default folders (see workspace_folders)
    limits: Limits = Limits()  # each evaluation's budget (a test case, dac run)
    min_mutation_score: float | None = None  # the score `dac test --mutate` requires of each rule

    def rule_folders(self) -> list[Path]:
        """The configured rules folders that exist, as absolute paths."""
        return [path for path in (self.root / name for name in self.rules) if path.is_dir()]

    def workspace_folders(self) -> list[Path]:
        """The folders declaring the workspace: the configured ones, else each ``workspace`` folder beside a rules folder."""
        if self.workspace is not None:
            return [self.root / name for name in self.workspace]
        beside = dict.fromkeys((self.root / name).parent / DEFAULT_WORKSPACE for name in self.rules)
        return [folder for folder in beside if folder.is_dir()]

    def default_paths(self) -> list[str]:
        """The PATHs a command checks when none is given: the rules folders, relative to the cwd."""
        paths = []
        for name in self.rules:
            path = self.root / name
            try:
                paths.append(str(path.relative_to(Path.cwd())))
            except ValueError:
                paths.append(str(path))
        return paths


def find_config(start: Path) -> Path | None:
    """The settings file that governs ``start``, or None."""
    for folder in (start, *start.parents):
        candidate = folder / "dac.toml"
        if candidate.is_file():
            return candidate
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and _has_tool_dac(candidate):
            return candidate
        if (folder / ".git").exists():
            return None
    return None


def _has_tool_dac(path: Path) -> bool:
    return re.search(r"^\s*\[\s*tool\s*\.\s*dac\s*[\].]", _read(path), re.MULTILINE) is not None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DacError(f"cannot read settings: {exc}", Location(str(path))) from None


def load_settings(path: Path) -> Settings:
    """Read and check one settings file."""
    text = _read(path)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, column = _toml_position(str(exc), text)
        raise DacError(f"TOML error: {exc}", Location(str(path), line, column)) from None
    table = document if path.name == "dac.toml" else document.get("tool", {}).get("dac", {})
    section = "" if path.name == "dac.toml" else "[tool.dac] "

    def where(key: str) -> Location:
        match = re.search(rf"^\s*{re.escape(key)}\s*=", text, re.MULTILINE)
        return Location(str(path), text.count("\n", 0, match.start()) + 1 if match else 0, 1 if match else 0)

    for key in table:
        if key not in KEYS:
            raise DacError(f"{section}unknown key {key!r}{did_you_mean(key, list(KEYS))}", where(key))
    values: dict[str, Any] = {}
    limits: dict[str, int] = {}
    for key, limit in LIMIT_KEYS.items():
        if key in table:
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise DacError(f"{section}{key}: expected a positive whole number, found {value!r}", where(key))
            limits[limit] = value
    for key in LIST_KEYS:
        if key in table:
            value = table[key]
            if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
                raise DacError(f"{section}{key}: expected a list of names, found {value!r}", where(key))
            values[key] = value
    platforms = _platforms(values.get("platforms", []), section, where("platforms"))
    disable = frozenset(_check_ids(values.get("disable", []), section, where("disable")))
    root = path.parent.resolve()
    workspace = values.get("workspace")
    for name in workspace or []:
        if not (root / name).is_dir():
            raise DacError(f"{section}workspace: no such folder {name!r} (relative to {root})", where("workspace"))
    minimum = None
    if "min-mutation-score" in table:
        from dac.testing.mutation import parse_min_score

        minimum = parse_min_score(table["min-mutation-score"], where("min-mutation-score"),
                                  f"{section}min-mutation-score")
    return Settings(source=str(path), root=root, rules=tuple(values.get("rules", DEFAULT_RULES)), platforms=platforms,
                    disable=disable, workspace=tuple(workspace) if workspace is not None else None,
                    limits=Limits().replace(**limits), min_mutation_score=minimum)


def _platforms(names: list[str], section: str, where: Location) -> tuple[str, ...]:
    from dac import catalog

    known = {value.lower(): value for value in catalog.PLATFORMS.values()}
    for name in names:
        if name.lower() not in known:
            raise DacError(f"{section}platforms: unknown platform {name!r} (expected one of: "
                           f"{', '.join(known.values())})", where)
    return tuple(known[name.lower()] for name in names)


def _check_ids(names: list[str], section: str, where: Location) -> list[str]:
    from dac.validate import check_kinds

    kinds = check_kinds()
    for name in names:
        if name not in kinds:
            raise DacError(f"{section}disable: unknown check {name!r}{did_you_mean(name, list(kinds), 0.6)} "
                           f"(checks: {', '.join(sorted(kinds))})", where)
    return names


def _toml_position(message: str, text: str) -> tuple[int, int]:
    """Line and column of a tomllib error, which says them in its message (or "at end of document")."""
    match = re.search(r"line (\d+), column (\d+)", message)
    if match:
        return int(match.group(1)), int(match.group(2))
    if "end of document" in message:
        return text.count("\n") + 1, len(text.rsplit("\n", 1)[-1]) + 1
    return 0, 0


_current: Settings | None = None


def current() -> Settings:
    """The settings of the repository around the current folder (read once per process)."""
    global _current
    if _current is None:
        path = find_config(Path.cwd())
        _current = load_settings(path) if path is not None else Settings()
    return _current


def use(settings: Settings | None) -> None:
    """Make ``settings`` the current ones (None: discover them again on next use)."""
    global _current
    _current = settings

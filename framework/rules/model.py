"""The rule model: an Azure-Sentinel rule file with positions kept.

The raw mapping is kept as loaded so a file copied from the Azure-Sentinel
repository round-trips unchanged; the properties below are the views the later
stages need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dac.errors import Location, RuleFileError
from dac.rules.yamlfile import PathKey, YamlDocument, load_yaml

TEST_SUFFIXES = (".tests.yaml", ".tests.yml")
RULE_SUFFIXES = (".yaml", ".yml")


@dataclass
class Rule:
    """One rule file: hunting query (no ``kind``) or analytics rule (Scheduled, NRT)."""

    doc: YamlDocument
    _tree: Any = field(default=None, init=False, repr=False, compare=False)

    @property
    def path(self) -> str:
        return self.doc.path

    @property
    def data(self) -> dict[str, Any]:
        return self.doc.data

    @property
    def id(self) -> str:
        return str(self.data.get("id", ""))

    @property
    def name(self) -> str:
        return str(self.data.get("name", ""))

    @property
    def declares_function(self) -> bool:
        """Whether the file is a workspace parser or function (``ParserName``/``FunctionName`` and its
        query), as Azure-Sentinel keeps beside its rules, rather than a rule."""
        return "query" not in self.data and any(
            isinstance(self.data.get(name), str) and query in self.data
            for name, query in (("ParserName", "ParserQuery"), ("FunctionName", "FunctionQuery")))

    @property
    def kind(self) -> str:
        """``Scheduled``, ``NRT`` or ``Hunting`` (Azure-Sentinel hunting queries have no kind)."""
        return str(self.data.get("kind") or "Hunting")

    @property
    def platforms(self) -> list[str]:
        """Platforms whose schemas the query is checked against (``defender``/``sentinel``).

        Our extension ``platforms: [Sentinel, Defender]`` names them; a rule without
        it (every Azure-Sentinel file) takes the repository's ``[tool.dac] platforms``,
        else targets Sentinel: the Azure-Sentinel format is Sentinel's, and a
        MicrosoftThreatProtection connector there means the Defender XDR tables reach
        the workspace (with ``TimeGenerated``), not that the rule runs in Defender.
        """
        from dac import config

        named = self.data.get("platforms")
        if isinstance(named, list) and named:
            return [str(p).strip().lower() for p in named]
        if config.current().platforms:
            return [p.lower() for p in config.current().platforms]
        return ["sentinel"]

    @property
    def query(self) -> str | None:
        query = self.data.get("query")
        return query if isinstance(query, str) else None

    def syntax_tree(self) -> Any:
        """The parsed query, parsed once per loaded rule (raises KqlSyntaxError like ``parse``).

        Validation checks the syntax, binds on each platform and looks for NRT
        restrictions; the test runner evaluates. They all share this one tree,
        which nothing mutates.
        """
        if self._tree is None:
            from dac.kql import parse  # the rule model is usable without the KQL package loaded

            query = self.query
            if query is None:
                raise ValueError(f"{self.path}: the rule has no query")
            self._tree = parse(query)
        return self._tree

    def location(self, *key: Any) -> Location:
        return self.doc.location(key)

    def query_location(self, line: int, column: int) -> Location:
        """Translate a position inside the query text into a position in the file (the query's own if it cannot be)."""
        return self.doc.text_location(("query",), line, column) or self.location("query")


def load_rule(path: str | Path) -> Rule:
    """Load a rule file; its top level must be a mapping."""
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        found = "an empty file" if doc.data is None else f"a {type(doc.data).__name__}"
        raise RuleFileError(f"a rule file must be a YAML mapping, found {found}", Location(doc.path, 1, 1))
    return Rule(doc)


def is_test_file(path: Path) -> bool:
    return path.name.endswith(TEST_SUFFIXES)


def test_file_for(rule_path: str | Path) -> Path | None:
    """The test file beside a rule: ``x.yaml`` -> ``x.tests.yaml``, if it exists."""
    rule_path = Path(rule_path)
    for suffix in TEST_SUFFIXES:
        candidate = rule_path.with_name(rule_path.name.rsplit(".", 1)[0] + suffix)
        if candidate.exists():
            return candidate
    return None


def discover_rule_files(paths: list[str | Path]) -> list[Path]:
    """Rule files under the given files or directories, sorted; test files excluded.

    A named path that does not exist is an error rather than an empty result, so
    a typo in CI configuration cannot make validation pass vacuously. For the same
    reason a folder that cannot be read, a symbolic link leading out of a named
    folder and a FIFO or device named like a rule are errors (:func:`dac.files.walk_tree`),
    never skipped or followed.
    """
    from dac.files import special_kind, walk_tree

    found: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.update(p for p in walk_tree(path, RULE_SUFFIXES, RuleFileError) if not is_test_file(p))
        elif path.is_file():
            if is_test_file(path):
                rule = Path(str(path)[: -len(next(s for s in TEST_SUFFIXES if path.name.endswith(s)))] + ".yaml")
                if rule.exists():
                    found.add(rule)
                else:
                    raise RuleFileError("test file has no rule file beside it", Location(str(path)))
            else:
                found.add(path)
        elif path.exists():
            kind = special_kind(path.stat().st_mode)
            raise RuleFileError(f"is {kind}, not a rule file or folder; refusing to read it", Location(str(path)))
        else:
            raise RuleFileError("no such file or directory", Location(str(path)))
    return sorted(found)


__all__ = ["Rule", "PathKey", "load_rule", "discover_rule_files", "test_file_for", "is_test_file"]

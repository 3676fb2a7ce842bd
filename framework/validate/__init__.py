"""``dac validate``: static checks of rule files before anything runs them.

Each check answers one question, so a finding says exactly what is wrong and
where (``file:line:col: message``):

* :class:`~dac.validate.schema.SchemaCheck` - does the file have the
  Azure-Sentinel rule shape (``schemas/rule.schema.json``)?
* :class:`~dac.validate.schedule.ScheduleCheck` - are a Scheduled rule's
  frequency and look-back period ones Sentinel accepts?
* :class:`~dac.validate.query.QuerySyntaxCheck` - does the query parse as KQL?
* :class:`~dac.validate.semantics.QueryBindingCheck` - does the query bind on the
  rule's platforms (tables, columns, types), and do the rule's entity mappings, custom
  details and data types match what the query reads and returns?
* :class:`~dac.validate.semantics.NrtRestrictionsCheck` - does an NRT rule avoid
  what Sentinel refuses in near-real-time queries?
* :class:`~dac.validate.approximations.ApproximationCheck` - does the query call a
  function whose result the evaluator can only approximate (a warning)?
* :class:`~dac.validate.testfile.TestFileCheck` - does the rule's test file load,
  with every fixture value typed by the table catalog?
* :class:`~dac.validate.attack.AttackCheck` - do the ATT&CK techniques exist, stand in
  force and belong to the rule's tactics?
* :class:`~dac.validate.limits.ServiceLimitsCheck` - does the rule stay within the limits
  Sentinel enforces (entity mappings, custom details, query length...)?
* :class:`~dac.validate.uniqueness.UniqueIdCheck` - is every rule id used once?
* :class:`~dac.validate.hidden.HiddenCharactersCheck` - do names, ids, descriptions, the
  query and test case names hold no bidi-override or zero-width character (a warning)?
* :mod:`~dac.validate.readings` (run by the schema check) - does every unquoted value read
  as what it looks like (no octal ``010``, base-60 ``1:30``, ``yes``/``on`` booleans)?

A file that cannot be loaded at all (YAML syntax, duplicate key, not a
mapping) is itself a finding; the other files are still checked, so one broken
file does not hide the problems of the rest.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from dac.errors import DacError, DacWarning, Location, RuleFileError
from dac.files import within
from dac.parallel import ordered_map
from dac.rules.model import Rule, discover_rule_files, load_rule
from dac.validate.approximations import ApproximationCheck
from dac.validate import readings
from dac.validate.query import QuerySyntaxCheck
from dac.validate.schedule import ScheduleCheck
from dac.validate.schema import SchemaCheck
from dac.validate.semantics import NrtRestrictionsCheck, QueryBindingCheck
from dac.validate.testfile import TestFileCheck
from dac.validate.suppressions import CHECK_ID as SUPPRESSIONS
from dac.validate.suppressions import Suppression
from dac.validate.suppressions import apply as suppressions_apply
from dac.validate.uniqueness import RuleIdentity, UniqueIdCheck


class RuleCheck(Protocol):
    """A check that looks at one rule on its own; ``id`` names it in findings and settings."""

    id: str
    summary: str

    def check(self, rule: Rule) -> Iterable[DacError]: ...


class CollectionCheck(Protocol):
    """A check that needs every rule at once (e.g. uniqueness across files)."""

    id: str
    summary: str

    def check_all(self, rules: Sequence[Rule]) -> Iterable[DacError]: ...


# Kinds of finding no check class stands for: a file that does not load, and the connector
# warnings the binding check gives beside its own findings.
RULE_FILE = "rule-file"
INTERNAL = "internal"  # a bug in dac met while checking one rule: the command exits 3
_OTHER_KINDS = {
    INTERNAL: "an internal error of dac while checking the rule (a bug in dac, not in the rule)",
    RULE_FILE: "the rule file reads as YAML and is a mapping",
    "data-connectors": "requiredDataConnectors provide the tables the query reads (warning)",
    "workspace": "the workspace declares the custom tables, functions and watchlists the query uses (dac.workspace)",
    readings.CHECK_ID: readings.SUMMARY,  # found by SchemaCheck, in rule and test files
}


def check_kinds() -> dict[str, str]:
    """Every check id a finding can carry, with a one-line summary (SARIF rules, settings)."""
    from dac.validate.versions import VersionCheck

    kinds = {check.id: check.summary for check in (*default_rule_checks(), *default_collection_checks())}
    kinds[VersionCheck.id] = VersionCheck.summary
    kinds[SUPPRESSIONS] = "a rule's suppressions name known checks and still match a finding"
    return {**kinds, **_OTHER_KINDS}


def _tagged(check_id: str, findings: Iterable[DacError]) -> list[DacError]:
    """Findings with their check's id, unless the check named a finer kind itself."""
    tagged = list(findings)
    for finding in tagged:
        finding.check = finding.check or check_id
    return tagged


def default_rule_checks() -> tuple[RuleCheck, ...]:
    from dac.validate.attack import AttackCheck
    from dac.validate.hidden import HiddenCharactersCheck
    from dac.validate.limits import ServiceLimitsCheck

    return (SchemaCheck(), ScheduleCheck(), QuerySyntaxCheck(), QueryBindingCheck(), NrtRestrictionsCheck(),
            ApproximationCheck(), TestFileCheck(), AttackCheck(), ServiceLimitsCheck(), HiddenCharactersCheck())


def default_collection_checks() -> tuple[CollectionCheck, ...]:
    return (UniqueIdCheck(),)


def _order(finding: DacError) -> tuple[str, int, int, str]:
    where = finding.location
    return (where.path, where.line, where.column, finding.message)


def validate_rules(
    rules: Sequence[Rule],
    rule_checks: Sequence[RuleCheck] | None = None,
    collection_checks: Sequence[CollectionCheck] | None = None,
) -> list[DacError]:
    """Run the checks over already loaded rules; findings sorted by file, line, column."""
    findings: list[DacError] = []
    for check in default_rule_checks() if rule_checks is None else rule_checks:
        for rule in rules:
            findings.extend(_tagged(check.id, check.check(rule)))
    for collection_check in default_collection_checks() if collection_checks is None else collection_checks:
        findings.extend(_tagged(collection_check.id, collection_check.check_all(rules)))
    return sorted(findings, key=_order)


def validate_paths(paths: Sequence[str | Path] | None = None, base: str | None = None,
                   jobs: int | None = None) -> list[DacError]:
    """Discover, load and check every rule file under ``paths`` (default: the rules folders).

    Returns the findings sorted by file, line and column; an empty list means
    every rule is valid. A path that does not exist raises RuleFileError (bad
    input, not a finding), so a mistyped path cannot make validation pass.
    Files are checked on ``jobs`` processes (default: every core) when there
    are many; the checks that need every rule at once then run on each rule's
    identity. Ids are unique across the repository's rules folders
    (``[tool.dac] rules``) even when only some files are named, as pre-commit
    names only the changed ones. Version discipline (``base``) needs the whole
    rules and runs in one process. Checks the settings switch off are dropped;
    findings a rule suppresses are kept, marked with the reason.
    """
    from dac import config, workspace

    settings = config.current()
    paths = list(paths) if paths else settings.default_paths()
    files = discover_rule_files(paths)
    findings: list[DacError] = []
    suppressions: list[Suppression] = []
    if base is not None:
        from dac.validate.versions import VersionCheck  # needs git: only when asked

        rules: list[Rule] = []
        for path in files:
            try:
                rule = load_rule(path)
            except RuleFileError as exc:
                findings.extend(_tagged(RULE_FILE, [exc]))
                continue
            if rule.declares_function:
                findings.extend(_declaration(path))
            else:
                rules.append(rule)
        for rule in rules:
            suppressions.extend(Suppression.all_of(rule))
        findings.extend(validate_rules(rules, collection_checks=[VersionCheck(base, [str(p) for p in paths])]))
        identities = [RuleIdentity.of(rule) for rule in rules]
    else:
        identities = []
        for file_findings, identity, file_suppressions in ordered_map(_check_file, files, jobs, warm=_warm):
            findings.extend(file_findings)
            suppressions.extend(file_suppressions)
            if identity is not None:
                identities.append(identity)
    findings.extend(_unique_ids(identities, files, settings))
    findings.extend(workspace.current().problems)  # the workspace's own files, reported once
    findings = suppressions_apply(findings, suppressions, settings.disable, list(check_kinds()))
    return sorted(findings, key=_order)


def _unique_ids(identities: list[RuleIdentity], files: list[Path], settings) -> list[DacError]:
    """Duplicate ids among the named files, and between them and the rest of the rules folders.

    The other rules of the folders come first, so a newly added file is the later use
    and the finding lands on it; findings are reported only on the named files.
    """
    named = {str(path) for path in files}
    inside = [path for path in files if within(path.resolve(), settings.root)]
    others: list[RuleIdentity] = []
    if inside:
        known = {path.resolve() for path in files}
        # the folders as the cwd names them, so the finding names the other file as a user would
        for path in discover_rule_files([folder for folder in settings.default_paths() if Path(folder).is_dir()]):
            if path.resolve() in known:
                continue
            try:
                others.append(RuleIdentity.of(load_rule(path)))
            except RuleFileError:
                continue  # that file's own problems are reported when it is validated
    duplicates = UniqueIdCheck().check_identities([*others, *identities])
    return [finding for finding in _tagged(UniqueIdCheck.id, duplicates) if finding.location.path in named]


def _check_file(path: Path) -> tuple[list[DacError], RuleIdentity | None, list[Suppression]]:
    """The per-rule checks of one file, the identity the collection checks need, its suppressions."""
    try:
        rule = load_rule(path)
    except RuleFileError as exc:
        return _tagged(RULE_FILE, [exc]), None, []
    if rule.declares_function:
        return _declaration(path), None, []
    findings: list[DacError] = []
    for check in _per_file_checks():
        try:
            findings.extend(_tagged(check.id, check.check(rule)))
        except Exception as exc:  # noqa: BLE001 - a bug in one check on one rule; every other check still runs
            if os.environ.get("DAC_DEBUG"):
                raise
            findings.append(DacError(f"internal error in the {check.id} check: {type(exc).__name__}: {exc}; "
                                     "this is a bug in dac, please report it", Location(str(path), 1, 1),
                                     check=INTERNAL))
    return findings, RuleIdentity.of(rule), Suppression.all_of(rule)


def _declaration(path: Path) -> list[DacError]:
    """A parser or function file among the rules: checked as the workspace declaration it is.

    Inside a workspace folder the workspace reads it, and its problems are reported once
    with the workspace's; elsewhere it declares nothing, which is said rather than passed over.
    """
    from dac import config

    if any(within(path.resolve(), folder.resolve()) for folder in config.current().workspace_folders()):
        return []
    return [DacWarning("this file declares a workspace parser or function, not a rule; list its folder in "
                       "[tool.dac] workspace so that rules can call it", Location(str(path), 1, 1),
                       check="workspace")]


def _warm() -> None:
    """Load the checks and the table and ATT&CK catalogs once, before workers fork."""
    from dac import catalog
    from dac.validate.attack import attack_catalog

    _per_file_checks()
    attack_catalog()
    for platform in catalog.PLATFORMS:
        catalog.known_tables(platform)


@lru_cache(maxsize=1)
def _per_file_checks() -> tuple[RuleCheck, ...]:
    return default_rule_checks()


__all__ = [
    "ApproximationCheck",
    "CollectionCheck",
    "NrtRestrictionsCheck",
    "QueryBindingCheck",
    "QuerySyntaxCheck",
    "RuleCheck",
    "ScheduleCheck",
    "check_kinds",
    "SchemaCheck",
    "TestFileCheck",
    "UniqueIdCheck",
    "validate_paths",
    "validate_rules",
]

"""A pytest plugin that runs rule test cases as pytest items.

``pytest detections/`` collects one item per test case of every rule under the
folder, with the node id ``<rule file>::<case name>`` (for example
``detections/hunting/user-clicked-through-events.yaml::has matches whole terms only``),
so ``-k``, ``--lf``, ``-x``, pytest-xdist's ``-n`` and a node id pasted back on the
command line all work as usual. Each item runs the case through
:mod:`dac.testing.runner`, the code ``dac test`` uses, and a failing item
prints the same lines ``dac test`` prints: the case's location and the unified
diff of expected against returned rows.

What is collected: a rule file (``*.yaml``/``*.yml``, not a test file) that has its
test file (``x.tests.yaml``) beside it, and only when it lies under

* a path named on the command line (``pytest detections/``, ``pytest path/to/rule.yaml``), or
* a folder listed in the ``dac_rules`` ini option (paths relative to the ini file),
  so a plain ``pytest`` in a rules repository can include them.

A bare ``pytest`` that falls back to ``testpaths`` or the current folder collects
no rules unless ``dac_rules`` names them, so a project's own test suite is never
changed by the plugin. The plugin is registered under the name ``dac`` and can be
switched off with ``-p no:dac``.

A rule that cannot run (its file or test file does not load, its query does not
parse) becomes one failing item named after the step, e.g. ``(load tests)``,
whose report is the ``file:line:col: message`` of the problem.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dac.output.escape import printable

RULE_SUFFIXES = (".yaml", ".yml")
TEST_SUFFIXES = (".tests.yaml", ".tests.yml")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "dac_rules",
        "folders of detection rules whose test cases pytest collects even when they are not named on the "
        "command line (relative to the ini file)",
        type="paths",
        default=[],
    )


def _roots(config: pytest.Config) -> list[str]:
    """The absolute paths under which rule files are collected (computed once per session)."""
    cached = getattr(config, "_dac_rule_roots", None)
    if cached is not None:
        return cached
    roots = [os.path.abspath(path) for path in config.getini("dac_rules")]
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        base = config.invocation_params.dir
        roots.extend(os.path.abspath(base / arg.split("::", 1)[0]) for arg in config.args)
    config._dac_rule_roots = roots  # type: ignore[attr-defined]
    return roots


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    name = file_path.name
    if not name.endswith(RULE_SUFFIXES) or name.endswith(TEST_SUFFIXES):
        return None
    stem = name.rsplit(".", 1)[0]
    if not any(file_path.with_name(stem + suffix).is_file() for suffix in TEST_SUFFIXES):
        return None
    path = os.path.abspath(file_path)
    if not any(_under(path, root) for root in _roots(parent.config)):
        return None
    return RuleFile.from_parent(parent, path=file_path)


class RuleFile(pytest.File):
    """A rule file; its items are the cases of its test file."""

    def collect(self):
        from dac.testing.runner import prepare_rule

        # locations read as in `dac test`: relative to where pytest was started, when under it
        try:
            path = self.path.relative_to(self.config.invocation_params.dir)
        except ValueError:
            path = self.path
        prepared = prepare_rule(path)
        if prepared.problem is not None:
            yield RuleProblem.from_parent(self, name=prepared.problem.case, prepared=prepared)
            return
        for case in prepared.cases:
            # pytest prints node ids as they are: a case name must not carry a newline or ESC into them
            yield RuleCase.from_parent(self, name=printable(case.name), prepared=prepared, case=case)


class CaseFailed(Exception):
    """A case that did not pass; carries the runner's result for the report."""

    def __init__(self, result) -> None:
        super().__init__(result.status)
        self.result = result


class _RuleItem(pytest.Item):
    def __init__(self, *, prepared, case=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.prepared = prepared
        self.case = case

    def _result(self):
        return self.prepared.problem if self.case is None else self.prepared.run(self.case)

    def runtest(self) -> None:
        result = self._result()
        if result.status != "PASS":
            raise CaseFailed(result)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CaseFailed):
            return "\n".join(excinfo.value.result.render())
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        """The case's own file and line: the test file and its ``name:`` line, as ``dac test --junit`` gives them.

        The node id keeps the rule file (it is what selects the item), but the
        report's ``location`` - which ``--junitxml`` writes as ``file``/``line`` -
        points where the case is written. The line is the 1-based one dac prints
        everywhere: pytest's 0-based convention exists to be shifted back for Python
        tracebacks, which these items never show, and junitxml writes it unshifted.
        """
        where = self.case.location if self.case is not None else self.prepared.problem.location
        path = self.config.invocation_params.dir / where.path if where.path else self.path
        return path, where.line or None, printable(f"{self.prepared.label} :: {self.name}")


class RuleCase(_RuleItem):
    """One test case of a rule, run over its fixtures by the KQL evaluator."""


class RuleProblem(_RuleItem):
    """A rule that cannot run at all: the failure is the located load or parse error."""

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CaseFailed):
            result = excinfo.value.result
            return "\n".join(printable(line) for line in [f"{result.location}: {result.details[0]}", *result.details[1:]])
        return super().repr_failure(excinfo, style=style)

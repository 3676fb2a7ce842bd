"""The rule's test file (``x.tests.yaml``), when it has one, must load.

Loading checks the test-file schema and types every fixture value against the
table catalog, so a misspelt column or a malformed time is reported by
``dac validate`` already, not only when the tests run.
"""

from __future__ import annotations

from dac.errors import DacError
from dac.rules.model import Rule


class TestFileCheck:
    """Loads the test suite beside a rule; its first problem is the finding."""

    id = "test-file"
    summary = "the rule's test file loads and its fixtures fit the table catalog"

    __test__ = False  # not a pytest test class despite the name

    def check(self, rule: Rule) -> list[DacError]:
        from dac.testing.cases import load_test_suite  # testing builds on validate: import late

        try:
            load_test_suite(rule)
        except DacError as error:
            return [error]
        return []

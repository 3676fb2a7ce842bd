"""``dac test --junit FILE``: the test report as JUnit XML.

JUnit XML is the one test-report format every CI system imports (GitLab merge
request widgets, Azure Pipelines ``PublishTestResults``, Jenkins, GitHub test
reporter actions), so a failing rule case shows next to the application tests.

Layout: ``<testsuites>`` holds one ``<testsuite>`` per rule (``name`` the rule's
name, ``file`` its rule file) and one ``<testcase>`` per case (``classname`` the
rule, ``file``/``line`` the case's ``name:`` line in the test file, 1-based as in
``dac test``). A FAIL carries ``<failure>`` with the row diff, an ERROR ``<error>``
with the located error; a rule that cannot run at all is one case named after
the step (``(load tests)``, ``(parse query)``...), as in the text output.

Rule text reaches the report (case names, values in diffs), so the document is
built with ElementTree, which escapes markup, and characters XML 1.0 cannot hold
at all (control characters, lone surrogates) are written as visible ``\\uXXXX``
escapes: a report that does not parse would hide every result in it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import groupby
from pathlib import Path

from dac.errors import DacError, Location
from dac.files import output_file, replaced_file
from dac.testing.runner import CaseResult, TestReport

# Everything outside XML 1.0's Char production (https://www.w3.org/TR/xml/#charsets).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_ELEMENT = {"FAIL": "failure", "ERROR": "error"}


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 cannot hold replaced by its visible ``\\uXXXX`` escape."""
    return _NOT_XML.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _element(parent: ET.Element | None, tag: str, **attributes: object) -> ET.Element:
    values = {key: xml_text(str(value)) for key, value in attributes.items()}
    return ET.Element(tag, values) if parent is None else ET.SubElement(parent, tag, values)


def _counts(results: list[CaseResult]) -> dict[str, int]:
    return {"tests": len(results), "failures": sum(r.status == "FAIL" for r in results),
            "errors": sum(r.status == "ERROR" for r in results), "skipped": 0}


def junit_tree(report: TestReport) -> ET.Element:
    """The ``<testsuites>`` element of ``report``: one suite per rule file, in the order the rules ran."""
    root = _element(None, "testsuites", name="dac test", **_counts(report.results))
    for rule_file, grouped in groupby(report.results, key=lambda result: result.rule_file):
        results = list(grouped)
        suite = _element(root, "testsuite", name=results[0].rule, **_counts(results), file=rule_file)
        for result in results:
            where: Location = result.location
            attributes = {"name": result.case, "classname": result.rule, "file": where.path}
            if where.line:
                attributes["line"] = where.line
            case = _element(suite, "testcase", **attributes)
            if result.status in _ELEMENT:
                outcome = _element(case, _ELEMENT[result.status], message=result.details[0] if result.details else "",
                                   type=result.status)
                outcome.text = xml_text("\n".join(result.details))
    return root


def write_junit(report: TestReport, path: str | Path) -> Path:
    """Write the report to ``path`` atomically: a CI step never reads a half-written file.

    The folder is created when missing (``--junit reports/dac.xml`` in a fresh
    checkout); a path that cannot be written is a DacError naming it.
    """
    target = Path(path)
    try:
        output_file(target)  # not /, a folder or a device: the temporary file goes beside a file to replace
    except DacError as exc:
        raise DacError(f"cannot write the JUnit report {target}: {exc.message}", Location(str(target))) from None
    tree = ET.ElementTree(junit_tree(report))
    ET.indent(tree)
    # mode 0o644: a report is for every reader of the workspace
    with replaced_file(target, f"cannot write the JUnit report {target}", Location(str(target)), 0o644) as stream:
        tree.write(stream, encoding="utf-8", xml_declaration=True)
    return target

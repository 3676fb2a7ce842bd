"""``dac validate --format sarif``: findings as a SARIF 2.1.0 log.

SARIF is what GitHub code scanning (``github/codeql-action/upload-sarif``) and
other review tools import, so a finding shows as an alert on its line in the pull
request. The log follows the OASIS schema (``tests/data/sarif-schema-2.1.0.json``)
and has one run:

* ``tool.driver.rules`` lists every kind of check (``dac.validate.check_kinds()``);
  each result names its check in ``ruleId``/``ruleIndex``, so alerts can be
  filtered by kind and a suppression names the same id.
* File locations are relative to ``%SRCROOT%``, the folder dac ran in (given in
  ``originalUriBaseIds``), so alerts attach to the files of the checkout; a file
  outside it gets an absolute ``file://`` URI.
* A bad invocation (exit code 2) still yields a log: no results and an
  invocation with ``executionSuccessful: false`` whose notification holds the
  error, so an upload step after a failed run does not fail on a missing file.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stderr
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from dac.errors import DacError, DacWarning, Location
from dac.output import relative_to_cwd
from dac.output.escape import json_safe

VERSION = "2.1.0"
SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
USAGE_EXIT = 2  # argparse's exit code for a command line it rejects (dac's EXIT_USAGE)


def requested(argv: Sequence[str], form: str = "sarif") -> bool:
    """Whether a command line asks for ``--format FORM``, read before (or without) argparse.

    A command line argparse rejects never becomes a namespace, yet a pipeline that
    asked for SARIF (or JSON) still needs its document on stdout.
    """
    return f"--format={form}" in argv or any(a == "--format" and b == form for a, b in zip(argv, argv[1:]))


def _rule_name(check: str) -> str:
    """``kql-binding`` -> ``KqlBinding``: SARIF wants a rule name readable as one identifier."""
    return "".join(part.capitalize() for part in check.split("-")) or "Dac"


def _rules(findings: Sequence[DacError]) -> list[dict[str, Any]]:
    """One reporting descriptor per kind of check, plus any kind a finding names that the registry lacks.

    A check added without a summary must still get a descriptor, or its results'
    ``ruleIndex`` would point at nothing.
    """
    from dac.validate import check_kinds

    kinds = dict(check_kinds())
    for finding in findings:
        kinds.setdefault(finding.check, f"findings of the {finding.check or 'dac'} check")
    return [{"id": check, "name": _rule_name(check), "shortDescription": {"text": summary}}
            for check, summary in kinds.items()]


def _uri_base() -> dict[str, Any]:
    uri = Path.cwd().as_uri()
    return {SRCROOT: {"uri": uri if uri.endswith("/") else uri + "/"}}


def _location(where: Location) -> list[dict[str, Any]]:
    """The ``locations`` of a result or notification: none when the finding names no file."""
    if not where.path:
        return []
    relative = relative_to_cwd(where.path)
    if relative is not None:
        artifact = {"uri": quote(relative.as_posix()), "uriBaseId": SRCROOT}
    else:
        artifact = {"uri": Path(os.path.abspath(where.path)).as_uri()}
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if where.line:
        physical["region"] = {"startLine": where.line, **({"startColumn": where.column} if where.column else {})}
    return [{"physicalLocation": physical}]


def _result(finding: DacError, index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.check,
        "ruleIndex": index[finding.check],
        "level": "warning" if isinstance(finding, DacWarning) else "error",
        "message": {"text": finding.message},
    }
    locations = _location(finding.location)
    if locations:
        result["locations"] = locations
    if finding.suppressed:
        result["suppressions"] = [{"kind": "inSource", "justification": finding.suppressed}]
    return result


def sarif_log(findings: Sequence[DacError], exit_code: int, failure: DacError | None = None) -> dict[str, Any]:
    """The SARIF log of one ``dac validate`` run; ``failure`` is the error that stopped a bad invocation."""
    from dac import __version__

    rules = _rules(findings)
    index = {rule["id"]: number for number, rule in enumerate(rules)}
    invocation: dict[str, Any] = {"executionSuccessful": failure is None, "exitCode": exit_code}
    if failure is not None:
        notification: dict[str, Any] = {"level": "error", "message": {"text": failure.message}}
        locations = _location(failure.location)
        if locations:
            notification["locations"] = locations
        invocation["toolExecutionNotifications"] = [notification]
    run = {
        "tool": {"driver": {"name": "dac", "version": __version__, "rules": rules}},
        "originalUriBaseIds": _uri_base(),
        "columnKind": "unicodeCodePoints",  # dac counts columns in characters
        "invocations": [invocation],
        "results": [_result(finding, index) for finding in findings],
    }
    return {"$schema": SCHEMA_URI, "version": VERSION, "runs": [run]}


def write_log(stream: IO[str], findings: Sequence[DacError], exit_code: int, failure: DacError | None = None) -> None:
    """Write the log as the one JSON document on ``stream``."""
    stream.write(json_safe(json.dumps(sarif_log(findings, exit_code, failure), indent=2, ensure_ascii=False)) + "\n")


@contextmanager
def log_on_usage_error(argv: Sequence[str]) -> Iterator[None]:
    """Around argument parsing: when SARIF was asked for and argparse rejects the command line, write a failure log.

    argparse prints its error on stderr and exits 2 before dac sees a namespace, so
    its stderr is held while it parses (and passed on unchanged) to put the same
    message in the log's notification.
    """
    if not requested(argv):
        yield
        return
    held = io.StringIO()
    try:
        with redirect_stderr(held):
            yield
    except SystemExit as exc:
        if exc.code == USAGE_EXIT:
            lines = held.getvalue().strip().splitlines()
            write_log(sys.stdout, [], USAGE_EXIT, DacError(lines[-1] if lines else "invalid command line"))
        raise
    finally:
        sys.stderr.write(held.getvalue())

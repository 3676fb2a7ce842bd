"""Start-up cost of the command line: heavy modules load with the command that needs them.

Every ``dac`` invocation imports dac.cli and builds its argument parser; ``dac validate``
then needs the schema check (jsonschema) and the binder (the KQL parser and evaluator), but
not the renderers (jinja2). Each check runs in a fresh interpreter, where sys.modules shows
what an import really pulled in.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("jsonschema", "jinja2", "dac.render", "dac.pack", "dac.importer", "dac.kql.parser", "dac.kql.evaluator",
         "dac.kql.binder", "dac.validate", "dac.testing.runner", "re2")


def _loaded_after(code: str) -> set[str]:
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_the_command_line_and_its_parser_load_no_heavy_module():
    assert _heavy(_loaded_after("import dac.cli\ndac.cli.make_parser()")) == []


def test_dac_kql_loads_its_parser_on_first_use():
    assert "dac.kql.parser" not in _loaded_after("import dac.kql.literals, dac.kql.errors")
    assert "dac.kql.parser" in _loaded_after("from dac.kql import parse")


def test_validate_loads_no_renderer():
    loaded = _loaded_after("import dac.cli\ndac.cli.make_parser()\nimport dac.validate")
    assert "jsonschema" in loaded  # the check that needs it
    assert [m for m in _heavy(loaded) if m.startswith(("jinja2", "dac.render", "dac.pack", "dac.importer"))] == []


def test_unknown_attribute_of_dac_kql_is_an_attribute_error():
    import dac.kql

    with pytest.raises(AttributeError):
        dac.kql.no_such_thing  # noqa: B018

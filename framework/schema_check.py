"""JSON-schema checks of YAML documents, reported at the offending value's position.

jsonschema reports paths into the data; the YAML document remembers where
each value came from, so every finding becomes ``file:line:col: message``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import jsonschema

from framework.errors import DacError
from framework.paths import SCHEMAS_DIR
from framework.rules.yamlfile import YamlDocument


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS_DIR / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def _validator(name: str) -> jsonschema.protocols.Validator:
    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _describe(error: jsonschema.ValidationError) -> str:
    where = ".".join(str(p) for p in error.absolute_path)
    prefix = f"{where}: " if where else ""
    if error.validator == "required":
        return f"{prefix}missing required key {error.message.split(' is a required')[0]}"
    if error.validator == "additionalProperties":
        return f"{prefix}{error.message}"
    if error.validator == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        return f"{prefix}{error.instance!r} is not one of {allowed}"
    return f"{prefix}{error.message}"


def check_document(doc: YamlDocument, schema_name: str) -> list[DacError]:
    """All schema violations of ``doc``, each located at the value it concerns."""
    findings = []
    for error in sorted(_validator(schema_name).iter_errors(doc.data), key=lambda e: list(map(str, e.absolute_path))):
        findings.append(DacError(_describe(error), doc.location(tuple(error.absolute_path))))
    return findings

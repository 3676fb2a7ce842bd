"""The rule file must have the Azure-Sentinel shape (``schemas/rule.schema.json``).

jsonschema reports where in the data a violation is and which keyword failed;
this module turns that into a finding at the exact line and column of the
offending value (or key) and into a sentence a rule author can act on, such as
``severity: 'Critical' is not one of Informational, Low, Medium, High``.

Wording can be tuned from the schema: a subschema may carry an
``errorMessage`` mapping from keyword to a template (the convention of
ajv-errors), with the placeholders ``{value}``, ``{key}`` and ``{allowed}``.

YAML 1.1 readings are checked here too, since they are about what the schema
gets to see: a type error on an unquoted value says what YAML read
(``queryFrequency: 1:30`` is the base-60 number 90) and what to write instead,
and values YAML converted without a type error (``triggerThreshold: 010`` is 8)
are findings of their own, check ``yaml-readings`` (:mod:`dac.validate.readings`).
An integer is an integer: ``1.0`` is not accepted where the schema wants one.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any

import jsonschema

from dac.errors import DacError, Location
from dac import resources
from dac.rules.model import Rule
from dac.rules.yamlfile import PathKey, YamlDocument
from dac.validate import readings

RULE_SCHEMA = "rule.schema.json"
TESTS_SCHEMA = "tests.schema.json"


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    """A JSON schema from ``schemas/`` by file name."""
    return json.loads(resources.read_text(name))

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}


def format_path(path: PathKey) -> str:
    """``("entityMappings", 0, "entityType")`` -> ``entityMappings[0].entityType``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _found(value: Any) -> str:
    """What a YAML value is, in the words of the type messages."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"a boolean ({value!r})"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int):
        return f"an integer ({value!r})"
    if isinstance(value, float):
        return f"a number ({value!r})"
    return f"a string ({value!r})"


def _expected(types: str | list[str]) -> str:
    words = [_TYPE_WORDS.get(t, t) for t in ([types] if isinstance(types, str) else types)]
    return " or ".join(words)


def _closest(text: str, known: list[Any]) -> str | None:
    """The known name ``text`` is most likely a typo of.

    Case, spaces, hyphens and underscores are ignored, so ``Initial Access``
    suggests ``InitialAccess`` and ``high`` suggests ``High``.
    """
    by_folded = {_fold(name): name for name in known if isinstance(name, str)}
    match = difflib.get_close_matches(_fold(text), list(by_folded), n=1, cutoff=0.75)
    return by_folded[match[0]] if match else None


def _fold(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch not in " -_")


def _hint(text: Any, known: list[Any]) -> str:
    suggestion = _closest(text, known) if isinstance(text, str) else None
    return f" (did you mean {suggestion!r}?)" if suggestion and suggestion != text else ""


def _without_nulls(data: Any, known: Mapping[str, Any]) -> Any:
    """The rule with every known key whose value is empty (``tactics:`` with nothing after it) left out.

    Azure-Sentinel's content tooling and the ARM API read an empty value as an absent one
    (exports write unset members as null), so such a key is not a finding; a required key
    left empty is still "missing", and an unknown key is reported whatever its value, so a
    misspelt ``metdata:`` is still caught.
    """
    if not isinstance(data, dict):
        return data

    def members(value: Any) -> Any:
        return {k: v for k, v in value.items() if v is not None} if isinstance(value, dict) else value

    return {key: members(value) for key, value in data.items() if value is not None or key not in known}


class SchemaCheck:
    """Validates a document against a schema: the rule schema unless told otherwise.

    The same check types test files (``tests.schema.json``), so both kinds of
    file get the same located, readable findings.
    """

    id = "schema"
    summary = "the file has the Azure-Sentinel rule shape"

    def __init__(self, schema: Mapping[str, Any] | str | None = None) -> None:
        if schema is None or isinstance(schema, str):
            self._validator = _named_validator(schema or RULE_SCHEMA)
        else:
            self._validator = _validator(schema)
        # Rule files are read by other tools too: readings only they make are warned about there.
        # A test file is read by dac alone, and its loader takes any finding as fatal: errors only.
        self._other_readers = schema in (None, RULE_SCHEMA)

    def check(self, rule: Rule) -> list[DacError]:
        return self.check_document(rule.doc)

    def check_document(self, doc: YamlDocument) -> list[DacError]:
        findings: list[DacError] = []
        seen: set[tuple[Location, str]] = set()
        explained: set[PathKey] = set()  # values whose type error already says how YAML read them
        data = _without_nulls(doc.data, self._validator.schema.get("properties", {})) if self._other_readers \
            else doc.data
        for error in self._validator.iter_errors(data):
            for finding in _findings(error, doc, explained):
                # jsonschema reports each missing key as its own ``required`` error and
                # each of them yields every missing key: keep the first of each
                if (finding.location, finding.message) not in seen:
                    seen.add((finding.location, finding.message))
                    findings.append(finding)
        findings.extend(readings.findings(doc, self._other_readers, explained))
        return findings


@lru_cache(maxsize=None)
def _named_validator(name: str) -> jsonschema.protocols.Validator:
    """The validator of a schema in ``schemas/``, built once per process.

    The packaged schemas are not checked against their metaschema here: that costs about
    25 ms each, on every start of ``dac validate``, for files that only change with dac
    (tests/test_validate.py checks them). A schema a caller passes is checked.
    """
    return _validator(load_schema(name), checked=False)


def _validator(schema: Mapping[str, Any], checked: bool = True) -> jsonschema.protocols.Validator:
    validator_class = jsonschema.validators.validator_for(schema)
    if checked:
        validator_class.check_schema(schema)
    # JSON Schema counts 1.0 as an integer; a YAML author who wrote 1.0 wrote a decimal number
    strict = validator_class.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool))
    return jsonschema.validators.extend(validator_class, type_checker=strict)(schema)


def _findings(error: jsonschema.ValidationError, doc: YamlDocument, explained: set[PathKey]) -> Iterator[DacError]:
    """One or more findings for a jsonschema error, each at the position it concerns.

    A type error on an unquoted value YAML read otherwise than it looks says so, and its
    path joins ``explained``.
    """
    path: PathKey = tuple(error.absolute_path)
    prefix = f"{format_path(path)}: " if path else ""
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    templates = schema.get("errorMessage", {})
    keyword = error.validator
    value = error.instance

    def say(default: str, **fields: Any) -> str:
        template = templates.get(keyword)
        return prefix + (template.format(value=value, **fields) if template else default)

    if keyword == "required":
        for key in error.validator_value:
            if isinstance(value, Mapping) and key not in value:
                yield DacError(say(f"missing required key {key!r}", key=key), doc.location(path))
        return
    if keyword == "additionalProperties" and isinstance(value, Mapping):
        known = list(schema.get("properties", {}))
        for key in value:
            if key in known:
                continue
            yield DacError(f"{prefix}unknown key {key!r}{_hint(key, known)}", doc.key_location(path + (key,)))
        return
    if len(error.absolute_schema_path) >= 2 and error.absolute_schema_path[-2] == "propertyNames":
        # the failing instance is a mapping key: point at the key itself
        yield DacError(say(f"key {value!r} is not allowed here"), doc.key_location(path + (value,)))
        return
    if keyword == "type":
        message = _describe(error, say)
        hint = "" if "quote it" in message else readings.type_hint(doc.nodes.get(path), error.validator_value)
        if hint:
            explained.add(path)
        yield DacError(message + hint, doc.location(path))
        return
    if keyword == "uniqueItems":
        seen: list[Any] = []
        for index, item in enumerate(value):
            if item in seen:
                yield DacError(f"{prefix}{item!r} is listed more than once", doc.location(path + (index,)))
            else:
                seen.append(item)
        return
    yield DacError(_describe(error, say), doc.location(path))


def _describe(error: jsonschema.ValidationError, say: Callable[..., str]) -> str:
    """The sentence for a single-value violation (type, enum, pattern, bounds)."""
    keyword, limit, value = error.validator, error.validator_value, error.instance
    if keyword == "type":
        return say(f"expected {_expected(limit)}, found {_found(value)}")
    if keyword == "enum":
        allowed = ", ".join(str(option) for option in limit)
        return say(f"{value!r} is not one of {allowed}", allowed=allowed) + _hint(value, limit)
    if keyword == "pattern":
        return say(f"{value!r} does not match {limit}")
    if keyword == "minLength":
        return say("must not be empty" if limit == 1 else f"must be at least {limit} characters long")
    if keyword == "maxLength":
        return say(f"is {len(value)} characters long, more than the limit of {limit}")
    if keyword == "minItems":
        return say("must not be an empty list" if limit == 1 else f"must list at least {limit} items")
    if keyword == "maxItems":
        return say(f"lists {len(value)} items, more than the limit of {limit}")
    if keyword == "minProperties":
        return say("must not be an empty mapping" if limit == 1 else f"must have at least {limit} entries")
    if keyword == "maxProperties":
        return say(f"has {len(value)} entries, more than the limit of {limit}")
    if keyword == "minimum":
        return say(f"{value!r} is less than the minimum of {limit}")
    if keyword == "maximum":
        return say(f"{value!r} is more than the maximum of {limit}")
    return say(error.message)

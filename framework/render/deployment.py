"""One deployment per rule pack: every rule's Sentinel resource in a single ARM template and as Bicep.

``dac pack`` adds two files to the zip:

* ``deployment/sentinel.json`` - an ARM deployment template whose ``resources``
  are exactly the resources of the per-rule templates (``sentinel/<stem>.json``),
  one per rule, sorted by rule name then id. Nothing is re-derived: the pack
  template is assembled from what :func:`dac.render.render_rule` produced.
* ``deployment/sentinel.bicep`` - the same resources in Bicep: ``param workspace
  string``, the workspace as an ``existing`` resource, and per rule either a
  ``Microsoft.OperationalInsights/workspaces/savedSearches`` child of it
  (``parent``) or a ``Microsoft.SecurityInsights/alertRules`` extension resource
  on it (``scope``). tests/data/render/shapes.json (``sentinel.packDeployment``)
  records the sources of both shapes.

Parameters. Only ``workspace`` is declared. Neither savedSearches nor alertRules
has a ``location`` (the location is the workspace's), so a ``location``
parameter would be unused - ARM's template linter and Bicep's ``no-unused-params``
rule both flag that - and it is left out on purpose.

ARM escaping. The per-rule resources are already ARM text: a literal string
that ARM would evaluate (``[x]``) is written ``[[x]``, and the only expressions
are the renderer's own ``id``/``name``. They are therefore written with the
``json`` filter (unchanged); escaping them again would double the bracket.
Before that, each resource is checked to hold no other expression.

Bicep escaping. Bicep compiles a string literal that starts with ``[`` and ends
with ``]`` to ``[[...]`` itself (Azure/bicep pull requests #330 and #2006), so
the Bicep text carries the *literal* values: the ARM escape is undone
(:func:`arm_unescape`) first. The text is rendered in its own sandboxed Jinja
environment whose only output filters are ``bicep`` (any JSON value as a Bicep
literal) and ``bicep_identifier``; a template cannot write anything else. A
string becomes a single-quoted Bicep string with ``\\\\``, ``\\'``, ``\\n``, ``\\r``,
``\\t`` and ``\\$`` escaped (the escapes of Bicep's lexer; escaping every ``$``
also disarms ``${`` interpolation) and every character outside printable ASCII
written ``\\u{X}``, so the file is plain ASCII and no value can end a string or
a line early. Numbers that are not integers are written ``json('1.5')`` (Bicep has
no decimal literal).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jinja2 import Undefined
from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from dac.errors import DacError, Location
from dac.render import fields
from dac.render.environment import (
    RenderError,
    is_arm_expression,
    render_json,
    sandbox,
)
from dac.render.sentinel import (
    ALERT_RULE_API_VERSION,
    ALERT_RULE_TYPE,
    CONTENT_VERSION,
    DEPLOYMENT_SCHEMA,
    SAVED_SEARCH_API_VERSION,
    SAVED_SEARCH_TYPE,
    resource_names,
)
from dac.render.writer import serialise
from dac.rules.model import Rule

JSON_NAME = "deployment/sentinel.json"
BICEP_NAME = "deployment/sentinel.bicep"

# The Bicep form of an alert rule: the extension resource type itself, deployed
# with ``scope: <workspace>`` (the ARM template spells the same resource as
# workspaces/providers/alertRules with a workspace/Microsoft.SecurityInsights/<id> name).
BICEP_ALERT_RULE_TYPE = "Microsoft.SecurityInsights/alertRules"
WORKSPACE_TYPE = "Microsoft.OperationalInsights/workspaces"
WORKSPACE_API_VERSION = "2022-10-01"
# ``workspace`` is the parameter; Bicep symbols share one namespace, so the
# existing-resource symbol needs another name.
WORKSPACE_SYMBOL = "sentinelWorkspace"


@dataclass(frozen=True)
class PackRule:
    """One rule of a pack and the ARM resource its per-rule template holds."""

    rule: Rule
    guid: str
    kind: str  # Scheduled, NRT or Hunting
    resource: dict[str, Any]

    @property
    def name(self) -> str:
        return self.rule.name

    @property
    def is_hunting(self) -> bool:
        return self.kind == "Hunting"

    @property
    def symbol(self) -> str:
        prefix = "savedSearch" if self.is_hunting else "alertRule"
        return f"{prefix}_{self.guid.lower().replace('-', '_')}"

    @property
    def literal_properties(self) -> dict[str, Any]:
        """The resource's properties as the values they stand for (ARM escape undone)."""
        return arm_unescape(self.resource["properties"])


# --- ARM ---------------------------------------------------------------------


def arm_unescape(value: Any) -> Any:
    """Undo the ``arm`` filter: ``[[x]`` -> ``[x]`` in strings and keys, recursively.

    The filter escapes exactly the strings that start with ``[`` and end with
    ``]``, so an escaped string is one that starts with ``[[`` and ends with ``]``.
    """
    if isinstance(value, str):
        return value[1:] if len(value) >= 3 and value.startswith("[[") and value.endswith("]") else value
    if isinstance(value, list):
        return [arm_unescape(item) for item in value]
    if isinstance(value, dict):
        return {arm_unescape(key): arm_unescape(item) for key, item in value.items()}
    return value


def _no_other_expressions(value: Any, rule: Rule, where: str) -> None:
    if isinstance(value, str):
        if is_arm_expression(value):
            raise RenderError(f"internal error: an ARM expression in the pack deployment at {where}", rule.location())
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _no_other_expressions(item, rule, f"{where}/{index}")
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_other_expressions(key, rule, f"{where}/{key}")
            _no_other_expressions(item, rule, f"{where}/{key}")


def pack_rule(rule: Rule, sentinel_template: dict[str, Any]) -> PackRule:
    """Take the one resource out of a rule's per-rule ARM template, checking its shape."""
    resources = sentinel_template.get("resources")
    if not isinstance(resources, list) or len(resources) != 1 or not isinstance(resources[0], dict):
        raise RenderError("internal error: a per-rule template must hold exactly one resource", rule.location())
    resource = resources[0]
    guid = fields.rule_id(rule)
    if resource.get("type") == SAVED_SEARCH_TYPE:
        kind = "Hunting"
    elif resource.get("type") == ALERT_RULE_TYPE and resource.get("kind") in ("Scheduled", "NRT"):
        kind = resource["kind"]
    else:
        raise RenderError(f"internal error: unexpected resource type {resource.get('type')!r}", rule.location())
    names = {key: str(value) for key, value in resource_names(kind, guid).items()}
    for key, value in resource.items():
        if key in names:
            if value != names[key]:
                raise RenderError(f"internal error: resource {key} is not the renderer's expression", rule.location())
        else:
            _no_other_expressions(value, rule, f"/{key}")
    if set(names) - set(resource):
        raise RenderError("internal error: resource lacks its id or name", rule.location())
    return PackRule(rule=rule, guid=guid, kind=kind, resource=resource)


def collect(pairs: Iterable[tuple[Rule, dict[str, Any]]]) -> list[PackRule]:
    """The pack's rules in deployment order (name, then id); two rules with one id are an error."""
    rules = [pack_rule(rule, template) for rule, template in pairs]
    rules.sort(key=lambda r: (r.name.casefold(), r.name, r.guid.lower()))
    seen: dict[str, PackRule] = {}
    for item in rules:
        other = seen.get(item.guid.lower())
        if other is not None:
            raise DacError(f"two rules in the pack have the id {item.guid} (the other is {other.rule.path}); "
                           "they would be deployed as one resource", item.rule.location("id"))
        seen[item.guid.lower()] = item
    return rules


def arm_template(rules: list[PackRule]) -> dict[str, Any]:
    """The pack's ARM deployment template, as parsed JSON."""
    context = {
        "schema": DEPLOYMENT_SCHEMA,
        "content_version": CONTENT_VERSION,
        "resources": [item.resource for item in rules],
    }
    return render_json("deployment.json.j2", context, Location(JSON_NAME))


# --- Bicep -------------------------------------------------------------------


class BicepText(str):
    """Bicep source produced by one of the Bicep filters."""


_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", "$": "\\$"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEYWORDS = {"true", "false", "null"}
_INT64 = (-(2 ** 63), 2 ** 63 - 1)
INDENT = "  "


def bicep_string(text: str) -> str:
    """A single-quoted Bicep string literal whose value is ``text``; plain ASCII."""
    parts = ["'"]
    for char in text:
        if char in _ESCAPES:
            parts.append(_ESCAPES[char])
        elif " " <= char <= "~":
            parts.append(char)
        elif 0xD800 <= ord(char) <= 0xDFFF:
            raise TypeError("a string holds a lone surrogate, which Bicep cannot encode")
        else:
            parts.append(f"\\u{{{ord(char):X}}}")
    parts.append("'")
    return "".join(parts)


def _bicep_key(key: str) -> str:
    if not isinstance(key, str):
        raise TypeError(f"an object key {key!r} is not a string")
    return key if _IDENTIFIER.match(key) and key not in _KEYWORDS else bicep_string(key)


def bicep_value(value: Any, depth: int = 0) -> str:
    """Any JSON value as a Bicep expression; nested lines are indented from ``depth``."""
    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises, naming the missing variable
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise TypeError(f"the integer {value} does not fit Bicep's 64-bit int")
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError("a number is not finite")
        return f"json({bicep_string(repr(value))})"
    if isinstance(value, str):
        return bicep_string(value)
    inner, outer = INDENT * (depth + 1), INDENT * depth
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        items = "".join(f"{inner}{bicep_value(item, depth + 1)}\n" for item in value)
        return f"[\n{items}{outer}]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = "".join(f"{inner}{_bicep_key(key)}: {bicep_value(item, depth + 1)}\n" for key, item in value.items())
        return f"{{\n{items}{outer}}}"
    raise TypeError(f"a {type(value).__name__} cannot be written as Bicep")


def bicep_filter(value: Any, depth: int = 0) -> BicepText:
    return BicepText(bicep_value(value, depth))


def bicep_identifier_filter(value: Any) -> BicepText:
    if not isinstance(value, str) or not _IDENTIFIER.match(value) or value in _KEYWORDS:
        raise TypeError(f"{value!r} is not a Bicep identifier")
    return BicepText(value)


def _finalize(value: Any) -> Any:
    if not isinstance(value, BicepText):
        raise TypeError("a Bicep template wrote a value without the bicep or bicep_identifier filter")
    return value


_BICEP_ENVIRONMENT: ImmutableSandboxedEnvironment | None = None


def bicep_environment() -> ImmutableSandboxedEnvironment:
    """The sandbox Bicep templates run in: the same settings as the JSON one, Bicep filters only."""
    global _BICEP_ENVIRONMENT
    if _BICEP_ENVIRONMENT is None:
        env = sandbox(finalize=_finalize)
        env.filters["bicep"] = bicep_filter
        env.filters["bicep_identifier"] = bicep_identifier_filter
        _BICEP_ENVIRONMENT = env
    return _BICEP_ENVIRONMENT


def bicep_text(rules: list[PackRule]) -> str:
    """The pack's Bicep file."""
    context = {
        "workspace_symbol": WORKSPACE_SYMBOL,
        "workspace_type": f"{WORKSPACE_TYPE}@{WORKSPACE_API_VERSION}",
        "rules": [
            {
                "symbol": item.symbol,
                "hunting": item.is_hunting,
                "type": (f"{SAVED_SEARCH_TYPE}@{SAVED_SEARCH_API_VERSION}" if item.is_hunting
                         else f"{BICEP_ALERT_RULE_TYPE}@{ALERT_RULE_API_VERSION}"),
                "name": item.guid,
                "kind": item.kind,
                "properties": item.literal_properties,
            }
            for item in rules
        ],
    }
    try:
        return bicep_environment().get_template("deployment.bicep.j2").render(context)
    except (TemplateError, TypeError, ValueError) as exc:
        raise RenderError(f"cannot render deployment.bicep.j2: {exc}", Location(BICEP_NAME)) from None


def pack_files(pairs: Iterable[tuple[Rule, dict[str, Any]]]) -> dict[str, bytes]:
    """The two deployment files of a pack, from each rule and its per-rule ARM template."""
    rules = collect(pairs)
    return {
        JSON_NAME: serialise(arm_template(rules)),
        BICEP_NAME: bicep_text(rules).encode("ascii"),
    }


__all__ = ["BICEP_NAME", "JSON_NAME", "PackRule", "arm_template", "arm_unescape", "bicep_string", "bicep_text",
           "collect", "pack_files"]

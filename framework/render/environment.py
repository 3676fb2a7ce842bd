"""The Jinja sandbox the artifacts are rendered in, and its only output filters.

Rule files are untrusted input: a description may contain ``{{ 7*7 }}``,
quotes, newlines or an ARM expression. Three measures keep such text inert:

* Templates run in an ``ImmutableSandboxedEnvironment`` with ``StrictUndefined``,
  so a template can neither reach Python internals nor silently print an
  empty string for a misspelt variable.
* Rule data is passed to templates as values and never becomes template
  source, so Jinja syntax inside it is never evaluated.
* Every ``{{ ... }}`` must end in one of the filters below, which produce a
  complete JSON literal. The environment's ``finalize`` hook rejects any other
  output, so a template cannot write a raw value into the JSON text by mistake.

The filters call ``json.dumps`` with ``ensure_ascii=True``: the rendered text is
then plain ASCII whatever the rule contains, so no character of a value
(control characters, U+2028, a byte-order mark) can end a string early or
confuse a later tool. The text is only an intermediate form: it is parsed back
with ``json.loads`` (a template bug becomes a DacError instead of a broken
file) and written out by :mod:`dac.render.writer` as UTF-8.

ARM evaluates a string that starts with ``[`` and ends with ``]`` as a template
expression. The ``arm`` filter escapes such strings, in values and in object
keys, by doubling the opening bracket, ARM's documented escape; a string that
starts with ``[`` but does not end with ``]`` is already literal to ARM and is
left alone (escaping it would add a visible bracket). The ``json`` filter, used
for the Defender (Graph) JSON, leaves strings unchanged. Expressions the
renderer itself builds (the resource name) are :class:`ArmExpression` values
and can only be written through ``arm_expression``.
"""

from __future__ import annotations

import json
import math
from typing import Any

from jinja2 import PackageLoader, StrictUndefined, Undefined
from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from dac.errors import DacError, Location

class JsonLiteral(str):
    """Text that is one complete JSON value, as produced by the output filters."""


class ArmExpression(str):
    """An ARM template expression built by the renderer, never taken from rule data."""


class RenderError(DacError):
    """A template or a value could not be turned into an artifact."""


def is_arm_expression(text: str) -> bool:
    """What ARM treats as an expression: first character ``[`` and last ``]``, not ``[[``."""
    return len(text) >= 2 and text[0] == "[" and text[-1] == "]" and text[1] != "["


def arm_escape_string(text: str) -> str:
    """Make ``text`` literal to ARM: ``[x]`` -> ``[[x]``; other strings unchanged."""
    if len(text) >= 2 and text[0] == "[" and text[-1] == "]":
        return "[" + text
    return text


def _check_plain(value: Any, where: str = "value") -> None:
    """Only JSON's own types may be written; anything else is a renderer bug."""
    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises UndefinedError, naming the missing variable
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise TypeError(f"{where} holds a lone surrogate, which UTF-8 cannot encode") from None
        return
    if value is None or isinstance(value, (bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{where} is not a finite number")
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_plain(item, f"{where}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a non-string key {key!r}")
            _check_plain(key, f"{where} key")
            _check_plain(item, f"{where}.{key}")
        return
    raise TypeError(f"{where} has a {type(value).__name__}, which JSON cannot hold")


def _arm_escape(value: Any) -> Any:
    if isinstance(value, ArmExpression):
        raise TypeError("an ARM expression must be written with the arm_expression filter")
    if isinstance(value, str):
        return arm_escape_string(value)
    if isinstance(value, (list, tuple)):
        return [_arm_escape(item) for item in value]
    if isinstance(value, dict):
        return {arm_escape_string(key): _arm_escape(item) for key, item in value.items()}
    return value


def _dump(value: Any) -> JsonLiteral:
    _check_plain(value)
    return JsonLiteral(json.dumps(value, ensure_ascii=True, allow_nan=False))


def json_filter(value: Any) -> JsonLiteral:
    """Any JSON value as a JSON literal, strings unchanged (Graph / Defender JSON)."""
    return _dump(value)


def arm_filter(value: Any) -> JsonLiteral:
    """A JSON literal for an ARM template: strings ARM would evaluate are escaped."""
    return _dump(_arm_escape(value))


def arm_expression_filter(value: Any) -> JsonLiteral:
    """A renderer-built ARM expression, written as is."""
    if not isinstance(value, ArmExpression):
        raise TypeError("arm_expression only writes expressions built by the renderer")
    return JsonLiteral(json.dumps(str(value), ensure_ascii=True))


def _finalize(value: Any) -> Any:
    if not isinstance(value, JsonLiteral):
        raise TypeError("a template wrote a value without the json, arm or arm_expression filter")
    return value


def sandbox(*, finalize: Any = None, autoescape: bool = False) -> ImmutableSandboxedEnvironment:
    """The Jinja sandbox every template renders in: our templates folder, undefined names are
    errors, whitespace kept as written. ``finalize`` is each output format's guard that every
    value went through its escaping filter; HTML escapes instead (``autoescape``)."""
    return ImmutableSandboxedEnvironment(
        loader=PackageLoader("dac.render", "templates"),  # importlib-based: works from a wheel or a zip
        autoescape=autoescape,
        undefined=StrictUndefined,
        finalize=finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


def make_environment() -> ImmutableSandboxedEnvironment:
    env = sandbox(finalize=_finalize)
    env.filters["json"] = json_filter
    env.filters["arm"] = arm_filter
    env.filters["arm_expression"] = arm_expression_filter
    return env


_ENVIRONMENT: ImmutableSandboxedEnvironment | None = None


def environment() -> ImmutableSandboxedEnvironment:
    global _ENVIRONMENT
    if _ENVIRONMENT is None:
        _ENVIRONMENT = make_environment()
    return _ENVIRONMENT


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def render_json(template: str, context: dict[str, Any], location: Location) -> Any:
    """Render ``template`` with ``context`` and parse the result as JSON.

    Any failure (a template error, an undefined variable, a value the filters
    refuse, text that is not JSON) is reported as a RenderError at ``location``,
    the rule the artifact is for.
    """
    try:
        text = environment().get_template(template).render(context)
    except (TemplateError, TypeError, ValueError) as exc:
        raise RenderError(f"cannot render {template}: {exc}", location) from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except ValueError as exc:
        raise RenderError(f"template {template} produced invalid JSON: {exc}", location) from None

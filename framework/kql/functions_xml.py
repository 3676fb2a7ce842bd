"""parse_xml: an XML document as the dynamic value the page's conversion table describes.

Registered into ``functions.FUNCTIONS`` on import (``functions`` imports this module).
https://learn.microsoft.com/kusto/query/parse-xml-function: ``<e/>`` is {"e": null}, ``<e>text</e>``
{"e": "text"}, attributes are "@name" keys, text beside attributes or elements "#text", repeated
elements an array; text is trimmed (the table's " text " beside an element is "text"); only
elements, attributes and text are translated; invalid XML (or more than
1 MB) gives null.

The page leaves some shapes open, and those are refused rather than guessed: text that reads as a
number or a bool (the table keeps text as strings, the page's example shows the numbers of its
document as numbers), several text runs in one element, CDATA sections, and an empty element written
``<e></e>`` (the table only shows ``<e/>``). A document type declaration is refused too: its
entities are the classic way to make a small document expand without bound.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from typing import Any

from dac.kql import values as V
from dac.kql.errors import KqlRefusedValue
from dac.kql.functions import PARAMETER_TYPES, scalar

_MAX_BYTES = 1_048_576
_MAX_DEPTH = 256  # the conversion recurses once per level
_LITERAL = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|true|false|null|NaN|[-+]?Infinity", re.IGNORECASE)


class _Refused(Exception):
    """A shape the page does not settle."""


def _refuse(what: str) -> None:
    raise _Refused(what)


class _Element:
    __slots__ = ("name", "attributes", "children", "texts", "self_closing")

    def __init__(self, name: str, attributes: dict[str, str]) -> None:
        self.name = name
        self.attributes = attributes
        self.children: list[_Element] = []
        self.texts: list[str] = []
        self.self_closing = False


def _text(value: str) -> str:
    if _LITERAL.fullmatch(value.strip()):
        _refuse(f"the text {value.strip()!r}, which may be read as a number or a bool")
    return value


def _value(element: _Element) -> Any:
    """The JSON value of one element, by the page's table."""
    texts = [t.strip() for t in element.texts if t.strip()]
    if len(texts) > 1:
        _refuse("several text runs in one element")
    if not element.attributes and not element.children:
        if texts:
            return _text(texts[0])
        if not element.self_closing:
            _refuse("an empty element written with an end tag")
        return None
    out: dict[str, Any] = {f"@{name}": _text(value) for name, value in element.attributes.items()}
    if texts:
        out["#text"] = _text(texts[0])
    groups: dict[str, list[Any]] = {}
    for child in element.children:
        groups.setdefault(child.name, []).append(_value(child))
    for name, values in groups.items():
        out[name] = values[0] if len(values) == 1 else values
    return out


def _parse(data: bytes) -> _Element | None:
    """The document's root element, None for invalid XML."""
    parser = xml.parsers.expat.ParserCreate()
    stack: list[_Element] = []
    roots: list[_Element] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        if len(stack) >= _MAX_DEPTH:
            _refuse(f"elements nested deeper than {_MAX_DEPTH}")
        element = _Element(name, attributes)
        (stack[-1].children if stack else roots).append(element)
        stack.append(element)

    def end(name: str) -> None:
        element = stack.pop()
        index = parser.CurrentByteIndex
        element.self_closing = data[index - 2:index] == b"/>"

    def text(value: str) -> None:
        if stack:
            stack[-1].texts.append(value)

    def doctype(*_: Any) -> None:
        _refuse("a document type declaration")

    def cdata() -> None:
        _refuse("a CDATA section")

    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.StartCdataSectionHandler = cdata
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError:
        return None
    return roots[0] if len(roots) == 1 else None


@scalar("parse_xml", returns="dynamic", args=(1, 1))
def _parse_xml(value: Any) -> dict[str, Any] | None:
    """{root name: value of the root element}, null when the text is no XML document."""
    data = V.to_string(value).encode("utf-8")
    if len(data) > _MAX_BYTES:
        return None
    try:
        root = _parse(data)
        return None if root is None else {root.name: _value(root)}
    except _Refused as refused:
        raise KqlRefusedValue(f"parse_xml() of {refused} is not reproduced: the page does not say how Kusto "
                              "converts it") from None


PARAMETER_TYPES["parse_xml"] = {0: frozenset({"string"})}

"""YAML 1.1 surprises: unquoted values that do not read as what they look like.

Rule and test files are read as YAML 1.1 (PyYAML's resolvers, as Azure-Sentinel's
Python tooling reads them), where ``010`` is the octal number 8, ``1:30`` the base-60
number 90, ``1_000`` the number 1000, ``0x10`` 16 and ``on``/``yes``/``off`` booleans;
YAML 1.2 readers take ``010`` as 10 and ``1_000``, ``1:30`` and ``on`` as text. A value
converted that way is no longer what its author wrote, and other tools read it otherwise,
so each is a finding at its position (check ``yaml-readings``) that names the reading and
suggests quoting, instead of a silent conversion. Two more readings differ between readers
while dac keeps the text: ``2024-01-01`` (a date to YAML 1.1 readers; dac does not resolve
timestamps) and ``0o10``, ``08`` or ``1e3`` (numbers to YAML 1.2 readers); in rule files,
which other tools read too, they are warnings.

Only plain scalars are looked at: a quoted value or a block scalar is text to every reader.
The same readings word the hint :class:`~dac.validate.schema.SchemaCheck` adds to a type
error (``version: 1.0`` where a string is expected), and a value that has that hint gets no
second finding here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from dac.errors import DacError, DacWarning
from dac.rules.yamlfile import PathKey, YamlDocument

CHECK_ID = "yaml-readings"
SUMMARY = "no unquoted value reads as something else than it looks (octal, base 60, yes/on/off, dates)"

_TAG = "tag:yaml.org,2002:"
# YAML 1.1's timestamp (the resolver dac drops) and YAML 1.2 core numbers that YAML 1.1 reads as text.
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
    r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?")
_OCTAL_12 = re.compile(r"0o[0-7]+")
_DECIMAL_12 = re.compile(r"[-+]?0[0-9]+")  # 08, 0099: not octal, so text to YAML 1.1; 8 and 99 to YAML 1.2
_FLOAT_12 = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+")


@dataclass(frozen=True)
class Reading:
    """How an unquoted value reads: ``what`` YAML 1.1 makes of ``text`` and what else is true of it.

    ``severity`` is ``error`` when dac's own reading is a conversion its author may not
    have meant, ``warning`` when dac keeps the text but other readers do not, and ``""``
    when the reading is the ordinary one (``5``, ``true``, ``1.0``): only a hint beside a
    type error.
    """

    text: str
    what: str
    other: str = ""
    advice: str = ""
    severity: str = ""

    def message(self, prefix: str) -> str:
        if self.severity == "warning":
            return (f"{prefix}the unquoted {self.text} is text to dac, but {self.other}; quote it ('{self.text}') "
                    "so that every reader agrees")
        other = f" ({self.other})" if self.other else ""
        return (f"{prefix}YAML reads the unquoted {self.text} as {self.what}{other}; quote it ('{self.text}') "
                f"if it is text, or {self.advice}")


def reading(node: yaml.Node | None) -> Reading | None:
    """The reading of a plain scalar; None for anything else, and for text no reader takes otherwise."""
    if not isinstance(node, yaml.ScalarNode) or node.style or not node.value:
        return None
    text, tag = node.value, node.tag.removeprefix(_TAG)
    if tag == "int":
        return _integer(text)
    if tag == "float":
        if "_" in text or ":" in text:
            value = _base60(text) if ":" in text else float(text.replace("_", ""))
            how = "base-60 " if ":" in text else ""
            return Reading(text, f"the {how}number {value:g}", "YAML 1.2 readers take it as text",
                           f"write {value:g}", "error")
        return Reading(text, f"the number {text}")
    if tag == "bool":
        value = text.lower() in ("yes", "on", "true")
        word = "true" if value else "false"
        if text.lower() in ("true", "false"):
            return Reading(text, f"the boolean {word}")
        return Reading(text, f"the boolean {word}", f"YAML 1.2 readers take it as the text '{text}'",
                       f"write {word}", "error")
    if tag == "null":
        return Reading(text, "nothing (null)")
    if tag != "str":
        return None
    if _TIMESTAMP.fullmatch(text):
        return Reading(text, "text", "YAML 1.1 readers such as PyYAML take it as a date", severity="warning")
    if _OCTAL_12.fullmatch(text):
        return Reading(text, "text", f"YAML 1.2 readers take it as the octal number {int(text[2:], 8)}",
                       f"write {int(text[2:], 8)}", "warning")
    if _DECIMAL_12.fullmatch(text):
        return Reading(text, "text", f"YAML 1.2 readers take it as the number {int(text)}", f"write {int(text)}",
                       "warning")
    if _FLOAT_12.fullmatch(text):
        return Reading(text, "text", f"YAML 1.2 readers take it as the number {float(text):g}",
                       f"write {float(text):g}", "warning")
    return None


def _integer(text: str) -> Reading:
    digits = text.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    bare = digits.lstrip("+-")
    if ":" in bare:
        value = sign * int(_base60(bare))
        return Reading(text, f"the base-60 number {value}", "YAML 1.2 readers take it as text",
                       f"write {value}", "error")
    if bare.startswith("0b"):
        kind, value = "binary", sign * int(bare[2:], 2)
    elif bare.startswith("0x"):
        kind, value = "hexadecimal", sign * int(bare[2:], 16)
    elif len(bare) > 1 and bare.startswith("0"):
        value = sign * int(bare, 8)
        return Reading(text, f"the octal number {value}", f"YAML 1.2 readers take it as {sign * int(bare, 10)}",
                       "write the number without a leading zero", "error")
    elif "_" in text:
        value = sign * int(bare)
        return Reading(text, f"the number {value}", "YAML 1.2 readers take it as text", f"write {value}", "error")
    else:
        return Reading(text, f"the integer {text}")
    return Reading(text, f"the {kind} number {value}", "" if kind == "hexadecimal" else "YAML 1.2 readers take "
                   "it as text", f"write {value}", "error")


def _base60(text: str) -> float:
    """``1:30`` -> 90, ``1:30.5`` -> 90.5, as YAML 1.1 reads sexagesimal numbers."""
    sign = -1 if text.startswith("-") else 1
    total = 0.0
    for part in text.lstrip("+-").replace("_", "").split(":"):
        total = total * 60 + float(part)
    return sign * total


def type_hint(node: yaml.Node | None, expected: str | list[str]) -> str:
    """What to add to "expected X, found Y" when the value is an unquoted scalar YAML read otherwise; or "".

    A string was expected and YAML read a number, boolean or null; an integer was expected
    and YAML read a decimal number; or a number was expected and the text is one only to
    YAML 1.2 readers.
    """
    found = reading(node)
    if found is None:
        return ""
    wanted = {expected} if isinstance(expected, str) else set(expected)
    if "string" in wanted and found.what != "text":
        return f"; YAML reads the unquoted {found.text} as {found.what}: quote it ('{found.text}')"
    if "integer" in wanted and found.what.startswith("the number") and node.tag == _TAG + "float":
        return f"; YAML reads the unquoted {found.text} as a decimal number: write it without the decimal point"
    if wanted & {"integer", "number"} and found.advice and found.what == "text":
        return f"; {found.other}, but rule and test files are read as YAML 1.1, where it is text: {found.advice}"
    return ""


def findings(doc: YamlDocument, warnings: bool, skip: set[PathKey]) -> Iterator[DacError]:
    """A finding for each surprising unquoted value of ``doc`` outside ``skip`` (errors, and warnings if asked)."""
    from dac.validate.schema import format_path  # schema.py imports this module

    for path, node in doc.nodes.items():
        found = reading(node) if path not in skip else None
        if found is None or not found.severity or (found.severity == "warning" and not warnings):
            continue
        prefix = f"{format_path(path)}: " if path else ""
        kind = DacWarning if found.severity == "warning" else DacError
        yield kind(found.message(prefix), doc.location(path), check=CHECK_ID)


__all__ = ["CHECK_ID", "Reading", "SUMMARY", "findings", "reading", "type_hint"]

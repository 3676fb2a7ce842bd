"""The regular expression a ``parse`` operator matches with, built once for every engine.

https://learn.microsoft.com/kusto/query/parse-operator: simple parsing matches the whole
text, string columns lazily and long/int/real columns as numbers; regex parsing takes the
constants as a regex, columns matching ``.*`` (``.*?`` with flags=U) anywhere in the text;
relaxed parsing is simple parsing where a value of the wrong shape still matches (and is
then null). The row engine and the SQL engines (whose RE2 is the same library) match with
this one pattern, so both extract the same text.
"""

from __future__ import annotations

from dac.kql import ast
from dac.kql import values as V

TYPE_PATTERNS = {
    "long": r"-?\d+", "int": r"-?\d+", "real": r"-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?", "decimal": r"-?\d+(?:\.\d*)?",
}


def parse_kind(node: ast.Parse) -> str:
    return str(node.params.get("kind", "simple")).lower()


def parse_pattern(node: ast.Parse) -> tuple[str, list[tuple[str, str]]]:
    """The pattern's text and the new columns (name, KQL type); column i is the named group ``_ci``.

    Named groups, so that capturing groups inside regex constants do not shift ours.
    """
    import re2  # lazily: the evaluator's import stays light for start-up

    kind = parse_kind(node)
    flags = str(node.params.get("flags", "")) if kind == "regex" else ""
    pieces: list[str] = []
    columns: list[tuple[str, str]] = []
    for part in node.pattern:
        if part is None:
            pieces.append(".*?")
        elif isinstance(part, str):
            pieces.append(part if kind == "regex" else re2.escape(part))
        else:
            name, type_name = part
            kind_name = V.normal_type(type_name)
            columns.append((name, kind_name))
            group = f"(?P<_c{len(columns) - 1}>"
            typed = TYPE_PATTERNS.get(kind_name)
            if kind == "relaxed":
                pieces.append(group + (f"{typed}|.*?)" if typed else ".*?)"))
            elif typed:
                pieces.append(group + typed + ")")
            else:
                pieces.append(group + (".*)" if kind == "regex" else ".*?)"))
    inline = "".join(f for f in flags if f in "imsU")
    text = ("(?" + inline + ")" if inline else "") + "".join(pieces)
    if kind != "regex":
        text = "(?s)^" + text + "$"
    return text, columns

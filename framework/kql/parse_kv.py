"""The ``parse-kv`` operator (https://learn.microsoft.com/kusto/query/parse-kv-operator).

Three extraction modes, as the page defines them:

* specified delimiters (``pair_delimiter`` and ``kv_delimiter``): the text is cut
  into pairs at the pair delimiter, each pair into key and value at its first kv
  delimiter; a piece without a kv delimiter is no pair. With ``greedy=true`` an
  unquoted value runs on to the next key appearance (the next piece that holds a
  kv delimiter) or the end of the text, pair delimiters included.
* no delimiters: any non-alphanumeric character delimits; a listed key is read
  where it stands as a whole token and its value is the token after it.
* ``regex``: each match of the pattern gives a key (first group) and a value
  (second group).

``quote`` (one or two characters: opening and closing) lets a key or value be
wrapped so it may hold delimiters; ``escape`` characters inside a quoted text
make the next character literal. Keys and values are trimmed of white space; the
first appearance of a key wins; only the listed keys become columns, typed as
listed (a value that does not convert is null; a key never found is null, or
empty for a string column).

The page leaves the no-delimiter mode's reading of an ambiguous text open: a
token list can also be read as consecutive key/value pairs. When the two
readings give a row different values, the operator refuses rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

import re2

from dac.kql import ast
from dac.kql import budget as B
from dac.kql import values as V
from dac.kql.compiled import RUNTIME_FAILURES, runtime_error, semantic, unsupported
from dac.kql.expressions import ExpressionCompiler
from dac.kql.table import IngestedRow, Table, carry_ingestion

if TYPE_CHECKING:
    from dac.kql.evaluator import Evaluator
    from dac.kql.scope import Scope


@dataclass
class Options:
    pair: str | None = None
    kv: str | None = None
    quotes: dict[str, str] | None = None  # opening -> closing character
    escapes: frozenset[str] = frozenset()
    greedy: bool = False
    regex: Any = None


def parse_kv(evaluator: "Evaluator", node: ast.ParseKv, table: Table, scope: "Scope") -> Table:
    """``table`` extended with one column per listed key, read from ``node.source`` of each row."""
    options = _options(evaluator, node, scope)
    keys = [(name, V.normal_type(kind)) for name, kind in node.keys]
    names = [name for name, _ in keys]
    for position, name in enumerate(names):
        if name in names[:position]:
            raise semantic(node, f"parse-kv lists the key '{name}' twice")
    existing = {name for name, _ in table.columns}
    clash = next((name for name in names if name in existing), None)
    if clash is not None:
        raise unsupported(node, f"parse-kv key '{clash}' is already a column of the input")
    source = ExpressionCompiler(evaluator, table.columns, scope).compile(node.source).fn
    wanted = set(names)
    rows = []
    for row in table.rows:
        try:
            text = V.to_string(source(row))
        except RUNTIME_FAILURES as exc:
            raise runtime_error(node.source, "parse-kv", exc) from None
        found = _extract(node, text, options, wanted)
        values = tuple(_typed(found.get(name), kind) for name, kind in keys)
        new = tuple(row) + values
        rows.append(carry_ingestion(row, new) if row.__class__ is IngestedRow else new)
    return Table(list(table.columns) + keys, rows, table.ordered)


def _typed(text: str | None, kind: str) -> Any:
    if text is None:
        return V.default_value(kind)
    value = V.convert(text, kind)
    return value if value is not None else V.default_value(kind)


def _options(evaluator: "Evaluator", node: ast.ParseKv, scope: "Scope") -> Options:
    options = Options()
    quotes: dict[str, str] = {}
    escapes: set[str] = set()
    seen: set[str] = set()
    compiler = ExpressionCompiler(evaluator, [], scope)
    for key, expr in node.options:
        compiled = compiler.compile(expr)
        if not compiled.const:
            raise semantic(expr, f"parse-kv option '{key}' must be a constant")
        value = compiled.fn(())
        if key in seen and key not in ("quote", "escape"):
            raise semantic(expr, f"parse-kv option '{key}' is given twice")
        seen.add(key)
        if key == "greedy":
            if compiled.type != "bool":
                raise semantic(expr, "parse-kv option 'greedy' takes true or false")
            options.greedy = bool(value)
            continue
        if compiled.type != "string":
            raise semantic(expr, f"parse-kv option '{key}' takes a string, found {compiled.type}")
        text = V.to_string(value)
        if key == "quote":
            if len(text) not in (1, 2):
                raise semantic(expr, "a parse-kv quote is one character, or two: the opening and closing quotes")
            quotes[text[0]] = text[-1]
        elif key == "escape":
            if len(text) != 1:
                raise semantic(expr, "a parse-kv escape is one character")
            escapes.add(text)
        elif key == "regex":
            try:
                options.regex = B.compile_regex(text)
            except re2.error as exc:
                raise semantic(expr, B.regex_problem(exc)) from None
            if options.regex.groups != 2:
                raise semantic(expr, "the parse-kv regex must have exactly two capturing groups: the key, then the value")
        elif not text:
            raise semantic(expr, f"parse-kv option '{key}' must not be empty")
        elif key == "pair_delimiter":
            options.pair = text
        else:
            options.kv = text
    options.quotes, options.escapes = quotes, frozenset(escapes)
    if options.regex is not None and seen - {"regex"}:
        raise semantic(node, "parse-kv with regex takes no other option")
    if (options.pair is None) != (options.kv is None):
        raise semantic(node, "parse-kv needs both pair_delimiter and kv_delimiter, or neither")
    if options.greedy and options.pair is None:
        raise semantic(node, "parse-kv greedy=true needs pair_delimiter and kv_delimiter")
    return options


def _extract(node: ast.ParseKv, text: str, options: Options, wanted: set[str]) -> dict[str, str]:
    if options.regex is not None:
        pairs: Iterator[tuple[str, str]] = ((m.group(1) or "", m.group(2) or "") for m in options.regex.finditer(text))
    elif options.pair is not None:
        pairs = _delimited(text, options)
    else:
        return _undelimited(node, text, options, wanted)
    found: dict[str, str] = {}
    for key, value in pairs:
        key, value = key.strip(), value.strip()
        if key in wanted and key not in found:
            found[key] = value
    return found


# ------------------------------------------------------------------ specified delimiters


def _read_quoted(text: str, start: int, options: Options) -> tuple[str, int] | None:
    """The quoted text opening at ``start`` (after white space) and the index after its closing quote."""
    position = start
    while position < len(text) and text[position].isspace():
        position += 1
    quotes = options.quotes or {}
    if position >= len(text) or text[position] not in quotes:
        return None
    closing = quotes[text[position]]
    out: list[str] = []
    position += 1
    while position < len(text):
        char = text[position]
        if char in options.escapes and position + 1 < len(text):
            out.append(text[position + 1])
            position += 2
            continue
        if char == closing:
            return "".join(out), position + 1
        out.append(char)
        position += 1
    return None  # no closing quote: the text is read as unquoted


def _read_until(text: str, start: int, delimiters: tuple[str, ...]) -> tuple[str, int, str | None]:
    """Text from ``start`` up to the first of ``delimiters``: (text, index of the delimiter, which one)."""
    best, which = len(text), None
    for delimiter in delimiters:
        found = text.find(delimiter, start)
        if found != -1 and (found < best or found == best and which is not None and len(delimiter) > len(which)):
            best, which = found, delimiter
    return text[start:best], best, which


def _piece(text: str, start: int, options: Options, stop: tuple[str, ...]) -> tuple[str, bool, int, str | None]:
    """One key or value from ``start``: (its text, whether quoted, where it ends, the delimiter ending it)."""
    quoted = _read_quoted(text, start, options)
    if quoted is not None:
        value, after = quoted
        _, end, which = _read_until(text, after, stop)  # anything between the closing quote and the delimiter is dropped
        return value, True, end, which
    value, end, which = _read_until(text, start, stop)
    return value, False, end, which


def _delimited(text: str, options: Options) -> Iterator[tuple[str, str]]:
    pair, kv = options.pair or "", options.kv or ""
    position = 0
    while position <= len(text):
        key, _, end, which = _piece(text, position, options, (pair, kv))
        if which != kv:  # a piece without a kv delimiter is no pair
            if which is None:
                return
            position = end + len(pair)
            continue
        value, quoted, end, which = _piece(text, end + len(kv), options, (pair,))
        while options.greedy and not quoted and which is not None:
            # greedy: the value runs on over pieces that hold no kv delimiter (no key starts there)
            following, _, after, ends = _piece(text, end + len(pair), options, (pair, kv))
            if ends == kv:
                break
            value += pair + following
            end, which = after, ends
        yield key, value
        if which is None:
            return
        position = end + len(pair)


# ------------------------------------------------------------------ no delimiters


def _tokens(text: str, options: Options) -> list[str]:
    """Runs of letters and digits, and quoted texts where a quote opens one."""
    tokens: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if options.quotes and char in options.quotes:
            quoted = _read_quoted(text, position, options)
            if quoted is not None:
                tokens.append(quoted[0])
                position = quoted[1]
                continue
        if char.isalnum():
            end = position
            while end < len(text) and text[end].isalnum():
                end += 1
            tokens.append(text[position:end])
            position = end
            continue
        position += 1
    return tokens


def _undelimited(node: ast.ParseKv, text: str, options: Options, wanted: set[str]) -> dict[str, str]:
    tokens = _tokens(text, options)
    by_key: dict[str, str] = {}
    for position, token in enumerate(tokens[:-1]):
        if token.strip() in wanted and token.strip() not in by_key:
            by_key[token.strip()] = tokens[position + 1].strip()
    in_pairs: dict[str, str] = {}
    for position in range(0, len(tokens) - 1, 2):
        key = tokens[position].strip()
        if key in wanted and key not in in_pairs:
            in_pairs[key] = tokens[position + 1].strip()
    if by_key != in_pairs:
        raise unsupported(node, "parse-kv without delimiters: the documentation does not settle how this text "
                                "pairs keys with values; give pair_delimiter and kv_delimiter, or a regex")
    return by_key

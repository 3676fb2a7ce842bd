"""Scalar function library.

Each function is registered with its arity and result type so the compiler
can reject a wrong call before any row is read, and report the result type to
the operators after it. Functions that need the clock or the row context
(``now``, ``ago``, ``iff``, ``case``) are compiled by the evaluator itself.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
import re
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

import re2

from dac.kql import budget as B
from dac.kql import values as V
from dac.kql.bounds import DECIMAL_MAX

TypeRule = Callable[[list[str]], str]


@dataclass(frozen=True)
class ScalarFunction:
    name: str
    impl: Callable[..., Any]
    result: TypeRule
    min_args: int
    max_args: int | None
    # The value model has one Python int for int and long: a function whose result depends on
    # which (tohex's two's complement width) receives the argument types first.
    typed: bool = False


FUNCTIONS: dict[str, ScalarFunction] = {}
MAX_STRING = 1_048_576

# Argument types Kusto's binder insists on (settled with the official language service):
# function -> {argument index: accepted type families}. Unknown (dynamic) arguments pass.
_DATETIME = frozenset({"datetime"})
PARAMETER_TYPES: dict[str, dict[int, frozenset[str]]] = {
    **{name: {0: _DATETIME} for name in (
        "startofday", "startofweek", "startofmonth", "startofyear", "endofday", "endofweek", "endofmonth",
        "endofyear", "format_datetime", "hourofday", "getyear", "getmonth", "monthofyear", "dayofmonth",
        "dayofweek", "dayofyear", "week_of_year")},
    "datetime_diff": {1: _DATETIME, 2: _DATETIME},
    "datetime_add": {2: _DATETIME},
    "datetime_part": {1: _DATETIME},
    "strlen": {0: frozenset({"string"})},
    "extract": {2: frozenset({"string"})},
    "replace_string": {0: frozenset({"string"})},
    **{name: {0: frozenset({"number"})} for name in (
        "exp", "exp2", "exp10", "gamma", "unixtime_seconds_todatetime", "unixtime_milliseconds_todatetime",
        "unixtime_microseconds_todatetime", "unixtime_nanoseconds_todatetime")},
    "has_any_index": {1: frozenset({"dynamic"})},
    # text functions: their argument must be a string (a dynamic value passes, as for every entry);
    # todynamic's too, though parse_json, whose alias it is, also takes a dynamic value
    **{name: {0: frozenset({"string"})} for name in (
        "parse_json", "parsejson", "todynamic", "toobject", "parse_csv", "toguid", "string_size", "url_encode",
        "url_encode_component", "url_decode", "base64_encode_tostring", "base64_encodestring",
        "base64_decode_tostring", "base64_decodestring", "base64_decode_toarray", "ipv4_is_private", "parse_ipv4",
        "parse_path", "parse_url", "parseurl")},
    **{name: {0: frozenset({"number"})} for name in ("sqrt", "log", "log2", "log10", "ceiling", "round", "isnan")},
    "abs": {0: frozenset({"number", "timespan"})},
    "not": {0: frozenset({"bool"})},
    **{name: {0: frozenset({"dynamic"})} for name in (
        "array_length", "arraylength", "array_concat", "array_reverse", "array_sum", "bag_keys")},
}
# Arguments the binder requires to be integers ("The expression value must be an integer"): a real,
# which the value model could otherwise carry into a shift or a hex digit string, is refused.
INTEGER_ARGUMENTS: dict[str, frozenset[int]] = {
    **{name: frozenset({0, 1}) for name in ("binary_and", "binary_or", "binary_xor", "binary_shift_left",
                                            "binary_shift_right", "tohex")},
    "binary_not": frozenset({0}), "round": frozenset({1}), "datetime_add": frozenset({1}),
    "parse_ipv4_mask": frozenset({1}), "make_string": frozenset({0}), "unicode_codepoints_to_string": frozenset({0}),
}
# Arguments the binder requires to be constants ("The expression must be a constant"): a regular
# expression or rewrite read from a column is refused before any row is read.
CONSTANT_ARGUMENTS: dict[str, frozenset[int]] = {
    "replace_regex": frozenset({1, 2}), "replace": frozenset({0, 1}), "extract_all": frozenset({0}),
    "extractall": frozenset({0}), "trim": frozenset({0}), "trim_start": frozenset({0}), "trim_end": frozenset({0}),
}


def family(type_name: str) -> str:
    return "number" if type_name in ("int", "long", "real", "decimal") else type_name


def scalar(*names: str, returns: str | TypeRule, args: tuple[int, int | None], typed: bool = False):
    """Register ``impl`` under every name in ``names`` (``typed``: see ScalarFunction)."""
    rule: TypeRule = returns if callable(returns) else (lambda _types, _r=returns: _r)

    def register(impl: Callable[..., Any]) -> Callable[..., Any]:
        for name in names:
            FUNCTIONS[name] = ScalarFunction(name, impl, rule, args[0], args[1], typed)
        return impl

    return register


def first_type(types: list[str]) -> str:
    return types[0] if types else "dynamic"


def numeric_result(types: list[str]) -> str:
    if types and all(t == types[0] for t in types):
        return types[0]
    return "real" if "real" in types else ("long" if types and all(t in ("int", "long") for t in types) else first_type(types))


# ------------------------------------------------------------------ conversion

scalar("tostring", returns="string", args=(1, 1))(V.to_string)
scalar("tobool", "toboolean", returns="bool", args=(1, 1))(V.to_bool)
scalar("toint", returns="int", args=(1, 1))(V.to_int)
scalar("tolong", returns="long", args=(1, 1))(V.to_long)
scalar("toreal", "todouble", returns="real", args=(1, 1))(V.to_real)
scalar("todatetime", returns="datetime", args=(1, 1))(V.to_datetime)
scalar("totimespan", "totime", returns="timespan", args=(1, 1))(V.to_timespan)
scalar("toguid", returns="guid", args=(1, 1))(V.to_guid)
# parsejson, toobject and todynamic are parse_json's deprecated aliases (https://learn.microsoft.com/kusto/query/parse-json-function)
scalar("parse_json", "todynamic", "parsejson", "toobject", returns="dynamic", args=(1, 1))(V.to_dynamic)


@scalar("todecimal", returns="decimal", args=(1, 1))
def _todecimal(value: Any) -> Any:
    """Null for text that is no number and for a number past the decimal type's range."""
    try:
        number = V.convert(value, "decimal")
    except (ArithmeticError, ValueError):
        return None
    return None if number is not None and number.is_finite() and abs(number) > DECIMAL_MAX else number


@scalar("gettype", returns="string", args=(1, 1))
def _gettype(value: Any) -> str:
    return "int" if isinstance(value, V.JsonInt) else V.type_of_value(value)


# ------------------------------------------------------------------ null and emptiness


@scalar("isempty", returns="bool", args=(1, 1))
def _isempty(value: Any) -> bool:
    return value is None or value == ""


@scalar("isnotempty", "notempty", returns="bool", args=(1, 1))
def _isnotempty(value: Any) -> bool:
    return not (value is None or value == "")


@scalar("isnull", returns="bool", args=(1, 1))
def _isnull(value: Any) -> bool:
    return value is None


@scalar("isnotnull", "notnull", returns="bool", args=(1, 1))
def _isnotnull(value: Any) -> bool:
    return value is not None


@scalar("not", returns="bool", args=(1, 1))
def _not(value: Any) -> bool | None:
    value = V.to_bool(value)
    return None if value is None else not value


@scalar("coalesce", returns=first_type, args=(1, 64))
def _coalesce(*values: Any) -> Any:
    for value in values:
        if value is not None and value != "":
            return value
    return values[0] if isinstance(values[0], str) else None


# ------------------------------------------------------------------ strings


def _str(value: Any) -> str:
    return V.to_string(value)


@scalar("strlen", returns="long", args=(1, 1))
def _strlen(value: Any) -> int:
    return len(_str(value))


@scalar("string_size", returns="long", args=(1, 1))
def _string_size(value: Any) -> int:
    return len(_str(value).encode("utf-8"))


@scalar("tolower", returns="string", args=(1, 1))
def _tolower(value: Any) -> str:
    return _str(value).lower()


@scalar("toupper", returns="string", args=(1, 1))
def _toupper(value: Any) -> str:
    return _str(value).upper()


@scalar("strcat", returns="string", args=(1, 64))
def _strcat(*values: Any) -> str:
    parts = [_str(v) for v in values]
    B.text(sum(map(len, parts)))  # charged before it is built: doubling a string is how memory runs out
    return "".join(parts)


@scalar("strcat_delim", returns="string", args=(3, 65))
def _strcat_delim(delimiter: Any, *values: Any) -> str:
    separator, parts = _str(delimiter), [_str(v) for v in values]
    B.text(sum(map(len, parts)) + len(separator) * (len(parts) - 1))
    return separator.join(parts)


@scalar("substring", returns="string", args=(2, 3))
def _substring(value: Any, start: Any, length: Any = None) -> str:
    text = _str(value)
    start = V.to_long(start) or 0
    if start < 0:
        start = max(len(text) + start, 0)
    if length is None:
        return text[start:]
    length = V.to_long(length)
    return text[start:start + max(length or 0, 0)]


@scalar("indexof", returns="long", args=(2, 5))
def _indexof(value: Any, lookup: Any, start: Any = 0, length: Any = -1, occurrence: Any = 1) -> int | None:
    text, needle = _str(value), _str(lookup)
    start = V.to_long(start) or 0
    if start < 0:
        start = max(len(text) + start, 0)
    if start > len(text):
        return -1
    end = len(text) if (V.to_long(length) or -1) < 0 else start + V.to_long(length)
    position = start - 1
    for _ in range(max(V.to_long(occurrence) or 1, 1)):
        position = text.find(needle, position + 1, end)
        if position < 0:
            return -1
    return position


@scalar("countof", returns="long", args=(2, 3))
def _countof(value: Any, search: Any, kind: Any = "normal") -> int:
    text, needle = _str(value), _str(search)
    if kind == "regex":
        return len(B.compile_regex(needle).findall(text))
    if not needle:
        return 0
    count, position = 0, text.find(needle)
    while position >= 0:
        count += 1
        position = text.find(needle, position + 1)
    return count


def _trim_pattern(pattern: str, text: str, side: str) -> str:
    regex = B.compile_regex(pattern)
    if side in ("both", "start"):
        while text:
            match = regex.match(text)
            if not match or match.end() == 0:
                break
            text = text[match.end():]
    if side in ("both", "end"):
        changed = True
        while text and changed:
            changed = False
            for cut in range(len(text) - 1, -1, -1):
                if regex.fullmatch(text[cut:]):
                    text = text[:cut]
                    changed = True
                    break
    return text


@scalar("trim", returns="string", args=(2, 2))
def _trim(pattern: Any, value: Any) -> str:
    return _trim_pattern(_str(pattern), _str(value), "both")


@scalar("trim_start", returns="string", args=(2, 2))
def _trim_start(pattern: Any, value: Any) -> str:
    return _trim_pattern(_str(pattern), _str(value), "start")


@scalar("trim_end", returns="string", args=(2, 2))
def _trim_end(pattern: Any, value: Any) -> str:
    return _trim_pattern(_str(pattern), _str(value), "end")


@scalar("replace_string", returns="string", args=(3, 3))
def _replace_string(value: Any, lookup: Any, rewrite: Any) -> str:
    needle, text = _str(lookup), _str(value)
    if not needle:
        return text
    replacement = _str(rewrite)
    if len(replacement) > len(needle):  # only a longer rewrite can grow the text: count what it adds
        B.text(len(text) + text.count(needle) * (len(replacement) - len(needle)))
    return text.replace(needle, replacement)


def _kusto_rewrite(rewrite: str) -> str:
    """Kusto's ``\\0`` is the whole match, ``\\1``.. the groups; Python spells the whole match ``\\g<0>``."""
    import re  # the rewrite text is the query's own literal, not data: a lookahead is safe here

    return re.sub(r"\\0(?![0-9])", r"\\g<0>", rewrite)


@scalar("replace_regex", returns="string", args=(3, 3))
def _replace_regex(value: Any, pattern: Any, rewrite: Any) -> str:
    text, replacement = _str(value), _kusto_rewrite(_str(rewrite))
    regex = B.compile_regex(_str(pattern))
    try:
        if len(text) + (len(text) + 1) * len(replacement) > B.LARGE:  # could be large: count the matches first
            B.text(len(text) + sum(1 for _ in regex.finditer(text)) * len(replacement))
            return regex.sub(replacement, text)
        result = regex.sub(replacement, text)
        B.text(len(result))
        return result
    except IndexError:  # the engine's word for a \N past the pattern's groups
        raise ValueError(f"the rewrite {_str(rewrite)!r} names a capture group the regular expression "
                         f"{_str(pattern)!r} does not have") from None


@scalar("replace", returns="string", args=(3, 3))
def _replace(pattern: Any, rewrite: Any, value: Any) -> str:
    """The deprecated replace(regex, rewrite, text): replace_regex with its arguments in another
    order (https://learn.microsoft.com/kusto/query/replace-regex-function lists the alias; the
    official language service declares the parameters regex, rewrite, source)."""
    return _replace_regex(value, pattern, rewrite)


@scalar("has_any_index", returns="long", args=(2, 2))
def _has_any_index(source: Any, values: Any) -> int:
    """The position of the first of ``values`` that ``source`` has as a term (has_any's match);
    -1 when none is or there are none (https://learn.microsoft.com/kusto/query/has-any-index-function)."""
    if values is None:
        return -1
    if not isinstance(values, list):
        raise ValueError("the values to look up must be a dynamic array")
    text = _str(source)
    return next((index for index, item in enumerate(values) if V.find_term(text, _str(item))), -1)


@scalar("reverse", returns="string", args=(1, 1))
def _reverse(value: Any) -> str:
    return _str(value)[::-1]


@scalar("strrep", returns="string", args=(2, 3))
def _strrep(value: Any, count: Any, delimiter: Any = "") -> str:
    """Repeat a string; the result is capped at 1,048,576 characters so a query cannot exhaust memory."""
    times = max(V.to_long(count) or 0, 0)
    text, separator = _str(value), _str(delimiter)
    if times and (len(text) + len(separator)) * times > MAX_STRING:
        from dac.kql.errors import KqlRuntimeError

        raise KqlRuntimeError(f"strrep() would build a string longer than {MAX_STRING} characters")
    B.text((len(text) + len(separator)) * times)
    return separator.join([text] * times)


@scalar("translate", returns="string", args=(3, 3))
def _translate(search: Any, replace: Any, value: Any) -> str:
    search, replace, text = _str(search), _str(replace), _str(value)
    table: dict[int, Any] = {}
    for index, ch in enumerate(search):
        if not replace:
            table[ord(ch)] = None
        else:
            table[ord(ch)] = replace[min(index, len(replace) - 1)]
    return text.translate(table)


@scalar("split", returns="dynamic", args=(2, 3))
def _split(value: Any, delimiter: Any, index: Any = None) -> Any:
    parts = _str(value).split(_str(delimiter)) if _str(delimiter) else [_str(value)]
    if index is None:
        return parts
    position = V.to_long(index)
    if position is None or not -len(parts) <= position < len(parts):
        return []
    return [parts[position]]


@scalar("extract_all", "extractall", returns="dynamic", args=(2, 3))
def _extract_all(pattern: Any, *rest: Any) -> Any:
    groups, value = (rest[0], rest[1]) if len(rest) == 2 else (None, rest[0])
    regex = B.compile_regex(_str(pattern))
    results = []
    for match in regex.finditer(_str(value)):
        if groups is None:
            results.append(match.group(1) if regex.groups == 1 else [match.group(i) or "" for i in range(1, regex.groups + 1)] if regex.groups else match.group(0))
        else:
            results.append([match.group(_group_index(regex, g)) or "" for g in groups])
    return results or None


def _group_index(regex: Any, group: Any) -> int:
    """A capture group given by number or by name (``(?P<name>...)``)."""
    if isinstance(group, str) and not group.isdigit():
        return regex.groupindex[group]
    return int(group)


@scalar("base64_encode_tostring", "base64_encodestring", returns="string", args=(1, 1))
def _b64_encode(value: Any) -> str:
    return base64.b64encode(_str(value).encode("utf-8")).decode("ascii")


@scalar("base64_decode_tostring", "base64_decodestring", returns="string", args=(1, 1))
def _b64_decode(value: Any) -> str:
    try:
        return base64.b64decode(_str(value), validate=False).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""


@scalar("base64_decode_toarray", returns="dynamic", args=(1, 1))
def _b64_decode_array(value: Any) -> Any:
    try:
        return list(base64.b64decode(_str(value)))
    except (binascii.Error, ValueError):
        return None


@scalar("unicode_codepoints_from_string", "to_utf8", returns="dynamic", args=(1, 1))
def _codepoints(value: Any) -> list[int]:
    return [ord(ch) for ch in _str(value)]


def _codepoint(value: Any) -> str | None:
    """One Unicode scalar value as a character; None for anything else (a surrogate half has no
    UTF-8 form of its own, so it is not a code point a string can be made of)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    if not (0 <= value <= 0x10FFFF) or 0xD800 <= value <= 0xDFFF:
        return None
    return chr(value)


@scalar("unicode_codepoints_to_string", "make_string", returns="string", args=(1, 64))
def _codepoints_to_string(*values: Any) -> str:
    """unicode_codepoints_to_string (deprecated alias make_string,
    https://learn.microsoft.com/kusto/query/unicode-codepoints-to-string-function): ints, longs
    and dynamic arrays of them, mixed freely, in order. When any argument, or any array element,
    is not a valid code point (null, negative, past U+10FFFF, a surrogate, a non-integer) the page
    says null; a string cannot be null in Kusto (scalar-data-types/null-values), so that is "".
    """
    chars: list[str] = []
    for value in values:
        for item in value if isinstance(value, list) else (value,):
            char = _codepoint(item)
            if char is None:
                return ""
            chars.append(char)
    return "".join(chars)


@scalar("url_decode", returns="string", args=(1, 1))
def _url_decode(value: Any) -> str:
    from urllib.parse import unquote

    return unquote(_str(value))


def _lower_hex(text: str) -> str:
    return re2.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


@scalar("url_encode", returns="string", args=(1, 1))
def _url_encode(value: Any) -> str:
    """Form encoding as .NET writes it: lower-case hex, space as '+'."""
    from urllib.parse import quote_plus

    return _lower_hex(quote_plus(_str(value), safe=""))


@scalar("url_encode_component", returns="string", args=(1, 1))
def _url_encode_component(value: Any) -> str:
    from urllib.parse import quote

    return _lower_hex(quote(_str(value), safe=""))


@scalar("parse_url", "parseurl", returns="dynamic", args=(1, 1))
def _parse_url(value: Any) -> dict[str, Any]:
    text = _str(value)
    parts = urlsplit(text)
    if not parts.scheme:
        return {}
    query = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
    return {
        "Scheme": parts.scheme,
        "Host": parts.hostname or "",
        "Port": str(parts.port or ""),
        "Path": parts.path,
        "Username": parts.username or "",
        "Password": parts.password or "",
        "Query Parameters": query,
        "Fragment": parts.fragment,
    }


@scalar("parse_path", returns="dynamic", args=(1, 1))
def _parse_path(value: Any) -> dict[str, Any]:
    """The parts of a file path; a ``scheme://`` prefix is the Scheme and a ``:name`` after the
    file name its alternate data stream (file://C:/temp/file.txt:some.exe on the parse_path page)."""
    text = _str(value)
    scheme_match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", text)
    scheme = scheme_match.group(1) if scheme_match else ""
    path = text[scheme_match.end():] if scheme_match else text
    separator = "\\" if "\\" in path else "/"
    directory, _, filename = path.rpartition(separator)
    filename, _, stream = filename.partition(":")
    extension = filename.rpartition(".")[2] if "." in filename else ""
    root = path[:2] if len(path) >= 2 and path[1] == ":" and path[0].isalpha() else ""
    return {"Scheme": scheme, "RootPath": root, "DirectoryPath": directory, "DirectoryName": directory.rpartition(separator)[2],
            "Filename": filename, "Extension": extension, "AlternateDataStreamName": stream}


@scalar("parse_user_agent", returns="dynamic", args=(2, 2))
def _parse_user_agent(value: Any, look_for: Any) -> Any:
    """Browser, OperatingSystem and Device parts, from the uap-core patterns (the ua-parser package)
    that Kusto's implementation is built on; missing parts are empty strings, unknown families Other."""
    from ua_parser import parse

    wanted = look_for if isinstance(look_for, list) else [look_for]
    result = parse(_str(value))
    out: dict[str, Any] = {}
    for target in (str(w).lower() for w in wanted):
        if target == "browser":
            agent = result.user_agent
            out["Browser"] = {"Family": agent.family if agent else "Other", "MajorVersion": (agent and agent.major) or "",
                              "MinorVersion": (agent and agent.minor) or "", "Patch": (agent and agent.patch) or ""}
        elif target == "os":
            system = result.os
            out["OperatingSystem"] = {
                "Family": system.family if system else "Other", "MajorVersion": (system and system.major) or "",
                "MinorVersion": (system and system.minor) or "", "Patch": (system and system.patch) or "",
                "PatchMinor": (system and system.patch_minor) or ""}
        elif target == "device":
            device = result.device
            out["Device"] = {"Family": device.family if device else "Other", "Brand": (device and device.brand) or "",
                             "Model": (device and device.model) or ""}
    return out


@scalar("parse_command_line", returns="dynamic", args=(2, 2))
def _parse_command_line(value: Any, parser: Any) -> Any:
    """Windows rules (CommandLineToArgvW): white space separates, quotes group, and backslashes
    are literal unless they precede a quote (2n backslashes + quote -> n and a quote toggle;
    2n+1 -> n and a literal quote)."""
    if _str(parser).lower() != "windows":
        return None
    text, args, current, quoted, index, started = _str(value), [], [], False, 0, False
    while index < len(text):
        ch = text[index]
        if ch == "\\":
            run = index
            while run < len(text) and text[run] == "\\":
                run += 1
            slashes = run - index
            if run < len(text) and text[run] == '"':
                current.append("\\" * (slashes // 2))
                if slashes % 2:
                    current.append('"')
                    run += 1
                index, started = run, True
                continue
            current.append("\\" * slashes)
            index, started = run, True
            continue
        if ch == '"':
            if quoted and index + 1 < len(text) and text[index + 1] == '"':
                current.append('"')  # "" inside quotes is a literal quote
                index += 2
                continue
            quoted, started = not quoted, True
        elif ch in " \t" and not quoted:
            if started:
                args.append("".join(current))
                current, started = [], False
        else:
            current.append(ch)
            started = True
        index += 1
    if started:
        args.append("".join(current))
    return args


@scalar("parse_csv", returns="dynamic", args=(1, 1))
def _parse_csv(value: Any) -> list[str]:
    import csv

    import io

    rows = csv.reader(io.StringIO(_str(value)))
    return next(rows, [""])  # only the first record counts (quoted fields may span lines)


@scalar("hash", returns="long", args=(1, 2))
def _hash(value: Any, modulo: Any = None) -> Any:
    """XXH64 of the value's UTF-8 text (of a datetime, its ticks as 8 little-endian bytes) as a
    signed long; with a modulo, the (non-negative) remainder.

    hash(datetime("2015-01-01")) is 1380966698541616202 on the hash page: the XXH64 of the
    tick count's bytes, not of the text.
    """
    from dac.kql.xxhash import xxh64

    if isinstance(value, datetime):
        data = V.ticks_of_datetime(value).to_bytes(8, "little", signed=True)
    else:
        data = _str(value).encode("utf-8")
    digest = xxh64(data)
    if modulo is not None:
        size = V.to_long(modulo)
        return digest % size if size else None
    return digest - (1 << 64) if digest >= 1 << 63 else digest


@scalar("hash_sha256", returns="string", args=(1, 1))
def _hash_sha256(value: Any) -> str:
    import hashlib

    return hashlib.sha256(_str(value).encode("utf-8")).hexdigest()


@scalar("hash_md5", returns="string", args=(1, 1))
def _hash_md5(value: Any) -> str:
    import hashlib

    return hashlib.md5(_str(value).encode("utf-8")).hexdigest()


@scalar("hash_sha1", returns="string", args=(1, 1))
def _hash_sha1(value: Any) -> str:
    """SHA-1 of the value's text, as hex (https://learn.microsoft.com/kusto/query/hash-sha1-function)."""
    import hashlib

    return hashlib.sha1(_str(value).encode("utf-8")).hexdigest()


@scalar("new_guid", returns="guid", args=(0, 0))
def _new_guid() -> uuid.UUID:
    return uuid.uuid4()


# ------------------------------------------------------------------ series analysis

# The tuple-returning series functions (series_decompose, ...) are compiled by the
# expression compiler from dac.kql.series.TUPLE_FUNCTIONS.
from dac.kql.series import kql_series_outliers  # noqa: E402

scalar("series_outliers", returns="dynamic", args=(1, 6))(kql_series_outliers)
PARAMETER_TYPES["series_outliers"] = {0: frozenset(), 1: frozenset({"string"}), 2: frozenset({"number"}),
                                      3: frozenset({"number"}), 4: frozenset({"number"}), 5: frozenset({"number"})}

# The other families register themselves into FUNCTIONS as they are imported.
from dac.kql import (  # noqa: E402,F401
    functions_arrays, functions_datetime, functions_dynamic, functions_encoding, functions_math, functions_network, functions_text, functions_trigonometry,
    functions_units, functions_ipv6, functions_statistics, functions_series_fill,
    functions_series_stats, functions_conditions, functions_xml, functions_geohash, functions_series_fft,
    functions_wkt)
from dac.kql import functions_series_math  # noqa: E402,F401  (applies the scalar functions above)

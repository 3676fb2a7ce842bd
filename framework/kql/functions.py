"""Scalar function library.

Each function is registered with its arity and result type so the compiler
can reject a wrong call before any row is read, and report the result type to
the operators after it. Functions that need the clock or the row context
(``now``, ``ago``, ``iff``, ``case``) are compiled by the evaluator itself.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

import re2

from dac.kql import values as V

TypeRule = Callable[[list[str]], str]


@dataclass(frozen=True)
class ScalarFunction:
    name: str
    impl: Callable[..., Any]
    result: TypeRule
    min_args: int
    max_args: int | None


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
}


def family(type_name: str) -> str:
    return "number" if type_name in ("int", "long", "real", "decimal") else type_name


def scalar(*names: str, returns: str | TypeRule, args: tuple[int, int | None]):
    """Register ``impl`` under every name in ``names``."""
    rule: TypeRule = returns if callable(returns) else (lambda _types, _r=returns: _r)

    def register(impl: Callable[..., Any]) -> Callable[..., Any]:
        for name in names:
            FUNCTIONS[name] = ScalarFunction(name, impl, rule, args[0], args[1])
        return impl

    return register


def _first_type(types: list[str]) -> str:
    return types[0] if types else "dynamic"


def _numeric_result(types: list[str]) -> str:
    if types and all(t == types[0] for t in types):
        return types[0]
    return "real" if "real" in types else ("long" if types and all(t in ("int", "long") for t in types) else _first_type(types))


# ------------------------------------------------------------------ conversion

scalar("tostring", returns="string", args=(1, 1))(V.to_string)
scalar("tobool", "toboolean", returns="bool", args=(1, 1))(V.to_bool)
scalar("toint", returns="int", args=(1, 1))(V.to_long)
scalar("tolong", returns="long", args=(1, 1))(V.to_long)
scalar("toreal", "todouble", returns="real", args=(1, 1))(V.to_real)
scalar("todatetime", returns="datetime", args=(1, 1))(V.to_datetime)
scalar("totimespan", "totime", returns="timespan", args=(1, 1))(V.to_timespan)
scalar("toguid", returns="guid", args=(1, 1))(V.to_guid)
scalar("todynamic", "parse_json", "todynamic", returns="dynamic", args=(1, 1))(V.to_dynamic)


@scalar("todecimal", returns="decimal", args=(1, 1))
def _todecimal(value: Any) -> Any:
    try:
        return V.convert(value, "decimal")
    except (ArithmeticError, ValueError):
        return None  # text that is no number converts to null


@scalar("gettype", returns="string", args=(1, 1))
def _gettype(value: Any) -> str:
    return {"long": "long", "real": "real"}.get(V.type_of_value(value), V.type_of_value(value))


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


@scalar("coalesce", returns=_first_type, args=(1, 64))
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
    return "".join(_str(v) for v in values)


@scalar("strcat_delim", returns="string", args=(3, 65))
def _strcat_delim(delimiter: Any, *values: Any) -> str:
    return _str(delimiter).join(_str(v) for v in values)


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
        return len(re2.findall(needle, text))
    if not needle:
        return 0
    count, position = 0, text.find(needle)
    while position >= 0:
        count += 1
        position = text.find(needle, position + 1)
    return count


def _trim_pattern(pattern: str, text: str, side: str) -> str:
    regex = re2.compile(pattern)
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
    needle = _str(lookup)
    return _str(value) if not needle else _str(value).replace(needle, _str(rewrite))


def _kusto_rewrite(rewrite: str) -> str:
    """Kusto's ``\\0`` is the whole match, ``\\1``.. the groups; Python spells the whole match ``\\g<0>``."""
    import re  # the rewrite text is the query's own literal, not data: a lookahead is safe here

    return re.sub(r"\\0(?![0-9])", r"\\g<0>", rewrite)


@scalar("replace_regex", "replace", returns="string", args=(3, 3))
def _replace_regex(value: Any, pattern: Any, rewrite: Any) -> str:
    return re2.sub(_str(pattern), _kusto_rewrite(_str(rewrite)), _str(value))


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


@scalar("extract_all", returns="dynamic", args=(2, 3))
def _extract_all(pattern: Any, *rest: Any) -> Any:
    groups, value = (rest[0], rest[1]) if len(rest) == 2 else (None, rest[0])
    regex = re2.compile(_str(pattern))
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


@scalar("unicode_codepoints_from_string", returns="dynamic", args=(1, 1))
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


@scalar("parse_url", returns="dynamic", args=(1, 1))
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
    text = _str(value)
    separator = "\\" if "\\" in text else "/"
    directory, _, filename = text.rpartition(separator)
    extension = filename.rpartition(".")[2] if "." in filename else ""
    root = text[:2] if len(text) >= 2 and text[1] == ":" and text[0].isalpha() else ""
    return {"Scheme": "", "RootPath": root, "DirectoryPath": directory, "DirectoryName": directory.rpartition(separator)[2],
            "Filename": filename, "Extension": extension, "AlternateDataStreamName": ""}


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
    """XXH64 of the value's UTF-8 text as a signed long; with a modulo, the (non-negative) remainder."""
    from dac.kql.xxhash import xxh64

    digest = xxh64(_str(value).encode("utf-8"))
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


@scalar("new_guid", returns="guid", args=(0, 0))
def _new_guid() -> uuid.UUID:
    return uuid.uuid4()


# ------------------------------------------------------------------ dynamic


@scalar("strcmp", returns="long", args=(2, 2))
def _strcmp(a: Any, b: Any) -> int:
    left, right = _str(a), _str(b)
    return (left > right) - (left < right)


@scalar("zip", returns="dynamic", args=(2, 16))
def _zip(*arrays: Any) -> Any:
    if not all(isinstance(a, list) for a in arrays):
        return None
    length = max(len(a) for a in arrays)
    return [[a[i] if i < len(a) else None for a in arrays] for i in range(length)]


@scalar("range", returns="dynamic", args=(2, 3))
def _range(start: Any, stop: Any, step: Any = 1) -> Any:
    """An array from start to stop by step (numbers, datetimes or timespans); at most 1,048,576 items."""
    if start is None or stop is None or step is None or not step:
        return None
    values = []
    current = start
    forward = step > step * 0
    while (current <= stop if forward else current >= stop) and len(values) < 1_048_576:
        values.append(current)
        current = current + step
    return values


@scalar("array_length", returns="long", args=(1, 1))
def _array_length(value: Any) -> int | None:
    return len(value) if isinstance(value, list) else None


@scalar("pack_array", "make_array", returns="dynamic", args=(0, 64))
def _pack_array(*values: Any) -> list[Any]:
    return list(values)


@scalar("pack", "bag_pack", returns="dynamic", args=(0, 128))
def _pack(*values: Any) -> dict[str, Any]:
    return {_str(values[i]): values[i + 1] for i in range(0, len(values) - 1, 2)}


@scalar("bag_keys", returns="dynamic", args=(1, 1))
def _bag_keys(value: Any) -> Any:
    return list(value.keys()) if isinstance(value, dict) else None


@scalar("bag_has_key", returns="bool", args=(2, 2))
def _bag_has_key(value: Any, key: Any) -> Any:
    """A plain key, or a JSONPath such as ``$.a.b`` / ``$['a']``."""
    path = _str(key)
    if not path.startswith("$"):
        return isinstance(value, dict) and path in value
    current = value
    for part in re2.findall(r"\.([^.\[]+)|\['([^']*)'\]|\[\"([^\"]*)\"\]", path[1:]):
        name = next(p for p in part if p)
        if not isinstance(current, dict) or name not in current:
            return False
        current = current[name]
    return True


@scalar("bag_merge", returns="dynamic", args=(1, 64))
def _bag_merge(*bags: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for bag in bags:
        if isinstance(bag, dict):
            for key, value in bag.items():
                merged.setdefault(key, value)
    return merged


@scalar("array_concat", returns="dynamic", args=(1, 64))
def _array_concat(*arrays: Any) -> Any:
    if not all(isinstance(a, list) for a in arrays):
        return None
    return [item for array in arrays for item in array]


@scalar("array_slice", returns="dynamic", args=(3, 3))
def _array_slice(array: Any, start: Any, end: Any) -> Any:
    if not isinstance(array, list):
        return None
    size = len(array)
    start, end = V.to_long(start), V.to_long(end)
    start = start + size if start < 0 else start
    end = end + size if end < 0 else end
    return array[max(start, 0):end + 1]


@scalar("array_index_of", returns="long", args=(2, 5))
def _array_index_of(array: Any, value: Any, start: Any = 0, length: Any = -1, occurrence: Any = 1) -> Any:
    """Like indexof() over an array: a negative start counts from the end, length -1 means to the end."""
    if not isinstance(array, list):
        return None
    begin = V.to_long(start) or 0
    if begin < 0:
        begin = max(len(array) + begin, 0)
    span = V.to_long(length)
    end = len(array) if span is None or span < 0 else min(begin + span, len(array))
    wanted = max(V.to_long(occurrence) or 1, 1)
    for index in range(begin, end):
        if kql_items_equal(array[index], value):
            wanted -= 1
            if wanted == 0:
                return index
    return -1


def kql_items_equal(a: Any, b: Any) -> bool:
    return V.hashable(a) == V.hashable(b)


def _sorted_nulls(array: Any, descending: bool, nulls_last: Any) -> Any:
    """Sort an array; nulls go last unless the optional flag says otherwise."""
    if not isinstance(array, list):
        return None
    present = sorted((v for v in array if v is not None), key=V.sort_key, reverse=descending)
    missing = [v for v in array if v is None]
    return present + missing if V.to_bool(nulls_last) is not False else missing + present


@scalar("array_sort_asc", returns="dynamic", args=(1, 2))
def _array_sort_asc(array: Any, nulls_last: Any = True) -> Any:
    return _sorted_nulls(array, False, nulls_last)


@scalar("array_sort_desc", returns="dynamic", args=(1, 2))
def _array_sort_desc(array: Any, nulls_last: Any = True) -> Any:
    return _sorted_nulls(array, True, nulls_last)


@scalar("array_strcat", "strcat_array", returns="string", args=(2, 2))
def _array_strcat(array: Any, delimiter: Any) -> str:
    return _str(delimiter).join(_str(v) for v in array) if isinstance(array, list) else ""


def _set_items(arrays: tuple[Any, ...]) -> list[list[Any]]:
    return [a if isinstance(a, list) else [] for a in arrays]


@scalar("set_union", returns="dynamic", args=(1, 64))
def _set_union(*arrays: Any) -> list[Any]:
    seen: dict[Any, Any] = {}
    for array in _set_items(arrays):
        for item in array:
            seen.setdefault(V.hashable(item), item)
    return list(seen.values())


@scalar("set_intersect", returns="dynamic", args=(2, 64))
def _set_intersect(*arrays: Any) -> list[Any]:
    lists = _set_items(arrays)
    keys = [set(V.hashable(i) for i in a) for a in lists[1:]]
    seen: dict[Any, Any] = {}
    for item in lists[0]:
        key = V.hashable(item)
        if all(key in k for k in keys):
            seen.setdefault(key, item)
    return list(seen.values())


@scalar("set_difference", returns="dynamic", args=(2, 64))
def _set_difference(*arrays: Any) -> list[Any]:
    lists = _set_items(arrays)
    excluded = {V.hashable(i) for a in lists[1:] for i in a}
    seen: dict[Any, Any] = {}
    for item in lists[0]:
        key = V.hashable(item)
        if key not in excluded:
            seen.setdefault(key, item)
    return list(seen.values())


@scalar("set_has_element", returns="bool", args=(2, 2))
def _set_has_element(array: Any, value: Any) -> Any:
    return isinstance(array, list) and value in array


@scalar("jaccard_index", returns="real", args=(2, 2))
def _jaccard(a: Any, b: Any) -> Any:
    left = {V.hashable(i) for i in (a if isinstance(a, list) else [])}
    right = {V.hashable(i) for i in (b if isinstance(b, list) else [])}
    union = left | right
    return len(left & right) / len(union) if union else None


@scalar("extractjson", "extract_json", returns="string", args=(2, 3))
def _extractjson(path: Any, text: Any, *_type: Any) -> Any:
    value: Any = V.to_dynamic(_str(text))
    for part in re2.findall(r"\[(?:'([^']*)'|\"([^\"]*)\"|(\d+))\]|\.([^.\[]+)", _str(path).lstrip("$")):
        key = next(p for p in part if p != "") if any(part) else ""
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return ""
    return V.to_string(value)


@scalar("dynamic_to_json", returns="string", args=(1, 1))
def _dynamic_to_json(value: Any) -> str:
    """Canonical JSON: keys sorted, so equal bags give equal text."""
    import json

    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True, default=V.to_string)


# ------------------------------------------------------------------ numbers


@scalar("abs", returns=_first_type, args=(1, 1))
def _abs(value: Any) -> Any:
    return None if value is None else abs(value)


@scalar("round", returns=lambda t: "long" if t and t[0] == "int" else _first_type(t), args=(1, 2))
def _round(value: Any, digits: Any = 0) -> Any:
    if value is None:
        return None
    digits = V.to_long(digits) or 0
    scaled = float(value) * 10 ** digits
    rounded = math.floor(abs(scaled) + 0.5) * (1 if scaled >= 0 else -1) / 10 ** digits  # half away from zero
    return int(rounded) if isinstance(value, int) else rounded


@scalar("floor", returns=_first_type, args=(2, 2))
def _floor_bin(value: Any, size: Any) -> Any:
    return bin_value(value, size)


@scalar("ceiling", returns=_first_type, args=(1, 1))
def _ceiling(value: Any) -> Any:
    return None if value is None else math.ceil(value)


@scalar("sqrt", returns="real", args=(1, 1))
def _sqrt(value: Any) -> Any:
    return None if value is None or value < 0 else math.sqrt(value)


@scalar("pow", returns="real", args=(2, 2))
def _pow(base: Any, exponent: Any) -> Any:
    return None if base is None or exponent is None else float(base) ** float(exponent)


@scalar("log", returns="real", args=(1, 1))
def _log(value: Any) -> Any:
    return None if value is None or value <= 0 else math.log(value)


@scalar("log10", returns="real", args=(1, 1))
def _log10(value: Any) -> Any:
    return None if value is None or value <= 0 else math.log10(value)


@scalar("log2", returns="real", args=(1, 1))
def _log2(value: Any) -> Any:
    return None if value is None or value <= 0 else math.log2(value)


@scalar("exp", returns="real", args=(1, 1))
def _exp(value: Any) -> Any:
    return None if value is None else math.exp(value)


@scalar("isnan", returns="bool", args=(1, 1))
def _isnan(value: Any) -> Any:
    return isinstance(value, float) and math.isnan(value)


@scalar("max_of", returns=_numeric_result, args=(1, 64))
def _max_of(*values: Any) -> Any:
    present = [v for v in values if v is not None]
    return max(present) if present else None


@scalar("min_of", returns=_numeric_result, args=(1, 64))
def _min_of(*values: Any) -> Any:
    present = [v for v in values if v is not None]
    return min(present) if present else None


@scalar("binary_and", returns="long", args=(2, 2))
def _binary_and(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a & b


@scalar("binary_or", returns="long", args=(2, 2))
def _binary_or(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a | b


@scalar("binary_xor", returns="long", args=(2, 2))
def _binary_xor(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a ^ b


@scalar("binary_shift_left", returns="long", args=(2, 2))
def _shift_left(a: Any, b: Any) -> Any:
    return None if a is None or b is None else (a << b) & 0xFFFFFFFFFFFFFFFF


@scalar("binary_shift_right", returns="long", args=(2, 2))
def _shift_right(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a >> b


# ------------------------------------------------------------------ datetime

_EPOCH_UNIX = datetime(1970, 1, 1)


def bin_value(value: Any, size: Any) -> Any:
    """``bin()``: round down to a multiple of ``size`` (datetimes from 0001-01-01, as Kusto does)."""
    if value is None or size is None:
        return None
    if (isinstance(size, timedelta) and size <= timedelta(0)) or (isinstance(size, (int, float)) and size <= 0):
        return None  # a bin size must be positive
    if isinstance(value, datetime):
        step = size if isinstance(size, timedelta) else None
        if not step:
            return None
        ticks = V.ticks_of_datetime(value)
        step_ticks = V.to_long(step)
        return datetime(1, 1, 1) + timedelta(microseconds=(ticks - ticks % step_ticks) // 10)
    if isinstance(value, timedelta):
        step_ticks = V.to_long(size)
        ticks = V.to_long(value)
        return timedelta(microseconds=(ticks - ticks % step_ticks) // 10) if step_ticks else None
    if isinstance(value, (int, float)):
        if not size:
            return None
        result = math.floor(value / size) * size
        return int(result) if isinstance(value, int) and isinstance(size, int) else float(result)
    return None


scalar("bin", returns=_first_type, args=(2, 2))(bin_value)


@scalar("startofday", returns="datetime", args=(1, 2))
def _startofday(value: Any, offset: Any = 0) -> Any:
    if value is None:
        return None
    return datetime(value.year, value.month, value.day) + timedelta(days=V.to_long(offset) or 0)


@scalar("endofday", returns="datetime", args=(1, 2))
def _endofday(value: Any, offset: Any = 0) -> Any:
    start = _startofday(value, offset)
    return None if start is None else start + timedelta(days=1) - timedelta(microseconds=1)


@scalar("startofweek", returns="datetime", args=(1, 2))
def _startofweek(value: Any, offset: Any = 0) -> Any:
    if value is None:
        return None
    day = datetime(value.year, value.month, value.day)
    return day - timedelta(days=(day.weekday() + 1) % 7) + timedelta(weeks=V.to_long(offset) or 0)


def _add_months(value: datetime, months: int) -> datetime:
    """Calendar months; the day is clamped to the target month's length (Jan 31 + 1 month = Feb 28)."""
    import calendar

    month_index = value.year * 12 + value.month - 1 + months
    year, month = month_index // 12, month_index % 12 + 1
    return value.replace(year=year, month=month, day=min(value.day, calendar.monthrange(year, month)[1]))


@scalar("endofweek", returns="datetime", args=(1, 2))
def _endofweek(value: Any, offset: Any = 0) -> Any:
    start = _startofweek(value, offset)
    return None if start is None else start + timedelta(days=7) - timedelta(microseconds=1)


@scalar("startofmonth", returns="datetime", args=(1, 2))
def _startofmonth(value: Any, offset: Any = 0) -> Any:
    if value is None:
        return None
    return _add_months(datetime(value.year, value.month, 1), V.to_long(offset) or 0)


@scalar("endofmonth", returns="datetime", args=(1, 2))
def _endofmonth(value: Any, offset: Any = 0) -> Any:
    start = _startofmonth(value, offset)
    return None if start is None else _add_months(start, 1) - timedelta(microseconds=1)


@scalar("startofyear", returns="datetime", args=(1, 2))
def _startofyear(value: Any, offset: Any = 0) -> Any:
    return None if value is None else datetime(value.year + (V.to_long(offset) or 0), 1, 1)


@scalar("endofyear", returns="datetime", args=(1, 2))
def _endofyear(value: Any, offset: Any = 0) -> Any:
    start = _startofyear(value, offset)
    return None if start is None else datetime(start.year + 1, 1, 1) - timedelta(microseconds=1)


_PERIODS = {
    "year": "year", "quarter": "quarter", "month": "month", "week": "week", "day": "day", "hour": "hour",
    "minute": "minute", "second": "second", "millisecond": "millisecond", "microsecond": "microsecond",
    "nanosecond": "nanosecond",
}
_PERIOD_SECONDS = {"week": 604800, "day": 86400, "hour": 3600, "minute": 60, "second": 1,
                   "millisecond": 1e-3, "microsecond": 1e-6, "nanosecond": 1e-9}


@scalar("datetime_diff", returns="long", args=(3, 3))
def _datetime_diff(period: Any, first: Any, second: Any) -> Any:
    """Number of period boundaries crossed between ``second`` and ``first`` (first - second)."""
    if first is None or second is None:
        return None
    unit = _PERIODS.get(_str(period).lower())
    if unit == "year":
        return first.year - second.year
    if unit == "quarter":
        return (first.year * 4 + (first.month - 1) // 3) - (second.year * 4 + (second.month - 1) // 3)
    if unit == "month":
        return (first.year * 12 + first.month) - (second.year * 12 + second.month)
    if unit == "week":
        return (_startofweek(first) - _startofweek(second)).days // 7
    if unit is None:
        return None
    size = _PERIOD_SECONDS[unit]
    step = timedelta(seconds=size) if size >= 1e-6 else timedelta(microseconds=1)
    a, b = bin_value(first, step), bin_value(second, step)
    if unit == "nanosecond":
        return V.to_long(first - second) * 100
    return int((a - b) / step)


@scalar("datetime_add", returns="datetime", args=(3, 3))
def _datetime_add(period: Any, amount: Any, value: Any) -> Any:
    if value is None or amount is None:
        return None
    unit = _PERIODS.get(_str(period).lower())
    amount = V.to_long(amount)
    if unit == "year":
        return _add_months(value, 12 * amount)
    if unit == "quarter":
        return _add_months(value, 3 * amount)
    if unit == "month":
        return _add_months(value, amount)
    if unit is None:
        return None
    return value + timedelta(seconds=_PERIOD_SECONDS[unit] * amount)


@scalar("datetime_part", "datepart", returns="int", args=(2, 2))
def _datetime_part(part: Any, value: Any) -> Any:
    if value is None:
        return None
    name = _str(part).lower()
    parts = {
        "year": value.year, "quarter": (value.month - 1) // 3 + 1, "month": value.month,
        "weekofyear": value.isocalendar()[1], "week_of_year": value.isocalendar()[1], "day": value.day,
        "dayofyear": value.timetuple().tm_yday, "hour": value.hour, "minute": value.minute, "second": value.second,
        "millisecond": value.microsecond // 1000, "microsecond": value.microsecond, "nanosecond": value.microsecond * 1000,
    }
    return parts.get(name)


@scalar("getyear", returns="int", args=(1, 1))
def _getyear(value: Any) -> Any:
    return None if value is None else value.year


@scalar("getmonth", "monthofyear", returns="int", args=(1, 1))
def _getmonth(value: Any) -> Any:
    return None if value is None else value.month


@scalar("dayofmonth", returns="int", args=(1, 1))
def _dayofmonth(value: Any) -> Any:
    return None if value is None else value.day


@scalar("dayofyear", returns="int", args=(1, 1))
def _dayofyear(value: Any) -> Any:
    return None if value is None else value.timetuple().tm_yday


@scalar("hourofday", returns="int", args=(1, 1))
def _hourofday(value: Any) -> Any:
    return None if value is None else value.hour


@scalar("dayofweek", returns="timespan", args=(1, 1))
def _dayofweek(value: Any) -> Any:
    """Days since the preceding Sunday, as a timespan (Kusto's definition)."""
    return None if value is None else timedelta(days=(value.weekday() + 1) % 7)


@scalar("week_of_year", returns="int", args=(1, 1))
def _week_of_year(value: Any) -> Any:
    return None if value is None else value.isocalendar()[1]


@scalar("make_datetime", returns="datetime", args=(3, 7))
def _make_datetime(year: Any, month: Any, day: Any, hour: Any = 0, minute: Any = 0, second: Any = 0, *_: Any) -> Any:
    try:
        whole = int(second or 0)
        return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), whole,
                        int(round((float(second or 0) - whole) * 1e6)))
    except (TypeError, ValueError):
        return None


@scalar("make_timespan", returns="timespan", args=(2, 4))
def _make_timespan(*parts: Any) -> Any:
    values = [float(p or 0) for p in parts]
    if len(values) == 2:
        return timedelta(hours=values[0], minutes=values[1])
    if len(values) == 3:
        return timedelta(hours=values[0], minutes=values[1], seconds=values[2])
    return timedelta(days=values[0], hours=values[1], minutes=values[2], seconds=values[3])


@scalar("unixtime_seconds_todatetime", returns="datetime", args=(1, 1))
def _unix_seconds(value: Any) -> Any:
    return None if value is None else _EPOCH_UNIX + timedelta(seconds=float(value))


@scalar("unixtime_milliseconds_todatetime", returns="datetime", args=(1, 1))
def _unix_millis(value: Any) -> Any:
    return None if value is None else _EPOCH_UNIX + timedelta(milliseconds=float(value))


@scalar("unixtime_microseconds_todatetime", returns="datetime", args=(1, 1))
def _unix_micros(value: Any) -> Any:
    return None if value is None else _EPOCH_UNIX + timedelta(microseconds=float(value))


@scalar("datetime_utc_to_local", "datetime_local_to_utc", returns="datetime", args=(2, 2))
def _tz_unsupported(value: Any, zone: Any) -> Any:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if value is None:
        return None
    try:
        tz = ZoneInfo(_str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        return None
    from datetime import timezone

    return value.replace(tzinfo=timezone.utc).astimezone(tz).replace(tzinfo=None)


@scalar("format_timespan", returns="string", args=(2, 2))
def _format_timespan(value: Any, fmt: Any) -> str:
    if value is None:
        return ""
    total = V.to_long(value)
    seconds, ticks = divmod(abs(total), 10_000_000)
    minutes, s = divmod(seconds, 60)
    hours, m = divmod(minutes, 60)
    d, h = divmod(hours, 24)
    return _apply_format(_str(fmt), {"d": d, "h": h, "H": h, "m": m, "s": s, "f": ticks, "F": ticks})


def _apply_format(fmt: str, parts: dict[str, int]) -> str:
    out, i = [], 0
    while i < len(fmt):
        ch = fmt[i]
        j = i
        while j < len(fmt) and fmt[j] == ch:
            j += 1
        run = j - i
        if ch in parts:
            if ch in "fF":
                out.append(f"{parts[ch]:07d}"[:run])
            elif ch == "y":
                out.append(f"{parts[ch]:0{run}d}"[-run:] if run <= 2 else f"{parts[ch]:0{run}d}")
            else:
                out.append(f"{parts[ch]:0{run}d}")
        else:
            out.append(fmt[i:j])
        i = j
    return "".join(out)


@scalar("format_datetime", returns="string", args=(2, 2))
def _format_datetime(value: Any, fmt: Any) -> str:
    if value is None:
        return ""
    ticks = value.microsecond * 10
    parts = {"y": value.year, "M": value.month, "d": value.day, "H": value.hour, "h": (value.hour % 12) or 12,
             "m": value.minute, "s": value.second, "f": ticks, "F": ticks}
    text = _str(fmt).replace("tt", "\x00")  # AM/PM goes in after the other specifiers (its M is no month)
    return _apply_format(text, parts).replace("\x00", "AM" if value.hour < 12 else "PM")


# ------------------------------------------------------------------ network


def _ipv4(text: Any) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(_str(text).strip(), strict=False)
    except ValueError:
        return None


@scalar("ipv4_is_private", returns="bool", args=(1, 1))
def _ipv4_is_private(value: Any) -> Any:
    network = _ipv4(value)
    if network is None:
        return None
    private = [ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
    return any(network.subnet_of(p) for p in private)


@scalar("ipv4_is_in_range", returns="bool", args=(2, 2))
def _ipv4_is_in_range(value: Any, prefix: Any) -> Any:
    address, network = _ipv4(value), _ipv4(prefix)
    if address is None or network is None:
        return None
    return address.network_address in network


@scalar("ipv4_is_match", returns="bool", args=(2, 3))
def _ipv4_is_match(a: Any, b: Any, prefix: Any = 32) -> Any:
    left, right = _ipv4(a), _ipv4(b)
    if left is None or right is None:
        return None
    bits = min(left.prefixlen, right.prefixlen, V.to_long(prefix) if prefix is not None else 32)
    mask = (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF
    return int(left.network_address) & mask == int(right.network_address) & mask


@scalar("ipv4_compare", returns="long", args=(2, 3))
def _ipv4_compare(a: Any, b: Any, prefix: Any = 32) -> Any:
    left, right = _ipv4(a), _ipv4(b)
    if left is None or right is None:
        return None
    bits = min(left.prefixlen, right.prefixlen, V.to_long(prefix) if prefix is not None else 32)
    mask = (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF
    x, y = int(left.network_address) & mask, int(right.network_address) & mask
    return (x > y) - (x < y)


@scalar("ipv6_is_match", returns="bool", args=(2, 3))
def _ipv6_is_match(a: Any, b: Any, prefix: Any = 128) -> Any:
    left, right = _ipv6(a), _ipv6(b)
    if left is None or right is None:
        return None
    bits = min(left.prefixlen, right.prefixlen, V.to_long(prefix) if prefix is not None else 128)
    shift = 128 - bits
    return int(left.network_address) >> shift == int(right.network_address) >> shift


def _ipv6(text: Any) -> ipaddress.IPv6Network | None:
    """An IPv6 network; IPv4 addresses become IPv4-mapped (::ffff:a.b.c.d), prefixes shifted by 96."""
    raw = _str(text).strip()
    try:
        network = ipaddress.ip_network(raw, strict=False)
    except ValueError:
        return None
    if isinstance(network, ipaddress.IPv4Network):
        mapped = ipaddress.IPv6Address("::ffff:" + str(network.network_address))
        return ipaddress.IPv6Network(f"{mapped}/{network.prefixlen + 96}", strict=False)
    return network


@scalar("ipv6_compare", returns="long", args=(2, 3))
def _ipv6_compare(a: Any, b: Any, prefix: Any = 128) -> Any:
    left, right = _ipv6(a), _ipv6(b)
    if left is None or right is None:
        return None
    bits = min(left.prefixlen, right.prefixlen, V.to_long(prefix) if prefix is not None else 128)
    shift = 128 - bits
    x, y = int(left.network_address) >> shift, int(right.network_address) >> shift
    return (x > y) - (x < y)


@scalar("ipv4_is_in_any_range", returns="bool", args=(2, 64))
def _ipv4_is_in_any_range(value: Any, *ranges: Any) -> Any:
    address = _ipv4(value)
    if address is None:
        return None
    items = [r for item in ranges for r in (item if isinstance(item, list) else [item])]
    return any(_ipv4_is_in_range(value, r) for r in items)


@scalar("has_ipv4", returns="bool", args=(2, 2))
def _has_ipv4(source: Any, address: Any) -> Any:
    """The address appears in the text as a whole IPv4 address (not part of a longer number)."""
    target = _ipv4(address)
    if target is None or target.prefixlen != 32:
        return False
    for match in re2.finditer(r"(?:^|[^0-9.])((?:[0-9]{1,3}\.){3}[0-9]{1,3})(?:$|[^0-9.])", _str(source)):
        found = _ipv4(match.group(1))
        if found is not None and found.network_address == target.network_address:
            return True
    return False


@scalar("format_ipv4", returns="string", args=(1, 2))
def _format_ipv4(value: Any, prefix: Any = 32) -> str:
    network = _ipv4(value) if not isinstance(value, int) else ipaddress.IPv4Network(value)
    if network is None:
        return ""
    bits = min(network.prefixlen, V.to_long(prefix) if prefix is not None else 32)
    if bits < 0:
        return ""
    return str(ipaddress.IPv4Network(f"{network.network_address}/{bits}", strict=False).network_address)


@scalar("format_ipv4_mask", returns="string", args=(1, 2))
def _format_ipv4_mask(value: Any, prefix: Any = 32) -> str:
    network = _ipv4(value)
    if network is None:
        return ""
    bits = min(network.prefixlen, V.to_long(prefix) if prefix is not None else 32)
    if bits < 0:
        return ""
    return str(ipaddress.IPv4Network(f"{network.network_address}/{bits}", strict=False))


@scalar("parse_ipv4", returns="long", args=(1, 1))
def _parse_ipv4(value: Any) -> Any:
    network = _ipv4(value)
    return None if network is None else int(network.network_address)


# ------------------------------------------------------------------ series analysis

# The tuple-returning series functions (series_decompose, ...) are compiled by the
# expression compiler from dac.kql.series.TUPLE_FUNCTIONS.
from dac.kql.series import kql_series_outliers  # noqa: E402

scalar("series_outliers", returns="dynamic", args=(1, 6))(kql_series_outliers)
PARAMETER_TYPES["series_outliers"] = {0: frozenset(), 1: frozenset({"string"}), 2: frozenset({"number"}),
                                      3: frozenset({"number"}), 4: frozenset({"number"}), 5: frozenset({"number"})}

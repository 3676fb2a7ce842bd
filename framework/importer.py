"""``dac import``: bring rules from ARM templates or Azure-Sentinel YAML into our format.

:func:`import_arm` inverts :mod:`dac.render.sentinel`: an alertRules
resource (Scheduled, NRT) or a savedSearches resource (hunting query) becomes
one rule mapping in the Azure-Sentinel YAML format. It reads both the
templates ``dac build`` writes and the ones Sentinel's "Export" button
produces. The conversions are the renderer's, backwards:

* ISO 8601 durations back to the Kusto form (``PT1H`` -> ``1h``, ``P14D`` ->
  ``14d``); a single-unit duration keeps its number and unit (``PT24H`` ->
  ``24h``) because the renderer writes ``24h`` that way;
* ``GreaterThan`` -> ``gt`` and the other trigger operators likewise;
* ``techniques`` + ``subTechniques`` merged back into ``relevantTechniques``
  (a parent named beside one of its sub-techniques is implied by it);
* saved-search tags ``description``, ``tactics``, ``techniques`` back to fields;
* values equal to what the renderer writes for a rule that omits the field are
  dropped (suppression PT1H/off, SingleAlert grouping, the default incident
  configuration, empty lists and nulls), so a rendered rule imports to the
  file it came from.

What the resource has no property for (requiredDataConnectors, version, status,
tags, description-detailed, metadata, platforms; a hunting query's severity and
entityMappings; an NRT rule's schedule; keys outside the Azure-Sentinel format)
travels in the template's free-form ``metadata`` under ``dac.rules.<guid>`` when
``dac build`` wrote the template, and comes back from there
(:mod:`dac.render.carriage`); so does a rule's own spelling of its techniques
when it lists ``subTechniques``, which then replaces the merged
``relevantTechniques``. A template exported from Sentinel has none of it (its
``templateVersion`` is taken as ``version``).

:func:`write_rule_yaml` writes a rule mapping with a fixed key order and the
query and description as ``|`` block scalars, atomically.
"""

from __future__ import annotations

import copy
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from dac.errors import DacError, Location
from dac.files import MAX_JSON_BYTES, read_text, within
from dac.render import sentinel
from dac.render.environment import is_arm_expression
from dac.rules.model import load_rule
from dac.rules.timespans import is_iso_duration, parse_rule_timespan
from dac.rules.yamlfile import parse_yaml

GUID_IN_TEXT = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_SINGLE_UNIT_ISO = re.compile(r"^P(?:([0-9]+)D|T([0-9]+)([HM]))$")

SHORT_OPERATORS = {"GreaterThan": "gt", "LessThan": "lt", "Equal": "eq", "NotEqual": "ne"}
ANALYTICS_KINDS = ("Scheduled", "NRT")

# Properties of an alertRules resource that have no place in the YAML format:
# state of the deployed rule, or bookkeeping the portal adds to its exports.
IGNORED_ALERT_PROPERTIES = frozenset({
    "enabled", "alertRuleTemplateName", "startTimeUtc", "lastModifiedUtc", "templateVersion",
})

KEY_ORDER = (
    "id", "name", "description", "description-detailed", "severity", "requiredDataConnectors",
    "queryFrequency", "queryPeriod", "triggerOperator", "triggerThreshold", "status", "tactics",
    "relevantTechniques", "tags", "query", "entityMappings", "customDetails", "alertDetailsOverride",
    "eventGroupingSettings", "incidentConfiguration",
)
KEY_ORDER_LAST = ("version", "kind")


class RuleImportError(DacError):
    """A template or file that cannot be turned into a rule."""


# --- ARM -> YAML ------------------------------------------------------------------


def kusto_duration(iso: str) -> str | None:
    """``PT1H`` -> ``1h``, ``P14D`` -> ``14d``, ``P1DT2H`` -> ``26h``; None if ``iso`` is no duration.

    Kusto forms are passed through. A compound duration takes the largest unit
    that divides it; one with seconds left over becomes ``d.hh:mm:ss``.
    """
    if parse_rule_timespan(iso) is not None:
        return iso  # already a rule timespan (5h, 01:00:00)
    if not is_iso_duration(iso):
        return None
    single = _SINGLE_UNIT_ISO.match(iso)
    if single:
        days, number, unit = single.groups()
        return f"{days}d" if days is not None else f"{number}{unit.lower()}"
    span = parse_rule_timespan(iso, allow_iso=True)
    total = int(span.total_seconds())
    for seconds, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if total and total % seconds == 0:
            return f"{total // seconds}{unit}"
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return (f"{days}." if days else "") + f"{hours:02d}:{minutes:02d}:{secs:02d}"


def merge_techniques(techniques: list[str], sub_techniques: list[str]) -> list[str]:
    """Invert the renderer's split into one ``relevantTechniques`` list.

    The list splits back into exactly ``techniques`` and ``subTechniques``: the
    sub-techniques in their order, each parent introduced by its first
    sub-technique, and a parent written on its own only where the parents'
    order needs it or it has no sub-technique (T1078 beside T1078.004 is
    implied and not repeated).
    """
    merged: list[str] = []
    pending = [p for p in dict.fromkeys(techniques)]
    seen: set[str] = set()
    for sub in dict.fromkeys(sub_techniques):
        parent = sub.split(".", 1)[0]
        while parent not in seen and pending:
            head = pending.pop(0)
            seen.add(head)
            if head != parent:
                merged.append(head)
        seen.add(parent)
        merged.append(sub)
    merged += [p for p in pending if p not in seen]
    return merged


def _resource_label(resource: dict[str, Any], index: int) -> str:
    name = resource.get("name")
    return f"resources[{index}] {name!r}" if isinstance(name, str) else f"resources[{index}]"


def _rule_guid(resource: dict[str, Any], label: str, where: Location) -> str:
    """The GUID in the resource name (or id): the last one, as it names the rule itself."""
    for key in ("name", "id"):
        value = resource.get(key)
        if isinstance(value, str):
            found = GUID_IN_TEXT.findall(value)
            if found:
                return found[-1]
    raise RuleImportError(f"{label}: no rule GUID in the resource name or id; the id of an imported rule "
                       "must be the GUID the resource is deployed under", where)


def _unescape(value: Any, label: str, path: str, where: Location) -> Any:
    """Undo ARM's ``[[`` escape; an ARM expression in a property cannot be imported."""
    if isinstance(value, str):
        if value.startswith("[[") and value.endswith("]"):
            return value[1:]
        if is_arm_expression(value):
            raise RuleImportError(f"{label}: {path} is an ARM expression ({value[:60]}); "
                               "only literal values can be imported", where)
        return value
    if isinstance(value, list):
        return [_unescape(item, label, f"{path}[{i}]", where) for i, item in enumerate(value)]
    if isinstance(value, dict):
        return {_unescape(k, label, path, where): _unescape(v, label, f"{path}.{k}", where)
                for k, v in value.items()}
    return value


def _duration(value: Any, label: str, key: str, where: Location) -> str:
    converted = kusto_duration(value) if isinstance(value, str) else None
    if converted is None:
        raise RuleImportError(f"{label}: {key} {value!r} is not a duration such as PT1H", where)
    return converted


def _incident_configuration(given: Any, label: str, where: Location) -> dict[str, Any] | None:
    """None when ``given`` is exactly what the renderer writes for a rule without one."""
    if given is None:
        return None
    if not isinstance(given, dict):
        raise RuleImportError(f"{label}: incidentConfiguration is not an object", where)
    grouping = given.get("groupingConfiguration")
    if given.get("createIncident", True) is True and grouping == sentinel.DEFAULT_GROUPING and len(given) == 2:
        return None
    out: dict[str, Any] = {"createIncident": given.get("createIncident", True)}
    if isinstance(grouping, dict) and grouping != sentinel.DEFAULT_GROUPING:
        grouping = dict(grouping)
        if "lookbackDuration" in grouping:
            grouping["lookbackDuration"] = _duration(
                grouping["lookbackDuration"], label, "incidentConfiguration.groupingConfiguration.lookbackDuration",
                where)
        out["groupingConfiguration"] = grouping
    elif grouping is not None and not isinstance(grouping, dict):
        raise RuleImportError(f"{label}: incidentConfiguration.groupingConfiguration is not an object", where)
    out.update({k: v for k, v in given.items() if k not in ("createIncident", "groupingConfiguration")})
    return out


def _analytics_rule(resource: dict[str, Any], guid: str, label: str, where: Location) -> dict[str, Any]:
    kind = resource.get("kind")
    if kind not in ANALYTICS_KINDS:
        raise RuleImportError(f"{label}: alert rule kind {kind!r} has no YAML form (only Scheduled and NRT)", where)
    props = _unescape(resource.get("properties") or {}, label, "properties", where)
    rule: dict[str, Any] = {"id": guid}
    for src, dst in (("displayName", "name"), ("description", "description"), ("severity", "severity")):
        if props.get(src) not in (None, ""):
            rule[dst] = props[src]
    if kind == "Scheduled":
        for key in ("queryFrequency", "queryPeriod"):
            if key in props:
                rule[key] = _duration(props[key], label, key, where)
        operator = props.get("triggerOperator")
        if operator is not None:
            rule["triggerOperator"] = SHORT_OPERATORS.get(operator, operator)
        if props.get("triggerThreshold") is not None:
            rule["triggerThreshold"] = props["triggerThreshold"]
    if props.get("tactics"):
        rule["tactics"] = list(props["tactics"])
    techniques = merge_techniques(list(props.get("techniques") or []), list(props.get("subTechniques") or []))
    if techniques:
        rule["relevantTechniques"] = techniques
    if "query" in props:
        rule["query"] = props["query"]
    for key in ("entityMappings", "customDetails", "sentinelEntitiesMappings"):
        if props.get(key):
            rule[key] = props[key]
    override = props.get("alertDetailsOverride")
    if isinstance(override, dict):
        override = {k: v for k, v in override.items() if v is not None}  # exports write unset members as null
    if override:
        rule["alertDetailsOverride"] = override
    grouping = props.get("eventGroupingSettings")
    if grouping and grouping != sentinel.DEFAULT_EVENT_GROUPING:
        rule["eventGroupingSettings"] = grouping
    incident = _incident_configuration(props.get("incidentConfiguration"), label, where)
    if incident is not None:
        rule["incidentConfiguration"] = incident
    # Suppression: dropped only when both halves are the renderer's defaults, so a
    # rule that spells out one of them keeps the pair as Azure-Sentinel files write it.
    enabled = props.get("suppressionEnabled", False)
    duration = props.get("suppressionDuration", sentinel.DEFAULT_SUPPRESSION_DURATION)
    if enabled is not False or duration != sentinel.DEFAULT_SUPPRESSION_DURATION:
        rule["suppressionEnabled"] = enabled
        rule["suppressionDuration"] = _duration(duration, label, "suppressionDuration", where)
    if isinstance(props.get("templateVersion"), str):
        rule["version"] = props["templateVersion"]
    known = {"displayName", "description", "severity", "queryFrequency", "queryPeriod", "triggerOperator",
             "triggerThreshold", "tactics", "techniques", "subTechniques", "query", "entityMappings",
             "customDetails", "sentinelEntitiesMappings", "alertDetailsOverride", "eventGroupingSettings",
             "incidentConfiguration", "suppressionEnabled", "suppressionDuration"} | IGNORED_ALERT_PROPERTIES
    unknown = sorted(k for k, v in props.items() if k not in known and v is not None)
    if unknown:
        raise RuleImportError(f"{label}: properties {', '.join(unknown)} have no place in a rule file", where)
    rule["kind"] = kind
    return rule


def _hunting_query(resource: dict[str, Any], guid: str, label: str, where: Location) -> dict[str, Any]:
    props = _unescape(resource.get("properties") or {}, label, "properties", where)
    tags: dict[str, str] = {}
    for tag in props.get("tags") or []:
        if isinstance(tag, dict) and isinstance(tag.get("name"), str) and isinstance(tag.get("value"), str):
            tags.setdefault(tag["name"], tag["value"])
    rule: dict[str, Any] = {"id": guid}
    if props.get("displayName") not in (None, ""):
        rule["name"] = props["displayName"]
    if tags.get("description"):
        rule["description"] = tags["description"]
    for key, field in (("tactics", "tactics"), ("techniques", "relevantTechniques")):
        items = [part.strip() for part in tags.get(key, "").split(",") if part.strip()]
        if items:
            rule[field] = items
    if "query" in props:
        rule["query"] = props["query"]
    return rule


def import_arm(document: dict, source: str) -> list[dict]:
    """One rule mapping per alertRules / savedSearches resource of an ARM template.

    Other resources are skipped; a template with none of these is an error, as is a
    resource whose rule GUID cannot be found or whose values are ARM expressions.
    """
    where = Location(source)
    resources = document.get("resources") if isinstance(document, dict) else None
    if not isinstance(resources, list):
        raise RuleImportError("not an ARM deployment template (no resources list)", where)
    rules: list[dict] = []
    carried = _carried_fields(document)
    for index, resource in enumerate(resources):
        if not isinstance(resource, dict):
            continue
        rtype = str(resource.get("type", ""))
        label = _resource_label(resource, index)
        if rtype.lower().endswith("/alertrules"):
            guid = _rule_guid(resource, label, where)
            rule = _analytics_rule(resource, guid, label, where)
        elif rtype.lower().endswith("workspaces/savedsearches"):
            guid = _rule_guid(resource, label, where)
            rule = _hunting_query(resource, guid, label, where)
        else:
            continue
        extra = carried.get(guid.lower())
        if isinstance(extra, dict):
            if "subTechniques" in extra:
                # the rule's own spelling of its techniques: it replaces the merged relevantTechniques
                rule.pop("relevantTechniques", None)
            rule.update(_unescape(extra, label, "metadata", where))
        rules.append(rule)
    if not rules:
        raise RuleImportError("the template has no alertRules or savedSearches resource", where)
    return rules


def _carried_fields(document: dict) -> dict[str, Any]:
    """Fields ``dac build`` keeps in the template metadata (keyed by rule GUID): what ARM cannot hold."""
    metadata = document.get("metadata")
    rules = metadata.get("dac", {}).get("rules", {}) if isinstance(metadata, dict) and isinstance(metadata.get("dac"), dict) else {}
    return {str(key).lower(): value for key, value in rules.items()} if isinstance(rules, dict) else {}


def import_yaml(path: str | Path) -> dict:
    """An Azure-Sentinel rule file, loaded strictly, as plain data."""
    return copy.deepcopy(load_rule(path).data)


# --- writing ------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block style with sequences indented under their key, as Azure-Sentinel files are."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _dump(mapping: dict[str, Any]) -> str:
    return yaml.dump(mapping, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000,
                     default_flow_style=False)


def _block_scalar(key: str, text: str) -> str | None:
    """``key: |`` with ``text`` as a literal block, or None if a block cannot hold it.

    PyYAML refuses block style for lines with trailing spaces, which KQL copied
    from Azure-Sentinel often has; a literal block keeps them, so it is written here.
    """
    if any(ch in text for ch in "\r\x85\u2028\u2029\ufeff") or any(
            not ch.isprintable() and ch not in "\n\t" for ch in text):
        return None
    body = text.rstrip("\n")
    trailing = len(text) - len(body)
    chomp = "-" if trailing == 0 else ("" if trailing == 1 else "+")
    lines = body.split("\n") if body else [""]
    first = next((line for line in lines if line.strip(" ")), "")
    indicator = "2" if first.startswith((" ", "\t")) or any(
        line and not line.strip(" ") for line in lines) else ""
    out = [f"{key}: |{indicator}{chomp}"]
    out += [("  " + line) if line else "" for line in lines]
    out += [""] * (trailing - 1) if trailing > 1 else []
    rendered = "\n".join(out) + "\n"
    try:
        if parse_yaml(rendered).data != {key: text}:
            return None
    except DacError:
        return None
    return rendered


def rule_yaml_text(data: dict[str, Any]) -> str:
    """The YAML text of a rule: fixed key order, multi-line strings as ``|`` blocks."""
    ordered = [k for k in KEY_ORDER if k in data]
    ordered += [k for k in data if k not in KEY_ORDER and k not in KEY_ORDER_LAST]
    ordered += [k for k in KEY_ORDER_LAST if k in data]
    parts = []
    for key in ordered:
        value = data[key]
        block = _block_scalar(key, value) if isinstance(value, str) and "\n" in value else None
        parts.append(block or _dump({key: value}))
    text = "".join(parts)
    if parse_yaml(text).data != data:
        raise DacError(f"internal error: the YAML written for rule {data.get('id')!r} does not read back the same")
    return text


def write_rule_yaml(data: dict, path: Path, force: bool = False) -> None:
    """Write ``data`` to ``path`` atomically; an existing file is only replaced with ``force``."""
    _write_text(rule_yaml_text(data), Path(path), force)


def _write_text(text: str, path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise RuleImportError("file exists; use --force to overwrite it", Location(str(path)))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise RuleImportError(f"cannot write into the folder: {exc.strerror}", Location(str(path.parent))) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        if force:
            os.replace(temp, path)
        else:
            try:
                os.link(temp, path)  # fails if the file appeared meanwhile: never clobbers
            except FileExistsError:
                raise RuleImportError("file exists; use --force to overwrite it", Location(str(path))) from None
            except OSError:
                os.replace(temp, path)  # a file system without hard links
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def _read_json(path: Path) -> Any:
    text = read_text(path, MAX_JSON_BYTES, RuleImportError, "an ARM template is expected to be smaller")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RuleImportError(f"JSON error: {exc.msg}", Location(str(path), exc.lineno, exc.colno)) from None
    except RecursionError:
        raise RuleImportError("JSON error: the document is nested too deeply", Location(str(path))) from None


def import_sources(sources: list[str | Path], out: Path, force: bool = False) -> list[Path]:
    """Import every source into ``out/<slug of name>.yaml``; return the files written.

    Everything is read and checked first (two rules with one file name, files that
    exist without ``force``, files ``force`` may not replace), so an error writes
    nothing. File names are slugs (:func:`slug`) of the rule's name, else of its id,
    so no name or id in a template can place a file outside ``out``; each target is
    checked to resolve inside ``out`` all the same.
    """
    root = Path(out).resolve()
    planned: dict[Path, tuple[dict, str]] = {}
    for raw in sources:
        source = Path(raw)
        if source.suffix.lower() == ".json":
            rules = import_arm(_read_json(source), str(source))
        elif source.suffix.lower() in (".yaml", ".yml"):
            rules = [import_yaml(source)]
        else:
            raise RuleImportError("expected an ARM template (.json) or a rule file (.yaml)", Location(str(source)))
        for rule in rules:
            stem = slug(str(rule.get("name") or "")) or slug(str(rule.get("id") or ""))
            if not stem:
                raise RuleImportError("a rule whose name and id hold no letter or digit cannot be given a file name",
                                      Location(str(source)))
            target = Path(out) / f"{stem}.yaml"
            if not within(target.resolve(), root):
                raise RuleImportError(f"the file for this rule would lie outside {out} ({target.resolve()}); "
                                      "not written", Location(str(source)))
            if target in planned:
                raise RuleImportError(f"two rules would be written to {target} (the other comes from "
                                      f"{planned[target][1]}); rename one", Location(str(source)))
            planned[target] = (rule, str(source))
    for target, (rule, _) in planned.items():
        if target.exists() or target.is_symlink():
            if not force:
                raise RuleImportError("file exists; use --force to overwrite it", Location(str(target)))
            _check_replaceable(target, str(rule.get("id") or ""))
    texts = {target: rule_yaml_text(rule) for target, (rule, _) in planned.items()}
    for target, text in texts.items():
        _write_text(text, target, force)
    return list(texts)


def _check_replaceable(target: Path, rule_id: str) -> None:
    """Refuse to let ``--force`` replace ``target`` unless it is the same rule as a rule file.

    What ``dac import`` writes is recognised by its content: a regular file (not a
    link) that loads as a rule file whose ``id`` is the imported rule's (compared
    case-insensitively, as GUIDs are). Re-importing an updated template replaces the
    rule it wrote before, or a hand-edited copy of it; a workflow, a configuration
    file or another rule that happens to have the file name is never touched.
    """
    where = Location(str(target))
    if target.is_symlink() or not target.is_file():
        raise RuleImportError("exists and is not a regular file; --force does not replace it", where)
    refusal = "exists and is not a rule file; --force only replaces the rule file of the same id"
    try:
        existing = load_rule(target)
    except DacError:
        raise RuleImportError(refusal, where) from None
    if "id" not in existing.data:  # a workflow, a configuration file: a mapping, but no rule
        raise RuleImportError(refusal, where)
    if existing.id.lower() != rule_id.lower():
        raise RuleImportError(f"holds another rule (id {existing.id!r}); --force only replaces the rule file of the "
                              "same id: rename one of them", where)


MAX_STEM = 100
# Names Windows reserves for devices, with any extension (con.yaml is the console).
WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"{port}{n}" for port in ("com", "lpt") for n in range(10))})


def slug(name: str) -> str:
    """A file name stem from a rule name or id: lower-case letters and digits, runs of other characters as ``-``.

    The character set keeps every stem a plain file name on every system (no
    separator, no leading dot, nothing a shell or Windows treats specially); it is cut
    to MAX_STEM characters, and a name Windows reserves for a device gets ``-rule``.
    """
    stem = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    stem = stem[:MAX_STEM].rstrip("-")
    return f"{stem}-rule" if stem in WINDOWS_RESERVED else stem


__all__ = [
    "import_arm",
    "import_sources",
    "import_yaml",
    "kusto_duration",
    "merge_techniques",
    "rule_yaml_text",
    "slug",
    "write_rule_yaml",
]

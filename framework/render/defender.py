"""Microsoft Defender XDR: one custom detection rule (Graph ``detectionRule``) per rule.

The artifact is the request body for ``POST /beta/security/rules/detectionRules``,
with the properties the Create page marks required (``id``, ``displayName``,
``queryCondition``, ``schedule``, ``status``). What does not carry over from the
Sentinel format is approximated or left out, and said so in a note at the
field (printed by ``dac build``/``dac pack``, kept in index.json):

* schedule: Defender runs a rule every 1, 3, 12 or 24 hours, or continuously
  (period ``"0"``). NRT rules run continuously; Scheduled rules take the
  smallest period at least as long as their ``queryFrequency`` (capped at 24H);
  hunting queries, which have no schedule, run every 24H.
* look-back: Defender derives it from the period; ``queryPeriod`` has no field.
* impacted assets: Defender names the result column that identifies a user,
  device or mailbox, from a fixed list per asset type. A Sentinel entity
  mapping carries over when its column is one of those names (``AccountUpn`` ->
  ``accountUpn``); others are left out.
* severity is lower-cased; a rule without one (hunting queries) gets
  ``informational``. The alert category is the first tactic when it is an
  ATT&CK enterprise tactic, else ``SuspiciousActivity``; other tactics are left out.
* the body has no place for Sentinel's alert threshold (Defender alerts on any
  result), suppression, custom details, alert details override, event and
  incident grouping or Sentinel entities mappings; each one a rule sets is noted.
  The bookkeeping fields of the rule file (:data:`~dac.render.carriage.BOOKKEEPING`)
  are not detection content and are left out without a note.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dac.render import fields
from dac.render.carriage import BOOKKEEPING, RULE_FORMAT
from dac.render.environment import render_json
from dac.render.notes import Note
from dac.rules.model import Rule

API_URL = "https://graph.microsoft.com/beta/security/rules/detectionRules"

# (period, longest frequency it covers), shortest first.
PERIODS = (("1H", timedelta(hours=1)), ("3H", timedelta(hours=3)), ("12H", timedelta(hours=12)),
           ("24H", timedelta(hours=24)))
CONTINUOUS = "0"
HUNTING_PERIOD = "24H"
DEFAULT_SEVERITY = "informational"
DEFAULT_CATEGORY = "SuspiciousActivity"
STATUS = "enabled"

# Rule fields the detectionRule body holds, some approximated (with a note where they differ).
CARRIED = ("id", "kind", "name", "description", "severity", "query", "queryFrequency", "tactics",
           "relevantTechniques", "subTechniques", "entityMappings")
# Fields only a Scheduled rule's schedule uses (noted for Scheduled rules, see _not_carried), and
# the suppression length, which matters only when suppression is on.
SCHEDULE_ONLY = ("queryPeriod", "triggerOperator", "triggerThreshold", "suppressionDuration")
# "More than 0 results" is what Defender does anyway: an alert for any result.
ANY_RESULT_OPERATORS = ("gt", "GreaterThan")

# Tactic names shared by Sentinel and the Defender alert categories.
CATEGORIES = {
    "Reconnaissance", "ResourceDevelopment", "InitialAccess", "Execution", "Persistence",
    "PrivilegeEscalation", "DefenseEvasion", "CredentialAccess", "Discovery", "LateralMovement",
    "Collection", "Exfiltration", "CommandAndControl", "Impact",
}

_USER = "#microsoft.graph.security.impactedUserAsset"
_DEVICE = "#microsoft.graph.security.impactedDeviceAsset"
_MAILBOX = "#microsoft.graph.security.impactedMailboxAsset"

# Identifier enums of the impacted asset types (userAssetIdentifier,
# deviceAssetIdentifier, mailboxAssetIdentifier), without unknownFutureValue.
ASSET_IDENTIFIERS = {
    _USER: (
        "accountObjectId", "accountSid", "accountUpn", "accountName", "accountDomain", "accountId",
        "requestAccountSid", "requestAccountName", "requestAccountDomain", "recipientObjectId",
        "processAccountObjectId", "initiatingAccountSid", "initiatingProcessAccountUpn",
        "initiatingAccountName", "initiatingAccountDomain", "servicePrincipalId", "servicePrincipalName",
        "targetAccountUpn",
    ),
    _DEVICE: ("deviceId", "deviceName", "remoteDeviceName", "targetDeviceName", "destinationDeviceName"),
    _MAILBOX: (
        "accountUpn", "fileOwnerUpn", "initiatingProcessAccountUpn", "lastModifyingAccountUpn",
        "targetAccountUpn", "senderFromAddress", "senderDisplayName", "recipientEmailAddress",
        "senderMailFromAddress",
    ),
}

# Sentinel entity type -> the Defender asset type its columns can identify.
ENTITY_ASSETS = {"Account": _USER, "Host": _DEVICE, "Mailbox": _MAILBOX, "MailMessage": _MAILBOX}


def _note(rule: Rule, notes: list[Note], message: str, *key: object) -> None:
    notes.append(Note(rule.doc.key_location(key), f"defender: {message}"))


def schedule_period(rule: Rule, kind: str, notes: list[Note]) -> str:
    if kind == "NRT":
        return CONTINUOUS
    if kind == "Hunting":
        _note(rule, notes, f"hunting query has no schedule; runs every {HUNTING_PERIOD}", "query")
        return HUNTING_PERIOD
    raw = fields.get_str(rule, "queryFrequency", required=True)
    span = fields.parse_timespan(raw)
    if span is None:
        raise fields.fail(rule, f"queryFrequency: {raw!r} is not a timespan such as 5m, 1h or 14d", "queryFrequency")
    for period, longest in PERIODS:
        if span <= longest:
            if span != longest:
                _note(rule, notes, f"queryFrequency {raw} runs as period {period}", "queryFrequency")
            return period
    _note(rule, notes, f"queryFrequency {raw} is longer than Defender's longest period; runs every 24H",
          "queryFrequency")
    return "24H"


def impacted_assets(rule: Rule, notes: list[Note]) -> list[dict[str, str]]:
    """Impacted assets from entity mappings, where a mapping's column is a Defender identifier."""
    assets: list[dict[str, str]] = []
    for e_index, mapping in enumerate(fields.get_list(rule, "entityMappings") or []):
        if not isinstance(mapping, dict):
            raise fields.fail(rule, f"entityMappings[{e_index}]: expected a mapping", "entityMappings", e_index)
        entity = mapping.get("entityType")
        field_mappings = mapping.get("fieldMappings") or []
        if not isinstance(field_mappings, list):
            raise fields.fail(rule, f"entityMappings[{e_index}].fieldMappings: expected a list",
                              "entityMappings", e_index, "fieldMappings")
        for f_index, field in enumerate(field_mappings):
            column = field.get("columnName") if isinstance(field, dict) else None
            if not isinstance(column, str) or not column:
                raise fields.fail(rule, f"entityMappings[{e_index}].fieldMappings[{f_index}]: no columnName",
                                  "entityMappings", e_index, "fieldMappings", f_index)
            odata_type = ENTITY_ASSETS.get(entity)
            identifier = column[0].lower() + column[1:]
            if odata_type is None or identifier not in ASSET_IDENTIFIERS[odata_type]:
                _note(rule, notes, f"entity {entity} column {column} has no impacted-asset identifier; left out",
                      "entityMappings", e_index, "fieldMappings", f_index)
                continue
            asset = {"odata_type": odata_type, "identifier": identifier}
            if asset not in assets:
                assets.append(asset)
    return assets


def _category(rule: Rule, tactics: list[str], notes: list[Note]) -> str:
    category = tactics[0] if tactics and tactics[0] in CATEGORIES else DEFAULT_CATEGORY
    left_out = [tactic for tactic in tactics if tactic != category]
    if left_out:
        _note(rule, notes, f"an alert has one category ({category}); tactics {', '.join(left_out)} left out", "tactics")
    return category


def _not_carried(rule: Rule, kind: str, notes: list[Note]) -> None:
    """A note for each field of detection content the body has no place for."""
    data = rule.data
    for key, value in data.items():
        if value is None or key in CARRIED or key in BOOKKEEPING or key in SCHEDULE_ONLY:
            continue
        if key == "suppressionEnabled":
            if value is not False:
                _note(rule, notes, f"suppression for {data.get('suppressionDuration', '1h')} is not carried; "
                                   "Defender has none", key)
        elif key in RULE_FORMAT:
            _note(rule, notes, f"'{key}' is not carried by the custom detection (the request body has no such "
                               "property)", key)
        else:
            _note(rule, notes, f"'{key}' is not a field of the Azure-Sentinel rule format; not carried", key)
    if kind != "Scheduled":
        return  # the schedule of an NRT rule or hunting query means nothing to Sentinel either
    if data.get("queryPeriod") is not None:
        _note(rule, notes, f"queryPeriod {data['queryPeriod']} is not carried over; "
                           "Defender sets the look-back from the period", "queryPeriod")
    operator, threshold = data.get("triggerOperator"), data.get("triggerThreshold")
    if not (operator in ANY_RESULT_OPERATORS and threshold == 0):
        _note(rule, notes, f"alert threshold {operator} {threshold} is not carried; Defender alerts on any result",
              "triggerThreshold")


def render(rule: Rule) -> tuple[dict[str, Any], list[Note]]:
    """The detectionRule request body for ``rule`` (parsed JSON) and notes on what was approximated or left out."""
    kind = fields.rule_kind(rule)
    guid = fields.rule_id(rule)
    notes: list[Note] = []
    severity = fields.severity(rule, required=kind != "Hunting")
    name = fields.get_str(rule, "name", required=True)
    context = {
        "rule": {
            "id": guid,
            "displayName": name,
            "status": STATUS,
            "isEnabled": True,
            "queryText": fields.rule_query(rule),
            "period": schedule_period(rule, kind, notes),
        },
        "alert": {
            "title": name,
            "description": fields.get_str(rule, "description", default=""),
            "severity": severity.lower() if severity else DEFAULT_SEVERITY,
            "category": _category(rule, fields.get_str_list(rule, "tactics"), notes),
            "recommendedActions": None,
            "mitreTechniques": fields.techniques(rule),
            "impactedAssets": impacted_assets(rule, notes),
        },
    }
    _not_carried(rule, kind, notes)
    return render_json("defender-detection.json.j2", context, rule.location()), notes

"""Microsoft Defender XDR: one custom detection rule (Graph ``detectionRule``) per rule.

The artifact is the request body for ``POST /beta/security/rules/detectionRules``.
What does not carry over from the Sentinel format is approximated and said so
in the rule's ``notes`` in index.json:

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
  ATT&CK enterprise tactic, else ``SuspiciousActivity``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dac.render import fields
from dac.render.environment import render_json
from dac.rules.model import Rule

API_URL = "https://graph.microsoft.com/beta/security/rules/detectionRules"

# (period, longest frequency it covers), shortest first.
PERIODS = (("1H", timedelta(hours=1)), ("3H", timedelta(hours=3)), ("12H", timedelta(hours=12)),
           ("24H", timedelta(hours=24)))
CONTINUOUS = "0"
HUNTING_PERIOD = "24H"
DEFAULT_SEVERITY = "informational"
DEFAULT_CATEGORY = "SuspiciousActivity"

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


def schedule_period(rule: Rule, kind: str, notes: list[str]) -> str:
    if kind == "NRT":
        return CONTINUOUS
    if kind == "Hunting":
        notes.append(f"defender: hunting query has no schedule; runs every {HUNTING_PERIOD}")
        return HUNTING_PERIOD
    raw = fields.get_str(rule, "queryFrequency", required=True)
    span = fields.parse_timespan(raw)
    if span is None:
        raise fields.fail(rule, f"queryFrequency: {raw!r} is not a timespan such as 5m, 1h or 14d", "queryFrequency")
    for period, longest in PERIODS:
        if span <= longest:
            if span != longest:
                notes.append(f"defender: queryFrequency {raw} runs as period {period}")
            return period
    notes.append(f"defender: queryFrequency {raw} is longer than Defender's longest period; runs every 24H")
    return "24H"


def impacted_assets(rule: Rule, notes: list[str]) -> list[dict[str, str]]:
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
                notes.append(f"defender: entity {entity} column {column} has no impacted-asset identifier; left out")
                continue
            asset = {"odata_type": odata_type, "identifier": identifier}
            if asset not in assets:
                assets.append(asset)
    return assets


def render(rule: Rule) -> tuple[dict[str, Any], list[str]]:
    """The detectionRule request body for ``rule`` (parsed JSON) and notes on what was approximated."""
    kind = fields.rule_kind(rule)
    fields.rule_id(rule)
    notes: list[str] = []
    tactics = fields.get_str_list(rule, "tactics")
    severity = fields.severity(rule, required=kind != "Hunting")
    if kind == "Scheduled" and rule.data.get("queryPeriod") is not None:
        notes.append(f"defender: queryPeriod {rule.data['queryPeriod']} is not carried over; "
                     "Defender sets the look-back from the period")
    name = fields.get_str(rule, "name", required=True)
    context = {
        "rule": {
            "displayName": name,
            "isEnabled": True,
            "queryText": fields.rule_query(rule),
            "period": schedule_period(rule, kind, notes),
        },
        "alert": {
            "title": name,
            "description": fields.get_str(rule, "description", default=""),
            "severity": severity.lower() if severity else DEFAULT_SEVERITY,
            "category": tactics[0] if tactics and tactics[0] in CATEGORIES else DEFAULT_CATEGORY,
            "recommendedActions": None,
            "mitreTechniques": fields.techniques(rule),
            "impactedAssets": impacted_assets(rule, notes),
        },
    }
    return render_json("defender-detection.json.j2", context, rule.location()), notes

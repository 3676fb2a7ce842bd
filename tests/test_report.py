"""`dac report`: the ATT&CK Navigator layer and the static HTML report.

The rule set is the seed rule plus two rules written here: one with a hostile
name (markup, an attribute break-out, Jinja syntax), two tables, two tactics,
a sub-technique and one failing test case; one whose query reads an unknown
column (a validation finding) and has no test file. Expected values are worked
out by hand from those files.

The browser test opens index.html in headless Chromium (Debian's package) and
reads the DOM Chromium built, so it checks what a reader is shown, not the
bytes. Chromium is installed by the session fixture when missing and CI is set
(or DAC_INSTALL_TOOLS=1); otherwise the test is skipped with the reason.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dac import report
from dac.cli import main
from dac.errors import DacError

from conftest import debian_tool, REPO

SEED_DIR = REPO / "detections" / "hunting"
SEED_NAME = "User clicked through events"
HOSTILE_NAME = "Encoded PowerShell <script>alert(1)</script> \"onload=alert(2) x=' {{ 7*7 }}"
BROKEN_NAME = "Sign-ins from a column that does not exist"

HOSTILE_RULE = """\
id: 0d6c3a51-7f1e-4c8a-9b57-2f4e8d1a6c30
name: "Encoded PowerShell <script>alert(1)</script> \\"onload=alert(2) x=' {{ 7*7 }}"
description: |
  PowerShell started with an encoded command on a device that also made a connection.
requiredDataConnectors:
  - connectorId: MicrosoftThreatProtection
    dataTypes: [DeviceProcessEvents, DeviceNetworkEvents]
tactics: [Execution, InitialAccess]
relevantTechniques: [T1059.001, T1566]
query: |
  DeviceProcessEvents
  | where FileName =~ "powershell.exe" and ProcessCommandLine has "-enc"
  | join kind=inner (DeviceNetworkEvents | project DeviceId, RemoteUrl) on DeviceId
  | project DeviceName, ProcessCommandLine, RemoteUrl
version: 1.0.0
"""

HOSTILE_TESTS = """\
platform: Defender
now: 2024-05-01T12:00:00Z
cases:
  - name: encoded command on a device with a connection is reported
    tables:
      DeviceProcessEvents:
        - {Timestamp: now-5m, DeviceId: d1, DeviceName: host1, FileName: PowerShell.exe,
           ProcessCommandLine: "powershell -enc AAAA"}
      DeviceNetworkEvents:
        - {Timestamp: now-5m, DeviceId: d1, RemoteUrl: "https://evil.example"}
    expect:
      - {DeviceName: host1, ProcessCommandLine: "powershell -enc AAAA", RemoteUrl: "https://evil.example"}
  - name: a deliberately wrong expectation (cmd.exe is not PowerShell)
    tables:
      DeviceProcessEvents:
        - {Timestamp: now-5m, DeviceId: d1, DeviceName: host1, FileName: cmd.exe, ProcessCommandLine: "cmd -enc"}
      DeviceNetworkEvents:
        - {Timestamp: now-5m, DeviceId: d1, RemoteUrl: "https://evil.example"}
    expect:
      - {DeviceName: host1, ProcessCommandLine: "cmd -enc", RemoteUrl: "https://evil.example"}
"""

BROKEN_RULE = """\
id: 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
name: Sign-ins from a column that does not exist
description: |
  Reads a column the catalog does not have.
requiredDataConnectors:
  - connectorId: AzureActiveDirectory
    dataTypes: [SigninLogs]
tactics: [CredentialAccess]
relevantTechniques: [T1110]
query: |
  SigninLogs
  | where NoSuchColumn == 1
version: 1.0.0
"""


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rules")
    for source in SEED_DIR.glob("user-clicked-through-events*.yaml"):
        shutil.copy(source, folder / source.name)
    (folder / "encoded-powershell.yaml").write_text(HOSTILE_RULE, encoding="utf-8")
    (folder / "encoded-powershell.tests.yaml").write_text(HOSTILE_TESTS, encoding="utf-8")
    (folder / "broken.yaml").write_text(BROKEN_RULE, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def built(rules_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "out"
    assert main(["report", "--out", str(out), str(rules_dir)]) == 0
    return out


def _layer(out: Path) -> dict:
    return json.loads((out / report.LAYER_NAME).read_text(encoding="utf-8"))


# --- the Navigator layer -------------------------------------------------------------------------


def test_seed_rule_layer(tmp_path: Path) -> None:
    out = tmp_path / "seed"
    report.build_report([SEED_DIR], out)
    layer = _layer(out)
    assert layer["versions"] == {"attack": "18", "navigator": "5.2.0", "layer": "4.5"}
    assert layer["domain"] == "enterprise-attack"
    assert layer["techniques"] == [{"techniqueID": "T1566", "tactic": "initial-access", "score": 1,
                                    "comment": SEED_NAME, "enabled": True,
                                    "metadata": [{"name": "technique", "value": "Phishing"}]}]
    assert layer["gradient"]["minValue"] == 0 and layer["gradient"]["maxValue"] == 1


def test_layer_scores_and_comments(built: Path) -> None:
    layer = _layer(built)
    assert isinstance(layer["name"], str) and layer["name"]
    assert layer["versions"]["layer"] == "4.5" and layer["domain"] == "enterprise-attack"
    techniques = {t["techniqueID"]: t for t in layer["techniques"]}
    assert [t["techniqueID"] for t in layer["techniques"]] == ["T1059.001", "T1110", "T1566"]
    assert techniques["T1566"]["score"] == 2
    assert techniques["T1566"]["comment"] == f"{HOSTILE_NAME}; {SEED_NAME}"  # the JSON keeps the name as written
    assert techniques["T1059.001"]["score"] == 1 and techniques["T1059.001"]["comment"] == HOSTILE_NAME
    assert techniques["T1110"]["score"] == 1 and techniques["T1110"]["comment"] == BROKEN_NAME
    # each under the rule's tactic it belongs to: T1566 is not Execution, T1059.001 not Initial Access
    assert [(t["techniqueID"], t["tactic"]) for t in layer["techniques"]] == [
        ("T1059.001", "execution"), ("T1110", "credential-access"), ("T1566", "initial-access")]
    assert [t["metadata"] for t in layer["techniques"]] == [
        [{"name": "technique", "value": name}] for name in ("PowerShell", "Brute Force", "Phishing")]
    gradient = layer["gradient"]
    assert len(gradient["colors"]) >= 2 and gradient["maxValue"] == 2 > gradient["minValue"]
    assert all(set(item) == {"label", "color"} for item in layer["legendItems"])


def test_same_name_in_two_files_counts_twice(rules_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "twins"
    folder.mkdir()
    for index in (1, 2):
        text = BROKEN_RULE.replace("7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", f"7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4{index}")
        (folder / f"r{index}.yaml").write_text(text, encoding="utf-8")
    layer = report.navigator_layer(report.collect([folder]))
    assert layer["techniques"] == [{"techniqueID": "T1110", "tactic": "credential-access", "score": 2,
                                    "comment": f"{BROKEN_NAME}; {BROKEN_NAME}", "enabled": True,
                                    "metadata": [{"name": "technique", "value": "Brute Force"}]}]


# --- the HTML page -------------------------------------------------------------------------------


def test_rule_rows(rules_dir: Path) -> None:
    rows = {row.name: row for row in report.collect([rules_dir])}
    assert set(rows) == {SEED_NAME, HOSTILE_NAME, BROKEN_NAME}
    hostile, seed, broken = rows[HOSTILE_NAME], rows[SEED_NAME], rows[BROKEN_NAME]
    assert hostile.tables == ["DeviceNetworkEvents", "DeviceProcessEvents"]
    assert (hostile.passed, hostile.failed, hostile.validation) == (1, 1, "clean")
    assert (seed.tables, seed.platforms, seed.kind, seed.validation) == (["UrlClickEvents"], ["defender", "sentinel"], "Hunting", "clean")
    assert seed.passed > 0 and seed.failed == 0
    assert broken.validation == "1 finding" and broken.tables == ["SigninLogs"]
    assert (broken.passed, broken.failed) == (0, 1)  # no test file: dac test fails it


def test_tactic_matrix_in_kill_chain_order(rules_dir: Path) -> None:
    matrix = report.tactic_matrix(report.collect([rules_dir]))
    tactics = [row["tactic"] for row in matrix]
    assert tactics[:4] == ["Reconnaissance", "Resource Development", "Initial Access", "Execution"]
    assert tactics.index("Credential Access") < tactics.index("Lateral Movement") < tactics.index("Impact")
    cells = {row["tactic"]: row["techniques"] for row in matrix}
    assert cells["Initial Access"] == [{"id": "T1566", "name": "Phishing", "rules": 2}]
    assert cells["Execution"] == [{"id": "T1059.001", "name": "PowerShell", "rules": 1}]
    assert cells["Credential Access"] == [{"id": "T1110", "name": "Brute Force", "rules": 1}]
    assert cells["Impact"] == []


def test_html_escapes_hostile_names(built: Path) -> None:
    page = (built / report.HTML_NAME).read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert '"onload=' not in page and "onload=alert(2) x='" not in page
    assert "Encoded PowerShell &lt;script&gt;alert(1)&lt;/script&gt; &#34;onload=alert(2) x=&#39; {{ 7*7 }}" in page
    assert "script-src" not in page and "default-src 'none'" in page  # scripts are not allowed at all


def test_output_is_deterministic(rules_dir: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    report.build_report([rules_dir], first)
    report.build_report([rules_dir], second)
    for name in (report.LAYER_NAME, report.HTML_NAME):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    assert sorted(p.name for p in first.iterdir()) == [report.LAYER_NAME, report.HTML_NAME]


# --- writing the output --------------------------------------------------------------------------


def test_replaces_previous_report_and_refuses_other_folders(rules_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    report.build_report([SEED_DIR], out)
    report.build_report([rules_dir], out)
    assert len(_layer(out)["techniques"]) == 3
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(DacError, match="refusing to replace"):
        report.build_report([SEED_DIR], precious)
    assert (precious / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert main(["report", "--out", str(precious), str(SEED_DIR)]) == 2


def test_failed_report_leaves_previous_output(rules_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    report.build_report([SEED_DIR], out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def explode(_path: Path, _content: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", explode)
    with pytest.raises(DacError, match="No space left"):
        report.build_report([rules_dir], out)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder left behind


# --- what a browser shows ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium; installed with apt-get when missing and CI (or DAC_INSTALL_TOOLS=1) is set."""
    return Path(debian_tool("chromium", "chromium"))


def _run_chromium(binary: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(binary), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


class _Dom(HTMLParser):
    """The dumped DOM: every tag seen, the whole text, and the text of each element with an id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.by_id: dict[str, list[str]] = {}
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in ("meta", "link", "br", "img", "input"):
            self._open.append((tag, dict(attrs).get("id")))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1][0] in ("style", "title", "script"):
            return
        self.text.append(data)
        for _tag, ident in self._open:
            if ident:
                self.by_id.setdefault(ident, []).append(data)

    def text_of(self, ident: str) -> str:
        return " ".join("".join(self.by_id.get(ident, [])).split())


def test_browser_shows_rules_and_counts(chromium: Path, built: Path, tmp_path: Path) -> None:
    page = (built / report.HTML_NAME).resolve()
    dumped = _run_chromium(chromium, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = _Dom()
    dom.feed(dumped.stdout)
    assert "table" in dom.tags and "script" not in dom.tags
    text = " ".join("".join(dom.text).split())
    assert HOSTILE_NAME in text and SEED_NAME in text and BROKEN_NAME in text
    seed_cases = len([line for line in (SEED_DIR / "user-clicked-through-events.tests.yaml").read_text(
        encoding="utf-8").splitlines() if line.startswith("  - name:")])
    assert dom.text_of("count-rules") == "3"
    assert dom.text_of("count-techniques") == "3"
    assert dom.text_of("count-clean") == "2"
    assert dom.text_of("count-findings") == "1"
    assert dom.text_of("count-passed") == str(seed_cases + 1)
    assert dom.text_of("count-failed") == "2"
    rules_text = dom.text_of("rules")
    assert "1 finding" in rules_text and "DeviceNetworkEvents, DeviceProcessEvents" in rules_text
    assert "T1566 Phishing (2)" in dom.text_of("coverage")

    shot = tmp_path / "report.png"
    taken = _run_chromium(chromium, tmp_path / "profile2", f"--screenshot={shot}", "--window-size=1280,1400",
                          page.as_uri())
    assert taken.returncode == 0, taken.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000

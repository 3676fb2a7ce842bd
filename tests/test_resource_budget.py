"""The evaluation budget (dac.kql.budget): bombs end quickly in a located error naming the limit.

Each bomb runs ``dac run`` in a subprocess whose address space is capped (``prlimit --as``), so
a bomb the budget missed ends in a MemoryError or a kill instead of exhausting the machine;
the test asserts the run ends in time, with exit 2, the error naming the limit and how to
raise it, and no traceback. Unit tests below hold that raising a limit lets the same query through.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
import time
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from dac.config import load_settings
from dac.errors import DacError
from dac.kql import evaluate
from dac.kql.budget import BudgetExceeded, Limits

MEMORY_CAP = 1_500_000_000  # bytes of address space for each bomb's process
TIMEOUT = 60  # seconds; the bombs end in a few on an idle machine, the margin is for a loaded one
NOW = datetime(2025, 1, 1)

# id -> (query, what the error names, extra flags). Every query would build far more than the
# memory cap without the budget (the sizes in the comments); a lowered --max-rows only keeps the
# row bombs quick (building the default 10,000,000 rows takes seconds twice: bind, then run).
QUERY_BOMBS = {
    # 1 MB doubled eightfold four times: 4 GB in the last strcat
    "strcat-doubling": ('print s = strrep("ab", 500000)' + " | extend s = strcat(s, s, s, s, s, s, s, s)" * 4,
                        "max-value-mb", []),
    # up to 700 KB a row, a million rows
    "strrep-per-row": ("range i from 1 to 1000000 step 1 | extend s = strrep(tostring(i), 100000)", "max-value-mb", []),
    # each row's 7,000 characters become 7 MB
    "replace-string-growth": ('range i from 1 to 1000000 step 1 | extend s = replace_string(strrep(tostring(i), 1000), '
                              '"1", strrep("x", 1000))', "max-value-mb", []),
    # each range is within the limit, their union is not
    "range-union-total": ("let r = range x from 1 to 1500000 step 1; union r, r, r, r, r", "max-rows",
                          ["--max-rows", "2000000"]),
    # 10^10 rows
    "lookup-cross": ("range i from 1 to 100000 step 1 | extend k = 1 "
                     "| lookup (range j from 1 to 100000 step 1 | extend k = 1) on k", "max-rows",
                     ["--max-rows", "2000000"]),
    "join-cross": ("range i from 1 to 100000 step 1 | extend k = 1 "
                   "| join kind=inner (range j from 1 to 100000 step 1 | extend k = 1) on k", "max-rows",
                   ["--max-rows", "2000000"]),
    # 10^11 rows from one shared million-item array
    "mv-expand-huge-arrays": ("range i from 1 to 100000 step 1 | extend a = range(1, 1000000) | mv-expand a",
                              "max-rows", ["--max-rows", "2000000"]),
    # 100,000 groups x 527,040 minutes
    "make-series-groups-by-bins": ("range g from 1 to 100000 step 1 | extend t = datetime(2020-01-01) "
                                   "| make-series c = count() on t from datetime(2020-01-01) to datetime(2021-01-01) "
                                   "step 1m by g", "max-series-points", []),
    # a hundred million rows into one list
    "make-list-of-big-range": ("range x from 1 to 100000000 step 1 | summarize L = make_list(x)", "max-rows",
                               ["--max-rows", "2000000"]),
    "regex-capture-groups": ('print t = "aaa" | where t matches regex strrep("(a)", 1000)', "max-regex-groups", []),
    "regex-capture-groups-per-row": ('range i from 1 to 100 step 1 | extend p = strrep("(a)", 999 + i) '
                                     '| where "aaa" matches regex p', "max-regex-groups", []),
    # 8^4 references to one megabyte: 4 GB as text
    "nested-dynamic-tostring": ('print a = pack_array(strrep("x", 1000000))'
                                + " | extend a = pack_array(a, a, a, a, a, a, a, a)" * 4 + " | extend s = tostring(a)",
                                "max-value-mb", []),
}


def _prlimit() -> str:
    found = shutil.which("prlimit")
    if found is None:
        pytest.skip("prlimit (util-linux) is not installed: the bombs need a memory cap to run safely")
    return found


def _run_capped(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run([_prlimit(), f"--as={MEMORY_CAP}", sys.executable, "-m", "dac", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)
    return done, time.monotonic() - started


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A one-row DeviceEvents file: dac run needs data, the bombs make their own rows."""
    path = tmp_path / "DeviceEvents.jsonl"
    path.write_text('{"Timestamp": "2025-01-01T00:00:00Z", "DeviceName": "a"}\n')
    return path


def _assert_refused(done: subprocess.CompletedProcess[str], seconds: float, names: str) -> None:
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert names in done.stderr, done.stderr[-2000:]
    assert seconds < TIMEOUT


@pytest.mark.parametrize("bomb", sorted(QUERY_BOMBS))
def test_query_bomb_ends_in_the_budget_error(bomb: str, data: Path, tmp_path: Path) -> None:
    query, setting, flags = QUERY_BOMBS[bomb]
    done, seconds = _run_capped(["run", query, "--data", str(data), *flags], tmp_path)
    _assert_refused(done, seconds, f"(raise it with [tool.dac] {setting} or --{setting})")
    assert "error: <query>:1:" in done.stderr  # located in the query


def test_gzip_bomb_in_data_ends_in_the_max_data_mb_error(tmp_path: Path) -> None:
    path = tmp_path / "DeviceEvents.jsonl.gz"
    with gzip.open(path, "wb", compresslevel=1) as stream:
        block = b" " * 1_000_000
        for _ in range(300):  # 300 MB of blanks in about 1 MB
            stream.write(block)
    done, seconds = _run_capped(["run", "DeviceEvents | count", "--data", str(path), "--max-data-mb", "100"], tmp_path)
    _assert_refused(done, seconds, "decompresses to more than 100 MB (the --max-data-mb limit, also [tool.dac] max-data-mb)")


def test_huge_jsonl_line_ends_in_the_max_data_mb_error(tmp_path: Path) -> None:
    path = tmp_path / "DeviceEvents.jsonl"
    path.write_text('{"DeviceName": "' + "a" * 30_000_000 + '"}\n')
    done, seconds = _run_capped(["run", "DeviceEvents | count", "--data", str(path), "--max-data-mb", "10"], tmp_path)
    _assert_refused(done, seconds, "line 1 holds more than 10 MB (the --max-data-mb limit, also [tool.dac] max-data-mb)")
    assert f"{path}:1:1" in done.stderr


def test_zip_bomb_as_previous_pack_is_refused(tmp_path: Path) -> None:
    previous = tmp_path / "previous.zip"
    with zipfile.ZipFile(previous, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", b" " * 150_000_000)  # 150 MB of blanks in about 150 KB
    rules = tmp_path / "detections"
    rules.mkdir()
    done, seconds = _run_capped(["pack", str(rules), "--out", str(tmp_path / "out.zip"), "--version", "1.0.0",
                                 "--previous", str(previous)], tmp_path)
    _assert_refused(done, seconds, "manifest.json is larger than 100000000 bytes")


# ------------------------------------------------------------ raising a limit lets the query through

RAISED = [
    # (query, the limits that refuse it, the limits that let it through)
    ("range x from 1 to 3000 step 1 | union (range x from 1 to 3000 step 1)", Limits(rows=5_000), Limits(rows=20_000)),
    ("range x from 1 to 2000 step 1 | extend s = strrep(tostring(x), 1000) | count",
     Limits(value_mb=1), Limits(value_mb=100)),
    ('print s = strcat(strrep("a", 600000), strrep("b", 600000))', Limits(value_mb=1), Limits(value_mb=3)),
    ('print r = extract(strrep("(a)", 300), 1, "aaa")', Limits(), Limits(regex_groups=300)),
    ("range g from 1 to 10 step 1 | extend t = datetime(2020-01-01) "
     "| make-series c = count() on t from datetime(2020-01-01) to datetime(2020-01-02) step 1m by g",
     Limits(series_points=10_000), Limits(series_points=100_000)),
]


@pytest.mark.parametrize("query, refused, allowed", RAISED)
def test_a_raised_limit_lets_the_same_query_through(query: str, refused: Limits, allowed: Limits) -> None:
    with pytest.raises(BudgetExceeded) as caught:
        evaluate(query, {}, now=NOW, limits=refused)
    assert caught.value.line == 1 and caught.value.column > 0
    assert evaluate(query, {}, now=NOW, limits=allowed)


def test_the_budget_is_one_per_evaluation_not_per_operator() -> None:
    """Each range fits the row limit, both together do not; a second evaluation starts afresh."""
    query = "range x from 1 to 600 step 1 | union (range y from 1 to 600 step 1)"
    with pytest.raises(BudgetExceeded, match="the evaluation budget of 1,500 rows"):
        evaluate(query, {}, now=NOW, limits=Limits(rows=1_500))
    assert len(evaluate("range x from 1 to 600 step 1", {}, now=NOW, limits=Limits(rows=1_500))) == 600


def test_budget_settings_are_read_from_tool_dac(tmp_path: Path) -> None:
    config = tmp_path / "dac.toml"
    config.write_text("max-rows = 5000\nmax-value-mb = 7\n")
    assert load_settings(config).limits == Limits(rows=5_000, value_mb=7)
    config.write_text("rules = ['detections']\nmax-rows = 0\n")
    with pytest.raises(DacError, match="max-rows: expected a positive whole number") as caught:
        load_settings(config)
    assert caught.value.location.line == 2
    config.write_text("max-row = 5\n")
    with pytest.raises(DacError, match="unknown key 'max-row'.*max-rows"):
        load_settings(config)


def test_dac_run_takes_the_limit_from_the_setting_and_the_flag(data: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from dac import config
    from dac.cli import main

    (tmp_path / "dac.toml").write_text("max-rows = 1000\n")
    monkeypatch.chdir(tmp_path)
    config.use(None)
    try:
        query = "range x from 1 to 2000 step 1 | count"
        assert main(["run", query, "--data", str(data)]) == 2
        assert "1:1: range: the query needs more than the evaluation budget of 1,000 rows" in capsys.readouterr().err
        assert main(["run", query, "--data", str(data), "--max-rows", "5000"]) == 0
    finally:
        config.use(None)


def test_a_bad_pattern_is_a_located_error_and_nothing_on_stderr(capfd) -> None:
    # RE2 logs a pattern it cannot parse to file descriptor 2 unless told not to; the user must see
    # only dac's own located error, in words (not RE2's bytes repr).
    from dac.kql import KqlError, evaluate

    with pytest.raises(KqlError) as info:
        evaluate('print x = "a" matches regex "[]"', {})
    assert str(info.value) == "1:29: invalid regular expression: missing ]: []"
    assert capfd.readouterr().err == ""

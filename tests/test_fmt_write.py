"""dac fmt --write: the query rewritten in the canonical layout, every other byte of the file kept."""

from __future__ import annotations

import codecs
import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dac.cli import main
from dac.errors import RuleFileError
from dac.kql.formatter import format_text
from dac.rules.model import load_rule
from dac.rules.yamlfile import parse_yaml

from conftest import REPO, SHARED

BOM = codecs.BOM_UTF8
SEED = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"
AZURE_SENTINEL = SHARED / "corpus" / "azure-sentinel"

# Keys before and after the query, quoted in the ways Azure-Sentinel files quote them.
PREFIX = (
    "# A rule written by hand\n"
    "id: 'a1b2c3d4-0000-4000-8000-000000000001'\n"
    'name: "Failed logons: many"\n'
    "description: |\n"
    "  Many failed logons.\n"
    "\n"
    "  # not a comment: part of the description\n"
    "severity: Medium   # inline comment\n"
    "requiredDataConnectors:\n"
    "  - connectorId: SecurityEvents\n"
    "    dataTypes: [SecurityEvent]\n"
    "# the query follows\n"
    "query: "
)
SUFFIX_KEYS = (
    "# after the query\n"
    "\n"
    "version: '1.0.0'\n"
    "tags: [\"a\", 'b', c]\n"
    "kind: Scheduled\n"
)

QUERY = "SecurityEvent\n  |where EventID==4625 \n|summarize  n=count() by Account\n"
ONE_LINE = "SecurityEvent |where EventID==4625 |summarize  n=count() by Account"

# style name -> (the query scalar as written, what follows it before SUFFIX_KEYS)
SCALARS = {
    "literal": ("|\n" + "".join("  " + line + "\n" for line in QUERY.splitlines()), "\n\n"),
    "literal-strip": ("|-\n" + "".join("  " + line + "\n" for line in QUERY.splitlines()), "\n"),
    "literal-keep": ("|+\n" + "".join("    " + line + "\n" for line in QUERY.splitlines()) + "\n", ""),
    "literal-indicator": ("|4  # header comment\n" + "".join("    " + line + "\n" for line in QUERY.splitlines()), ""),
    "literal-indented-first-line": ("|2\n" + "".join("    " + line + "\n" for line in QUERY.splitlines()), ""),
    "folded": (">\n" + "".join("  " + line + "\n\n" for line in QUERY.splitlines()), "\n"),
    "plain": (ONE_LINE, "\n"),
    "plain-multi-line": ("SecurityEvent\n  |where EventID==4625\n  |summarize  n=count() by Account", "\n\n"),
    "single-quoted": ("'SecurityEvent |where EventID==''4625'' |summarize  n=count() by Account'", "\n"),
    "double-quoted": (json.dumps(QUERY), "\n"),
    "double-quoted-comment": ('"SecurityEvent\\n| where EventID ==4625"', "   # keep me\n"),
}


def compose(scalar: str, after: str, newline: str, bom: bytes) -> tuple[bytes, bytes, bytes]:
    """The rule file as (prefix, the query scalar, suffix), each in bytes with ``newline`` line endings."""
    def encode(text: str) -> bytes:
        return text.replace("\n", newline).encode("utf-8")

    return bom + encode(PREFIX), encode(scalar), encode(after + SUFFIX_KEYS)


def query_of(data: bytes, path: Path) -> str:
    return parse_yaml(data.decode("utf-8-sig"), str(path)).data["query"]


def others(data: bytes, path: Path) -> dict:
    loaded = parse_yaml(data.decode("utf-8-sig"), str(path)).data
    return {key: value for key, value in loaded.items() if key != "query"}


@pytest.mark.parametrize("bom", [b"", BOM], ids=["utf8", "bom"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("style", list(SCALARS))
def test_write_replaces_only_the_query(tmp_path: Path, style: str, newline: str, bom: bytes,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    scalar, after = SCALARS[style]
    prefix, value, suffix = compose(scalar, after, newline, bom)
    path = tmp_path / "rule.yaml"
    path.write_bytes(prefix + value + suffix)
    original = query_of(path.read_bytes(), path)
    expected = format_text(original)
    assert expected != original

    assert main(["fmt", "--write", str(path)]) == 0
    assert capsys.readouterr().out == f"reformatted {path}\n1 file(s) reformatted\n"
    new = path.read_bytes()
    comment = after.split("\n")[0]
    if comment.strip():  # a comment after a flow scalar moves onto the block header
        suffix = suffix[len(comment.encode()):]
        assert new[len(prefix):].startswith(b"|" + comment.encode() + newline.encode())
    assert new.startswith(prefix) and new.endswith(suffix), new
    assert len(new) > len(prefix) + len(suffix)
    assert query_of(new, path) == expected
    assert others(new, path) == others(prefix + value + suffix, path)
    if newline == "\r\n":
        assert new.count(b"\n") == new.count(b"\r\n")
    assert main(["fmt", "--check", str(path)]) == 0


def test_write_uses_the_block_indentation_and_a_plain_literal_block(tmp_path: Path) -> None:
    path = tmp_path / "rule.yaml"
    path.write_text("id: x\nquery: |-\n    T|where a==1\n    |take 1\nversion: 1.0.0\n", encoding="utf-8")
    assert main(["fmt", "--write", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == (
        "id: x\nquery: |\n    T\n    | where a == 1\n    | take 1\nversion: 1.0.0\n")
    path.write_text("id: x\nquery: 'T|take 1'", encoding="utf-8")  # no line break at the end of the file
    assert main(["fmt", "--write", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == "id: x\nquery: |\n  T\n  | take 1\n"


def test_seed_rule_is_in_the_layout() -> None:
    assert main(["fmt", "--check", str(SEED)]) == 0


def test_already_formatted_file_is_not_touched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rule.yaml"
    kql = tmp_path / "q.kql"
    path.write_text("id: x\nquery: \"T\\n| take 1\\n\"  # canonical already, though quoted\n", encoding="utf-8")
    kql.write_text("T\n| take 1\n", encoding="utf-8")
    for file in (path, kql):
        os.utime(file, ns=(1_000_000_000, 1_000_000_000))
    before = path.read_bytes()
    assert main(["fmt", "--write", str(path), str(kql)]) == 0
    assert capsys.readouterr().out == "0 file(s) reformatted\n"
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == kql.stat().st_mtime_ns == 1_000_000_000


def test_syntax_error_leaves_the_file_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad, good = tmp_path / "bad.yaml", tmp_path / "good.yaml"
    bad.write_text("id: x\nquery: |\n  T\n  | where x ==\n", encoding="utf-8")
    good.write_text("id: y\nquery: T|take 1\n", encoding="utf-8")
    before = bad.read_bytes()
    assert main(["fmt", "--write", str(bad), str(good)]) == 1
    captured = capsys.readouterr()
    assert f"{bad}:4:15: expected an expression, found end of query\n| where x ==\n" in captured.err
    assert f"reformatted {good}" in captured.out and "1 left unchanged for errors" in captured.out
    assert bad.read_bytes() == before
    assert good.read_text(encoding="utf-8") == "id: y\nquery: |\n  T\n  | take 1\n"


def test_a_file_that_does_not_load_stops_the_run_before_any_write(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    good, broken = tmp_path / "a.yaml", tmp_path / "b.yaml"
    good.write_text("id: y\nquery: T|take 1\n", encoding="utf-8")
    broken.write_text("id: x\nquery: [unclosed\n", encoding="utf-8")
    before = good.read_bytes()
    assert main(["fmt", "--write", str(good), str(broken)]) == 2
    assert f"{broken}:3:1: YAML error" in capsys.readouterr().err
    assert good.read_bytes() == before


def test_layout_a_literal_block_cannot_hold_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """The read-back check: a formatted text that YAML would read differently is never written."""
    path = tmp_path / "rule.yaml"
    cases = [
        ("id: x\nquery: 'T|take 1'\nversion: 1.0.0\n", "T\u2028| take 1\n"),  # a YAML line break
        ("id: x\nquery: 'T|take 1'\nversion: 1.0.0\n", "T\x07\n"),  # a character YAML does not allow
        ("id: x\nquery: |\n  T|take 1\n\n\nversion: 1.0.0\n", "T\n| take 1\n\n"),  # |+ would take the blank lines
    ]
    for text, formatted in cases:
        path.write_text(text, encoding="utf-8")
        monkeypatch.setattr("dac.kql.formatter.format_text", lambda _query, formatted=formatted: formatted)
        assert main(["fmt", "--write", str(path)]) == 1
        assert f"{path}:2:8: the query in the canonical layout" in capsys.readouterr().err
        assert path.read_text(encoding="utf-8") == text
    monkeypatch.setattr("dac.kql.formatter.format_text", lambda _query: "  T\n| take 1\n\n")
    path.write_text("id: x\nquery: 'T|take 1'\n", encoding="utf-8")
    assert main(["fmt", "--write", str(path)]) == 0  # a first line starting with a space: indentation indicator
    assert path.read_text(encoding="utf-8") == "id: x\nquery: |2+\n    T\n  | take 1\n\n"
    assert load_rule(path).query == "  T\n| take 1\n\n"


def test_skips_test_files_and_rules_without_a_query(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rule, tests = tmp_path / "stub.yaml", tmp_path / "stub.tests.yaml"
    rule.write_text("id: x\nname: no query yet\n", encoding="utf-8")
    tests.write_text("cases: []\n", encoding="utf-8")
    before = rule.read_bytes(), tests.read_bytes()
    assert main(["fmt", "--write", str(rule), str(tests)]) == 0
    assert (rule.read_bytes(), tests.read_bytes()) == before
    assert capsys.readouterr().out == "0 file(s) reformatted\n"


def test_kql_file_is_rewritten_whole_keeping_crlf_and_mode(tmp_path: Path) -> None:
    kql = tmp_path / "q.kql"
    kql.write_bytes(b"T|where a==1\r\n|take 1")
    kql.chmod(0o640)
    assert main(["fmt", "--write", str(kql)]) == 0
    assert kql.read_bytes() == b"T\r\n| where a == 1\r\n| take 1\r\n"
    assert stat.S_IMODE(kql.stat().st_mode) == 0o640
    assert main(["fmt", "--check", str(kql)]) == 0
    assert not [p for p in tmp_path.iterdir() if p.name != "q.kql"]  # no temporary file left behind


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rule.yaml"
    path.write_text("id: x\nquery: T|take 1\n", encoding="utf-8")
    before = path.read_bytes()
    assert main(["fmt", "--write", "--check", str(path)]) == 2
    assert "--write and --check cannot be used together" in capsys.readouterr().err
    assert main(["fmt", "--write", "-"]) == 2
    assert main(["fmt", "--write", str(tmp_path / "missing.kql")]) == 2
    assert f"{tmp_path / 'missing.kql'}: cannot read file" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("id: y\nquery: T|take 1\n", encoding="utf-8")
    bad.write_text("id: x\nquery: T | where\n", encoding="utf-8")
    assert main(["fmt", "--write", str(good), str(bad), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["command"] == "fmt" and doc["ok"] is False and doc["reformatted"] == [str(good)]
    assert [(f["file"], f["line"]) for f in doc["findings"]] == [(str(bad), 2)]
    assert main(["fmt", "--write", str(good), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"command": "fmt", "ok": True, "reformatted": [], "findings": []}


# --- generated queries ----------------------------------------------------------

_SPACE = st.sampled_from([" ", "  ", "\t", " \n ", "\n    ", " \t "])
_GAP = st.one_of(st.just(""), _SPACE)


@st.composite
def pipelines(draw: st.DrawFn) -> str:
    """A valid KQL pipeline with whitespace varied between its tokens, blank lines around it and an indented start."""
    def space() -> str:
        return draw(_SPACE)

    def gap() -> str:
        return draw(_GAP)

    def column() -> str:
        return draw(st.sampled_from(["Account", "EventID", "Computer", "['Odd Name']"]))

    operators = [
        lambda: f"where{space()}{column()}{gap()}=={gap()}{draw(st.sampled_from(['4625', chr(34) + 'x y' + chr(34)]))}",
        lambda: f"where{space()}{column()}{space()}has{space()}'ph ish'{space()}or{space()}EventID{gap()}>{gap()}1",
        lambda: f"project{space()}{column()}{gap()},{gap()}Computer",
        lambda: f"summarize{space()}n{gap()}={gap()}count(){space()}by{space()}{column()}",
        lambda: f"extend{space()}x{gap()}={gap()}EventID{gap()}+{gap()}1",
        lambda: f"take{space()}{draw(st.integers(1, 1000))}",
        lambda: f"order{space()}by{space()}{column()}{space()}desc",
    ]
    text = draw(st.sampled_from(["SecurityEvent", "T", "DeviceProcessEvents"]))
    for index in draw(st.lists(st.integers(0, len(operators) - 1), min_size=0, max_size=5)):
        text += gap() + "|" + gap() + operators[index]()
    if draw(st.booleans()):
        text = f"let{space()}limit{gap()}={gap()}5;{gap()}" + text
    lead = draw(st.sampled_from(["", "\n", "\n\n", "  ", "    ", "\n  ", "  \n\t"]))
    trail = draw(st.sampled_from(["", "\n", "\n\n\n", "  \n", " ", "\t\n"]))
    return lead + text + trail


def literal_block(text: str) -> str:
    """``text`` as a literal block with an explicit indentation and the chomping that keeps it exactly."""
    chomping = "-" if not text.endswith("\n") else "+" if text.endswith("\n\n") else ""
    body = text[:-1] if text.endswith("\n") else text
    return f"|2{chomping}\n" + "".join(f"  {line}\n" for line in body.split("\n"))


@settings(max_examples=150, deadline=None)
@given(query=pipelines(), style=st.sampled_from(["literal", "double-quoted"]), crlf=st.booleans())
def test_generated_queries_round_trip(tmp_path_factory: pytest.TempPathFactory, query: str, style: str,
                                      crlf: bool) -> None:
    newline = "\r\n" if crlf else "\n"
    scalar = literal_block(query) if style == "literal" else json.dumps(query)
    prefix, value, suffix = compose(scalar, "" if style == "literal" else "\n", newline, b"")
    path = tmp_path_factory.mktemp("generated") / "rule.yaml"
    path.write_bytes(prefix + value + suffix)
    assert query_of(path.read_bytes(), path) == query  # the test's own encoding is exact
    code = main(["fmt", "--write", str(path)])
    new = path.read_bytes()
    assert code == 0
    assert new.startswith(prefix) and new.endswith(suffix)
    assert query_of(new, path) == format_text(query)
    assert others(new, path) == others(prefix + value + suffix, path)
    assert main(["fmt", "--check", str(path)]) == 0


# --- the Azure-Sentinel corpus ----------------------------------------------------

def _corpus_rules() -> list[Path]:
    if not AZURE_SENTINEL.is_dir():
        return []
    return sorted(p for p in AZURE_SENTINEL.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _outside(text: str) -> tuple[str, str]:
    """The text before the query scalar and after it (from the line break ending a flow scalar's line)."""
    node = parse_yaml(text).nodes[("query",)]
    end = node.end_mark.index
    if node.style not in ("|", ">"):
        breaks = [text.find(b, end) for b in "\r\n" if text.find(b, end) >= 0]
        end = min(breaks) if breaks else len(text)
    return text[: node.start_mark.index], text[end:]


@pytest.mark.skipif(not _corpus_rules(), reason="../shared/corpus/azure-sentinel is not available")
def test_corpus_files_are_rewritten_or_refused_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outcomes: dict[str, list[str]] = {"rewritten": [], "unchanged": [], "refused": [], "skipped": []}
    for index, source in enumerate(_corpus_rules()):
        path = tmp_path / f"{index:03d}-{source.name}"
        shutil.copyfile(source, path)
        before = path.read_bytes()
        try:
            rule = load_rule(path)
        except RuleFileError:  # a file the loader refuses must be refused by --write too
            rule = None
        code = main(["fmt", "--write", str(path)])
        captured = capsys.readouterr()
        after = path.read_bytes()
        if code != 0:
            assert code in (1, 2) and after == before, path
            assert captured.err.startswith(f"{path}:") or captured.err.startswith(f"error: {path}:"), captured.err
            assert "Traceback" not in captured.err
            outcomes["refused"].append(captured.err.splitlines()[0])
            continue
        if rule is None or rule.query is None:
            assert after == before
            outcomes["skipped"].append(path.name)
            continue
        if after == before:
            assert format_text(rule.query) == rule.query
            outcomes["unchanged"].append(path.name)
            continue
        old_text, new_text = before.decode("utf-8-sig"), after.decode("utf-8-sig")
        head, tail = _outside(old_text)
        assert before.startswith(BOM) == after.startswith(BOM)
        assert new_text.startswith(head) and new_text.endswith(tail), path
        rewritten = load_rule(path)
        assert rewritten.query == format_text(rule.query)
        assert {k: v for k, v in rewritten.data.items() if k != "query"} == \
            {k: v for k, v in rule.data.items() if k != "query"}
        outcomes["rewritten"].append(path.name)
    print({kind: len(names) for kind, names in outcomes.items()})
    assert outcomes["rewritten"], outcomes

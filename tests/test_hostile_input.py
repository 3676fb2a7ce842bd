"""Bad input never crashes, hangs or leaks: a catalogue of hostile and broken rule files.

Every case checks that the user sees one of our own errors, with a message and
a position, within bounded time. The README's "Bad input" table lists the same classes.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dac.errors import DacError, RuleFileError
from dac.render import build
from dac.rules.model import load_rule
from dac.rules.yamlfile import parse_yaml
from dac.testing.runner import run_tests
from dac.validate import validate_paths

from conftest import REPO

SEED = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"
SEED_TESTS = SEED.with_name("user-clicked-through-events.tests.yaml")


@pytest.mark.parametrize(
    "text,message",
    [
        ("id: [1\n", "YAML error"),
        ("id: 1\nid: 2\n", "duplicate key 'id' (first defined on line 1)"),
        ("a: &x [1, 2]\nb: *x\n", "anchors (&name) are not allowed"),
        ("a: [" + "[" * 300 + "]" * 300 + "]\n", "nested more than 64 levels deep"),
        ("id: 1\n\tname: x\n", "a tab cannot indent or start a value in YAML; use spaces"),
        ("x" * 1_000_001, "file is larger than 1000000 bytes"),
    ],
)
def test_yaml_problems_are_located_errors(text: str, message: str) -> None:
    start = time.perf_counter()
    with pytest.raises(RuleFileError) as info:
        parse_yaml(text, "rule.yaml")
    assert message in str(info.value) and str(info.value).startswith("rule.yaml")
    assert time.perf_counter() - start < 2


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    start = time.perf_counter()
    with pytest.raises(RuleFileError, match="anchors"):
        parse_yaml("\n".join(lines) + "\n", "bomb.yaml")
    assert time.perf_counter() - start < 1


@pytest.mark.parametrize(
    "content,message",
    [
        (b"id: \xff\xfe\n", "file is not valid UTF-8 (byte 0xff)"),
        (b"- a\n- b\n", "a rule file must be a YAML mapping, found a list"),
        (b"just text\n", "a rule file must be a YAML mapping, found a str"),
        (b"", "a rule file must be a YAML mapping, found an empty file"),
    ],
)
def test_unreadable_rule_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "rule.yaml"
    path.write_bytes(content)
    with pytest.raises(RuleFileError, match=re.escape(message)):
        load_rule(path)
    (finding,) = validate_paths([tmp_path])
    assert message in finding.message


def test_parallel_builds_do_not_corrupt_each_other(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    errors: list[BaseException] = []

    def one_build() -> None:
        try:
            build([str(SEED)], out)
        except DacError:
            pass  # losing the race to replace the folder is an error, not corruption
        except BaseException as exc:  # pragma: no cover - what the test hunts for
            errors.append(exc)

    threads = [threading.Thread(target=one_build) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "defender/user-clicked-through-events.json", "index.json", "sentinel/user-clicked-through-events.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["dist"]  # no staging folders left behind


# ------------------------------------------------------------------ fuzzing rule files and fixtures

_RULE = SEED.read_text()
_TESTS = SEED_TESTS.read_text()
_PIECES = ["\n", ": ", "- ", "[", "]", "{", "}", "'", '"', "&a ", "*a", "\t", "|", ">", "#", "null", "~", "1e999",
           "now-", "2024-13-45", "true", "version: 1.0", "query: ", "| where", "!!python/object", "\x00", "é"]


@st.composite
def mutated(draw, text: str) -> str:
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.one_of(st.sampled_from(_PIECES), st.text(max_size=4)))
        if action == "insert":
            text = text[:position] + piece + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 30)):]
        else:
            text = text[:position] + piece + text[position + len(piece):]
    return text


def _exercise(folder: Path) -> None:
    """validate, test and build: only findings or DacError may come out."""
    for finding in validate_paths([folder]):
        assert isinstance(finding, DacError) and finding.message
    report = run_tests([str(folder)])
    assert all(result.details or result.status == "PASS" for result in report.results)
    try:
        build([str(folder)], folder.parent / "out")
    except DacError as error:
        assert error.message


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rule=mutated(_RULE))
def test_fuzzed_rule_files_fail_cleanly(tmp_path_factory: pytest.TempPathFactory, rule: str) -> None:
    folder = tmp_path_factory.mktemp("rule")
    (folder / "rule.yaml").write_text(rule, encoding="utf-8", errors="surrogatepass")
    shutil.copy(SEED_TESTS, folder / "rule.tests.yaml")
    _exercise(folder)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(tests=mutated(_TESTS))
def test_fuzzed_fixtures_fail_cleanly(tmp_path_factory: pytest.TempPathFactory, tests: str) -> None:
    folder = tmp_path_factory.mktemp("tests")
    shutil.copy(SEED, folder / "rule.yaml")
    (folder / "rule.tests.yaml").write_text(tests, encoding="utf-8", errors="surrogatepass")
    _exercise(folder)


def test_very_long_query_parses_in_bounded_time() -> None:
    from dac.kql import parse

    query = "T\n" + "".join(f'| where Col{i % 50} == "value {i}"\n' for i in range(20_000))
    start = time.perf_counter()
    tree = parse(query)
    assert len(tree.result.operators) == 20_000
    assert time.perf_counter() - start < 20


def test_string_blowup_is_a_clean_error() -> None:
    from dac.kql import evaluate
    from dac.kql.errors import KqlRuntimeError

    with pytest.raises(KqlRuntimeError, match="longer than 1048576 characters"):
        evaluate('print strrep("abc", 1000000000)', {})

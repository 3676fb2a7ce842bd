"""Parallel validate and test give exactly what one process gives: same findings, same order."""

from __future__ import annotations

import pickle
import uuid
from pathlib import Path

import pytest

from dac.errors import DacError, DacWarning, Location, RuleFileError
from dac.kql.errors import KqlSyntaxError
from dac.parallel import MIN_PARALLEL_ITEMS, ordered_map
from dac.testing.runner import run_tests
from dac.validate import validate_paths

from conftest import REPO

SEED = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"
SEED_ID = "f075d4c4-cf76-4e5d-9c2d-9ed524286316"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough rules to go parallel, with a duplicate id, a broken file, a failing case and a bad query."""
    folder = tmp_path_factory.mktemp("library")
    tests = SEED.with_name("user-clicked-through-events.tests.yaml").read_text(encoding="utf-8")
    text = SEED.read_text(encoding="utf-8")
    for number in range(MIN_PARALLEL_ITEMS + 6):
        rule_id = SEED_ID if number in (3, 40) else str(uuid.UUID(int=number + 1))
        body = text.replace(SEED_ID, rule_id)
        if number == 7:
            body = body.replace("ThreatTypes has", "ThreatType has")
        (folder / f"rule{number:03d}.yaml").write_text(body, encoding="utf-8")
        case_text = tests.replace("NetworkMessageId: m-1, ThreatTypes: Phish}",
                                  "NetworkMessageId: m-9, ThreatTypes: Phish}") if number == 11 else tests
        (folder / f"rule{number:03d}.tests.yaml").write_text(case_text, encoding="utf-8")
    (folder / "broken.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    return folder


def _shape(findings: list[DacError]) -> list[tuple]:
    return [(type(f).__name__, str(f.location), f.message, f.detail) for f in findings]


def test_validate_in_parallel_matches_one_process(library: Path) -> None:
    serial = validate_paths([library], jobs=1)
    parallel = validate_paths([library], jobs=2)
    assert _shape(parallel) == _shape(serial)
    messages = " ".join(f.message for f in serial)
    assert "duplicate id" in messages and "ThreatType" in messages and "YAML error" in messages


def test_tests_in_parallel_match_one_process(library: Path) -> None:
    serial = run_tests([str(library)], jobs=1)
    seen: list[int] = []
    parallel = run_tests([str(library)], jobs=2, progress=lambda done, total, path: seen.append(done))
    assert [r.render() for r in parallel.results] == [r.render() for r in serial.results]
    assert serial.counts()["FAIL"] >= 1 and serial.counts()["ERROR"] >= 1
    assert seen == list(range(len(seen))) and len(seen) == MIN_PARALLEL_ITEMS + 7


def test_small_runs_stay_in_process() -> None:
    assert list(ordered_map(abs, [-1, -2, 3], jobs=4)) == [1, 2, 3]


def test_without_a_worker_pool_the_work_runs_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    class NoPool:
        def Pool(self, jobs: int) -> None:  # noqa: N802 - the multiprocessing context's name
            raise OSError("no semaphores")

    monkeypatch.setattr(multiprocessing, "get_context", lambda method: NoPool())
    assert list(ordered_map(abs, list(range(-100, 0)), jobs=2)) == list(range(100, 0, -1))


@pytest.mark.parametrize("error", [
    DacError("m", Location("a.yaml", 3, 4), detail="caret"),
    DacWarning("w", Location("b.yaml", 1, 1)),
    RuleFileError("bad", Location("c.yaml", 2)),
    KqlSyntaxError("expected ')'", 2, 5, source="T | where (x"),
])
def test_findings_survive_the_trip_between_processes(error: DacError) -> None:
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert (back.message, back.location, back.detail, str(back)) == (error.message, error.location, error.detail,
                                                                     str(error))
    if isinstance(error, KqlSyntaxError):
        assert back.caret() == error.caret()

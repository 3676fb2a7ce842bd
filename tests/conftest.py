"""Shared test helpers: where the repository and the ../shared material are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def corpus_queries() -> list[dict]:
    path = CORPUS / "queries.jsonl"
    if not path.is_file():
        pytest.skip("../shared/corpus/queries.jsonl is not available")
    return load_jsonl(path)


@pytest.fixture(scope="session")
def invalid_queries() -> list[dict]:
    path = CORPUS / "queries_invalid.jsonl"
    if not path.is_file():
        pytest.skip("../shared/corpus/queries_invalid.jsonl is not available")
    return load_jsonl(path)

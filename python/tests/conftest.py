"""Shared fixtures: the repository's committed parity fixtures (tests/fixtures)."""
import gzip
import json
import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"


def _jsonl_gz(name):
    with gzip.open(FIXTURES / name, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="session")
def rouge_rows():
    """rouge-score 0.1.2 outputs (eval/reference/gen_rouge_fixtures.py), 5,675 pairs."""
    return _jsonl_gz("rouge_parity.jsonl.gz")


@pytest.fixture(scope="session")
def bleu_rows():
    """sacreBLEU 2.6.0 sentence-level outputs, one row per hypothesis."""
    return _jsonl_gz("sacrebleu_parity.jsonl.gz")


@pytest.fixture(scope="session")
def bleu_corpus():
    """sacreBLEU 2.6.0 corpus-level outputs over groups of the sentence rows."""
    with open(FIXTURES / "sacrebleu_corpus.json", encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def summeval_rows():
    with open(FIXTURES / "summeval-sample.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="session")
def kpeval_bin():
    """The kpeval CLI (KPEVAL_BIN, or the repository's release build); None when absent."""
    exe = os.environ.get("KPEVAL_BIN") or str(REPO / "target" / "release" / "kpeval")
    return exe if os.access(exe, os.X_OK) else None

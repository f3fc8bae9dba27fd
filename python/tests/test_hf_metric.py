"""python/kpeval_metric.py loads with Hugging Face `evaluate` (skipped when it is not installed)."""
import pathlib

import pytest

evaluate = pytest.importorskip("evaluate")

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "kpeval_metric.py"


def test_metric_script_matches_rouge_score():
    from rouge_score import rouge_scorer as ref

    metric = evaluate.load(str(SCRIPT))
    preds = ["the cat sat on the mat", "hello there general kenobi"]
    refs = ["a cat sat on a mat", "hello there"]
    out = metric.compute(predictions=preds, references=refs, use_aggregator=False, use_stemmer=True)
    sc = ref.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)
    want = [sc.score(r, p) for r, p in zip(refs, preds)]
    for t in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
        assert out[t] == [w[t].fmeasure for w in want]
    multi = metric.compute(predictions=preds, references=[[r, "x"] for r in refs])
    assert multi["rouge1"] == pytest.approx(sum(w["rouge1"].fmeasure for w in want) / 2)

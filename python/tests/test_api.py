"""kpeval.score / evaluate / compare / meta_eval."""
import json

import pytest

import kpeval
from kpeval import rouge_scorer

ARTICLE = {
    "id": "venezuela",
    "article": "Maduro said Venezuela is ready to talk to the United States about drug "
    "trafficking. The CIA carried out a drone strike last week.",
    "key_points": [
        "Maduro is ready for talks with the U.S. on drug trafficking.",
        "The CIA conducted a drone strike last week.",
    ],
    "systems": {
        "good": "Maduro is open to talks with the U.S. on drugs. The CIA struck last week.",
        "weak": "Venezuela has large oil reserves.",
    },
}


def test_evaluate_in_memory():
    records, aggregate = kpeval.evaluate([ARTICLE], metrics="rouge,kp-rouge", bootstrap=200)
    assert len(records) == 2
    assert {r["system"] for r in records} == {"good", "weak"}
    assert all(r["error"] is None for r in records)
    assert {"signature", "records", "errors", "systems", "stats"} <= set(aggregate)
    assert aggregate["records"] == 2
    good = aggregate["systems"]["good"]["metrics"]
    assert {"mean", "ci_low", "ci_high"} <= set(good["rouge1.f1"])
    assert good["kp_rouge.coverage"]["mean"] > aggregate["systems"]["weak"]["metrics"]["kp_rouge.coverage"]["mean"]
    assert aggregate["stats"]["bootstrap_samples"] == 200


def _summeval_rows(rows):
    return [
        {"id": r["article_id"], "system": r["summary_id"], "article": r["article"],
         "key_points": r["key_points"], "summary": r["summary"],
         "relevance": r["relevance"], "coherence": r["coherence"]}
        for r in rows
    ]


def test_evaluate_dataframe_with_system_column_and_progress(summeval_rows):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(_summeval_rows(summeval_rows))
    seen = []
    records, aggregate = kpeval.evaluate(df, metrics=["rouge", "bleu"], bootstrap=100, progress=seen.append)
    assert len(records) == len(df)
    assert set(aggregate["systems"]) == set(df["system"])
    assert all(isinstance(n, int) and n > 0 for n in seen) and sum(seen) >= 1
    # human judgments travel in each record's meta
    assert "relevance" in records[0]["meta"]
    # the record's ROUGE is rouge-score's against the Key Developments as lines
    r = records[0]
    s = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True).score("\n".join(r["key_points"]), r["summary"]["text"] if isinstance(r["summary"], dict) else r["summary"])
    assert r["scores"]["rouge1"]["f1"] == pytest.approx(s["rouge1"].fmeasure)


def test_evaluate_same_seed_same_aggregate():
    a = kpeval.evaluate([ARTICLE], bootstrap=50, seed=7)[1]
    b = kpeval.evaluate([ARTICLE], bootstrap=50, seed=7)[1]
    assert a == b


def test_score():
    out = kpeval.score(
        ["Maduro is open to talks with the U.S.", "Oil."],
        [ARTICLE["key_points"], "The CIA conducted a drone strike last week.\nSecond point."],
        metrics="rouge,kp-rouge",
    )
    assert len(out) == 2
    assert out[0]["rouge1"]["f1"] > out[1]["rouge1"]["f1"]
    assert "kp_rouge" in out[0]


def test_compare(summeval_rows):
    rows = _summeval_rows(summeval_rows)
    records, _ = kpeval.evaluate(rows, metrics="rouge", bootstrap=50)
    systems = sorted({r["system"] for r in records})
    c = kpeval.compare(records, baseline=systems[1], metrics=["rouge1.f1"], bootstrap=100, ar_trials=100)
    assert c["baseline"] == systems[1]
    assert "rouge1.f1" in c["tests"]
    with pytest.raises(kpeval.KpevalError, match="baseline"):
        kpeval.compare(records, baseline="nope", bootstrap=10, ar_trials=10)
    with pytest.raises(ValueError, match="no record has"):
        kpeval.compare(records, metrics=["nope.f1"], bootstrap=10, ar_trials=10)


def test_meta_eval_through_the_cli(summeval_rows, kpeval_bin):
    if kpeval_bin is None:
        pytest.skip("kpeval CLI not built (target/release/kpeval) and KPEVAL_BIN unset")
    records, _ = kpeval.evaluate(_summeval_rows(summeval_rows), metrics="rouge", bootstrap=50)
    out = kpeval.meta_eval(records, human=["relevance"], metrics=["rouge1.f1"], bootstrap=50, kpeval_bin=kpeval_bin)
    assert out["results"] and out["results"][0]["human"] == "relevance"


def test_bad_arguments(monkeypatch):
    with pytest.raises(ValueError):
        kpeval.evaluate([ARTICLE], bootstrap=0)
    with pytest.raises(ValueError):
        kpeval.evaluate([ARTICLE], metrics="")
    with pytest.raises(ValueError):
        kpeval.evaluate([ARTICLE], metrics="rouge", rouge_types=["rouge0"])
    with pytest.raises(ValueError):
        kpeval.evaluate([ARTICLE], metrics="rouge,no-such-metric")
    with pytest.raises(TypeError):
        kpeval.evaluate("not rows")
    with pytest.raises(ValueError, match="differ in length"):
        kpeval.score(["a"], [])
    monkeypatch.delenv("KPEVAL_BIN", raising=False)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(kpeval.KpevalError, match="KPEVAL_BIN"):
        kpeval.evaluate([ARTICLE], metrics="kp-cover")


def test_progress_exception_propagates():
    def boom(n):
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        kpeval.evaluate([ARTICLE], metrics="rouge", bootstrap=10, progress=boom)


def test_failed_input_is_a_record_not_an_exception():
    bad = {"id": "empty", "article": "Some text.", "summary": "A summary."}  # no key points
    with pytest.warns(RuntimeWarning):
        out = kpeval.score(["A summary."], [[]], metrics="rouge")
    assert out == [None]
    records, _ = kpeval.evaluate([bad], metrics="rouge", bootstrap=10)
    assert len(records) == 1 and records[0]["error"]


def test_evaluate_hf_dataset(summeval_rows):
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_list(_summeval_rows(summeval_rows)[:12])
    records, aggregate = kpeval.evaluate(ds, metrics="rouge", bootstrap=20)
    assert len(records) == 12
    assert aggregate["records"] == 12


def test_cli_route_gives_the_same_records(summeval_rows, kpeval_bin):
    if kpeval_bin is None:
        pytest.skip("kpeval CLI not built (target/release/kpeval) and KPEVAL_BIN unset")
    rows = _summeval_rows(summeval_rows)[:10]
    a, agg_a = kpeval.evaluate(rows, metrics="rouge,bleu,kp-rouge", bootstrap=50)
    b, agg_b = kpeval.evaluate(rows, metrics="rouge,bleu,kp-rouge", bootstrap=50, use_cli=True, kpeval_bin=kpeval_bin)
    assert [r["scores"] for r in a] == [r["scores"] for r in b]
    assert agg_a["systems"] == agg_b["systems"]

"""kpeval.rouge_scorer against rouge-score 0.1.2: the committed fixture and the live library."""
import threading
import time

import pytest
from rouge_score import rouge_scorer as ref_scorer

from kpeval import rouge_scorer

ALL = ["rouge1", "rouge2", "rougeL", "rougeLsum"]


def _scorers(cache, types, stem):
    key = (tuple(types), stem)
    if key not in cache:
        cache[key] = rouge_scorer.RougeScorer(types, use_stemmer=stem)
    return cache[key]


def test_fixture_parity_bit_exact(rouge_rows):
    cache = {}
    checked = 0
    for row in rouge_rows:
        types = list(row["scores"])
        got = _scorers(cache, types, row["use_stemmer"]).score(row["target"], row["prediction"])
        for t in types:
            assert list(got[t]) == row["scores"][t], (t, row["target"][:80])
            checked += 1
    assert checked > 20000


def test_live_parity_with_rouge_score(rouge_rows):
    for stem in (False, True):
        ours = rouge_scorer.RougeScorer(ALL + ["rouge3"], use_stemmer=stem)
        theirs = ref_scorer.RougeScorer(ALL + ["rouge3"], use_stemmer=stem)
        for row in rouge_rows[::9]:
            a = ours.score(row["target"], row["prediction"])
            b = theirs.score(row["target"], row["prediction"])
            assert a.keys() == b.keys()
            for t in a:
                assert tuple(a[t]) == tuple(b[t]), (t, row["target"][:80])
                assert a[t].fmeasure == b[t].fmeasure


def test_score_is_a_namedtuple_like_rouge_score():
    s = rouge_scorer.RougeScorer(["rouge1"]).score("a b c", "a b d")["rouge1"]
    assert s._fields == ("precision", "recall", "fmeasure")
    assert s.precision == s[0]


def test_score_multi_matches_rouge_score(rouge_rows):
    ours = rouge_scorer.RougeScorer(ALL, use_stemmer=True)
    theirs = ref_scorer.RougeScorer(ALL, use_stemmer=True)
    for i in range(0, 600, 7):
        targets = [rouge_rows[i]["target"], rouge_rows[i + 1]["target"], rouge_rows[i + 2]["target"]]
        pred = rouge_rows[i]["prediction"]
        a, b = ours.score_multi(targets, pred), theirs.score_multi(targets, pred)
        for t in ALL:
            assert tuple(a[t]) == tuple(b[t])


def test_batch_equals_single_calls(rouge_rows):
    scorer = rouge_scorer.RougeScorer(ALL, use_stemmer=True)
    targets = [r["target"] for r in rouge_rows]
    preds = [r["prediction"] for r in rouge_rows]
    batch = scorer.score_batch(targets, preds)
    assert len(batch) == len(targets)
    assert batch == [scorer.score(t, p) for t, p in zip(targets, preds)]
    assert scorer.score_batch([], []) == []


def test_score_batch_releases_the_gil(rouge_rows):
    """A pure-Python thread keeps running while score_batch works (it could not if the call
    held the GIL: the thread would not be scheduled at all until it returned)."""
    scorer = rouge_scorer.RougeScorer(ALL, use_stemmer=True)
    targets = [r["target"] * 4 for r in rouge_rows] * 2
    preds = [r["prediction"] * 4 for r in rouge_rows] * 2
    ticks = []
    stop = threading.Event()
    started = threading.Event()

    def spin():
        started.set()
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    th = threading.Thread(target=spin)
    th.start()
    started.wait()
    try:
        time.sleep(0.01)
        t0 = time.perf_counter()
        scorer.score_batch(targets, preds)
        t1 = time.perf_counter()
    finally:
        stop.set()
        th.join()
    during = [t for t in ticks if t0 < t < t1]
    # The inner part (after argument conversion) takes well over 100 ms; with the GIL held the
    # spinning thread would record nothing inside [t0, t1] besides the conversion windows.
    assert t1 - t0 > 0.1, "batch too small to observe"
    assert len(during) >= 10, f"only {len(during)} ticks in {t1 - t0:.3f}s: GIL held?"


def test_tokenize_matches_rouge_score():
    from rouge_score import tokenize as ref_tok
    from nltk.stem import porter

    text = "The quick brown foxes were running, İstanbul's KELVIN \u212a 3.5%!"
    assert rouge_scorer.tokenize(text) == ref_tok.tokenize(text, None)
    assert rouge_scorer.tokenize(text, True) == ref_tok.tokenize(text, porter.PorterStemmer())


@pytest.mark.parametrize("types", [["rouge0"], ["rouge10"], ["rougeX"], ["ROUGE1"], [""]])
def test_bad_rouge_types_raise_value_error(types):
    with pytest.raises(ValueError, match="invalid rouge type"):
        rouge_scorer.RougeScorer(types)


def test_bad_inputs():
    s = rouge_scorer.RougeScorer(["rouge1"])
    with pytest.raises(ValueError, match="differ in length"):
        s.score_batch(["a"], ["a", "b"])
    with pytest.raises(TypeError):
        s.score_batch("abc", "abc")
    with pytest.raises(TypeError):
        s.score_batch(["a", None], ["a", "b"])
    with pytest.raises(TypeError):
        s.score(None, "a")
    with pytest.raises(ValueError):
        rouge_scorer.RougeScorer(["rouge1"], tokenizer=object())
    with pytest.raises(ValueError):
        s.score_multi(["a"], "a", agg="median")

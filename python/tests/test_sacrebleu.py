"""kpeval.sacrebleu against sacreBLEU 2.6.0: the committed fixtures and the live library."""
import pytest
import sacrebleu as ref

from kpeval import sacrebleu


def test_live_sentence_parity(bleu_rows):
    for row in bleu_rows:
        kw = dict(lowercase=row["lowercase"], tokenize=row["tokenize"])
        a = sacrebleu.sentence_bleu(row["hyp"], row["refs"], **kw)
        b = ref.sentence_bleu(row["hyp"], row["refs"], **kw)
        assert a.score == b.score, row["id"]
        assert str(a) == str(b)
        assert (a.counts, a.totals, a.sys_len, a.ref_len) == (b.counts, b.totals, b.sys_len, b.ref_len)
        if row["tokenize"] == "13a" and not row["lowercase"]:
            c = sacrebleu.sentence_chrf(row["hyp"], row["refs"])
            d = ref.sentence_chrf(row["hyp"], row["refs"])
            assert c.score == d.score, row["id"]
            assert str(c) == str(d)


def test_fixture_sentence_bleu_and_chrf(bleu_rows):
    for row in bleu_rows:
        lc, tok = row["lowercase"], row["tokenize"]
        want = row["bleu"]
        got = sacrebleu.corpus_bleu([row["hyp"]], [[r] for r in row["refs"]], lowercase=lc, tokenize=tok)
        assert repr(got.score) == want["exp_noeff"] or got.score == float(want["exp_noeff"]), row["id"]
        for smooth in ("none", "floor", "add-k"):
            g = sacrebleu.sentence_bleu(row["hyp"], row["refs"], smooth_method=smooth, lowercase=lc, tokenize=tok)
            assert g.score == float(want[smooth]), (row["id"], smooth)
        refs = [[r] for r in row["refs"]]
        assert sacrebleu.corpus_chrf([row["hyp"]], refs, lowercase=lc).score == float(row["chrf"]["score"])
        assert sacrebleu.corpus_chrf([row["hyp"]], refs, word_order=2, lowercase=lc).score == float(row["chrfpp"]["score"])
        assert sacrebleu.corpus_chrf([row["hyp"]], refs, eps_smoothing=True, lowercase=lc).score == float(row["chrf_eps"]["score"])
        assert sacrebleu.corpus_chrf([row["hyp"]], refs, remove_whitespace=False, lowercase=lc).score == float(row["chrf_ws"]["score"])


def _streams(rows):
    n = max(len(r["refs"]) for r in rows)
    return [[r["refs"][k] if k < len(r["refs"]) else None for r in rows] for k in range(n)]


def test_corpus_parity(bleu_rows, bleu_corpus):
    by_id = {r["id"]: r for r in bleu_rows}
    assert bleu_corpus["sacrebleu_version"] == sacrebleu.SACREBLEU_VERSION == ref.__version__
    for g in bleu_corpus["groups"]:
        rows = [by_id[i] for i in g["ids"]]
        hyps, streams = [r["hyp"] for r in rows], _streams(rows)
        lc, tok = g["lowercase"], g["tokenize"]
        for name, want in g["bleu"].items():
            smooth = "exp" if name.startswith("exp") else name
            eff = name == "exp_eff"
            got = sacrebleu.corpus_bleu(hyps, streams, smooth_method=smooth, lowercase=lc, tokenize=tok, use_effective_order=eff)
            assert got.score == float(want["score"]), (g["name"], name)
            assert got.signature == want["signature"], (g["name"], name)
            assert got.counts + got.totals == want["stats"][2:]
            theirs = ref.corpus_bleu(hyps, streams, smooth_method=smooth, lowercase=lc, tokenize=tok, use_effective_order=eff)
            assert str(got) == str(theirs)
        variants = {
            "chrf": {}, "chrfpp": {"word_order": 2}, "chrf_eps": {"eps_smoothing": True},
            "chrf_ws": {"remove_whitespace": False},
        }
        for name, kw in variants.items():
            got = sacrebleu.corpus_chrf(hyps, streams, lowercase=lc, **kw)
            assert got.score == float(g[name]["score"]), (g["name"], name)
            assert got.signature == g[name]["signature"], (g["name"], name)
            if not lc:
                theirs = ref.corpus_chrf(hyps, streams, **kw)
                assert got.score == theirs.score
                assert str(got) == str(theirs)


def test_format_like_sacrebleu():
    hyps = ["The cat sat on the mat.", "It rained all day in Paris."]
    refs = [["A cat sat on the mat.", "It was raining all day in Paris."]]
    a = sacrebleu.corpus_bleu(hyps, refs)
    metric = ref.BLEU()
    b = metric.corpus_score(hyps, refs)
    assert a.format(width=4) == b.format(width=4)
    assert a.format(score_only=True) == b.format(score_only=True)
    sig = metric.get_signature().format()
    assert a.signature == sig
    assert a.format(signature=sig) == b.format(signature=sig)


def test_bad_inputs():
    with pytest.raises(TypeError):
        sacrebleu.corpus_bleu("a hypothesis", [["a ref"]])
    with pytest.raises(TypeError):
        sacrebleu.corpus_bleu(["a"], ["a ref"])
    with pytest.raises(ValueError, match="has 2 lines"):
        sacrebleu.corpus_bleu(["a"], [["x", "y"]])
    with pytest.raises(ValueError, match="tokenize"):
        sacrebleu.corpus_bleu(["a"], [["a"]], tokenize="intl")
    with pytest.raises(ValueError, match="smooth_method"):
        sacrebleu.corpus_bleu(["a"], [["a"]], smooth_method="magic")
    with pytest.raises(ValueError):
        sacrebleu.corpus_bleu(["a"], [])
    with pytest.raises(TypeError):
        sacrebleu.sentence_bleu(None, ["a"])
    with pytest.raises(ValueError):
        sacrebleu.corpus_chrf(["a"], [["a"]], char_order=0, word_order=0)

#!/usr/bin/env python3
"""Generate parity fixtures for kpeval's BLEU / chrF / chrF++ / SQuAD token-F1.

Run (deterministic, fixed seed):

    ~/.cache/kpeval/ref-venv/bin/python eval/reference/gen_sacrebleu_fixtures.py

The reference implementations are sacreBLEU 2.6.0 (the real package, called
through its public API and, for the raw sufficient statistics, through
`Metric._extract_corpus_statistics`, which is exactly what `sentence_score` /
`corpus_score` use) and a verbatim copy of the official SQuAD v1.1 evaluation
functions (below).

Inputs: real (hypothesis, reference) pairs from /work/shared/data (FRANK
CNN/DM 250 x 5 systems, SummEval 1600, CNN/DM test 11490 pointer-gen-cov),
plus perturbed real pairs and hand-written edge cases (non-ASCII, numbers,
entities, empty strings, odd whitespace ...).

Outputs (written next to the Rust tests):

* tests/fixtures/sacrebleu_parity.jsonl.gz   one JSON record per pair
* tests/fixtures/sacrebleu_corpus.json       corpus-level results over groups
                                             of pairs (referenced by id)
* tests/fixtures/python_unicode.json         the Python 3.11 / Unicode tables
                                             the metrics depend on (str.isspace,
                                             re `\\w`, str.lower per code point)
"""

import gzip
import json
import logging
import random
import re
import string
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import sacrebleu
from sacrebleu.metrics import BLEU, CHRF

SEED = 20240611
DATA = Path("/work/shared/data")
ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures"

assert sacrebleu.__version__ == "2.6.0", sacrebleu.__version__
# silence "recommended to enable effective_order" / "forgot to detokenize" warnings
logging.getLogger("sacrebleu").setLevel(logging.ERROR)


# ---------------------------------------------------------------------------
# Official SQuAD v1.1 evaluation functions (verbatim copy of
# https://github.com/allenai/bi-att-flow/blob/master/squad/evaluate-v1.1.py,
# the script distributed with SQuAD v1.1).
# ---------------------------------------------------------------------------
def normalize_answer(s):
    """Lower text and remove punctuation, articles and extra whitespace."""
    def remove_articles(text):
        return re.sub(r'\b(a|an|the)\b', ' ', text)

    def white_space_fix(text):
        return ' '.join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def f1_score(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    f1 = (2 * precision * recall) / (precision + recall)
    return f1


def exact_match_score(prediction, ground_truth):
    return (normalize_answer(prediction) == normalize_answer(ground_truth))


def metric_max_over_ground_truths(metric_fn, prediction, ground_truths):
    scores_for_ground_truths = []
    for ground_truth in ground_truths:
        score = metric_fn(prediction, ground_truth)
        scores_for_ground_truths.append(score)
    return max(scores_for_ground_truths)
# --------------------------- end of verbatim copy ---------------------------


def squad_prf(prediction, ground_truth):
    """Precision and recall as computed inside `f1_score` (same formulas)."""
    p_toks = normalize_answer(prediction).split()
    g_toks = normalize_answer(ground_truth).split()
    num_same = sum((Counter(p_toks) & Counter(g_toks)).values())
    if num_same == 0:
        return 0.0, 0.0
    return 1.0 * num_same / len(p_toks), 1.0 * num_same / len(g_toks)


def tokenf1_record(hyp, refs):
    f1 = metric_max_over_ground_truths(f1_score, hyp, refs)
    # kpeval reports P/R of the first reference attaining the max (Python max()
    # returns the first maximal element).
    scores = [f1_score(hyp, r) for r in refs]
    best = scores.index(max(scores))
    p, r = squad_prf(hyp, refs[best])
    assert scores[best] == f1
    em = metric_max_over_ground_truths(exact_match_score, hyp, refs)
    return {"f1": float(f1), "precision": p, "recall": r, "em": bool(em),
            "norm_hyp": normalize_answer(hyp)}


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------
def as_list(kp):
    if isinstance(kp, str):
        kp = json.loads(kp)
    assert isinstance(kp, list) and all(isinstance(x, str) for x in kp), type(kp)
    return kp


def load_jsonl(path):
    op = gzip.open if str(path).endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


SYNTHETIC = [
    # (hyp, [refs], note)
    ("", ["The cat sat on the mat."], "empty hypothesis"),
    ("   ", ["The cat sat on the mat."], "whitespace-only hypothesis"),
    ("The cat sat on the mat.", [""], "empty reference"),
    ("", [""], "both empty"),
    ("The cat sat on the mat.", ["The cat sat on the mat."], "identical"),
    ("cat", ["cat"], "one token"),
    ("a b", ["a b c"], "short"),
    ("It costs $3.50, i.e. 3.5% of 1,000,000 (approx.) on 12-05-2019.",
     ["The price was $3.50 -- about 3.5 % of 1,000,000 -- on 12-05-2019 ."], "numbers"),
    ("Values: 1.5.2, 3,4,5 and .5 or 5. or ,7 or x,y.z a..b c,,d 1-2-3 -4 4- x-1 1-x",
     ["Values 1.5.2 3,4,5 .5 5. ,7 x,y.z a..b c,,d 1-2-3 -4 4- x-1 1-x"], "period/comma/dash rules"),
    ("a well-known, state-of-the-art 10-year-old - -- --- model", ["well-known state-of-the-art model"], "hyphens"),
    ("He said \"yes\" and 'no' and `maybe' and ``really''.",
     ["He said “yes” and ‘no’ and «maybe» and „really“."], "quotes ascii vs curly"),
    ("“Curly” ‘quotes’ aren’t split — nor is the em–dash…",
     ["\"Curly\" 'quotes' aren't split - nor is the em-dash..."], "curly punctuation"),
    ("Tom &amp; Jerry &quot;rock&quot; &lt;b&gt; &amp;quot; &AMP; &#39;",
     ["Tom & Jerry \"rock\" <b> &quot; &AMP; '"], "entities"),
    ("line one-\ncontinued\nline two <skipped> end\r\n", ["line onecontinued line two end"], "13a newline and skipped"),
    ("tabs\tand\x0bvertical\x0cform\x1cfile\x1dgroup\x1erecord\x1funit sep",
     ["tabs and vertical form file group record unit sep"], "python whitespace incl. \\x1c-\\x1f"),
    ("nbsp\u00a0ideographic\u3000thin\u2009narrow\u202fline\u2028para\u2029nel\u0085ogham\u1680end",
     ["nbsp ideographic thin narrow line para nel ogham end"], "unicode whitespace"),
    ("zero\u200bwidth\u200cjoiners\u200d and\ufeffbom", ["zero width joiners and bom"], "zero-width (not whitespace)"),
    ("trailing spaces and tabs   \t ", ["trailing spaces and tabs"], "rstrip"),
    ("Café naïve résumé Zürich São Paulo Ångström façade coöperate",
     ["cafe naive resume Zurich Sao Paulo Angstrom facade cooperate"], "accents"),
    ("Cafe\u0301 decomposed vs Caf\u00e9 composed, the\u0301 a\u0308", ["Café composed café"], "combining marks"),
    ("İstanbul'da IŞIK ılık İ I ı i", ["istanbul'da ışık ılık i̇ ı ı i"], "Turkish dotted/dotless i"),
    ("Die Straße ist GROSS, ẞ und ß, STRASSE", ["die strasse ist gross ß ß strasse"], "German sharp s"),
    ("ΟΔΥΣΣΕΥΣ ΣΟΦΟΣ Σ ΑΣ. ΑΣ'Α ΣΑ", ["οδυσσευς σοφος σ ας. ας'α σα"], "Greek final sigma"),
    ("北京是中国的首都。我爱北京天安门！", ["北京是中华人民共和国的首都，我爱天安门。"], "CJK"),
    ("東京 2020年、オリンピック。", ["東京オリンピック 2020 年"], "Japanese"),
    ("서울은 한국의 수도입니다.", ["한국의 수도는 서울이다."], "Korean"),
    ("Москва — столица России. «Цитата»", ["Столица России — Москва."], "Cyrillic"),
    ("مرحبا بالعالم، هذا اختبار.", ["مرحبا بالعالم"], "Arabic"),
    ("नमस्ते दुनिया। यह एक परीक्षण है।", ["नमस्ते दुनिया"], "Devanagari"),
    ("Emoji 😀👍🏽 and 🇺🇸 flags 👨‍👩‍👧", ["Emoji 😀 👍🏽 flags"], "astral plane"),
    ("(hi) [there] {you} <x> .start end. ,comma comma, 'q' \"dq\" ( ) . , ;;",
     ["hi there you x start end comma comma q dq"], "chrF++ punctuation split"),
    ("a . b , c ! d ? e : f ; g", [". , ! ? : ;"], "single-char punctuation words"),
    ("!!! ??? ... ,,, -- ''", ["!!! ??? ... ,,, -- ''"], "punctuation only"),
    ("Mr. Smith vs. Dr. Jones, Ph.D., U.S.A. e.g. i.e.", ["Mr Smith vs Dr Jones PhD USA eg ie"], "abbreviations"),
    ("The THE the ThE a A an An AN", ["the a an"], "articles for SQuAD"),
    ("an apple a day the end", ["an_apple a-day the.end"], "articles boundaries"),
    ("email@example.com http://x.y/z?a=1&b=2#frag", ["email example com http x y z a 1 b 2 frag"], "urls"),
    ("C++ C# F# .NET node.js 3.14159 2,5 1.000,00", ["C++ C# .NET node.js"], "tech tokens"),
    ("tab\tseparated\ttokens\t", ["tab separated tokens"], "tabs"),
    ("repeat repeat repeat repeat repeat", ["repeat repeat"], "clipping"),
    ("the the the the the the the", ["the cat is on the mat"], "clipping 2"),
    ("one two three four five six", ["six five four three two one"], "reordered"),
    ("x", ["x y z w v u t s r"], "very short hyp"),
    ("x y z w v u t s r q p o n m", ["x"], "very short ref"),
    ("ǅemal ǈ ǋ Ǳ", ["ǆemal ǉ ǌ ǳ"], "titlecase digraphs"),
    ("ＦＵＬＬＷＩＤＴＨ　ｔｅｘｔ １２３", ["fullwidth text 123"], "fullwidth"),
    ("ﬁnance ﬂow Ⅻ ⅻ ① ² ½", ["finance flow XII xii 1 2 1/2"], "compatibility chars"),
    ("Ⓐ ⓐ ᾈ ῼ", ["ⓐ ⓐ ᾀ ῳ"], "special lowercase"),
    ("naïve\u0345 theा ａ", ["naive the a"], "word-boundary corner chars"),
]


def perturb(text, rng):
    """Deterministically inject realistic non-ASCII / formatting variety."""
    words = text.split(" ")
    subs = [
        ("e", "é"), ("a", "à"), ("o", "ö"), ("u", "ü"), ("c", "ç"), ("n", "ñ"),
        ("ss", "ß"), ("i", "ı"), ("I", "İ"),
    ]
    out = []
    for w in words:
        x = rng.random()
        if x < 0.04 and w:
            a, b = rng.choice(subs)
            w = w.replace(a, b, 1)
        elif x < 0.07:
            w = w.upper()
        elif x < 0.09:
            w = w.capitalize()
        elif x < 0.10:
            w = rng.choice(["“" + w + "”", "‘" + w + "’", "\"" + w + "\"", "(" + w + ")", w + "—",
                            w + "…", "«" + w + "»"])
        elif x < 0.105:
            w = rng.choice(["3.5", "1,000", "12-year-old", "$4.2bn", "2-1", "&amp;", "&quot;", "50%",
                            "北京", "Zürich", "İstanbul", "Straße", "ΣΟΦΟΣ", "naïve", "東京", "-\n"])
        out.append(w)
    s = " ".join(out)
    if rng.random() < 0.2:
        s = s.replace(" ' ", "’ ")
    if rng.random() < 0.1:
        s = s.replace(" .", ".")
    if rng.random() < 0.1:
        s = s + rng.choice(["  ", "\n", "\t", "\u00a0"])
    return s


def build_pairs(rng):
    pairs = []  # dicts: id, src, hyp, refs

    frank = load_jsonl(DATA / "cnndm-frank-250.jsonl")
    for i, rec in enumerate(frank):
        kps = as_list(rec["key_points"])
        for sysname in sorted(rec["systems"]):
            hyp = rec["systems"][sysname]["summary"]
            assert isinstance(hyp, str)
            joiner = " " if rng.random() < 0.7 else "\n"
            pairs.append({"src": f"frank/{sysname}", "hyp": hyp, "refs": [joiner.join(kps)]})

    summeval = load_jsonl(DATA / "summeval-1600.jsonl")
    for rec in rng.sample(summeval, 500):
        kps = as_list(rec["key_points"])
        assert isinstance(rec["summary"], str)
        joiner = " " if rng.random() < 0.7 else "\n"
        pairs.append({"src": "summeval", "hyp": rec["summary"], "refs": [joiner.join(kps)]})

    cnndm = load_jsonl(DATA / "cnndm-test-11490.jsonl.gz")
    cnn_sample = rng.sample(cnndm, 560)
    for rec in cnn_sample[:500]:
        kps = as_list(rec["key_points"])
        hyp = rec["systems"]["pointer-gen-cov"]["summary"]
        assert isinstance(hyp, str)
        pairs.append({"src": "cnndm/pointer-gen-cov", "hyp": hyp, "refs": [" ".join(kps)]})

    # multi-reference: key points as separate references, or highlights + another system
    for rec in rng.sample(frank, 80):
        kps = as_list(rec["key_points"])
        sysname = rng.choice(sorted(rec["systems"]))
        hyp = rec["systems"][sysname]["summary"]
        if len(kps) >= 2 and rng.random() < 0.6:
            k = min(len(kps), rng.choice([2, 3]))
            refs = kps[:k]
        else:
            other = rng.choice([s for s in sorted(rec["systems"]) if s != sysname])
            refs = [" ".join(kps), rec["systems"][other]["summary"]]
            if rng.random() < 0.4:
                refs.append(kps[0])
        pairs.append({"src": f"frank-multiref/{sysname}", "hyp": hyp, "refs": refs})
    for rec in cnn_sample[500:560]:
        kps = as_list(rec["key_points"])
        refs = [" ".join(kps), rec["systems"]["baseline"]["summary"]]
        if rng.random() < 0.5:
            refs.append(kps[-1])
        pairs.append({"src": "cnndm-multiref", "hyp": rec["systems"]["pointer-gen-cov"]["summary"],
                      "refs": refs})
    # sentence-level: one key point vs one summary sentence (short segments)
    for rec in rng.sample(frank, 60):
        kps = as_list(rec["key_points"])
        sysname = rng.choice(sorted(rec["systems"]))
        sents = rec["systems"][sysname].get("sentences") or [rec["systems"][sysname]["summary"]]
        pairs.append({"src": f"frank-sentence/{sysname}", "hyp": rng.choice(sents),
                      "refs": [rng.choice(kps)]})

    # perturbed real pairs (non-ASCII, casing, quotes, entities ...)
    base = [p for p in pairs if not p["src"].endswith("multiref")]
    for p in rng.sample(base, 200):
        pairs.append({"src": "perturbed/" + p["src"], "hyp": perturb(p["hyp"], rng),
                      "refs": [perturb(r, rng) for r in p["refs"]]})

    for hyp, refs, note in SYNTHETIC:
        pairs.append({"src": "synthetic", "note": note, "hyp": hyp, "refs": refs})
    # multi-ref synthetic
    pairs.append({"src": "synthetic", "note": "multi-ref closest length tie",
                  "hyp": "a b c d e", "refs": ["a b c d", "a b c d e f", "x"]})
    pairs.append({"src": "synthetic", "note": "multi-ref max counts",
                  "hyp": "the the the cat cat", "refs": ["the cat", "the the cat", "cat cat cat"]})
    pairs.append({"src": "synthetic", "note": "multi-ref with empty",
                  "hyp": "Hello world .", "refs": ["", "hello World!", "Hello, world."]})
    pairs.append({"src": "synthetic", "note": "multi-ref identical refs",
                  "hyp": "a cat", "refs": ["a dog", "a dog"]})
    return pairs


# ---------------------------------------------------------------------------
# Reference computations
# ---------------------------------------------------------------------------
def seg_stats(metric, hyp, refs):
    # exactly what Metric.sentence_score does before aggregation
    return metric._extract_corpus_statistics([hyp], [[r] for r in refs])[0]


def record_for(pair, lowercase, tokenize):
    hyp, refs = pair["hyp"], pair["refs"]
    rec = dict(pair)
    rec["lowercase"] = lowercase
    rec["tokenize"] = tokenize

    bleu_sent = BLEU(lowercase=lowercase, tokenize=tokenize, effective_order=True)
    stats = seg_stats(bleu_sent, hyp, refs)
    rec["tok_hyp"] = bleu_sent._preprocess_segment(hyp)
    rec["tok_refs"] = [bleu_sent._preprocess_segment(r) for r in refs]

    main = sacrebleu.sentence_bleu(hyp, refs, lowercase=lowercase, tokenize=tokenize)
    b = {
        "stats": [int(x) for x in stats],
        "score": main.score,
        "precisions": list(main.precisions),
        "bp": main.bp,
        "sys_len": main.sys_len,
        "ref_len": main.ref_len,
    }
    assert b["stats"][0] == main.sys_len and b["stats"][1] == main.ref_len
    for sm in ("none", "floor", "add-k"):
        b[sm] = sacrebleu.sentence_bleu(hyp, refs, lowercase=lowercase, tokenize=tokenize,
                                        smooth_method=sm).score
    b["exp_noeff"] = sacrebleu.sentence_bleu(hyp, refs, lowercase=lowercase, tokenize=tokenize,
                                             use_effective_order=False).score
    b["none_noeff"] = sacrebleu.sentence_bleu(hyp, refs, lowercase=lowercase, tokenize=tokenize,
                                              smooth_method="none", use_effective_order=False).score
    rec["bleu"] = b

    variants = {
        "chrf": dict(),
        "chrfpp": dict(word_order=2),
        "chrf_ws": dict(whitespace=True),
        "chrf_eps": dict(eps_smoothing=True),
        "chrfpp_eps": dict(word_order=2, eps_smoothing=True),
        "chrf_b1": dict(beta=1, char_order=4, word_order=1),
    }
    for name, kw in variants.items():
        m = CHRF(lowercase=lowercase, **kw)
        st = seg_stats(m, hyp, refs)
        sc = m.sentence_score(hyp, refs).score
        rec[name] = {"stats": [int(x) for x in st], "score": sc}
    if not lowercase:
        assert rec["chrf"]["score"] == sacrebleu.sentence_chrf(hyp, refs).score
        assert rec["chrfpp"]["score"] == sacrebleu.sentence_chrf(hyp, refs, word_order=2).score

    rec["tokenf1"] = tokenf1_record(hyp, refs)
    return rec


def ref_streams(refs_per_seg):
    k = max(len(r) for r in refs_per_seg)
    return [[(r[j] if j < len(r) else None) for r in refs_per_seg] for j in range(k)]


def corpus_results(name, records):
    lc, tok = records[0]["lowercase"], records[0]["tokenize"]
    assert all(r["lowercase"] == lc and r["tokenize"] == tok for r in records)
    hyps = [r["hyp"] for r in records]
    streams = ref_streams([r["refs"] for r in records])
    out = {"name": name, "ids": [r["id"] for r in records], "lowercase": lc, "tokenize": tok}

    bleus = {}
    for key, kw in {
        "exp": dict(),
        "none": dict(smooth_method="none"),
        "floor": dict(smooth_method="floor"),
        "add-k": dict(smooth_method="add-k"),
        "exp_eff": dict(effective_order=True),
    }.items():
        m = BLEU(lowercase=lc, tokenize=tok, **kw)
        st = [int(x) for x in
              [sum(col) for col in zip(*m._extract_corpus_statistics(hyps, streams))]]
        s = m.corpus_score(hyps, streams)
        bleus[key] = {"score": s.score, "stats": st, "precisions": list(s.precisions), "bp": s.bp,
                      "signature": str(m.get_signature())}
    # the compat entry point with default args equals BLEU() defaults
    if not lc and tok == "13a":
        assert sacrebleu.corpus_bleu(hyps, streams).score == bleus["exp"]["score"]
    out["bleu"] = bleus

    for key, kw in {"chrf": dict(), "chrfpp": dict(word_order=2),
                    "chrf_eps": dict(eps_smoothing=True), "chrf_ws": dict(whitespace=True)}.items():
        m = CHRF(lowercase=lc, **kw)
        st = [int(x) for x in
              [sum(col) for col in zip(*m._extract_corpus_statistics(hyps, streams))]]
        s = m.corpus_score(hyps, streams)
        out[key] = {"score": s.score, "stats": st, "signature": str(m.get_signature())}
    if not lc:
        assert sacrebleu.corpus_chrf(hyps, streams).score == out["chrf"]["score"]
        assert sacrebleu.corpus_chrf(hyps, streams, word_order=2).score == out["chrfpp"]["score"]
    return out


def unicode_tables():
    """Python-side Unicode behaviour the Rust port must reproduce."""
    wre = re.compile(r"\w")
    word_ranges, assigned = [], []
    start = None
    for c in range(0x110001):
        isw = c < 0x110000 and wre.match(chr(c)) is not None
        if isw and start is None:
            start = c
        elif not isw and start is not None:
            word_ranges.append([start, c - 1])
            start = None
    start = None
    for c in range(0x110001):
        isa = c < 0x110000 and unicodedata.category(chr(c)) != "Cn"
        if isa and start is None:
            start = c
        elif not isa and start is not None:
            assigned.append([start, c - 1])
            start = None
    lower = {}
    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF:
            continue
        lo = chr(c).lower()
        if lo != chr(c):
            lower[str(c)] = lo
    return {
        "python": sys.version.split()[0],
        "unidata_version": unicodedata.unidata_version,
        "isspace": [c for c in range(0x110000) if chr(c).isspace()],
        "word_ranges": word_ranges,
        "assigned_ranges": assigned,
        "lower": lower,
        "punctuation": string.punctuation,
    }


def floats_as_repr(o):
    """Encode every float as its Python repr string (shortest round-trip).

    serde_json (without its `float_roundtrip` feature) may parse a decimal
    float 1 ulp off; Rust's `str::parse::<f64>` is correctly rounded, so the
    test parses these strings and can demand bit-identical scores."""
    if isinstance(o, float):
        return repr(o)
    if isinstance(o, dict):
        return {k: floats_as_repr(v) for k, v in o.items()}
    if isinstance(o, list):
        return [floats_as_repr(v) for v in o]
    return o


def main():
    rng = random.Random(SEED)
    pairs = build_pairs(rng)
    records = []
    for i, p in enumerate(pairs):
        x = rng.random()
        if p["src"] == "synthetic":
            variants = [(False, "13a"), (True, "13a")]
            if rng.random() < 0.3:
                variants.append((False, "none"))
        elif x < 0.05:
            variants = [(rng.random() < 0.5, "none")]
        elif x < 0.33:
            variants = [(True, "13a")]
        else:
            variants = [(False, "13a")]
        for lc, tok in variants:
            r = record_for(p, lc, tok)
            r["id"] = len(records)
            records.append(r)

    FIX.mkdir(parents=True, exist_ok=True)
    out = FIX / "sacrebleu_parity.jsonl.gz"
    # mtime=0 for a byte-reproducible gzip
    with open(out, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
            for r in records:
                gz.write((json.dumps(floats_as_repr(r), ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))

    # corpus groups (same options within a group)
    def pick(pred, n=None):
        sel = [r for r in records if pred(r)]
        return sel[:n] if n else sel

    groups = [
        ("frank-cased-13a-first300", pick(lambda r: r["src"].startswith("frank/") and not r["lowercase"]
                                          and r["tokenize"] == "13a", 300)),
        ("frank-lc-13a", pick(lambda r: r["src"].startswith("frank/") and r["lowercase"]
                              and r["tokenize"] == "13a", 300)),
        ("summeval-cased-13a", pick(lambda r: r["src"] == "summeval" and not r["lowercase"]
                                    and r["tokenize"] == "13a", 300)),
        ("cnndm-cased-13a", pick(lambda r: r["src"].startswith("cnndm/") and not r["lowercase"]
                                 and r["tokenize"] == "13a", 300)),
        ("multiref-var-cased-13a", pick(lambda r: "multiref" in r["src"] and not r["lowercase"]
                                        and r["tokenize"] == "13a")),
        ("perturbed+synthetic-lc-13a", pick(lambda r: r["src"].split("/")[0] in ("perturbed", "synthetic")
                                            and r["lowercase"] and r["tokenize"] == "13a")),
        ("synthetic-cased-13a", pick(lambda r: r["src"] == "synthetic" and not r["lowercase"]
                                     and r["tokenize"] == "13a")),
        ("tok-none-cased", pick(lambda r: r["tokenize"] == "none" and not r["lowercase"])),
        ("all-cased-13a", pick(lambda r: not r["lowercase"] and r["tokenize"] == "13a")),
    ]
    corpus = [corpus_results(name, recs) for name, recs in groups if recs]
    with open(FIX / "sacrebleu_corpus.json", "w", encoding="utf-8") as f:
        json.dump(floats_as_repr({"sacrebleu_version": sacrebleu.__version__, "seed": SEED,
                                  "groups": corpus}), f,
                  ensure_ascii=False, indent=1)
        f.write("\n")

    with open(FIX / "python_unicode.json", "w", encoding="utf-8") as f:
        json.dump(unicode_tables(), f, ensure_ascii=False, sort_keys=True)
        f.write("\n")

    srcs = Counter(r["src"].split("/")[0] for r in records)
    print(f"wrote {len(records)} records ({dict(srcs)}) to {out} "
          f"({out.stat().st_size / 1e6:.2f} MB), {len(corpus)} corpus groups", file=sys.stderr)


if __name__ == "__main__":
    main()

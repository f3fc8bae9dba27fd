#!/usr/bin/env python3
"""Generate the ROUGE / Porter parity fixtures used by tests/rouge_parity.rs.

Run with the reference venv (rouge-score 0.1.2, nltk 3.10.4):

    ~/.cache/kpeval/ref-venv/bin/python eval/reference/gen_rouge_fixtures.py [--data DIR]

Writes (deterministically: fixed seed, sorted iteration):

* tests/fixtures/rouge_parity.jsonl.gz -- one JSON object per line:
  {"target", "prediction", "use_stemmer", "scores": {"rouge1": [p, r, f], ..., "rougeLsum": [...]}}
  scored by rouge_score.rouge_scorer.RougeScorer(TYPES, use_stemmer=...) with
  split_summaries=False. Floats are Python reprs (json.dumps).
* tests/fixtures/porter_nltk.tsv.gz -- word<TAB>stem for every distinct rouge token longer than
  3 characters in any file of the data directory, plus hand-picked tricky words, stemmed by
  nltk.stem.porter.PorterStemmer() (default NLTK_EXTENSIONS mode).

The data directory (default: /work/shared/data, else <repo>/../shared/data) must hold
cnndm-frank-250.jsonl, summeval-1600.jsonl and cnndm-test-11490.jsonl.gz.
"""

import argparse
import gzip
import json
import os
import random
import sys

import nltk
import rouge_score
from nltk.stem.porter import PorterStemmer
from rouge_score import rouge_scorer
from rouge_score import tokenize as rs_tokenize

SEED = 20240611
TYPES = ["rouge1", "rouge2", "rouge3", "rouge4", "rougeL", "rougeLsum"]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
N_CNNDM_TEST = 300
N_NO_STEM = 400
N_CASE_VARIANTS = 300
N_UNICODE_VARIANTS = 300
MAX_FIXTURE_BYTES = 3_000_000


def default_data_dir():
    for d in ("/work/shared/data", os.path.join(REPO, "..", "shared", "data"), os.path.join(REPO, "shared", "data")):
        if os.path.exists(os.path.join(d, "cnndm-frank-250.jsonl")):
            return d
    return "/work/shared/data"


def key_points(rec):
    kp = rec["key_points"]
    if isinstance(kp, str):  # some releases store the list as a JSON string
        kp = json.loads(kp)
    return [str(x) for x in kp]


def read_jsonl(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                yield json.loads(line)


# Non-ASCII material: accents, curly quotes, CJK, Turkish dotted/dotless I, German sharp s,
# Kelvin sign (lowercases to ASCII 'k'), ligatures, full-width and superscript digits, Greek
# final sigma, Cyrillic, emoji, combining marks, NBSP and other Unicode spaces.
UNICODE_WORDS = [
    "café", "naïve", "résumé", "Éric", "ÉCOLE", "Ångström", "Zürich", "São", "Paulo", "señor",
    "“quoted”", "‘single’", "«guillemets»", "em—dash", "en–dash", "ellipsis…",
    "東京", "北京市", "中文字", "日本語のテキスト", "한국어",
    "İstanbul", "İZMİR", "ıslak", "DİYARBAKIR", "Straße", "STRASSE", "ẞig", "Fußball",
    "\u212aelvin", "\u212a", "\u212b", "ﬁnance", "ﬂight", "Ⅻ", "１２３", "x²", "½",
    "ΣΟΦΟΣ", "Σίσυφος", "Москва", "ПРИВЕТ", "🙂emoji", "e\u0301", "a\u0308b",
    "non\u00a0breaking", "thin\u2009space", "ideo\u3000space", "zero\u200bwidth", "line\u2028sep",
    "ǅemal", "ǈj", "Ǉ", "İi", "Iı", "ŉ", "ǰ",
]

EDGE_CASES = [
    ("", ""),
    ("", "the cat sat on the mat ."),
    ("the cat sat on the mat .", ""),
    ("   ", "the cat"),
    ("the cat", " \t \n "),
    ("\n\n\n", "\n"),
    ("a\n\nb\n", "\n\nb\na"),
    ("The Cat SAT on the Mat.", "the cat sat on the mat"),
    ("one", "one"),
    ("one two", "two one"),
    ("cats running quickly", "cat runs quick"),
    ("U.S. officials said 3,000 people -- 12.5% -- were hit on 9/11/2001 .", "us officials said 3 000 people were hit"),
    ("state-of-the-art well-known X-ray", "state of the art well known x ray"),
    ("\"Hello,\" she said. 'Bye!'", "hello she said bye"),
    ("yyyy yyyyy sky skies dying lying tying news innings", "sky skies die lie tie news inning"),
    ("generously generous generate generation", "generously generously"),
    ("a a a a a b", "a a b b b"),
    ("the the the the", "the the"),
    ("x\r\ny\r\nz", "x\ny\nz"),
    ("tabs\tand\tspaces  here", "tabs and spaces here"),
    ("CamelCaseWordsHere", "camelcasewordshere"),
    ("123 4567 89", "4567 123"),
    ("İstanbul'da İZMİR", "istanbul da izmir"),
    ("Straße straße STRASSE", "strasse"),
    ("\u212aelvin kelvin", "kelvin"),
    ("“Curly quotes” and ‘single’", "\"curly quotes\" and 'single'"),
    ("東京 Tokyo 北京 Beijing", "tokyo beijing"),
    ("café résumé naïve", "caf r sum na ve"),
    ("only non ascii: 東京 中文", "日本語"),
    ("only non ascii: 東京 中文", "only non ascii"),
]


def tokens_of(text):
    return rs_tokenize.tokenize(text, None)


def unicode_variant(rng, text):
    words = text.split(" ")
    if not words:
        return text
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(words) + 1)
        words.insert(i, rng.choice(UNICODE_WORDS))
    if rng.random() < 0.3:
        # Swap straight quotes for curly ones and hyphens for dashes.
        return " ".join(words).replace("'", "’").replace('"', "”").replace(" - ", " — ")
    return " ".join(words)


def case_variant(rng, text):
    k = rng.randrange(4)
    if k == 0:
        return text.lower()
    if k == 1:
        return text.upper()
    if k == 2:
        return text.title()
    return "".join(c.upper() if rng.random() < 0.3 else c for c in text)


def build_cases(data):
    rng = random.Random(SEED)
    cases = []  # (target, prediction, use_stemmer, source)

    frank = list(read_jsonl(os.path.join(data, "cnndm-frank-250.jsonl")))
    summeval = list(read_jsonl(os.path.join(data, "summeval-1600.jsonl")))
    cnndm = list(read_jsonl(os.path.join(data, "cnndm-test-11490.jsonl.gz")))

    # 1. FRANK: every system summary, as one string and as "\n"-joined sentences (rougeLsum).
    for rec in frank:
        tgt = "\n".join(key_points(rec))
        for name in sorted(rec.get("systems", {})):
            sysrec = rec["systems"][name]
            summ = sysrec.get("summary") or ""
            cases.append((tgt, summ, True, "frank"))
            sents = sysrec.get("sentences")
            if sents:
                cases.append((tgt, "\n".join(sents), True, "frank-sents"))

    # 2. SummEval: every summary vs the highlights.
    for rec in summeval:
        cases.append(("\n".join(key_points(rec)), rec["summary"], True, "summeval"))

    # 3. CNN/DM test: a seeded sample of pointer-gen-cov (and a few baseline) outputs.
    idx = sorted(rng.sample(range(len(cnndm)), N_CNNDM_TEST))
    for j, i in enumerate(idx):
        rec = cnndm[i]
        tgt = "\n".join(key_points(rec))
        system = "baseline" if j % 10 == 9 else "pointer-gen-cov"
        cases.append((tgt, rec["systems"][system]["summary"], True, "cnndm-test"))

    real = list(cases)

    # 4. Variants of real pairs.
    for t, p, _, _ in rng.sample(real, N_NO_STEM):
        cases.append((t, p, False, "no-stem"))
    for t, p, _, _ in rng.sample(real, N_CASE_VARIANTS):
        stem = rng.random() < 0.8
        if rng.random() < 0.5:
            cases.append((case_variant(rng, t), p, stem, "case"))
        else:
            cases.append((t, case_variant(rng, p), stem, "case"))
    for t, p, _, _ in rng.sample(real, N_UNICODE_VARIANTS):
        stem = rng.random() < 0.8
        cases.append((unicode_variant(rng, t), unicode_variant(rng, p), stem, "unicode"))
    # Swapped roles (prediction with sentence structure as target, for rougeLsum).
    for t, p, _, _ in rng.sample(real, 100):
        cases.append((p, t, True, "swapped"))
    # Multi-line predictions made from a summary by splitting at " . ".
    for t, p, _, _ in rng.sample(real, 100):
        cases.append((t, p.replace(" . ", " .\n"), True, "split-lines"))

    # 5. Hand-written edge cases, both with and without the stemmer.
    for t, p in EDGE_CASES:
        cases.append((t, p, True, "edge"))
        cases.append((t, p, False, "edge"))
    # Empty / whitespace-only against real text.
    for t, p, _, _ in rng.sample(real, 5):
        cases.append((t, "", True, "edge-empty"))
        cases.append(("", p, True, "edge-empty"))
        cases.append((t, " \n\t ", True, "edge-ws"))
    return cases


def score_cases(cases):
    scorers = {s: rouge_scorer.RougeScorer(TYPES, use_stemmer=s) for s in (True, False)}
    out = []
    for t, p, stem, _src in cases:
        sc = scorers[stem].score(t, p)
        out.append({
            "target": t,
            "prediction": p,
            "use_stemmer": stem,
            "scores": {k: [sc[k].precision, sc[k].recall, sc[k].fmeasure] for k in TYPES},
        })
    return out


TRICKY_WORDS = [
    # NLTK irregular pool (keys and values).
    "sky", "skies", "dying", "lying", "tying", "news", "innings", "inning", "outings", "outing",
    "cannings", "canning", "howe", "proceed", "exceed", "succeed", "die", "lie", "tie",
    # Classic Porter examples and NLTK-extension triggers.
    "generously", "generous", "generate", "generation", "caresses", "ponies", "ties", "caress",
    "cats", "feed", "agreed", "plastered", "bled", "motoring", "sing", "conflated", "troubled",
    "sized", "hopping", "tanned", "falling", "hissing", "fizzed", "failing", "filing", "happy",
    "relational", "conditional", "rational", "valenci", "hesitanci", "digitizer", "conformabli",
    "radicalli", "differentli", "vileli", "analogousli", "vietnamization", "predication",
    "operator", "feudalism", "decisiveness", "hopefulness", "callousness", "formaliti",
    "sensitiviti", "sensibiliti", "triplicate", "formative", "formalize", "electriciti",
    "electrical", "hopeful", "goodness", "revival", "allowance", "inference", "airliner",
    "gyroscopic", "adjustable", "defensible", "irritant", "replacement", "adjustment",
    "dependent", "adoption", "homologou", "communism", "activate", "angulariti", "homologous",
    "effective", "bowdlerize", "probate", "rate", "cease", "controll", "roll", "controlling",
    "spied", "died", "tied", "lied", "flies", "dies", "lies", "enjoy", "enjoyment", "spy", "fly",
    "try", "tried", "cried", "fully", "hopefulli", "archaeology", "geology", "theology",
    "analogies", "logi", "ology", "apology", "bully", "tally", "rally", "ally", "finally",
    "totally", "generalli", "ably", "table", "bleed", "breed", "speed", "need", "seed", "heed",
    "deed", "eed", "ied", "ies", "ing", "ings", "ed", "eds", "sses", "ss", "s", "y", "yy", "yyy",
    "yyyy", "yyyyyyyyyy", "ayyy", "yay", "toy", "toys", "syzygy", "ivy", "trees", "tree", "oats",
    "troubles", "private", "oaten", "orrery", "falafel", "architecture", "ping", "pinging",
    "bing", "king", "thing", "things", "being", "doing", "going", "seeing", "fleeing", "agreeing",
    "alliance", "ballistic", "willing", "filling", "telling", "fell", "all", "ill", "dull",
    "skiing", "taxiing", "boxing", "fixing", "sewing", "plowing", "staying", "played", "player",
    "happiness", "happily", "busy", "business", "easy", "easily", "quickly", "quick", "really",
    "family", "families", "city", "cities", "party", "parties", "key", "keys", "monkey", "survey",
    "ability", "responsibility", "possibility", "activity", "sensitivity", "nationality",
    "university", "a", "b", "i", "is", "as", "us", "at", "be", "by", "my", "ye", "oy", "xy",
    "abc", "aaa", "zzz", "1234", "2015", "1990s", "3rd", "4th", "21st", "100m", "mp3", "b2b",
    "x", "", "ee", "eeee", "eeeee", "ieee", "iied", "ceed", "seeds", "sees", "bees", "ees",
    # Mixed case (NLTK lowercases before stemming).
    "Running", "SKIES", "Dying", "NEWS", "Generously", "HAPPY", "McDonald", "iPhone",
    # Non-ASCII (code-point semantics, Python lower()).
    "café", "cafés", "naïve", "résumés", "Éric", "straße", "STRASSE", "İstanbul", "İs", "İ",
    "ıslak", "\u212aelvin", "σοφος", "ΣΟΦΟΣ", "Москва", "東京", "日本語", "ﬁnance",
    "señoras", "jalapeños", "über", "naïvely", "déjà", "ÉÉÉÉ", "yé", "ÿy",
    # Characters outside the alphabet.
    "xa*ding", "*d", "a*d", "ab*d", "hell-o", "don't", "it's", "o'clock", "e-mail", "x.y",
]


def _strings(obj):
    """Every string value inside a parsed JSON object."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def stem_words(data):
    """Every distinct rouge token longer than 3 characters in every file under `data`
    (string values of .jsonl / .jsonl.gz records, raw text of other files)."""
    words = set()

    def add_text(text):
        for tok in tokens_of(text):
            if len(tok) > 3:
                words.add(tok)

    for root, dirs, files in os.walk(data):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            if name.endswith((".jsonl", ".jsonl.gz")):
                for rec in read_jsonl(path):
                    for text in _strings(rec):
                        add_text(text)
            elif name.endswith((".txt", ".tsv", ".md")):
                with open(path, encoding="utf-8", errors="replace") as f:
                    add_text(f.read())
    return words


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=default_data_dir())
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "fixtures"))
    args = ap.parse_args()

    print(f"rouge_score {getattr(rouge_score, '__version__', '0.1.2')}, nltk {nltk.__version__}", file=sys.stderr)
    os.makedirs(args.out, exist_ok=True)

    cases = build_cases(args.data)
    rows = score_cases(cases)
    path = os.path.join(args.out, "rouge_parity.jsonl.gz")
    # mtime=0 and no file name in the header: byte-identical output on every run.
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            for row in rows:
                gz.write((json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8"))
    size = os.path.getsize(path)
    print(f"{path}: {len(rows)} cases, {size} bytes", file=sys.stderr)
    if size > MAX_FIXTURE_BYTES:
        sys.exit(f"fixture too large: {size} > {MAX_FIXTURE_BYTES}")

    stemmer = PorterStemmer()
    words = stem_words(args.data)
    n_data = len(words)
    words.update(w for w in TRICKY_WORDS if "\t" not in w and "\n" not in w)
    path = os.path.join(args.out, "porter_nltk.tsv.gz")
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            for w in sorted(words):
                gz.write(f"{w}\t{stemmer.stem(w)}\n".encode("utf-8"))
    print(f"{path}: {len(words)} words ({n_data} from data), {os.path.getsize(path)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark (not a test): the Python package's ROUGE against rouge-score 0.1.2, in one process.

Pairs: the 11,490 CNN/DM test pairs of ../shared/data/cnndm-test-11490.jsonl.gz (system
`pointer-gen-cov` summary vs its `key_points` joined by newlines, as eval/bench/overlap.py), or,
without that file, the committed tests/fixtures/rouge_parity.jsonl.gz pairs repeated to 11,490.
Types rouge1, rouge2, rougeL, rougeLsum with use_stemmer=True. Times, best of --repeat:

  - rouge-score: a loop of `RougeScorer.score` calls;
  - kpeval: the same loop of `kpeval.rouge_scorer.RougeScorer.score` calls (one core);
  - kpeval: one `score_batch` call (every core, GIL released);

checks that both kpeval results equal rouge-score's exactly, and prints the ratios.
rouge-score is slow: --ref-pairs N times it on the first N pairs only (default: all) and scales.

Run: python eval/bench/python_api.py  (in a venv with `pip install ./python rouge-score==0.1.2`,
e.g. $KPEVAL_CACHE/py-venv after `make python-test`)
"""
import argparse
import gzip
import json
import os
import time
from pathlib import Path

from rouge_score import rouge_scorer as ref

from kpeval import rouge_scorer

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "cnndm-test-11490.jsonl.gz"
FIXTURE = ROOT / "tests" / "fixtures" / "rouge_parity.jsonl.gz"
TYPES = ["rouge1", "rouge2", "rougeL", "rougeLsum"]


def load(n):
    if DATA.exists():
        pairs = []
        with gzip.open(DATA, "rt") as f:
            for line in f:
                r = json.loads(line)
                kp = r["key_points"] if isinstance(r["key_points"], list) else json.loads(r["key_points"])
                sysd = r["systems"] if isinstance(r["systems"], dict) else json.loads(r["systems"])
                pairs.append(("\n".join(kp), sysd["pointer-gen-cov"]["summary"]))
        return pairs[:n], f"{DATA.name} (CNN/DM test, pointer-gen-cov vs key points)"
    with gzip.open(FIXTURE, "rt") as f:
        rows = [json.loads(line) for line in f]
    base = [(r["target"], r["prediction"]) for r in rows]
    return (base * (n // len(base) + 1))[:n], f"{FIXTURE.name} repeated"


def best(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=11490)
    ap.add_argument("--ref-pairs", type=int, default=None, help="rouge-score on the first N pairs only (scaled)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    pairs, source = load(args.pairs)
    targets = [t for t, _ in pairs]
    preds = [p for _, p in pairs]
    n = len(pairs)
    nref = min(args.ref_pairs or n, n)
    ours = rouge_scorer.RougeScorer(TYPES, use_stemmer=True)
    theirs = ref.RougeScorer(TYPES, use_stemmer=True)
    print(f"pairs: {n} from {source}; {os.cpu_count()} CPUs; types {','.join(TYPES)}, stemmer on")

    t_ref, ref_out = best(lambda: [theirs.score(t, p) for t, p in pairs[:nref]], 1 if nref == n else args.repeat)
    t_ref_all = t_ref * n / nref
    t_loop, loop_out = best(lambda: [ours.score(t, p) for t, p in pairs], args.repeat)
    t_batch, batch_out = best(lambda: ours.score_batch(targets, preds), args.repeat)

    for a, b in zip(ref_out, loop_out):
        assert all(tuple(a[k]) == tuple(b[k]) for k in TYPES), "score differs from rouge-score"
    assert batch_out == loop_out, "score_batch differs from single calls"

    def row(name, t):
        print(f"  {name:<38} {t:8.3f} s  {n / t:10.0f} pairs/s  {t_ref_all / t:7.1f}x rouge-score")

    scaled = "" if nref == n else f" (timed on {nref}, scaled)"
    print(f"  {'rouge-score RougeScorer.score loop' + scaled:<38} {t_ref_all:8.3f} s  {n / t_ref_all:10.0f} pairs/s")
    row("kpeval RougeScorer.score loop", t_loop)
    row("kpeval RougeScorer.score_batch", t_batch)
    print(f"  score_batch / score loop: {t_loop / t_batch:.2f}x; results identical to rouge-score")


if __name__ == "__main__":
    main()

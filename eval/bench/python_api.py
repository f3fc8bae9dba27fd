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
    """Best wall time of `repeat` runs, the process CPU time (all threads) of that run, the result."""
    runs, out = [], None
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        runs.append((time.perf_counter() - t0, time.process_time() - c0))
    wall, cpu = min(runs)
    return wall, cpu, out


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

    t_ref, c_ref, ref_out = best(lambda: [theirs.score(t, p) for t, p in pairs[:nref]], 1 if nref == n else args.repeat)
    t_ref_all = t_ref * n / nref
    t_loop, c_loop, loop_out = best(lambda: [ours.score(t, p) for t, p in pairs], args.repeat)
    t_batch, c_batch, batch_out = best(lambda: ours.score_batch(targets, preds), args.repeat)

    for a, b in zip(ref_out, loop_out):
        assert all(tuple(a[k]) == tuple(b[k]) for k in TYPES), "score differs from rouge-score"
    assert batch_out == loop_out, "score_batch differs from single calls"

    c_ref_all = c_ref * n / nref

    def row(name, t, c):
        print(f"  {name:<40} wall {t:8.3f} s ({t_ref_all / t:6.1f}x)  cpu {c:8.3f} s  {n / t:9.0f} pairs/s")

    scaled = "" if nref == n else f" (on {nref}, scaled)"
    row("rouge-score RougeScorer.score loop" + scaled, t_ref_all, c_ref_all)
    row("kpeval RougeScorer.score loop", t_loop, c_loop)
    row("kpeval RougeScorer.score_batch", t_batch, c_batch)
    print(f"  ratios vs rouge-score (wall): score loop {t_ref_all / t_loop:.1f}x, score_batch {t_ref_all / t_batch:.1f}x; "
          f"score_batch vs score loop {t_loop / t_batch:.2f}x; results identical to rouge-score")
    print("  (cpu = process CPU time, all threads: score_batch's cpu above its wall means it ran on several cores;"
          " on a loaded machine its wall gain over the loop shrinks)")


if __name__ == "__main__":
    main()

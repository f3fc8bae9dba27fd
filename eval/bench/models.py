#!/usr/bin/env python3
"""Benchmark (not a test): the model metrics against bert-score 0.3.13, whole process each (start,
model load, scoring, output), same model (models/store/all-MiniLM-L6-v2, layer 6), same machine,
in one run; sides alternate over REPEATS (default 3) and medians are compared.

Data: the first 240 articles of ../shared/data/cnndm-frank-250.jsonl × their 5 system summaries =
1,200 (summary, reference) pairs.

- `bertscore`: kpeval `score --metrics bertscore` (summary vs the reference key points joined by
  " ") against `bert_score.score(cands, refs, model_type=MiniLM, num_layers=6)`; the largest F1
  difference is printed.
- `kp-tok`, `kp-cover`, `kp`: kpeval's key-point metrics on the same 1,200 summaries against
  bert-score computing what `kp-tok` computes: every (Key Development, summary sentence) pair's
  token-alignment recall (`bert_score.score(cands=sentences, refs=key points)`), sentences split
  at . ! ? as kpeval does for prose summaries.
- with `--baseline PATH` (an older kpeval binary), its `kp-tok` in the same run: the coverage
  judge (`kp-cover`) against the older `kp-tok`'s pairs/s.

Peak RSS of each process is printed (from wait4).

Run: ~/.cache/kpeval/torch-2.4.0/bin/python eval/bench/models.py [--repeats N] [--baseline BIN]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import cpu_model

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "cnndm-frank-250.jsonl"
MODEL = ROOT / "models" / "store" / "all-MiniLM-L6-v2"
KPEVAL = ROOT / "target" / "release" / "kpeval"
THREADS = 2

BERT_SCORE_PAIRS = r"""
import json, sys, time
import torch
torch.set_num_threads(%(threads)d)
from bert_score import score
d = json.load(open(sys.argv[1]))
P, R, F = score(d["cands"], d["refs"], model_type=sys.argv[2], num_layers=6, batch_size=64, lang="en")
json.dump({"p": P.tolist(), "r": R.tolist(), "f": F.tolist()}, open(sys.argv[3], "w"))
"""




def split(text):
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def timed(cmd, env=None):
    """Wall seconds and peak RSS (MiB) of a whole process."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    err = p.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{err[-3000:]}")
    return wall, usage.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--articles", type=int, default=240)
    ap.add_argument("--baseline", help="an older kpeval binary: its kp-tok in the same run")
    ap.add_argument("--metrics", default="bertscore,kp-tok,kp-cover,kp")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kpeval-model-bench-"))
    recs, cands, refs, kp_c, kp_r = [], [], [], [], []
    with DATA.open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= a.articles:
                break
            r = json.loads(line)
            for name in sorted(r["systems"]):
                s = r["systems"][name]["summary"]
                recs.append({"id": f"{r['id']}/{name}", "article": r["article"], "key_points": r["key_points"], "summary": s})
                cands.append(s)
                refs.append(" ".join(r["key_points"]))
                for g in split(s):
                    for k in r["key_points"]:
                        kp_c.append(g)
                        kp_r.append(k)
    data = tmp / "pairs.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in recs))
    (tmp / "bs.json").write_text(json.dumps({"cands": cands, "refs": refs}))
    (tmp / "kp.json").write_text(json.dumps({"cands": kp_c, "refs": kp_r}))
    (tmp / "bs.py").write_text(BERT_SCORE_PAIRS % {"threads": THREADS})
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), MKL_NUM_THREADS=str(THREADS))
    n_kd = sum(len(r["key_points"]) for r in recs)

    def kpeval(binary, metric, out):
        return [str(binary), "score", str(data), "--metrics", metric, "--model-threads", str(THREADS), "-q", "-o", str(out)]

    sides = {}
    metrics = a.metrics.split(",")
    if "bertscore" in metrics:
        sides["kpeval bertscore"] = kpeval(KPEVAL, "bertscore", tmp / "bertscore.jsonl")
        sides["bert-score (1,200 pairs)"] = [sys.executable, str(tmp / "bs.py"), str(tmp / "bs.json"), str(MODEL), str(tmp / "bs-out.json")]
    for m in ["kp-tok", "kp-cover", "kp"]:
        if m in metrics:
            sides[f"kpeval {m}"] = kpeval(KPEVAL, m, tmp / f"{m}.jsonl")
    if any(m in metrics for m in ["kp-tok", "kp-cover", "kp"]):
        sides[f"bert-score ({len(kp_c)} kp pairs)"] = [sys.executable, str(tmp / "bs.py"), str(tmp / "kp.json"), str(MODEL), str(tmp / "kp-out.json")]
    if a.baseline:
        sides["baseline kp-tok"] = kpeval(a.baseline, "kp-tok", tmp / "base-kp-tok.jsonl")
    runs = {k: [] for k in sides}
    for i in range(a.repeats):
        names = list(sides) if i % 2 == 0 else list(reversed(sides))
        for k in names:
            runs[k].append(timed(sides[k], env))
    med = {k: statistics.median(w for w, _ in v) for k, v in runs.items()}
    rss = {k: max(r for _, r in v) for k, v in runs.items()}
    print(f"CPU: {cpu_model()}, {os.cpu_count()} logical cores, {THREADS} threads each side")
    print(f"{len(recs)} summaries of {a.articles} CNN/DM articles (FRANK), {n_kd} (Key Development, summary) pairs, {len(kp_c)} (Key Development, sentence) pairs")
    print(f"{'side':<32} {'median s':>9} {'peak RSS MiB':>13}   runs (s)")
    for k in sides:
        print(f"{k:<32} {med[k]:>9.2f} {rss[k]:>13.0f}   {' '.join(f'{w:.2f}' for w, _ in runs[k])}")
    bs_kp = next((k for k in sides if k.startswith("bert-score (") and "kp pairs" in k), None)
    if "kpeval bertscore" in med:
        print(f"bertscore: kpeval / bert-score speed {med['bert-score (1,200 pairs)'] / med['kpeval bertscore']:.2f}x (target >= 1.5x)")
        ours = [json.loads(l) for l in open(tmp / "bertscore.jsonl")]
        theirs = json.load(open(tmp / "bs-out.json"))
        by_id = {r["id"]: r for r in ours}
        diffs = [abs(by_id[r["id"]]["scores"]["bertscore"]["f1"] - f) for r, f in zip(recs, theirs["f"])]
        print(f"bertscore: max |F1 kpeval - F1 bert-score| = {max(diffs):.2e} over {len(diffs)} pairs")
    for m in ["kp-tok", "kp-cover", "kp"]:
        k = f"kpeval {m}"
        if k in med and bs_kp:
            print(f"{m}: kpeval / bert-score speed {med[bs_kp] / med[k]:.2f}x (target >= 1.5x); {n_kd / med[k]:.1f} KD-summary pairs/s")
    if a.baseline and "kpeval kp-cover" in med:
        print(f"kp-cover vs baseline kp-tok pairs/s: {med['baseline kp-tok'] / med['kpeval kp-cover']:.2f}x (target >= 2x)")
    if a.baseline and "kpeval kp-tok" in med:
        print(f"kp-tok vs baseline kp-tok: {med['baseline kp-tok'] / med['kpeval kp-tok']:.2f}x")


if __name__ == "__main__":
    main()

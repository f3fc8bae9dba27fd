#!/usr/bin/env python3
"""Benchmark (not a test): kpeval's overlap metrics against rouge-score and sacreBLEU, in one run.

On the 11,490 CNN/DM test pairs of ../shared/data/cnndm-test-11490.jsonl.gz (system
`pointer-gen-cov` summary vs `key_points`), whole-process wall time of:
  - rouge-score 0.1.2 (rouge1, rouge2, rougeL, rougeLsum, use_stemmer=True) vs
    `kpeval score --metrics rouge` on 1 thread (and 2 threads);
  - sacreBLEU corpus BLEU + chrF vs `kpeval score --metrics bleu,chrf`;
and peak RSS of `kpeval score --metrics overlap` at 1,000 and 11,490 pairs. Prints ratios.

"1 thread" means one CPU: those runs (the Python references too) are pinned to a single core with
`taskset`, because kpeval overlaps reading, scoring and writing in separate threads. Each
measurement is the best of `--repeat` runs (default 3; the machine is shared and noisy); kpeval's
sub-second runs are repeated `--repeat-short` times (default 7), since a short run is hit harder
by a burst of other load. Besides wall time, each row reports the process's CPU time (user +
system, from wait4): on a shared VM, wall time includes time the CPU was taken away, CPU time
does not, so the CPU-time ratios are the steadier figure; both are printed.

Run: python3 eval/bench/overlap.py [--python ~/.cache/kpeval/ref-venv/bin/python] [--kpeval target/release/kpeval]
The Python reference needs rouge-score==0.1.2 and sacrebleu 2.x (eval/reference/requirements.txt).
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "cnndm-test-11490.jsonl.gz"

ROUGE_REF = r"""
import json, sys
from rouge_score import rouge_scorer
sc = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    s = sc.score("\n".join(r["key_points"]), r["summary"])
    n += 1
print(n)
"""

SACREBLEU_REF = r"""
import json, sys
import sacrebleu
hyps, refs = [], []
for line in open(sys.argv[1]):
    r = json.loads(line)
    hyps.append(r["summary"]); refs.append(" ".join(r["key_points"]))
print(sacrebleu.corpus_bleu(hyps, [refs]).score, sacrebleu.corpus_chrf(hyps, [refs]).score)
"""


def timed(cmd, env=None):
    """Wall time, peak RSS (KiB), output and CPU time (user + system) of one whole process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    out = p.stdout.read().decode()
    err = p.stderr.read().decode()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"command failed ({code}): {' '.join(map(str, cmd))}\n{err[-2000:]}")
    return wall, ru.ru_maxrss, out, ru.ru_utime + ru.ru_stime


CPU = {}


def best_of(n, cmd, env=None):
    """Best wall time, max peak RSS, first output; the best CPU time is kept in CPU[wall]."""
    runs = [timed(cmd, env) for _ in range(n)]
    best = min(r[0] for r in runs)
    CPU[best] = min(r[3] for r in runs)
    return best, max(r[1] for r in runs), runs[0][2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=str(Path.home() / ".cache/kpeval/ref-venv/bin/python"))
    ap.add_argument("--kpeval", default=str(ROOT / "target/release/kpeval"))
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (best wall time is kept)")
    ap.add_argument("--repeat-short", type=int, default=7, help="runs per kpeval measurement (sub-second runs)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kpeval-bench-"))
    pairs = tmp / "pairs.jsonl"
    small = tmp / "pairs-1000.jsonl"
    with gzip.open(DATA, "rt") as f, open(pairs, "w") as out, open(small, "w") as out_small:
        for i, line in enumerate(f):
            r = json.loads(line)
            kp = r["key_points"] if isinstance(r["key_points"], list) else json.loads(r["key_points"])
            sysd = r["systems"] if isinstance(r["systems"], dict) else json.loads(r["systems"])
            rec = {"id": r["id"], "key_points": kp, "summary": sysd["pointer-gen-cov"]["summary"]}
            line = json.dumps(rec) + "\n"
            out.write(line)
            if i < 1000:
                out_small.write(line)
    n = sum(1 for _ in open(pairs))
    print(f"pairs: {n} (CNN/DM test, pointer-gen-cov vs key points); temp dir {tmp}")
    ref_rouge = tmp / "rouge_ref.py"
    ref_rouge.write_text(ROUGE_REF)
    ref_bleu = tmp / "sacrebleu_ref.py"
    ref_bleu.write_text(SACREBLEU_REF)
    kp = args.kpeval
    env1 = dict(os.environ, RAYON_NUM_THREADS="1")

    import shutil
    one_cpu = ["taskset", "-c", str(min(os.sched_getaffinity(0)))] if shutil.which("taskset") else []
    if not one_cpu:
        print("note: taskset not found; '1 thread' runs are not pinned to one CPU")

    def kpeval_cmd(metrics, threads, inp, out):
        pin = one_cpu if threads == 1 else []
        return pin + [kp, "score", str(inp), "--metrics", metrics, "--threads", str(threads), "-o", str(tmp / out), "-q"]

    rows = []
    t_rs, m_rs, _ = best_of(args.repeat, one_cpu + [args.python, str(ref_rouge), str(pairs)])
    t_k1, m_k1, _ = best_of(args.repeat_short, kpeval_cmd("rouge", 1, pairs, "rouge1t.jsonl"), env1)
    t_k2, _, _ = best_of(args.repeat_short, kpeval_cmd("rouge", 2, pairs, "rouge2t.jsonl"))
    rows.append(("rouge-score 0.1.2 (1/2/L/Lsum, stemmer)", t_rs, m_rs))
    rows.append(("kpeval score --metrics rouge, 1 thread", t_k1, m_k1))
    rows.append(("kpeval score --metrics rouge, 2 threads", t_k2, None))
    t_k0, _, _ = best_of(args.repeat_short, kpeval_cmd("rouge", 1, pairs, "rouge1t-nob.jsonl") + ["--bootstrap", "0"], env1)
    rows.append(("kpeval ... rouge, 1 thread, --bootstrap 0 (no CIs)", t_k0, None))
    t_sb, m_sb, sb_out = best_of(args.repeat, one_cpu + [args.python, str(ref_bleu), str(pairs)])
    t_b1, m_b1, _ = best_of(args.repeat_short, kpeval_cmd("bleu,chrf", 1, pairs, "bleu1t.jsonl"), env1)
    t_b2, _, _ = best_of(args.repeat_short, kpeval_cmd("bleu,chrf", 2, pairs, "bleu2t.jsonl"))
    rows.append(("sacreBLEU corpus BLEU + chrF", t_sb, m_sb))
    rows.append(("kpeval score --metrics bleu,chrf, 1 thread", t_b1, m_b1))
    rows.append(("kpeval score --metrics bleu,chrf, 2 threads", t_b2, None))
    _, rss_small, _, _ = timed(kpeval_cmd("overlap", 2, small, "small.jsonl"))
    _, rss_full, _, _ = timed(kpeval_cmd("overlap", 2, pairs, "full.jsonl"))
    agg = json.loads((tmp / "bleu1t.aggregate.json").read_text())
    sysagg = next(iter(agg["systems"].values()))
    print()
    print(f"{'what':48s} {'wall s':>8s} {'cpu s':>8s} {'peak RSS MiB':>13s}")
    for name, t, m in rows:
        print(f"{name:48s} {t:8.3f} {CPU[t]:8.3f} {'' if m is None else f'{m / 1024:13.1f}'}")
    print()
    print(f"ROUGE ratio (rouge-score / kpeval, 1 CPU):         {t_rs / t_k1:8.1f}x  (target >= 100x); CPU time {CPU[t_rs] / CPU[t_k1]:.1f}x")
    print(f"ROUGE ratio without confidence intervals:          {t_rs / t_k0:8.1f}x; CPU time {CPU[t_rs] / CPU[t_k0]:.1f}x")
    print(f"ROUGE thread speed-up (1 -> 2 threads):            {t_k1 / t_k2:8.2f}x")
    print(f"BLEU+chrF ratio (sacreBLEU / kpeval, 1 CPU):       {t_sb / t_b1:8.1f}x  (target >= 20x); CPU time {CPU[t_sb] / CPU[t_b1]:.1f}x")
    print(f"BLEU+chrF thread speed-up (1 -> 2 threads):        {t_b1 / t_b2:8.2f}x")
    print(f"peak RSS kpeval score --metrics overlap: 1,000 pairs {rss_small / 1024:.1f} MiB, {n:,} pairs {rss_full / 1024:.1f} MiB")
    bleu_ref, chrf_ref = map(float, sb_out.split())
    print(f"corpus BLEU sacreBLEU {bleu_ref:.6f} kpeval {sysagg['corpus']['corpus_bleu']['mean']:.6f}; chrF sacreBLEU {chrf_ref:.6f} kpeval {sysagg['corpus']['corpus_chrf']['mean']:.6f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark (not a test): sentence-embedding throughput, kpeval vs sentence-transformers, same
model (models/store/all-MiniLM-L6-v2), 1,000 real sentences from ../shared/data, 2 threads.

The machine this runs on is shared and noisy, so the two sides alternate REPEATS times (default 3,
`--repeats N`) and the ratio of the medians is the result; every pair's ratio is printed too.

Both sides report model time only (tokenization + forward + pooling, model loading excluded):
sentence-transformers `encode` timed in-process; kpeval prints its model time on stderr.
Whole-process wall times are printed too.

Run: ~/.cache/kpeval/torch-2.4.0/bin/python eval/bench/embed.py   (needs sentence-transformers)
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "store" / "all-MiniLM-L6-v2"
DATA = ROOT.parent / "shared" / "data" / "cnndm-frank-250.jsonl"
THREADS = 2


def sentences(n=1000):
    out = []
    for line in open(DATA):
        r = json.loads(line)
        for s in re.split(r"(?<=[.!?])\s+", r["article"]):
            if len(s.split()) >= 5:
                out.append(s.strip())
            if len(out) == n:
                return out
    return out


def main():
    args = sys.argv[1:]
    repeats = 3
    if "--repeats" in args:
        i = args.index("--repeats")
        repeats = int(args[i + 1])
        del args[i : i + 2]
    kpeval = args[0] if args else str(ROOT / "target" / "release" / "kpeval")
    sents = sentences()
    tmp = Path(tempfile.mkdtemp(prefix="kpeval-embed-bench-"))
    inp = tmp / "sents.jsonl"
    inp.write_text("".join(json.dumps({"id": str(i), "text": s}) + "\n" for i, s in enumerate(sents)))
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), MKL_NUM_THREADS=str(THREADS))

    def run_kpeval():
        t0 = time.perf_counter()
        # libtorch's intra-op threads follow OMP_NUM_THREADS (kpeval's --threads only sizes its own pool).
        p = subprocess.run([kpeval, "embed", str(inp), "-o", str(tmp / "out.jsonl")], capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            sys.exit(p.stderr)
        m = re.search(r"embedded (\d+) text\(s\) in ([0-9.]+) s", p.stderr)
        return float(m.group(2)), wall

    import torch
    torch.set_num_threads(THREADS)
    from sentence_transformers import SentenceTransformer
    t0 = time.perf_counter()
    model = SentenceTransformer(str(MODEL), device="cpu")
    model.encode(sents[:8], batch_size=64)  # warm-up (kpeval's first batch pays the same cold start)
    st_load = time.perf_counter() - t0

    kp_runs, st_runs = [], []
    for _ in range(repeats):
        kp_runs.append(run_kpeval())
        t1 = time.perf_counter()
        emb = model.encode(sents, batch_size=64, convert_to_numpy=True)
        st_runs.append(time.perf_counter() - t1)
    med = lambda xs: sorted(xs)[len(xs) // 2]
    kp_model = med([k for k, _ in kp_runs])
    kp_wall = med([w for _, w in kp_runs])
    st_model = med(st_runs)

    ours = [json.loads(l)["embedding"] for l in open(tmp / "out.jsonl")]
    maxdiff = max(abs(a - b) for row, ref in zip(ours, emb) for a, b in zip(row, ref))
    print(f"{len(sents)} sentences, {THREADS} threads, all-MiniLM-L6-v2")
    print(f"{repeats} alternating runs per side; per-pair ratios: " + " ".join(f"{s / k:.2f}x" for (k, _), s in zip(kp_runs, st_runs)))
    print(f"sentence-transformers encode (median): {st_model:.3f} s ({len(sents) / st_model:.0f} sentences/s); model load {st_load:.2f} s (imports excluded)")
    print(f"kpeval embed model time (median):      {kp_model:.3f} s ({len(sents) / kp_model:.0f} sentences/s); whole process {kp_wall:.2f} s")
    print(f"throughput ratio kpeval / sentence-transformers (medians): {st_model / kp_model:.2f}x (target >= 1.3x)")
    print(f"max abs difference of the embeddings: {maxdiff:.2e}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark (not a test): throughput of the key-point coverage metrics, in (Key Development,
summary) pairs judged per second, whole process (model load included), each metric alone, on the
SummEval summaries (../shared/data/summeval-1600.jsonl: 1,600 summaries of 100 CNN/DM articles,
highlights as Key Developments). kp-tok is the reference point, so the ratio kp-cover / kp-tok
comes from the same run; sides alternate over REPEATS (default 3) and medians are compared.

Run: python3 eval/bench/coverage.py [--repeats N] [--limit N]   (after `make build`; stdlib only)
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench_common import cpu_model

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "summeval-1600.jsonl"
KPEVAL = ROOT / "target" / "release" / "kpeval"




def run(metric, data, out):
    t = time.perf_counter()
    cmd = [str(KPEVAL), "score", str(data), "--id-field", "article_id", "--system-field", "summary_id", "--metrics", metric, "-q", "-o", out]
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--limit", type=int, default=1600, help="first N summaries")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.jsonl"
        lines = open(DATA).read().splitlines()[: a.limit]
        data.write_text("\n".join(lines) + "\n")
        pairs = 0
        for line in lines:
            r = json.loads(line)
            kps = r.get("key_points")
            pairs += len(kps) if isinstance(kps, list) else len([k for k in str(kps).split("\n") if k.strip()])
        times = {"kp-tok": [], "kp-cover": []}
        for i in range(a.repeats):
            order = ["kp-tok", "kp-cover"] if i % 2 == 0 else ["kp-cover", "kp-tok"]
            for m in order:
                times[m].append(run(m, data, str(Path(tmp) / f"{m}.jsonl")))
        print(f"CPU: {cpu_model()}, {os.cpu_count()} logical cores; {len(lines)} summaries, {pairs} (Key Development, summary) pairs")
        print(f"{'metric':<10} {'median s':>9} {'pairs/s':>9}   runs")
        med = {}
        for m, ts in times.items():
            med[m] = statistics.median(ts)
            print(f"{m:<10} {med[m]:>9.2f} {pairs / med[m]:>9.1f}   {' '.join(f'{t:.2f}' for t in ts)}")
        print(f"kp-cover / kp-tok throughput: {med['kp-tok'] / med['kp-cover']:.2f}x")


if __name__ == "__main__":
    main()

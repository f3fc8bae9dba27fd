#!/usr/bin/env python3
"""Compares a merged results file (kpeval merge) with the single unsharded run of the same corpus
and settings, for eval/slurm/run-array-test.sh. Prints PASS/FAIL/INFO lines; exit 1 on a FAIL.

  compare.py REF.jsonl MERGED.jsonl [--shards SHARD.jsonl ...]

- records: merge writes one line per (id, system), sorted by that key (Rust byte order, which is
  Python's code-point order); the single run writes input order. So MERGED must equal REF's
  lines sorted by (id, system), byte for byte (every score, `source.file`/`line` included);
- no key lost, none duplicated, in MERGED and in each shard file, and the shards disjoint;
- the aggregate sidecars (`X.aggregate.json`) byte-identical, the Markdown reports too;
- the HTML reports identical but for the file name in the title and the per-article view, which
  shows the first 500 articles in file order (input order for the single run, id order merged).
"""
import json
import re
import sys
from collections import Counter
from pathlib import Path

failed = False


def report(ok, what):
    global failed
    failed |= not ok
    print(f"{'PASS' if ok else 'FAIL'}: {what}")


def info(what):
    print(f"INFO: {what}")


def lines(path):
    data = Path(path).read_bytes()
    if data and not data.endswith(b"\n"):
        info(f"{path}: last line has no newline (torn)")
    return data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n")


def key(line):
    r = json.loads(line)
    return (r["id"], r.get("system") or "")


def sidecar(path, ext):
    p = Path(path)
    stem = p.name[: -len(".jsonl")] if p.name.endswith(".jsonl") else p.name
    return p.with_name(f"{stem}.{ext}")


def html_parts(path):
    h = sidecar(path, "report.html").read_text(encoding="utf-8")
    h = h.replace(str(path), "RESULTS")
    m = re.search(r'<script id="data" type="application/json">(.*?)</script>', h, re.S)
    if not m:
        return h, []
    return h[: m.start(1)] + h[m.end(1) :], [a["id"] for a in json.loads(m.group(1))]


def main():
    args = sys.argv[1:]
    shards = []
    if "--shards" in args:
        i = args.index("--shards")
        args, shards = args[:i], args[i + 1 :]
    ref_path, merged_path = args
    ref, merged = lines(ref_path), lines(merged_path)
    ref_keys, merged_keys = [key(l) for l in ref], [key(l) for l in merged]
    ref_set, merged_set = set(ref_keys), set(merged_keys)
    dup = sum(n - 1 for n in Counter(merged_keys).values() if n > 1)
    info(f"single run: {len(ref)} records ({len(ref_set)} distinct (id, system)); merged: {len(merged)} records")
    report(len(ref_set) == len(ref), "single run: every (id, system) once")
    report(dup == 0, f"merged: no duplicated (id, system) ({dup} duplicate(s))")
    lost, extra = ref_set - merged_set, merged_set - ref_set
    report(not lost and not extra, f"merged: same (id, system) set as the single run ({len(lost)} lost, {len(extra)} extra)")

    if shards:
        total, seen, within = 0, Counter(), 0
        for s in shards:
            ks = [key(l) for l in lines(s)]
            within += len(ks) - len(set(ks))
            total += len(ks)
            seen.update(set(ks))
        across = sum(1 for n in seen.values() if n > 1)
        report(within == 0, f"shard files: no duplicated record within a shard ({within})")
        report(across == 0, f"shard files: disjoint ({across} record(s) in more than one shard)")
        report(total == len(ref), f"shard files: {total} records in all = single run's {len(ref)}")

    order = sorted(range(len(ref)), key=lambda i: ref_keys[i])
    ref_sorted = [ref[i] for i in order]
    report(ref_sorted == merged, "merged records == single run's records sorted by (id, system), byte for byte")
    if ref == merged:
        info("merged file == single run's file as it is (input order was already (id, system) order)")
    else:
        first = next((i for i, (a, b) in enumerate(zip(ref, merged)) if a != b), min(len(ref), len(merged)))
        info(f"files differ as they are from line {first + 1}: only the order (single run: input order; merge: sorted by (id, system))"
             if ref_sorted == merged else f"files differ from line {first + 1}")

    for ext in ("aggregate.json", "report.md"):
        a, b = sidecar(ref_path, ext), sidecar(merged_path, ext)
        if not a.exists() or not b.exists():
            report(False, f"{ext}: {a if not a.exists() else b} missing")
            continue
        report(a.read_bytes() == b.read_bytes(), f"{ext} byte-identical ({a.name} vs {b.name}, {a.stat().st_size} bytes)")
    if sidecar(ref_path, "report.html").exists() and sidecar(merged_path, "report.html").exists():
        (ha, ida), (hb, idb) = html_parts(ref_path), html_parts(merged_path)
        report(ha == hb, "report.html identical but for the file name and the per-article view")
        info(f"report.html per-article view: {len(ida)} articles each, first ones in file order, "
             f"{len(set(ida) & set(idb))} in both (single run: input order, merged: id order)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Agreement of kpeval scores with people's key-point verdicts: a cross-check for `kpeval meta-eval`.

What
  For a kpeval results file (JSONL, one record per (article id, system)) with human labels in meta
  (PyrXSum: meta.scu_labels = one 0/1 per key point, meta.human_pyramid = their mean), prints:
    --score-path P   (per key point; e.g. kp_cover.key_points, kp_tok.key_points): P resolves to a
                     list with one entry per key point; the unit score is entry.score (entry may also
                     be a bare number). Reported: per-unit ROC-AUC against meta[LABELS][i] (ties count
                     half), and the summary-level pooled Kendall tau-b of the record's mean unit score
                     against meta[HUMAN].
    --summary-path P (a numeric leaf; e.g. kp_cover.coverage, rouge1.recall): pooled tau-b against
                     meta[HUMAN].
  Paths are looked up under the record's "scores" first, then from the record root (so
  meta.something works too). Records with "error" are skipped; each row uses the records where its
  path resolves (n shown), and a unit path whose length differs from the labels skips that record
  for that row. Optional 95% CIs: percentile bootstrap over documents (record id), seeded.
  Statistics are those of fit_kp_cover.py (imported from this folder), tested there.

Provenance
  Data: PyrXSum (Zhang & Bansal 2021), ../shared/data/pyrxsum-1000.jsonl. Numpy only.

How to run (from the repository root)
  /tmp/fitvenv/bin/python eval/coverage/unit_agreement.py X.jsonl \
      --score-path kp_cover.key_points kp_tok.key_points kp.key_points \
      --summary-path kp_cover.coverage rouge1.recall [--bootstrap 1000]
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fit_kp_cover import auc, bootstrap_counts, ci95, fmt, kendall_tau_b, warn  # noqa: E402

MISSING = object()


def resolve(rec, path):
    for root in (rec.get("scores") or {}, rec):
        cur = root
        for part in path.split("."):
            if isinstance(cur, dict) and part in cur:
                cur = cur[part]
            else:
                cur = MISSING
                break
        if cur is not MISSING:
            return cur
    return MISSING


def number(v):
    if isinstance(v, dict):
        v = v.get("score", MISSING)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--score-path", nargs="+", action="extend", default=[], metavar="PATH",
                    help="per-key-point list paths, e.g. kp_cover.key_points")
    ap.add_argument("--summary-path", nargs="+", action="extend", default=[], metavar="PATH",
                    help="summary-level numeric leaves, e.g. rouge1.recall")
    ap.add_argument("--labels", default="scu_labels")
    ap.add_argument("--human", default="human_pyramid")
    ap.add_argument("--bootstrap", type=int, default=0, help="resamples of documents for 95%% CIs (0: none)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if not args.score_path and not args.summary_path:
        ap.error("give --score-path and/or --summary-path")

    recs, n_err = [], 0
    with open(args.results) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                if r.get("error"):
                    n_err += 1
                else:
                    recs.append(r)
    docs = sorted({r.get("id") for r in recs})
    doc_index = {k: i for i, k in enumerate(docs)}
    W = bootstrap_counts(len(docs), args.bootstrap, args.seed) if args.bootstrap > 0 else None

    def human(r):
        h = (r.get("meta") or {}).get(args.human)
        return float(h) if isinstance(h, (int, float)) and not isinstance(h, bool) else None

    def tau_with_ci(xs, hs, ds):
        xs, hs, ds = np.array(xs), np.array(hs), np.array(ds, int)
        t = kendall_tau_b(xs, hs) if len(xs) > 1 else float("nan")
        ci = ci95(kendall_tau_b(xs, hs, W[:, ds])) if W is not None and len(xs) > 1 else [float("nan")] * 2
        return t, ci

    print(f"{args.results}: {len(recs)} records ({n_err} errors), {len(docs)} documents; "
          f"labels meta.{args.labels}, human meta.{args.human}")
    ci_h = "   95% CI        " if W is not None else ""
    print(f"  {'path':<28} {'pairs':>6} {'unit AUC':>8} {ci_h}{'records':>7} {'tau_b':>7} {ci_h}".rstrip())
    for path in args.score_path:
        s, y, ud, xs, hs, ds = [], [], [], [], [], []
        bad = 0
        for r in recs:
            v = resolve(r, path)
            labs = (r.get("meta") or {}).get(args.labels)
            if v is MISSING or not isinstance(v, list):
                continue
            vals = [number(e) for e in v]
            if any(e is None for e in vals) or not vals:
                bad += 1
                continue
            d = doc_index[r.get("id")]
            if labs is not None and len(labs) == len(vals):
                s += vals
                y += [float(x) for x in labs]
                ud += [d] * len(vals)
            elif labs is not None:
                bad += 1
            h = human(r)
            if h is not None:
                xs.append(float(np.mean(vals)))
                hs.append(h)
                ds.append(d)
        if bad:
            warn(f"{path}: {bad} record(s) with non-numeric scores or a label-length mismatch left out")
        s, y, ud = np.array(s), np.array(y), np.array(ud, int)
        a = auc(s, y) if len(s) else float("nan")
        t, tci = tau_with_ci(xs, hs, ds)
        line = f"  {path:<28} {len(s):>6} {fmt(a):>8} "
        if W is not None:
            aci = ci95(auc(s, y, W[:, ud])) if len(s) else [float("nan")] * 2
            line += f"[{fmt(aci[0])}, {fmt(aci[1])}] "
        line += f"{len(xs):>7} {fmt(t):>7} "
        if W is not None:
            line += f"[{fmt(tci[0])}, {fmt(tci[1])}]"
        if not len(s) and not xs:
            warn(f"{path}: not found as a list in any record")
        print(line.rstrip())
    for path in args.summary_path:
        xs, hs, ds = [], [], []
        for r in recs:
            v = resolve(r, path)
            h = human(r)
            x = None if v is MISSING else number(v)
            if x is not None and h is not None:
                xs.append(x)
                hs.append(h)
                ds.append(doc_index[r.get("id")])
        t, tci = tau_with_ci(xs, hs, ds)
        line = f"  {path:<28} {'':>6} {'':>8} " + (" " * 17 if W is not None else "")
        line += f"{len(xs):>7} {fmt(t):>7} "
        if W is not None:
            line += f"[{fmt(tci[0])}, {fmt(tci[1])}]"
        if not xs:
            warn(f"{path}: no record has both this number and meta.{args.human}")
        print(line.rstrip())
    if args.score_path:
        print("  (per-key-point paths: tau_b of the record's mean unit score"
              + (f"; 95% CIs: {args.bootstrap} bootstrap resamples of documents)" if W is not None else ")"))


if __name__ == "__main__":
    main()

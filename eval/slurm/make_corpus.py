#!/usr/bin/env python3
"""Test corpora for eval/slurm/run-array-test.sh, made from tests/fixtures/rouge_parity.jsonl.gz
(CNN/DM reference highlights, each with the summaries of several systems; standard library only).

  make_corpus.py short OUT   one record per reference: `key_points` = the reference's lines,
                             `article` = its systems' summaries joined (a short news-like text);
                             records with no article or no key point (the fixture's empty edge
                             cases) are left out, so that a run exits 0. ~1,200 records, ~2 MB;
                             shuffled (fixed seed) so that input order is not id order.
  make_corpus.py long OUT N  N long records: `article` = 24 consecutive short articles,
                             `key_points` = the key points of 240 of them (~800): with
                             `--summarizer lead-200` kp-rouge matches 200 x ~800 key points, so a
                             record costs ~0.15 s and an array task runs long enough to be
                             killed half-way.
"""
import gzip
import json
import random
import sys
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[2] / "tests/fixtures/rouge_parity.jsonl.gz"


def short_records():
    by_target = {}
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            preds = by_target.setdefault(row["target"], [])
            if row["prediction"] not in preds:
                preds.append(row["prediction"])
    out = []
    for i, (target, preds) in enumerate(by_target.items()):
        article = " ".join(preds)
        key_points = [k for k in target.split("\n") if k.strip()]
        if article.strip() and key_points:
            out.append({"id": f"rp-{i:04d}", "article": article, "key_points": key_points})
    return out


def main():
    kind, out = sys.argv[1], Path(sys.argv[2])
    rows = short_records()
    if kind == "short":
        random.Random(20).shuffle(rows)
    elif kind == "long":
        n = int(sys.argv[3])
        m = len(rows)
        rows = [
            {
                "id": f"long-{i:04d}",
                "article": " ".join(rows[(i * 29 + j) % m]["article"] for j in range(24)),
                "key_points": [k for j in range(240) for k in rows[(i * 29 + j) % m]["key_points"]],
            }
            for i in range(n)
        ]
        random.Random(20).shuffle(rows)
    else:
        sys.exit(f"unknown corpus kind {kind!r}: short or long")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{out}: {len(rows)} records, {out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()

"""Notebook-style example: evaluate the summaries in a pandas DataFrame with kpeval and print the
aggregate (means with 95% bootstrap CIs per system).

    python python/examples/evaluate_dataframe.py [records.jsonl]

Default input: the FRANK sample bundled with the tests (CNN/DM articles, reference highlights as
Key Developments, five systems' summaries). One DataFrame row per (article, system).
"""
import json
import sys
from pathlib import Path

import pandas as pd

import kpeval

path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "tests/fixtures/frank-sample.jsonl"
rows = []
for line in path.read_text().splitlines():
    r = json.loads(line)
    for system, given in r["systems"].items():
        # FRANK gives each summary with its human factuality labels: keep the text
        summary = given["summary"] if isinstance(given, dict) else given
        rows.append({"id": r["id"], "article": r["article"], "key_points": r["key_points"],
                     "system": system, "summary": summary})
df = pd.DataFrame(rows)
print(f"{len(df)} summaries of {df['id'].nunique()} articles by {df['system'].nunique()} systems")

records, aggregate = kpeval.evaluate(df, metrics="overlap", bootstrap=1000, seed=12345)

table = []
for system, agg in sorted(aggregate["systems"].items()):
    m = agg["metrics"]
    row = {"system": system, "n": agg["records"]}
    for leaf in ("rouge1.f1", "rouge2.f1", "rougeL.f1", "kp_rouge.coverage"):
        e = m[leaf]
        row[leaf] = f"{100 * e['mean']:.1f} [{100 * e['ci_low']:.1f}, {100 * e['ci_high']:.1f}]"
    table.append(row)
print(pd.DataFrame(table).to_string(index=False))
print("signature:", aggregate["signature"])

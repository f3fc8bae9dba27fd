#!/usr/bin/env python3
"""Reference values for the `kp_tok` similarity (token alignment = BERTScore without idf on
all-MiniLM-L6-v2, layer 6) from bert-score 0.3.13, for
crates/kpeval-torch/tests/embed_parity.rs (`kp_tok_matches_bert_score`).

Run with the libtorch venv (torch 2.4.0, transformers 4.46.3, bert-score 0.3.13):
    ~/.cache/kpeval/torch-2.4.0/bin/python eval/reference/gen_kp_tok_fixtures.py

Pairs (reference key point k, generated point g): every Key Development of the example article
against each of its first 6 article sentences, and for the first 5 articles of
../shared/data/cnndm-frank-250.jsonl (read only here) every key point against each sentence of
each system's summary. bert_score.score(cands=g, refs=k): kpeval's rec[k][g] is its recall,
prec[k][g] its precision. Writes tests/fixtures/kp_tok_expected.json.
"""
import json
import re
import sys
from pathlib import Path

import bert_score
import torch

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "cnndm-frank-250.jsonl"
MINILM = ROOT / "models" / "store" / "all-MiniLM-L6-v2"
ARTICLE = ROOT / "eval" / "articles" / "venezuela-drug-talks.txt"
OUT = ROOT / "tests" / "fixtures" / "kp_tok_expected.json"


def split(text):
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def pairs():
    lines = ARTICLE.read_text(encoding="utf-8").splitlines()
    kds, body, section = [], [], None
    for l in lines:
        t = l.strip()
        if t.lower().startswith("key developments"):
            section = "kd"
            continue
        if t.endswith(":") or t.startswith("#"):
            section = "other"
            continue
        if section == "kd" and t.startswith("-"):
            kds.append(t.lstrip("- ").strip())
        elif t and section != "kd":
            body.extend(split(t))
    out = [(k, g) for k in kds for g in body[:6]]
    with DATA.open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= 5:
                break
            r = json.loads(line)
            for name in sorted(r["systems"]):
                for g in split(r["systems"][name]["summary"]):
                    out += [(k, g) for k in r["key_points"]]
    return out


def main():
    torch.set_num_threads(2)
    ps = pairs()
    refs = [k for k, _ in ps]
    cands = [g for _, g in ps]
    (p, r, f), h = bert_score.score(cands, refs, model_type=str(MINILM), num_layers=6, idf=False, batch_size=64, device="cpu", return_hash=True)
    out = {
        "hash": h.replace(str(MINILM), MINILM.name),
        "pairs": [{"reference": k, "generated": g, "rec": float(rr), "prec": float(pp)} for (k, g), rr, pp in zip(ps, r, p)],
    }
    OUT.write_text(json.dumps(out, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {len(ps)} pairs to {OUT}")


if __name__ == "__main__":
    sys.exit(main())

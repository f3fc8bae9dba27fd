#!/usr/bin/env python3
"""Reference BERTScore (bert-score 0.3.13) for the parity test
crates/kpeval-torch/tests/bertscore_parity.rs.

Run with the libtorch venv (torch 2.4.0, transformers 4.46.3, bert-score 0.3.13; note that
bert-score 0.3.13 reports `__version__ == "0.3.12"`, the release did not bump it):
    ~/.cache/kpeval/torch-2.4.0/bin/python eval/reference/gen_bertscore_fixtures.py

Pairs: for the first 10 articles of ../shared/data/cnndm-frank-250.jsonl (read only here), each
of the 5 systems' summary (candidate) against the article's key points joined with " "
(reference), plus one empty candidate. `bert_score.score` takes the local folder as
`model_type` (it calls AutoTokenizer/AutoModel.from_pretrained on it; slow tokenizer), so no
internals are needed. Settings recorded in tests/fixtures/bertscore_expected.json:
- models/store/all-MiniLM-L6-v2, num_layers=6 (its last), idf False and True;
- the same with baseline rescaling from tests/fixtures/bertscore_baseline.tsv (a made-up
  baseline in bert-score's csv format: LAYER,P,R,F);
- MiniLM num_layers=3 (layers dropped as bert-score does);
- tests/fixtures/models/tiny-nli-roberta (from gen_nli_fixtures.py) num_layers=1, idf True: the
  RoBERTa path (add_prefix_space, LayerNorm eps 1e-5, truncation at its 64-token max length).
"""
import json
import sys
from pathlib import Path

import bert_score
import torch
import transformers

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "cnndm-frank-250.jsonl"
MINILM = ROOT / "models" / "store" / "all-MiniLM-L6-v2"
TINY_ROBERTA = ROOT / "tests" / "fixtures" / "models" / "tiny-nli-roberta"
BASELINE = ROOT / "tests" / "fixtures" / "bertscore_baseline.tsv"
OUT = ROOT / "tests" / "fixtures" / "bertscore_expected.json"


def pairs():
    cands, refs = [], []
    with DATA.open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= 10:
                break
            r = json.loads(line)
            ref = " ".join(r["key_points"])
            for name in sorted(r["systems"]):
                cands.append(r["systems"][name]["summary"])
                refs.append(ref)
    cands.append("")
    refs.append(refs[0])
    return cands, refs


def write_baseline():
    rows = ["LAYER,P,R,F"]
    for layer in range(7):
        rows.append(f"{layer},{0.50 + 0.01 * layer:.8f},{0.51 + 0.01 * layer:.8f},{0.505 + 0.01 * layer:.8f}")
    BASELINE.write_text("\n".join(rows) + "\n", encoding="utf-8")


def run(cands, refs, model, layers, idf, baseline=False):
    kw = dict(model_type=str(model), num_layers=layers, idf=idf, batch_size=64, device="cpu", nthreads=1)
    if baseline:
        kw.update(rescale_with_baseline=True, baseline_path=str(BASELINE), lang="en")
    (p, r, f), h = bert_score.score(cands, refs, return_hash=True, **kw)
    return {
        "model": str(model.relative_to(ROOT)),
        "num_layers": layers,
        "idf": idf,
        "baseline": str(BASELINE.relative_to(ROOT)) if baseline else None,
        "hash": h.replace(str(model), model.name),
        "precision": [float(x) for x in p],
        "recall": [float(x) for x in r],
        "f1": [float(x) for x in f],
    }


def main():
    torch.set_num_threads(1)
    cands, refs = pairs()
    write_baseline()
    runs = {
        "minilm_l6": run(cands, refs, MINILM, 6, False),
        "minilm_l6_idf": run(cands, refs, MINILM, 6, True),
        "minilm_l6_rescaled": run(cands, refs, MINILM, 6, False, baseline=True),
        "minilm_l3": run(cands, refs, MINILM, 3, False),
        "tiny_roberta_l1_idf": run(cands, refs, TINY_ROBERTA, 1, True),
    }
    out = {
        "versions": {"bert-score": "0.3.13 (reports " + bert_score.__version__ + ")", "transformers": transformers.__version__, "torch": torch.__version__},
        "candidates": cands,
        "references": refs,
        "runs": runs,
    }
    OUT.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for k, v in runs.items():
        print(f"{k}: mean F1 {sum(v['f1']) / len(v['f1']):.4f} ({v['hash']})")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(cands)} pairs)")


if __name__ == "__main__":
    sys.exit(main())

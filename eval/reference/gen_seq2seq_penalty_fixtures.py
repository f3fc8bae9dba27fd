#!/usr/bin/env python3
"""transformers `generate` with `repetition_penalty` and `encoder_no_repeat_ngram_size` on the tiny
seq2seq models of tests/fixtures/models/ (made by gen_seq2seq_fixtures.py; read here as saved), for
the parity test `penalties_match_transformers` (crates/kpeval-torch/tests/seq2seq_parity.rs):
tests/fixtures/seq2seq_penalties_expected.json.

    ~/.cache/kpeval/torch-2.4.0/bin/python eval/reference/gen_seq2seq_penalty_fixtures.py

Environment B of eval/reference/README.md. The modes use the values of the LongT5 book-summary
preset's own configuration (pszemraj/long-t5-tglobal-base-16384-book-summary: repetition penalty
3.5, encoder no-repeat 4-grams, no-repeat 3-grams, length penalty 0.8), greedy and with 2 beams,
plus a milder penalty (1.3) with 4 beams. Each input is generated alone (no padding). As in
gen_seq2seq_fixtures.py, `rustbert_rule` holds what transformers gives when made to follow rust-bert
0.23's one known departure in beam search (length normalization of hypotheses still open at
max_length). Output is byte-identical from run to run.
"""
import json
import sys
from pathlib import Path

import torch
import transformers
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_seq2seq_fixtures import INPUTS, canonical, rustbert_rule  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "tests" / "fixtures" / "models"
OUT = ROOT / "tests" / "fixtures" / "seq2seq_penalties_expected.json"

BOOK = dict(no_repeat_ngram_size=3, repetition_penalty=3.5, encoder_no_repeat_ngram_size=4,
            length_penalty=0.8, early_stopping=True)
MODES = {
    "greedy_book_penalties": dict(BOOK, num_beams=1, min_length=8, max_length=24),
    "beam2_book_penalties": dict(BOOK, num_beams=2, min_length=8, max_length=24),
    "beam4_repetition1.3": dict(num_beams=4, min_length=8, max_length=24, no_repeat_ngram_size=0,
                                repetition_penalty=1.3, encoder_no_repeat_ngram_size=0,
                                length_penalty=1.0, early_stopping=False),
}
PREFIX = {"tiny-t5": "summarize: ", "tiny-flan-t5": "summarize: "}


def main():
    torch.set_num_threads(1)
    out = {"generator": "eval/reference/gen_seq2seq_penalty_fixtures.py",
           "versions": {"transformers": transformers.__version__, "torch": torch.__version__},
           "inputs": INPUTS, "modes": MODES, "models": {}}
    for name in ["tiny-bart", "tiny-t5", "tiny-flan-t5", "tiny-pegasus", "tiny-longt5"]:
        model = AutoModelForSeq2SeqLM.from_pretrained(MODELS / name).eval()
        tok = AutoTokenizer.from_pretrained(MODELS / name)
        eos = model.config.eos_token_id
        results = {}
        for mode, kw in MODES.items():
            kw = dict(kw, do_sample=False, num_return_sequences=1)
            rows = []
            for text in INPUTS:
                enc = tok(PREFIX.get(name, "") + text, return_tensors="pt")
                with torch.no_grad():
                    g = model.generate(**enc, **kw, return_dict_in_generate=True, output_scores=True)
                    with rustbert_rule(model):
                        rb = model.generate(**enc, **kw, return_dict_in_generate=True,
                                            output_scores=True)
                    plain = model.generate(**enc, **dict(kw, repetition_penalty=1.0,
                                                         encoder_no_repeat_ngram_size=0))
                row = {"input_ids": enc["input_ids"][0].tolist(),
                       "ids": canonical(g.sequences[0].tolist(), eos),
                       "text": tok.decode(g.sequences[0], skip_special_tokens=True),
                       "rustbert_rule": {"ids": canonical(rb.sequences[0].tolist(), eos),
                                         "text": tok.decode(rb.sequences[0], skip_special_tokens=True)},
                       # the same mode without the two penalties: the test checks they matter
                       "ids_without_penalties": canonical(plain[0].tolist(), eos)}
                rows.append(row)
            results[mode] = rows
            changed = sum(r["ids"] != r["ids_without_penalties"] for r in rows)
            print(f"{name} {mode}: " + ", ".join(str(len(r["ids"])) for r in rows)
                  + f" ids; {changed}/{len(rows)} changed by the penalties")
        out["models"][name] = {"prefix": PREFIX.get(name, ""), "results": results}
    OUT.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

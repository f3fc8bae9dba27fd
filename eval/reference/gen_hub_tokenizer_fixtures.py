#!/usr/bin/env python3
"""Expected token ids for the published tokenizer files the local hub serves
(tests/fixtures/hub/, see its README): transformers' slow tokenizers on the served files, on real
CNN/DM text, written to tests/fixtures/hub/tokenization.json. The test
`served_tokenizers_match_transformers` (crates/kpeval-torch/tests/hub.rs) loads the same files the
way kpeval loads a preset's tokenizer and asserts the same ids.

    ~/.cache/kpeval/torch-2.4.0/bin/python eval/reference/gen_hub_tokenizer_fixtures.py

Environment B of eval/reference/README.md (transformers 4.46.3, sentencepiece). The T5 family
uses `T5Tokenizer` with transformers' default for these repositories (legacy=True: none of their
tokenizer_config.json sets `legacy`), BART `BartTokenizer` (add_prefix_space false, as the
presets' files say). Texts: the first sentences of the articles of tests/fixtures/frank-sample.jsonl
(T5 with the presets' "summarize: " prefix), plus a few edge cases (accents, quotes, digits,
currency, an emoji, double spaces). Rerunning gives byte-identical output.
"""
import json
import re
from pathlib import Path

import transformers
from transformers import BartTokenizer, T5Tokenizer

ROOT = Path(__file__).resolve().parents[2]
HUB = ROOT / "tests" / "fixtures" / "hub"
OUT = HUB / "tokenization.json"

EDGE = [
    "Café owners in São Paulo said “no” — twice.",
    "The £1.5bn deal (up 12.5% on 2014's) closed at 09:30 GMT.",
    "U.S.  officials  said:  'We will   respond.'",
    "Emoji 🎉 and naïve coöperation, Ærø, Zürich.",
]


def texts():
    out = []
    for line in (ROOT / "tests" / "fixtures" / "frank-sample.jsonl").read_text().splitlines():
        article = json.loads(line)["article"]
        first = re.split(r"(?<=[.!?])\s+", article.strip())[:2]
        out.append(" ".join(first))
        if len(out) == 8:
            break
    return out + EDGE


def main():
    t5 = T5Tokenizer(str(HUB / "google-t5" / "t5-small" / "spiece.model"), legacy=True)
    bart_dir = HUB / "facebook" / "bart-large-cnn"
    bart = BartTokenizer(str(bart_dir / "vocab.json"), str(bart_dir / "merges.txt"))
    cases = []
    for text in texts():
        # kpeval adds the preset's prefix itself: the text is stored without it
        cases.append({"family": "t5", "text": text, "prefix": "summarize: ",
                      "ids": t5("summarize: " + text)["input_ids"]})
        cases.append({"family": "bart", "text": text, "ids": bart(text)["input_ids"]})
    doc = {"generator": "eval/reference/gen_hub_tokenizer_fixtures.py",
           "transformers": transformers.__version__,
           "files": {"t5": "google-t5/t5-small/spiece.model",
                     "bart": "facebook/bart-large-cnn/vocab.json, merges.txt"},
           "cases": cases}
    OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""PyTorch-checkpoint copies of the tiny test models, for the `pytorch_model.bin` loading test
(crates/kpeval-torch/tests/torch_checkpoints.rs).

transformers wrote `pytorch_model.bin` (a `torch.save` zip archive of the state dict) by default
before 4.35, and still does with `save_pretrained(dir, safe_serialization=False)`; large models
are split into `pytorch_model-0000k-of-0000n.bin` shards with `pytorch_model.bin.index.json`.
This script loads the committed tiny models (tests/fixtures/models/, written by
gen_seq2seq_fixtures.py and gen_nli_fixtures.py) and saves their weights again that way under
tests/fixtures/models/torch-bin/<name>/ (weights and index only: the test puts them next to a
copy of the original folder's config and tokenizer files, so both folders hold the same model):
  tiny-bart, tiny-t5          one pytorch_model.bin each (tied embeddings share one storage)
  tiny-bart-sharded           the same BART in shards of at most 100 kB + the index
  tiny-nli-roberta, tiny-nli-deberta-v2, tiny-nli-bert   one pytorch_model.bin each
It also writes tests/fixtures/models/tokenizer-json/tiny-bart/tokenizer.json: tiny-bart's fast
tokenizer alone (a folder with tokenizer.json but no vocab.json / merges.txt must still load).

Run with the libtorch venv (torch 2.4.0, transformers 4.46.3):
    ~/.cache/kpeval/torch-2.4.0/bin/python eval/reference/gen_torch_checkpoint_fixtures.py
"""
import shutil
import tempfile
from pathlib import Path

from transformers import AutoModelForSeq2SeqLM, AutoModelForSequenceClassification, BartTokenizerFast

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "tests" / "fixtures" / "models"
OUT = MODELS / "torch-bin"

JOBS = [
    ("tiny-bart", "tiny-bart", AutoModelForSeq2SeqLM, None),
    ("tiny-t5", "tiny-t5", AutoModelForSeq2SeqLM, None),
    ("tiny-bart-sharded", "tiny-bart", AutoModelForSeq2SeqLM, "100KB"),
    ("tiny-nli-roberta", "tiny-nli-roberta", AutoModelForSequenceClassification, None),
    ("tiny-nli-deberta-v2", "tiny-nli-deberta-v2", AutoModelForSequenceClassification, None),
    ("tiny-nli-bert", "tiny-nli-bert", AutoModelForSequenceClassification, None),
]


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    for name, src, cls, shard in JOBS:
        model = cls.from_pretrained(MODELS / src)
        with tempfile.TemporaryDirectory() as tmp:
            kw = {"max_shard_size": shard} if shard else {}
            model.save_pretrained(tmp, safe_serialization=False, **kw)
            dst = OUT / name
            dst.mkdir(parents=True)
            files = sorted(p.name for p in Path(tmp).iterdir() if p.name.startswith("pytorch_model"))
            assert files, name
            for f in files:
                shutil.copy(Path(tmp) / f, dst / f)
            print(name, files)
    tok_out = MODELS / "tokenizer-json" / "tiny-bart"
    if tok_out.exists():
        shutil.rmtree(tok_out)
    tok_out.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        BartTokenizerFast.from_pretrained(MODELS / "tiny-bart").save_pretrained(tmp)
        shutil.copy(Path(tmp) / "tokenizer.json", tok_out / "tokenizer.json")
    print("tokenizer-json/tiny-bart", ["tokenizer.json"])


if __name__ == "__main__":
    main()

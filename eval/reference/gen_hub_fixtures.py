#!/usr/bin/env python3
"""The local hub's files (tests/fixtures/hub/): one repository per preset of models/presets.toml,
in the hub's layout, served by the test server of crates/kpeval-torch/tests/hub.rs.

    python3 eval/reference/gen_hub_fixtures.py        # plain Python 3, no packages; runs cargo

For each preset it writes the repository's config.json (and generation_config.json,
tokenizer_config.json, special_tokens_map.json where the published repository has one) with the
published values (below; see tests/fixtures/hub/README.md for where they come from and what is
reconstructed), reduced in width and depth only: d_model, layer, head and feed-forward sizes, and
vocab_size (the reduced tokenizer's length). Every other key, generation settings and token ids
included, is the published one. Tokenizer files are the small trained ones of
tests/fixtures/models/ (tiny-bart's byte-level BPE, tiny-t5's sentencepiece unigram model), not
the published 50,265-token BPE / 32,100- and 96,103-piece sentencepiece models (5 MB together,
and their embedding matrices would be most of the weights): said in the README.

Weights: random, from rust-bert's own initialization with a fixed seed
(crates/kpeval-torch/examples/hub_fixture_weights.rs), saved as the preset's weights file
(`rust_model.ot`; `model.safetensors` for flan-t5-base). The weights' values are the same from
run to run (libtorch's CPU generator with a fixed seed); the .ot archives' bytes are not (their
tensor order follows a hash map), the other files' are.
"""
import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "hub"
TINY = ROOT / "tests" / "fixtures" / "models"

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
T5_TINY = {"d_model": 16, "d_kv": 8, "d_ff": 32, "num_heads": 2, "num_layers": 1}

PRESETS = [
    # (repo, arch, config, reduction, weights file, files: name -> content or tiny source)
    ("sshleifer/distilbart-cnn-12-6", "bart", DISTILBART,
     {**BART_SMALL, "encoder_layers": 2, "decoder_layers": 1, "num_hidden_layers": 2},
     "rust_model.ot",
     {"tokenizer_config.json": {"model_max_length": 1024},
      "special_tokens_map.json": BART_SPECIAL,
      "vocab.json": "tiny-bart", "merges.txt": "tiny-bart"}),
    ("facebook/bart-large-cnn", "bart", BART_LARGE_CNN,
     {**BART_SMALL, "encoder_layers": 1, "decoder_layers": 1, "num_hidden_layers": 1},
     "rust_model.ot",
     {"generation_config.json": {
         "_from_model_config": True, "bos_token_id": 0, "decoder_start_token_id": 2,
         "early_stopping": True, "eos_token_id": 2, "forced_bos_token_id": 0,
         "forced_eos_token_id": 2, "length_penalty": 2.0, "max_length": 142, "min_length": 56,
         "no_repeat_ngram_size": 3, "num_beams": 4, "pad_token_id": 1,
         "transformers_version": "4.27.0.dev0"},
      "vocab.json": "tiny-bart", "merges.txt": "tiny-bart"}),
    ("google/pegasus-cnn_dailymail", "pegasus", PEGASUS_CNN,
     {**BART_SMALL, "encoder_layers": 1, "decoder_layers": 1, "num_hidden_layers": 1},
     "rust_model.ot",
     {"tokenizer_config.json": {"model_max_length": 1024, "full_tokenizer_file": None},
      "special_tokens_map.json": {"eos_token": "</s>", "unk_token": "<unk>",
                                  "pad_token": "<pad>", "mask_token": "<mask_2>",
                                  "additional_special_tokens": ["<mask_1>"] + [f"<unk_{i}>" for i in range(2, 103)]},
      "spiece.model": "tiny-pegasus"}),
    ("google-t5/t5-small", "t5", T5_SMALL, T5_TINY, "rust_model.ot",
     {"generation_config.json": T5_GEN, "spiece.model": "tiny-t5"}),
    ("google-t5/t5-base", "t5", T5_BASE, {**T5_TINY, "num_layers": 2}, "rust_model.ot",
     {"generation_config.json": T5_GEN, "spiece.model": "tiny-t5"}),
    ("google/flan-t5-base", "t5", FLAN_T5_BASE, {**T5_TINY, "num_decoder_layers": 1},
     "model.safetensors",
     {"generation_config.json": {"decoder_start_token_id": 0, "eos_token_id": 1,
                                 "pad_token_id": 0, "transformers_version": "4.27.0.dev0"},
      "tokenizer_config.json": {"additional_special_tokens": EXTRA_IDS, "eos_token": "</s>",
                                "extra_ids": 100, "model_max_length": 512,
                                "name_or_path": "google/t5-v1_1-base", "pad_token": "<pad>",
                                "sp_model_kwargs": {}, "tokenizer_class": "T5Tokenizer",
                                "unk_token": "<unk>"},
      "special_tokens_map.json": T5_SPECIAL, "spiece.model": "tiny-flan-t5"}),
    ("pszemraj/long-t5-tglobal-base-16384-book-summary", "longt5", LONG_T5_BOOK,
     {**T5_TINY, "num_decoder_layers": 1}, "rust_model.ot",
     {"generation_config.json": T5_GEN,
      "tokenizer_config.json": {"additional_special_tokens": EXTRA_IDS, "eos_token": "</s>",
                                "extra_ids": 100, "model_max_length": 16384,
                                "pad_token": "<pad>", "sp_model_kwargs": {},
                                "tokenizer_class": "T5Tokenizer", "unk_token": "<unk>"},
      "special_tokens_map.json": T5_SPECIAL, "spiece.model": "tiny-longt5"}),
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
        tiny_vocab = json.loads((TINY / ("tiny-bart" if arch == "bart" else
                                         "tiny-pegasus" if arch == "pegasus" else
                                         "tiny-t5") / "config.json").read_text())["vocab_size"]
        cfg["vocab_size"] = tiny_vocab
        dump(d / "config.json", cfg)
        for name, content in files.items():
            if isinstance(content, str):
                shutil.copyfile(TINY / content / name, d / name)
            else:
                dump(d / name, content)
        subprocess.run(example + [str(d), arch, weights], check=True, cwd=ROOT)
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Tiny random-weight NLI sequence classifiers and transformers' softmax probabilities, for the
rust-bert parity test (crates/kpeval-torch/tests/nli_parity.rs).

Run with the libtorch venv (torch 2.4.0, transformers 4.46.3, tokenizers, sentencepiece):
    ~/.cache/kpeval/torch-2.4.0/bin/python eval/reference/gen_nli_fixtures.py

It reads SNLI dev pairs from ../shared/data/nli/snli_1.0_dev.jsonl (only here: the tests read the
saved folders and the JSON), trains small tokenizers on the SNLI sentences (byte-level BPE for
RoBERTa / BART / DeBERTa v1, a sentencepiece unigram model for DeBERTa v2/v3, WordPiece for
BERT), builds one tiny 3-label classifier per architecture with a fixed seed (hidden 64, 2
layers) and saves each with `save_pretrained` (model.safetensors + tokenizer files) under
tests/fixtures/models/tiny-nli-*/. Label orders are those of the real checkpoints each stands
for; the BERT one ({0: contradiction, 1: entailment, 2: neutral}, as the cross-encoder/nli-*
models) is not the usual entailment-first order, and RoBERTa's / BART's are upper case.

It then reloads each folder as a user would (AutoTokenizer, AutoModelForSequenceClassification)
and records, for ~20 premise/hypothesis pairs plus two whose premise is longer than the model's
max length (truncated longest-first), the input ids and the softmax probabilities of one padded
batch, both in the model's label order and by name, into tests/fixtures/nli_expected.json.

Weights are drawn with a larger std than transformers' default init so that probabilities are
spread (a wrong label order or a wrong layer then shows as a large difference, not 1e-3).
"""
import json
import shutil
import sys
from collections import Counter
from pathlib import Path

import sentencepiece as spm
import tokenizers
import torch
import transformers
from transformers.models.bert.tokenization_bert import BasicTokenizer
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BartConfig,
    BartForSequenceClassification,
    BartTokenizer,
    BertConfig,
    BertForSequenceClassification,
    BertTokenizer,
    DebertaConfig,
    DebertaForSequenceClassification,
    DebertaTokenizer,
    DebertaV2Config,
    DebertaV2ForSequenceClassification,
    DebertaV2Tokenizer,
    RobertaConfig,
    RobertaForSequenceClassification,
    RobertaTokenizer,
)

ROOT = Path(__file__).resolve().parents[2]
SNLI = ROOT.parent / "shared" / "data" / "nli" / "snli_1.0_dev.jsonl"
OUT_MODELS = ROOT / "tests" / "fixtures" / "models"
OUT_JSON = ROOT / "tests" / "fixtures" / "nli_expected.json"
SEED = 4321
# Tokenizer max length (what truncation uses); small so that the chunking test needs only a
# paragraph and two of the parity pairs are truncated.
MAX_LEN = 64
MAX_POSITIONS = 128
HIDDEN = 64

LABELS_ROBERTA = {0: "CONTRADICTION", 1: "NEUTRAL", 2: "ENTAILMENT"}  # roberta-large-mnli, bart-large-mnli
LABELS_DEBERTA = {0: "entailment", 1: "neutral", 2: "contradiction"}  # MoritzLaurer/DeBERTa-v3-*-mnli
LABELS_BERT = {0: "contradiction", 1: "entailment", 2: "neutral"}  # cross-encoder/nli-* (non-standard)


def snli():
    rows = []
    with SNLI.open(encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["gold_label"] in ("entailment", "neutral", "contradiction"):
                rows.append(r)
    return rows


def parity_pairs(rows):
    pairs = [(rows[i]["sentence1"], rows[i]["sentence2"]) for i in range(0, 20 * 37, 37)]
    # Unusual characters and an empty-ish hypothesis.
    pairs.append(("Nicolás Maduro met envoys in São Paulo — “curly quotes” — on Tuesday.", "Maduro met envoys."))
    pairs.append(("A man is playing a guitar on stage.", "Nobody"))
    # Premises longer than MAX_LEN tokens: truncated longest-first (only the premise loses tokens).
    long1 = " ".join(rows[i]["sentence1"] for i in range(100, 130, 3))
    long2 = " ".join(rows[i]["sentence1"] for i in range(400, 460, 4))
    pairs.append((long1, rows[101]["sentence2"]))
    pairs.append((long2, "A dog runs."))
    return pairs


def corpus(rows, pairs):
    lines = []
    for r in rows:
        lines += [r["sentence1"], r["sentence2"]]
    for p, h in pairs:
        lines += [p, h]
    return lines


def init_(model, std=0.15, head_std=0.5):
    """Deterministic normal init, larger than the default; LayerNorm weights near 1."""
    g = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            low = name.lower()
            if "norm" in low:
                if name.endswith("bias"):
                    p.copy_(torch.randn(p.shape, generator=g) * 0.1)
                else:
                    p.copy_(1.0 + torch.randn(p.shape, generator=g) * 0.1)
            elif ("classifier" in low or "classification_head" in low or "pooler" in low) and p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=g) * head_std)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * std)


def labels(m):
    return dict(id2label={i: l for i, l in m.items()}, label2id={l: i for i, l in m.items()})


def train_bpe(lines, work, specials, vocab_size=1200):
    tok = tokenizers.ByteLevelBPETokenizer()
    tok.train_from_iterator(lines, vocab_size=vocab_size, min_frequency=2, show_progress=False, special_tokens=specials)
    tok.save_model(str(work))
    return work / "vocab.json", work / "merges.txt"


def build_roberta(lines, work):
    vocab, merges = train_bpe(lines, work, ["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    tok = RobertaTokenizer(vocab_file=str(vocab), merges_file=str(merges), model_max_length=MAX_LEN)
    cfg = RobertaConfig(
        vocab_size=len(tok), hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
        max_position_embeddings=MAX_POSITIONS + 2, type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1,
        bos_token_id=0, eos_token_id=2, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        architectures=["RobertaForSequenceClassification"], **labels(LABELS_ROBERTA),
    )
    return RobertaForSequenceClassification(cfg), tok


def build_bart(lines, work):
    vocab, merges = train_bpe(lines, work, ["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    tok = BartTokenizer(vocab_file=str(vocab), merges_file=str(merges), model_max_length=MAX_LEN)
    cfg = BartConfig(
        vocab_size=len(tok), d_model=HIDDEN, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128, max_position_embeddings=MAX_POSITIONS,
        pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, forced_eos_token_id=2,
        activation_function="gelu", dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, classifier_dropout=0.0,
        scale_embedding=False, architectures=["BartForSequenceClassification"], **labels(LABELS_ROBERTA),
    )
    return BartForSequenceClassification(cfg), tok


def build_deberta_v1(lines, work):
    vocab, merges = train_bpe(lines, work, ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"])
    tok = DebertaTokenizer(vocab_file=str(vocab), merges_file=str(merges), model_max_length=MAX_LEN)
    cfg = DebertaConfig(
        vocab_size=len(tok), hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
        max_position_embeddings=MAX_POSITIONS, type_vocab_size=0, relative_attention=True, max_relative_positions=-1,
        pos_att_type=["c2p", "p2c"], position_biased_input=False, pad_token_id=tok.pad_token_id, layer_norm_eps=1e-7,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, pooler_dropout=0.0, pooler_hidden_act="gelu",
        pooler_hidden_size=HIDDEN, architectures=["DebertaForSequenceClassification"], **labels(LABELS_DEBERTA),
    )
    return DebertaForSequenceClassification(cfg), tok


def build_deberta_v2(lines, work):
    # DeBERTa v2/v3: relative attention with log buckets and shared keys, the encoder
    # convolution of deberta-v2-xlarge. A DeBERTa-v3 style spm model: [PAD]=0, [CLS]=1, [SEP]=2, [UNK]=3; [MASK] is added after.
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_prefix=str(work / "spm"), model_type="unigram", vocab_size=1000,
        pad_id=0, bos_id=1, eos_id=2, unk_id=3, pad_piece="[PAD]", bos_piece="[CLS]", eos_piece="[SEP]",
        unk_piece="[UNK]", character_coverage=1.0, num_threads=1, input_sentence_size=0,
        shuffle_input_sentence=False, minloglevel=2,
    )
    tok = DebertaV2Tokenizer(vocab_file=str(work / "spm.model"), do_lower_case=False, split_by_punct=False, model_max_length=MAX_LEN)
    cfg = DebertaV2Config(
        vocab_size=len(tok), hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
        max_position_embeddings=MAX_POSITIONS, type_vocab_size=0, relative_attention=True, max_relative_positions=-1,
        position_buckets=32, norm_rel_ebd="layer_norm", share_att_key=True, pos_att_type=["p2c", "c2p"],
        # As deberta-v2-xlarge(-mnli): a convolution after the first layer (v3 models have none).
        conv_kernel_size=3, conv_act="gelu",
        position_biased_input=False, pad_token_id=0, layer_norm_eps=1e-7, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0, pooler_dropout=0.0, pooler_hidden_act="gelu", pooler_hidden_size=HIDDEN,
        architectures=["DebertaV2ForSequenceClassification"], **labels(LABELS_DEBERTA),
    )
    return DebertaV2ForSequenceClassification(cfg), tok


def build_bert(lines, work):
    # A deterministic WordPiece vocabulary (tokenizers' WordPiece trainer orders ties by hash):
    # special tokens, every character (alone and as ##continuation), then the most frequent words.
    basic = BasicTokenizer(do_lower_case=True)
    counts = Counter(w for l in lines for w in basic.tokenize(l))
    chars = sorted({c for w in counts for c in w})
    words = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if len(w) > 1][:900]
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars + ["##" + c for c in chars] + words
    (work / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tok = BertTokenizer(vocab_file=str(work / "vocab.txt"), do_lower_case=True, model_max_length=MAX_LEN)
    cfg = BertConfig(
        vocab_size=len(tok), hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
        max_position_embeddings=MAX_POSITIONS, type_vocab_size=2, layer_norm_eps=1e-12, pad_token_id=0,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, architectures=["BertForSequenceClassification"],
        **labels(LABELS_BERT),
    )
    return BertForSequenceClassification(cfg), tok


# (folder, builder, init std, classifier/pooler std): chosen so that probabilities are spread,
# neither uniform nor saturated.
BUILDERS = [
    ("tiny-nli-roberta", build_roberta, 0.15, 0.5),
    ("tiny-nli-bart", build_bart, 0.15, 0.5),
    ("tiny-nli-deberta", build_deberta_v1, 0.1, 0.2),
    ("tiny-nli-deberta-v2", build_deberta_v2, 0.1, 0.1),
    ("tiny-nli-bert", build_bert, 0.15, 0.5),
]


def by_name(probs, id2label):
    out = {}
    for i, p in enumerate(probs):
        l = id2label[i].lower()
        for key in ("entail", "neutral", "contra"):
            if key in l:
                out[{"entail": "entailment", "neutral": "neutral", "contra": "contradiction"}[key]] = p
    assert len(out) == 3, id2label
    return out


def folder_size(p):
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())


def main():
    torch.set_num_threads(1)
    rows = snli()
    pairs = parity_pairs(rows)
    lines = corpus(rows, pairs)
    work = ROOT / "target" / "nli-fixture-work"
    shutil.rmtree(work, ignore_errors=True)
    expected = {
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__, "tokenizers": tokenizers.__version__,
                     "sentencepiece": spm.__version__},
        "max_len": MAX_LEN,
        "pairs": [[p, h] for p, h in pairs],
        "models": {},
    }
    for name, build, std, head_std in BUILDERS:
        w = work / name
        w.mkdir(parents=True)
        torch.manual_seed(SEED)
        model, tok = build(lines, w)
        init_(model, std, head_std)
        dest = OUT_MODELS / name
        shutil.rmtree(dest, ignore_errors=True)
        model.save_pretrained(dest, safe_serialization=True)
        tok.save_pretrained(dest)
        # Reload as a user would and classify with what was saved.
        model = AutoModelForSequenceClassification.from_pretrained(dest).eval()
        tok = AutoTokenizer.from_pretrained(dest)
        slow = AutoTokenizer.from_pretrained(dest, use_fast=False)
        prem = [p for p, _ in pairs]
        hyp = [h for _, h in pairs]
        enc = tok(prem, hyp, padding=True, truncation=True, return_tensors="pt")
        enc_slow = slow(prem, hyp, padding=True, truncation=True, return_tensors="pt")
        assert enc["input_ids"].tolist() == enc_slow["input_ids"].tolist(), f"{name}: fast and slow tokenizers differ"
        full = tok(prem, hyp, truncation=False)["input_ids"]
        with torch.no_grad():
            logits = model(**enc).logits
            # One at a time too: padding must not change the result.
            single = torch.cat([model(**tok(p, h, truncation=True, return_tensors="pt")).logits for p, h in pairs])
        probs = logits.softmax(-1)
        probs_single = single.softmax(-1)
        pad_diff = float((probs - probs_single).abs().max())
        id2label = {int(k): v for k, v in model.config.id2label.items()}
        mask = enc["attention_mask"]
        results = []
        for i in range(len(pairs)):
            n = int(mask[i].sum())
            ids = enc["input_ids"][i][:n].tolist()
            results.append({
                "input_ids": ids,
                "truncated": len(full[i]) - len(ids),
                "logits": [float(x) for x in logits[i]],
                "probs": [float(x) for x in probs[i]],
                "named": by_name([float(x) for x in probs[i]], id2label),
            })
        size = folder_size(dest)
        assert size < 2_000_000, (name, size)
        expected["models"][name] = {
            "model_type": model.config.model_type,
            "id2label": {str(k): v for k, v in id2label.items()},
            "tokenizer": type(tok).__name__,
            "padding_max_abs_diff": pad_diff,
            "results": results,
        }
        spread = probs.max(-1).values
        print(f"{name}: {size / 1e3:.0f} kB, max prob mean {float(spread.mean()):.3f} (min {float(spread.min()):.3f}), "
              f"truncated pairs {sum(1 for r in results if r['truncated'])}, padded-vs-single {pad_diff:.1e}")
    shutil.rmtree(work, ignore_errors=True)
    OUT_JSON.write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT_JSON.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())

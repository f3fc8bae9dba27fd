#!/usr/bin/env python3
"""Tiny random-weight seq2seq models and transformers `generate` outputs, for the rust-bert parity
test (crates/kpeval-torch/tests/seq2seq_parity.rs).

Run with the libtorch venv (torch 2.4.0, transformers 4.46.3, tokenizers; it also needs
`sentencepiece` and `protobuf`: `pip install sentencepiece protobuf` into that venv):
    ~/.cache/kpeval/torch-2.4.0/bin/python eval/reference/gen_seq2seq_fixtures.py

It reads a small corpus of CNN/DM articles from ../shared/data/cnndm-frank-250.jsonl (only here:
the tests read the saved folders), trains a byte-level BPE tokenizer (BART) and a sentencepiece
unigram model (T5, Flan-T5, Pegasus, LongT5) on it, builds one tiny model per architecture with a
fixed seed (d_model 32, 2 + 2 layers), and saves each with `save_pretrained` (model.safetensors +
tokenizer files) under tests/fixtures/models/{tiny-bart,tiny-t5,tiny-flan-t5,tiny-pegasus,
tiny-longt5}/. It then records, for a few inputs and several decoding modes (greedy and beam
search with min/max length, no-repeat n-grams, length penalty, early stopping), the token ids,
decoded text and beam score of `model.generate` into tests/fixtures/seq2seq_expected.json, and the
same under `rustbert_rule`: transformers made to follow rust-bert 0.23 where it departs (see
`rustbert_rule()`), so that the test can tell a known departure from a bug. Output is
byte-identical from run to run.

Pegasus' `forced_eos_token_id` (which rust-bert's Pegasus generator lacks and kpeval emulates) is
off in tiny-pegasus and exercised by the `greedy_forced_eos` mode on a copy that sets it.
Everything else is the architecture's transformers default or the value of the real checkpoint
it stands for.
"""
import contextlib
import io
import json
import shutil
import sys
from pathlib import Path

import sentencepiece as spm
import tokenizers
import torch
import transformers
from transformers import (
    AutoTokenizer,
    BartConfig,
    BartForConditionalGeneration,
    BartTokenizer,
    LongT5Config,
    LongT5ForConditionalGeneration,
    PegasusConfig,
    PegasusForConditionalGeneration,
    PegasusTokenizer,
    T5Config,
    T5ForConditionalGeneration,
    T5Tokenizer,
)
from transformers.generation.beam_search import BeamHypotheses

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "data" / "cnndm-frank-250.jsonl"
OUT_MODELS = ROOT / "tests" / "fixtures" / "models"
OUT_JSON = ROOT / "tests" / "fixtures" / "seq2seq_expected.json"
SEED = 1234
# Small enough that the chunking test needs only a paragraph; larger than every parity input.
MAX_POSITIONS = 128

INPUTS = [
    "Gary Locke will be confirmed as Kilmarnock's permanent manager on Friday. An announcement will be made by the club on Friday morning, with the former Hearts boss being given a three-year deal.",
    "The talks in Caracas ended without an agreement on Tuesday, officials said. Both sides will meet again next month.",
    "Nicolás Maduro met envoys in São Paulo and Zürich — “curly quotes” and ‘single’ ones — before the vote.",
    "Prices rose 3.5% in March, the highest since 2019.",
]
# Settings the parity test passes to load_summarizer as GenerationConfig, by name.
MODES = {
    "greedy": dict(num_beams=1, min_length=8, max_length=20, no_repeat_ngram_size=0, length_penalty=1.0, early_stopping=False),
    "greedy_norepeat3": dict(num_beams=1, min_length=8, max_length=24, no_repeat_ngram_size=3, length_penalty=1.0, early_stopping=False),
    "beam4": dict(num_beams=4, min_length=8, max_length=20, no_repeat_ngram_size=0, length_penalty=1.0, early_stopping=False),
    "beam4_early_lp2_norepeat3": dict(num_beams=4, min_length=10, max_length=28, no_repeat_ngram_size=3, length_penalty=2.0, early_stopping=True),
}


def corpus_lines(n_articles=250):
    lines = []
    with CORPUS.open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= n_articles:
                break
            art = json.loads(line)["article"]
            lines.extend(s.strip() for s in art.replace("\n", " ").split(". ") if s.strip())
    # The parity inputs' unusual characters, so that they are in every vocabulary.
    lines.extend(INPUTS)
    return lines


def train_bpe(lines, vocab_size):
    tok = tokenizers.ByteLevelBPETokenizer()
    tok.train_from_iterator(lines, vocab_size=vocab_size, min_frequency=2, show_progress=False,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    return tok


def train_unigram(lines, vocab_size, path):
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=buf, model_type="unigram", vocab_size=vocab_size,
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, character_coverage=1.0, num_threads=1,
        input_sentence_size=0, shuffle_input_sentence=False, minloglevel=2,
    )
    path.write_bytes(buf.getvalue())


def init_(model, std, eos_scale):
    """Deterministic normal init with a larger std than the default, so that logits are peaked
    and argmax is robust to float noise. The EOS embedding row (tied to the LM head) is scaled so
    that some generations end with EOS before max_length and some do not."""
    g = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if "embed_positions" in name and not p.requires_grad:
                continue  # Pegasus' fixed sinusoidal table: keep it
            if p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=g) * std)
            elif "layer_norm" in name or "layernorm" in name:
                if name.endswith("bias"):
                    p.copy_(torch.randn(p.shape, generator=g) * 0.1)
                else:
                    p.copy_(1.0 + torch.randn(p.shape, generator=g) * 0.1)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * std)
        model.get_input_embeddings().weight[model.config.eos_token_id] *= eos_scale


def build_bart(lines, work):
    bpe = train_bpe(lines, 1000)
    bpe.save_model(str(work))
    tok = BartTokenizer(vocab_file=str(work / "vocab.json"), merges_file=str(work / "merges.txt"), model_max_length=MAX_POSITIONS)
    cfg = BartConfig(
        vocab_size=len(tok), d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=MAX_POSITIONS,
        pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.eos_token_id, forced_bos_token_id=tok.bos_token_id, forced_eos_token_id=tok.eos_token_id,
        activation_function="gelu", dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
    )
    torch.manual_seed(SEED)
    model = BartForConditionalGeneration(cfg)
    init_(model, 0.5, 2.0)
    model.tie_weights()
    return model, tok


def build_t5(lines, work, flan=False):
    """t5-small's layout (relu, LM head tied to the embeddings) or, with `flan`, Flan-T5's
    (gated-gelu, separate LM head)."""
    train_unigram(lines, 800, work / "spiece.model")
    tok = T5Tokenizer(vocab_file=str(work / "spiece.model"), extra_ids=100, model_max_length=MAX_POSITIONS, legacy=True)
    cfg = T5Config(
        vocab_size=len(tok), d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=4,
        relative_attention_num_buckets=8, relative_attention_max_distance=20, feed_forward_proj="gated-gelu" if flan else "relu",
        dropout_rate=0.0, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, tie_word_embeddings=not flan,
        n_positions=MAX_POSITIONS,
        # As a fine-tuned summarizer would have it: only the summarization entry.
        task_specific_params={"summarization": {"prefix": "summarize: ", "num_beams": 4, "min_length": 8, "max_length": 24,
                                                "length_penalty": 1.0, "no_repeat_ngram_size": 3, "early_stopping": True}},
    )
    torch.manual_seed(SEED)
    model = T5ForConditionalGeneration(cfg)
    init_(model, 0.5, 4.0)
    if flan:
        with torch.no_grad():  # the separate head's EOS row too
            model.lm_head.weight[cfg.eos_token_id] *= 4.0
    model.tie_weights()
    return model, tok


def build_longt5(lines, work):
    train_unigram(lines, 800, work / "spiece.model")
    tok = T5Tokenizer(vocab_file=str(work / "spiece.model"), extra_ids=100, model_max_length=MAX_POSITIONS, legacy=True)
    cfg = LongT5Config(
        vocab_size=len(tok), d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=4,
        relative_attention_num_buckets=8, relative_attention_max_distance=20, encoder_attention_type="transient-global",
        local_radius=4, global_block_size=4, feed_forward_proj="gated-gelu",
        # Tied: transformers 4.46 cannot reload an untied LongT5 from safetensors (save drops
        # encoder/decoder.embed_tokens as aliases of `shared`, load leaves them untied and
        # randomly initialized), so an untied tiny model would not even match itself.
        tie_word_embeddings=True,
        dropout_rate=0.0, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, n_positions=MAX_POSITIONS,
    )
    torch.manual_seed(SEED)
    model = LongT5ForConditionalGeneration(cfg)
    init_(model, 0.5, 4.0)
    model.tie_weights()
    return model, tok


def build_pegasus(lines, work):
    train_unigram(lines, 800, work / "spiece.model")
    tok = PegasusTokenizer(vocab_file=str(work / "spiece.model"), model_max_length=MAX_POSITIONS)
    cfg = PegasusConfig(
        vocab_size=len(tok), d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=MAX_POSITIONS,
        pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, activation_function="relu", scale_embedding=True,
        # rust-bert's Pegasus generator has no forced EOS: switched off (the real
        # google/pegasus-cnn_dailymail sets 1; see the report in the parity test).
        forced_eos_token_id=None,
        dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
    )
    torch.manual_seed(SEED)
    model = PegasusForConditionalGeneration(cfg)
    init_(model, 0.5, 3.0)
    model.tie_weights()
    return model, tok


def canonical(ids, eos):
    """Generated ids without the decoder start token, cut after the first EOS (what follows is padding)."""
    ids = list(ids)[1:]
    if eos in ids:
        ids = ids[: ids.index(eos) + 1]
    return ids


@contextlib.contextmanager
def rustbert_rule(model):
    """transformers made to do the two things rust-bert 0.23 does differently, to show that these
    are the only departures (the test accepts rust-bert's output when it equals this and differs
    from plain transformers):
    - beam search normalizes every hypothesis by its length including the decoder start token
      (transformers' legacy rule; 4.46 divides hypotheses still open at max_length by the
      generated length, one less);
    - Pegasus' sinusoidal position table is rounded to fp16 (rust-bert builds it in half)."""
    orig = BeamHypotheses.add

    def add(self, hyp, sum_logprobs, beam_indices=None, generated_len=None):
        return orig(self, hyp, sum_logprobs, beam_indices=beam_indices, generated_len=None)

    saved = []
    if model.config.model_type == "pegasus":
        for e in (model.model.encoder.embed_positions, model.model.decoder.embed_positions):
            saved.append((e, e.weight.detach().clone()))
            with torch.no_grad():
                e.weight.copy_(e.weight.half().float())
    BeamHypotheses.add = add
    try:
        yield
    finally:
        BeamHypotheses.add = orig
        with torch.no_grad():
            for e, w in saved:
                e.weight.copy_(w)


def run_modes(name, model, tok, prefix, extra_modes=()):
    model.eval()
    eos = model.config.eos_token_id
    texts = [prefix + t for t in INPUTS]
    enc_single = [tok(t, return_tensors="pt") for t in texts]
    enc_batch = tok(texts, return_tensors="pt", padding=True)
    out = {}
    for mode, kw in list(MODES.items()) + list(extra_modes):
        kw = dict(kw, do_sample=False, num_return_sequences=1)
        rows = []
        with torch.no_grad():
            batch = model.generate(**enc_batch, **kw, return_dict_in_generate=True, output_scores=True)
            for i, e in enumerate(enc_single):
                single = model.generate(**e, **kw, return_dict_in_generate=True, output_scores=True)
                ids = canonical(single.sequences[0].tolist(), eos)
                ids_b = canonical(batch.sequences[i].tolist(), eos)
                row = {
                    "input_ids": e["input_ids"][0].tolist(),
                    "ids": ids,
                    "text": tok.decode(single.sequences[0], skip_special_tokens=True),
                    "batch_matches_single": ids == ids_b,
                }
                with rustbert_rule(model):
                    rb = model.generate(**e, **kw, return_dict_in_generate=True, output_scores=True)
                row["rustbert_rule"] = {
                    "ids": canonical(rb.sequences[0].tolist(), eos),
                    "text": tok.decode(rb.sequences[0], skip_special_tokens=True),
                }
                if kw["num_beams"] > 1:
                    row["score"] = float(single.sequences_scores[0])
                    row["rustbert_rule"]["score"] = float(rb.sequences_scores[0])
                rows.append(row)
        out[mode] = rows
        print(f"{name} {mode}: " + "; ".join(f"{len(r['ids'])} ids" + ("" if r["batch_matches_single"] else " (batch differs)") for r in rows))
    return out


def folder_size(p):
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())


def main():
    torch.set_num_threads(1)
    lines = corpus_lines()
    OUT_MODELS.mkdir(parents=True, exist_ok=True)
    work = ROOT / "target" / "seq2seq-fixture-work"
    shutil.rmtree(work, ignore_errors=True)
    expected = {
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__, "tokenizers": tokenizers.__version__,
                     "sentencepiece": spm.__version__},
        "inputs": INPUTS,
        "modes": dict(MODES, greedy_forced_eos=dict(MODES["greedy"], forced_eos_token_id=1)),
        "max_positions": MAX_POSITIONS,
        "models": {},
    }
    # Pegasus checkpoints such as google/pegasus-cnn_dailymail force EOS at max_length - 1, which
    # rust-bert's Pegasus generator lacks and kpeval emulates; recorded for greedy decoding
    # (the test runs a copy of tiny-pegasus with forced_eos_token_id = 1).
    pegasus_extra = [("greedy_forced_eos", dict(MODES["greedy"], forced_eos_token_id=1))]
    for name, build, prefix, extra in [("tiny-bart", build_bart, "", ()), ("tiny-t5", build_t5, "summarize: ", ()),
                                       ("tiny-flan-t5", lambda l, w: build_t5(l, w, flan=True), "summarize: ", ()),
                                       ("tiny-pegasus", build_pegasus, "", pegasus_extra), ("tiny-longt5", build_longt5, "", ())]:
        w = work / name
        w.mkdir(parents=True)
        model, tok = build(lines, w)
        dest = OUT_MODELS / name
        shutil.rmtree(dest, ignore_errors=True)
        model.save_pretrained(dest, safe_serialization=True)
        tok.save_pretrained(dest)
        # Reload exactly as a user would, and generate with what was saved.
        model = type(model).from_pretrained(dest)
        tok = AutoTokenizer.from_pretrained(dest)
        slow = AutoTokenizer.from_pretrained(dest, use_fast=False)
        for t in INPUTS:
            assert tok(prefix + t)["input_ids"] == slow(prefix + t)["input_ids"], (name, t)
        size = folder_size(dest)
        assert size < 2_000_000, (name, size)
        expected["models"][name] = {
            "model_type": model.config.model_type,
            "prefix": prefix,
            "eos_token_id": model.config.eos_token_id,
            "tokenizer": type(tok).__name__,
            "results": run_modes(name, model, tok, prefix, extra),
        }
        print(f"{name}: {size / 1e3:.0f} kB in {dest.relative_to(ROOT)}")
    shutil.rmtree(work, ignore_errors=True)
    OUT_JSON.write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT_JSON.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())

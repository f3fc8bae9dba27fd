#!/usr/bin/env python3
"""Benchmark (not a test): seq2seq summarization throughput, `kpeval summarize` (rust-bert 0.23 on
libtorch 2.4.0) vs transformers 4.46.3 `model.generate` (torch 2.4.0, the same libtorch build), in
one run, 2 threads on both sides.

Model: a RANDOM-weight BART with sshleifer/distilbart-cnn-12-6's configuration (12 encoder + 6
decoder layers, d_model 1024, 16 heads, ffn 4096, vocab 50264; config.json written here by hand,
the hub being unreachable), `torch.manual_seed(0)` + transformers' default init, LM head tied to
the embeddings and final_logits_bias zero (as kpeval requires), saved with save_pretrained
(safetensors). Its tokenizer is a byte-level BPE trained here with `tokenizers` on the articles of
../shared/data/cnndm-frank-250.jsonl (vocab.json + merges.txt; padded with unreachable synthetic
tokens `<bench_pad_NNNNN>` when training stops short of 50264 tokens). Built once, cached under
~/.cache/kpeval/bench-models/distilbart-cnn-12-6-random/ and reused when present.

Inputs: 8 real CNN/DM articles, each cut at a word boundary so that it tokenizes to at most 512
tokens (special tokens included); the cut text is checked to re-tokenize to exactly the prefix of
the whole article's token ids, and the same text is what kpeval reads (JSONL).

Generation: greedy and beam 4, batch 1 and batch 8; no_repeat_ngram_size 0, length_penalty 1.0,
early_stopping true (what the config's task_specific_params say; kpeval reads them too).
The output length is forced: max_length = NEW + 1 (the decoder start token counts, as in
transformers) and min_length = NEW, so EOS is banned until the last step, where BART's forced EOS
puts it: every sequence has exactly NEW new tokens (forced BOS ... forced EOS) on both sides.
(min_length == max_length would not do: rust-bert applies the min-length EOS ban after forcing
EOS, so the last step would have no allowed token.)
NEW defaults to 142, distilbart-cnn-12-6's own max_length (its task_specific_params.summarization,
what a summary of this model may reach). The encoder pass (and first decoder step) costs the same
on both sides, so the ratio grows with NEW: `--new-tokens 64` measures shorter summaries, where
that shared part weighs more (greedy ratios ~1.2 there on this VM; `--split` separates the parts).

Timing (both sides in-process, model load and tokenization excluded; every measurement of
either side runs in a process of its own, so that no process holds its model in memory while the
other side runs: on this VM an idle Python process holding the transformers model slowed kpeval's
greedy batch-8 generation from 9.2 s to 10.7-11.4 s):
  transformers: `model.generate` per batch (this script re-run as `--hf-worker`), timed with
    perf_counter after one warm-up call (first article, 4 new tokens).
  kpeval: the time `kpeval summarize` reports on stderr for model generation ("kpeval:
    generation: ... in X s"): the generate calls of all batches, tokenized inputs in, ids out.
    Like the transformers side's warm-up call, kpeval runs one warm-up decoding step before its
    first batch (short copies of that batch's inputs: lazy set-up such as packing the decoder
    weights for that row count); it is logged separately ("warm-up (Y s)") and not timed.
    The whole-process wall time is shown too. (Earlier versions subtracted the wall time of a
    1-sentence run from the whole run: model-load noise of several seconds made that unusable.)
  The two sides alternate per configuration, `--repeats` times (default 2; which side goes first
  alternates between repeats); each side's figure is its median, and each repeat's ratio is
  shown. This shared machine's memory bandwidth varies with load outside it (not visible in the
  'others cpu-s' column): ratios of the same build moved by up to 0.2 between runs; more repeats
  or `--configs` (e.g. `--configs 1x1 --repeats 5`) narrow it down.
`--split` also times, on each side and in the same process right after the full measurement (kpeval:
a second process), the same batches generating a single new token: the encoder pass plus the first
decoder step, which computes the cross-attention keys/values. Both sides run that part with the same
libtorch kernels (MKL sgemm, flash attention), so it is about equal on both and bounds the overall
ratio; the second table gives the ratios of that prefix and of the remaining NEW-1 decoding steps.
Tokens/s = generated tokens (sequences x NEW) / seconds. Ratio = kpeval tokens/s / transformers
tokens/s. Identity: kpeval's summary text (records JSONL) vs transformers'
`decode(skip_special_tokens=True).strip()` of its ids (kpeval writes text, not ids).

The table's last column is the CPU time other processes used during each measurement (from
/proc/stat): on this 2-core machine anything well above 0 means the numbers are contaminated.

Run: ~/.cache/kpeval/torch-2.4.0/bin/python eval/bench/generate.py [--articles 8] [--new-tokens 142]
     [--kpeval target/release/kpeval] [--repeats 2] [--configs 1x1,1x8,4x1,4x8] [--split]
(needs a kpeval with `summarize --no-cache --early-stopping`; about 15-20 minutes on 2 cores, model
build included the first time. The "Token indices sequence length is longer than ..." warning comes
from tokenizing whole articles before they are cut and is harmless.)
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "cnndm-frank-250.jsonl"
MODEL_DIR = Path.home() / ".cache" / "kpeval" / "bench-models" / "distilbart-cnn-12-6-random"
THREADS = 2
VOCAB_SIZE = 50264
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
MAX_INPUT = 512  # tokens, special tokens included

# sshleifer/distilbart-cnn-12-6's config.json, written from memory of the hub file. The hub file
# has `force_bos_token_to_be_generated: true` (transformers turns it into forced_bos_token_id 0)
# and relies on BartConfig's default forced_eos_token_id 2; both ids are written out here.
CONFIG = {
    "_num_labels": 3,
    "activation_dropout": 0.0,
    "activation_function": "gelu",
    "add_bias_logits": False,
    "add_final_layer_norm": False,
    "architectures": ["BartForConditionalGeneration"],
    "attention_dropout": 0.0,
    "bos_token_id": 0,
    "classif_dropout": 0.0,
    "d_model": 1024,
    "decoder_attention_heads": 16,
    "decoder_ffn_dim": 4096,
    "decoder_layerdrop": 0.0,
    "decoder_layers": 6,
    "decoder_start_token_id": 2,
    "dropout": 0.1,
    "early_stopping": True,
    "encoder_attention_heads": 16,
    "encoder_ffn_dim": 4096,
    "encoder_layerdrop": 0.0,
    "encoder_layers": 12,
    "eos_token_id": 2,
    "extra_pos_embeddings": 2,
    "force_bos_token_to_be_generated": True,
    "forced_bos_token_id": 0,
    "forced_eos_token_id": 2,
    "id2label": {"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"},
    "init_std": 0.02,
    "is_encoder_decoder": True,
    "label2id": {"LABEL_0": 0, "LABEL_1": 1, "LABEL_2": 2},
    "length_penalty": 2.0,
    "max_length": 142,
    "max_position_embeddings": 1024,
    "min_length": 56,
    "model_type": "bart",
    "no_repeat_ngram_size": 3,
    "normalize_before": False,
    "normalize_embedding": True,
    "num_beams": 4,
    "num_hidden_layers": 12,
    "output_past": True,
    "pad_token_id": 1,
    "prefix": " ",
    "replacing_rate": 0,
    "scale_embedding": False,
    "static_position_embeddings": False,
    "student_decoder_layers": None,
    "student_encoder_layers": None,
    "task_specific_params": {
        "summarization": {
            "early_stopping": True,
            "length_penalty": 2.0,
            "max_length": 142,
            "min_length": 56,
            "no_repeat_ngram_size": 3,
            "num_beams": 4,
        }
    },
    "use_cache": True,
    "vocab_size": VOCAB_SIZE,
}


def articles():
    with DATA.open(encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            yield r["id"], r["article"]


# ---------------------------------------------------------------------------------------------
# Model and tokenizer (built once)

def build_model(dst: Path) -> dict:
    marker = dst / "bench-build.json"
    if marker.is_file():
        info = json.loads(marker.read_text())
        info["reused"] = True
        return info
    import tokenizers
    import torch
    from transformers import BartConfig, BartForConditionalGeneration, BartTokenizerFast

    t0 = time.perf_counter()
    tmp = dst.with_name(f"{dst.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)

    # Tokenizer: byte-level BPE on the corpus' articles.
    texts = [a for _, a in articles()]
    bpe = tokenizers.ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=VOCAB_SIZE, min_frequency=2, show_progress=False, special_tokens=SPECIALS)
    bpe.save_model(str(tmp))
    vocab = json.loads((tmp / "vocab.json").read_text(encoding="utf-8"))
    trained = len(vocab)
    assert sorted(vocab.values()) == list(range(trained)), "trained vocab ids are not contiguous"
    assert [vocab[s] for s in SPECIALS] == [0, 1, 2, 3, 4], "special token ids"
    for i in range(VOCAB_SIZE - trained):
        vocab[f"<bench_pad_{i:05d}>"] = trained + i
    (tmp / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tok = BartTokenizerFast(vocab_file=str(tmp / "vocab.json"), merges_file=str(tmp / "merges.txt"), model_max_length=1024)
    assert len(tok) == VOCAB_SIZE, (len(tok), VOCAB_SIZE)
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id) == (0, 1, 2)
    tok.save_pretrained(str(tmp))

    # Model: random weights, transformers' default init after manual_seed(0).
    torch.manual_seed(0)
    model = BartForConditionalGeneration(BartConfig(**CONFIG)).eval()
    assert model.lm_head.weight.data_ptr() == model.model.shared.weight.data_ptr(), "LM head not tied"
    assert float(model.final_logits_bias.abs().max()) == 0.0, "final_logits_bias not zero"
    n_params = sum(p.numel() for p in model.parameters())
    model.save_pretrained(str(tmp), safe_serialization=True)
    # The hand-written config as is (save_pretrained moves generation fields out of it); no
    # generation_config.json, like the hub repository: both sides read config.json.
    (tmp / "config.json").write_text(json.dumps(CONFIG, indent=2, sort_keys=True) + "\n")
    (tmp / "generation_config.json").unlink(missing_ok=True)
    info = {
        "trained_vocab": trained,
        "synthetic_tokens": VOCAB_SIZE - trained,
        "parameters": n_params,
        "build_s": round(time.perf_counter() - t0, 1),
        "torch": torch.__version__,
        "tokenizers": tokenizers.__version__,
    }
    (tmp / "bench-build.json").write_text(json.dumps(info, indent=2) + "\n")
    del model
    shutil.rmtree(dst, ignore_errors=True)
    tmp.rename(dst)
    info["reused"] = False
    return info


# ---------------------------------------------------------------------------------------------
# Inputs

def cut_inputs(tok, n):
    """n articles of at least MAX_INPUT tokens, cut at a word boundary to <= MAX_INPUT tokens."""
    out = []
    budget = MAX_INPUT - 2  # <s> ... </s>
    for aid, art in articles():
        art = art.replace("\r\n", "\n").replace("\r", "\n").strip()
        enc = tok(art, add_special_tokens=False, return_offsets_mapping=True)
        ids, offs = enc["input_ids"], enc["offset_mapping"]
        if len(ids) <= budget + 20:
            continue
        pieces = tok.convert_ids_to_tokens(ids)
        for k in range(budget, budget - 40, -1):
            # token k starts a new pre-token (a space-prefixed word): cut before it.
            if not pieces[k].startswith("\u0120"):
                continue
            text = art[: offs[k - 1][1]].rstrip()
            again = tok(text)["input_ids"]
            if again == [tok.bos_token_id] + ids[:k] + [tok.eos_token_id]:
                out.append((aid, text, again))
                break
        if len(out) == n:
            break
    if len(out) < n:
        sys.exit(f"only {len(out)} articles of more than {MAX_INPUT} tokens could be cut cleanly")
    return out


# ---------------------------------------------------------------------------------------------
# The two sides

class CpuMeter:
    """CPU seconds this process (or its finished children) used and CPU seconds the rest of the
    machine used (all CPUs busy time from /proc/stat minus ours) over an interval: the second
    shows whether something else competed for the 2 cores during a measurement."""

    def __init__(self, children=False):
        self.children = children
        self.own0, self.all0 = self._own(), self._all()

    def _own(self):
        t = os.times()
        return t.children_user + t.children_system if self.children else t.user + t.system

    @staticmethod
    def _all():
        try:
            v = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
        except OSError:
            return 0.0
        user, nice, system, _idle, _iowait, irq, softirq, _steal = v
        return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        own = self._own() - self.own0
        return own, max(0.0, self._all() - self.all0 - own)


def hf_generate(model, tok, texts, beams, batch, new_tokens):
    import torch
    seqs, secs = [], 0.0
    for i in range(0, len(texts), batch):
        enc = tok(texts[i : i + batch], return_tensors="pt", padding=True)
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(
                **enc, num_beams=beams, do_sample=False, min_length=new_tokens, max_length=new_tokens + 1,
                no_repeat_ngram_size=0, length_penalty=1.0, early_stopping=True, num_return_sequences=1,
                use_cache=True,
            )
        secs += time.perf_counter() - t0
        seqs.extend(out.tolist())
    return seqs, secs


def hf_worker(argv):
    """`generate.py --hf-worker SPEC.json`: one transformers measurement in a process of its own
    (load, warm-up call, timed generate), written as JSON next to SPEC. Run as a separate process
    like kpeval, so that neither side's memory is held while the other side runs (on this VM an
    idle process holding the transformers model slowed kpeval's generation by ~15%)."""
    spec = json.loads(Path(argv[0]).read_text())
    import torch
    from transformers import BartForConditionalGeneration, BartTokenizerFast

    torch.set_num_threads(THREADS)
    tok = BartTokenizerFast.from_pretrained(str(MODEL_DIR))
    t0 = time.perf_counter()
    model = BartForConditionalGeneration.from_pretrained(str(MODEL_DIR)).eval()
    load = time.perf_counter() - t0
    assert float(model.final_logits_bias.abs().max()) == 0.0
    texts, beams, batch, n_new = spec["texts"], spec["beams"], spec["batch"], spec["new_tokens"]
    hf_generate(model, tok, texts[:1], beams, 1, 4)  # warm-up
    meter = CpuMeter()
    seqs, secs = hf_generate(model, tok, texts, beams, batch, n_new)
    own, others = meter.stop()
    prefix = None
    if spec.get("split"):  # the same batches, one new token: encoder + first decoder step
        _, prefix = hf_generate(model, tok, texts, beams, batch, 1)
    Path(spec["out"]).write_text(json.dumps({"seqs": seqs, "secs": secs, "own": own, "others": others, "load": load,
                                             "prefix": prefix}))


def run_hf_worker(tmp, texts, beams, batch, n_new, rep, env, split=False):
    spec = tmp / f"hf-{beams}-{batch}-{rep}.spec.json"
    out = tmp / f"hf-{beams}-{batch}-{rep}.json"
    spec.write_text(json.dumps({"texts": texts, "beams": beams, "batch": batch, "new_tokens": n_new, "out": str(out),
                                "split": split}))
    p = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--hf-worker", str(spec)],
                       capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"transformers worker failed ({p.returncode}):\n{p.stderr[-3000:]}")
    r = json.loads(out.read_text())
    return r["seqs"], r["secs"], (r["own"], r["others"]), r["load"], r.get("prefix")


def kpeval_cmd(kpeval, inp, out, beams, batch, min_len, max_len):
    return [
        kpeval, "summarize", str(inp), "--model", str(MODEL_DIR), "--num-beams", str(beams),
        "--min-length", str(min_len), "--max-length", str(max_len), "--no-repeat-ngram-size", "0",
        "--length-penalty", "1.0", "--early-stopping", "true", "--batch-size", str(batch),
        "--threads", str(THREADS), "--no-cache", "-o", str(out),
    ]


def run_timed(cmd, env):
    """Whole-process wall time and the in-process generation seconds kpeval logs."""
    import re

    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"kpeval failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-3000:]}")
    m = re.search(r"kpeval: generation: .* in ([0-9.]+) s", p.stderr)
    if not m:
        sys.exit(f"kpeval did not log its generation time:\n{p.stderr[-3000:]}")
    return wall, float(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=8)
    ap.add_argument("--new-tokens", type=int, default=142,
                    help="forced new tokens per sequence (default 142: distilbart-cnn-12-6's max_length)")
    ap.add_argument("--kpeval", default=str(ROOT / "target" / "release" / "kpeval"))
    ap.add_argument("--repeats", type=int, default=2, help="alternating runs per side and configuration (medians)")
    ap.add_argument("--split", action="store_true",
                    help="also time a one-new-token generation of the same batches on both sides (the encoder pass "
                         "and the first decoder step) and report the ratio of the remaining decoding steps alone")
    ap.add_argument("--configs", default="1x1,1x8,4x1,4x8",
                    help="configurations to run, BEAMSxBATCH, comma-separated (default: all four)")
    args = ap.parse_args()
    n_new = args.new_tokens
    t_start = time.perf_counter()

    os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))
    os.environ.setdefault("MKL_NUM_THREADS", str(THREADS))
    import torch
    import transformers
    from transformers import BartForConditionalGeneration, BartTokenizerFast

    torch.set_num_threads(THREADS)
    info = build_model(MODEL_DIR)
    tok = BartTokenizerFast.from_pretrained(str(MODEL_DIR))
    inputs = cut_inputs(tok, args.articles)
    lens = [len(ids) for _, _, ids in inputs]

    tmp = Path(tempfile.mkdtemp(prefix="kpeval-generate-bench-"))
    inp = tmp / "articles.jsonl"
    inp.write_text("".join(json.dumps({"id": aid, "article": text}) + "\n" for aid, text, _ in inputs), encoding="utf-8")
    tiny = tmp / "tiny.jsonl"
    tiny.write_text(json.dumps({"id": "tiny", "article": "The talks ended without an agreement on Tuesday."}) + "\n")
    texts = [text for _, text, _ in inputs]
    try:  # (num_beams, batch)
        configs = [tuple(int(x) for x in c.split("x")) for c in args.configs.split(",") if c.strip()]
        assert configs and all(len(c) == 2 and min(c) >= 1 for c in configs)
    except (ValueError, AssertionError):
        sys.exit(f"--configs: expected BEAMSxBATCH[,BEAMSxBATCH...], got {args.configs!r}")

    hf_loads = []
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), MKL_NUM_THREADS=str(THREADS), KPEVAL_OFFLINE="1",
               KPEVAL_CACHE=str(tmp / "kpeval-cache"))
    run_timed(kpeval_cmd(args.kpeval, tiny, tmp / "first.jsonl", 1, 1, 1, 2), env)  # page cache, weights hash
    hf, kp, hf_prefix, kp_prefix = {}, {}, {}, {}
    for rep in range(args.repeats):
        for beams, batch in configs:
            def run_hf():
                seqs, secs, cpu, load, prefix = run_hf_worker(tmp, texts, beams, batch, n_new, rep, env, args.split)
                hf_loads.append(load)
                hf.setdefault((beams, batch), []).append((seqs, secs, cpu))
                if args.split:
                    hf_prefix.setdefault((beams, batch), []).append(prefix)

            def run_kp():
                meter = CpuMeter(children=True)
                out = tmp / f"kpeval-{beams}-{batch}-{rep}.jsonl"
                wall, gen_s = run_timed(kpeval_cmd(args.kpeval, inp, out, beams, batch, n_new, n_new + 1), env)
                recs = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
                kp.setdefault((beams, batch), []).append((recs, wall, gen_s, meter.stop()))
                if args.split:
                    _, pre_s = run_timed(kpeval_cmd(args.kpeval, inp, tmp / "prefix.jsonl", beams, batch, 1, 2), env)
                    kp_prefix.setdefault((beams, batch), []).append(pre_s)

            # which side goes first alternates between repeats (slow drifts in the machine's
            # state then do not favour one side)
            for run in ((run_hf, run_kp) if rep % 2 == 0 else (run_kp, run_hf)):
                run()

    # Report
    print(f"kpeval summarize vs transformers {transformers.__version__} generate (torch {torch.__version__}), {THREADS} threads")
    print(f"model: {MODEL_DIR} ({'reused' if info['reused'] else 'built now'}: random BART, distilbart-cnn-12-6 config, "
          f"{info['parameters'] / 1e6:.1f}M parameters; BPE vocab {info['trained_vocab']} trained + {info['synthetic_tokens']} synthetic = {VOCAB_SIZE})")
    print(f"inputs: {len(inputs)} CNN/DM articles (cnndm-frank-250), {min(lens)}-{max(lens)} tokens each (mean {statistics.mean(lens):.1f}), "
          f"cut at word boundaries; re-tokenization checked against the whole article's ids")
    print(f"output: forced {n_new} new tokens per sequence (min_length {n_new}, max_length {n_new + 1}), "
          f"no_repeat_ngram_size 0, length_penalty 1.0, early_stopping true")
    print("timing: both sides in-process, load and tokenization excluded: transformers = model.generate; "
          "kpeval = the generation time `kpeval summarize` logs; sides alternate per configuration (the first side "
          "alternating between repeats), "
          f"{args.repeats} repeat(s), medians")
    print(f"each measurement runs in a process of its own on both sides; transformers model load: median {statistics.median(hf_loads):.1f} s; 'others cpu-s' = CPU seconds used by other processes on this "
          f"{os.cpu_count()}-CPU machine during the measurements (sums); near 0 = no contention")
    print()
    hdr = (f"{'config':<16} {'tokens':>6} {'hf s':>8} {'hf tok/s':>9} {'kp wall':>8} {'kp s':>8} {'kp tok/s':>9} "
           f"{'kp/hf':>6}  {'per repeat':>18}  {'identical':>9}  {'others cpu-s hf/kp':>18}")
    print(hdr)
    print("-" * len(hdr))
    details = []
    for beams, batch in configs:
        hf_runs, kp_runs = hf[(beams, batch)], kp[(beams, batch)]
        seqs = hf_runs[0][0]
        hf_s = statistics.median(r[1] for r in hf_runs)
        kp_s = statistics.median(r[2] for r in kp_runs)
        wall = statistics.median(r[1] for r in kp_runs)
        hf_other = sum(r[2][1] for r in hf_runs)
        kp_other = sum(r[3][1] for r in kp_runs)
        per_rep = " ".join(f"{h[1] / k[2]:.2f}" for h, k in zip(hf_runs, kp_runs))
        new_lens = {len(s) - 1 for s in seqs}
        tokens = sum(len(s) - 1 for s in seqs)
        hf_tps, kp_tps = tokens / hf_s, tokens / kp_s
        same, diffs = 0, []
        for (aid, _, _), s in zip(inputs, seqs):
            h = tok.decode(s, skip_special_tokens=True).strip()
            k = None
            for run in kp_runs:  # every repeat must give the same text
                r = run[0].get(aid, {})
                t = (r.get("summary") or {}).get("text")
                if r.get("error"):
                    t = f"<error: {r['error']}>"
                k = t if k is None or k == t else "<differs between repeats>"
            if h == k:
                same += 1
            else:
                diffs.append((aid, h, k))
        name = f"{'greedy' if beams == 1 else f'beam {beams}'}, batch {batch}"
        print(f"{name:<16} {tokens:>6} {hf_s:>8.2f} {hf_tps:>9.1f} {wall:>8.2f} {kp_s:>8.2f} {kp_tps:>9.1f} {kp_tps / hf_tps:>5.2f}x  {per_rep:>18}  {f'{same}/{len(seqs)}':>9}  {f'{hf_other:.1f} / {kp_other:.1f}':>18}")
        special = set(tok.all_special_ids)
        content = [t for s in seqs for t in s if t not in special]
        details.append(f"{name}: transformers output has {len(set(content))} distinct non-special token ids "
                       f"({len(content)} of {tokens} tokens non-special); {len(set(map(tuple, seqs)))} distinct sequences")
        if new_lens != {n_new}:
            details.append(f"{name}: transformers generated {sorted(new_lens)} new tokens per sequence (expected {n_new})")
        for aid, h, k in diffs[:2]:
            p = next((i for i, (a, b) in enumerate(zip(h, k or "")) if a != b), min(len(h), len(k or "")))
            details.append(f"{name}: {aid} differs at char {p}:\n    transformers: {h[max(0, p - 40):p + 60]!r}\n    kpeval:       {(k or '')[max(0, p - 40):p + 60]!r}")
    if args.split:
        print()
        print(f"split (--split): 'prefix' = the same batches generating 1 new token (encoder pass + first decoder step), "
              f"timed the same way on each side right after the full run; 'rest' = full - prefix per repeat, the "
              f"remaining {n_new - 1} decoding steps; medians; ratio = transformers s / kpeval s")
        hdr2 = f"{'config':<16} {'prefix hf s':>11} {'prefix kp s':>11} {'ratio':>6}  {'rest hf s':>9} {'rest kp s':>9} {'ratio':>6}  {'rest per repeat':>18}"
        print(hdr2)
        print("-" * len(hdr2))
        for beams, batch in configs:
            hf_runs, kp_runs = hf[(beams, batch)], kp[(beams, batch)]
            hp, kpp = hf_prefix[(beams, batch)], kp_prefix[(beams, batch)]
            hr = [h[1] - p for h, p in zip(hf_runs, hp)]
            kr = [k[2] - p for k, p in zip(kp_runs, kpp)]
            name = f"{'greedy' if beams == 1 else f'beam {beams}'}, batch {batch}"
            hp_m, kp_m, hr_m, kr_m = (statistics.median(x) for x in (hp, kpp, hr, kr))
            per = " ".join(f"{a / b:.2f}" for a, b in zip(hr, kr))
            print(f"{name:<16} {hp_m:>11.2f} {kp_m:>11.2f} {hp_m / kp_m:>5.2f}x  {hr_m:>9.2f} {kr_m:>9.2f} {hr_m / kr_m:>5.2f}x  {per:>18}")
    if details:
        print()
        print("notes (text identity only sees non-special tokens):")
        for d in details:
            print("  " + d)
    print()
    print(f"total bench time {time.perf_counter() - t_start:.0f} s (outputs in {tmp})")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--hf-worker":
        hf_worker(sys.argv[2:])
    else:
        main()

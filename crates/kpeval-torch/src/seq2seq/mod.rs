//! Abstractive summarization with rust-bert's generators: BART / DistilBART, T5 / Flan-T5,
//! Pegasus and LongT5.
//!
//! A model is a preset name (models/presets.toml), a local folder (transformers
//! `save_pretrained` layout with `model.safetensors`, or a rust-bert folder with
//! `rust_model.ot`), or a hub id fetched through rust-bert's `RemoteResource` cache.
//! Safetensors weights are renamed to rust-bert's variable names in memory at load time.
//!
//! Generation settings, in order of precedence: the command line
//! ([`GenerationConfig`](kpeval::backend::GenerationConfig)), the preset, the config's
//! `task_specific_params.summarization`, `generation_config.json` (else the generation fields of
//! `config.json`), transformers' defaults.
//!
//! Sources longer than the model's context are never truncated: they are split on sentence
//! boundaries into chunks that fit (one sentence of overlap), each chunk is summarized, and the
//! chunk summaries are concatenated (`LongMerge::Concat`) or summarized again, pass after pass
//! until they fit the context (`LongMerge::SecondPass`); the summary's notes say so.
//!
//! Parity with transformers 4.46 `generate` is tested on tiny random models of every
//! architecture (crates/kpeval-torch/tests/seq2seq_parity.rs). Known departures (rust-bert 0.23
//! limitations; the test reproduces the beam normalization and Pegasus' fp16 positions in
//! transformers, to tell them from bugs):
//! - beam search, when `max_length` stops open beams: rust-bert normalizes their scores by the
//!   length including the decoder start token, transformers by the generated length, so the
//!   ranking between those and earlier-finished hypotheses can differ when length_penalty != 0;
//! - Pegasus: rust-bert's generator has no forced EOS; it is emulated here by allowing only EOS
//!   at the last step (exact for greedy; in beam search that last EOS keeps its log-probability
//!   where transformers sets it to 0); its sinusoidal position table is rounded to fp16;
//! - BART: rust-bert has no `final_logits_bias` and always ties the LM head to the embeddings, so
//!   a checkpoint with a non-zero bias or an untied head is refused rather than run differently;
//! - `length_penalty` must be > 0, and `early_stopping = "never"` is read as false.
//!
//! Modules: `load` (files, config, settings, tokenizer, weights), `config` (config.json for
//! rust-bert), `checkpoint` (weights mapped and renamed), `tokenize`, `chunk` (long sources),
//! `generate`, `summarize` (the [`Summarizer`](kpeval::summarize::Summarizer) implementation).
mod checkpoint;
mod chunk;
mod config;
mod generate;
mod load;
mod model;
mod summarize;
mod tokenize;

pub use crate::hub::offline_from_env;
pub use crate::presets::{find_preset, presets, Preset, PresetGeneration};
pub use load::load_summarizer;
pub use model::{Arch, Generated, Seq2SeqSummarizer, Settings};

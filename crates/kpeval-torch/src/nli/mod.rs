//! Natural language inference with sequence classifiers that have an MNLI-style 3-way head
//! (RoBERTa, DeBERTa v1, DeBERTa v2/v3, BART, BERT / MiniLM cross-encoders), and the two metrics
//! built on it: SummaC-ZS style faithfulness of the key points to the article, and key-point
//! alignment on entailment (`kp_nli`).
//!
//! A model is a local folder written by transformers `save_pretrained` (config.json, tokenizer
//! files, model.safetensors) or a hub id fetched through rust-bert's remote resources. For
//! BERT, RoBERTa and BART the safetensors variables are matched to rust-bert's
//! `*ForSequenceClassification` variable store in memory at load time (prefix, `gamma`/`beta`
//! and tied-embedding aliases); every variable of the store must be found with the right shape,
//! otherwise loading fails and names what is missing. DeBERTa v1 and v2/v3 run on a forward pass
//! written here on tch (module `deberta`) from the checkpoint's own names, because rust-bert
//! 0.23's DeBERTa models do not compute what transformers computes (details there).
//!
//! The label order is always read from config.json `id2label`: the labels whose names contain
//! (case-insensitively) "entail", "neutral" and "contra", exactly one each, or loading fails.
//!
//! Departures from transformers 4.46 that are handled at load time rather than accepted:
//! - rust-bert's BERT/RoBERTa layers hard-code LayerNorm eps = 1e-12, while RoBERTa checkpoints
//!   use 1e-5 (`layer_norm_eps`). LayerNorm is scale-invariant except for eps
//!   (LN(c·x; c²·ε) = LN(x; ε)), so the weights are reparameterized exactly: every hidden state
//!   is carried scaled by c = sqrt(1e-12 / layer_norm_eps) (embeddings, value/output biases and
//!   LayerNorm affine scaled by c; query/key/intermediate/head input weights divided by c). The
//!   computed function is the same; only float rounding differs.
//! - RoBERTa position ids are computed here from `pad_token_id` (rust-bert assumes 1), and BART's
//!   decoder inputs are shifted right with `decoder_start_token_id` as transformers does
//!   (rust-bert's default wraps the last token around, which agrees only when it is EOS).
//!
//! Pairs longer than the model's max length are truncated longest-first (as transformers'
//! `truncation=True`); [`NliProbs::truncated`] says how many tokens were cut, never silently.
//! Faithfulness chunks the article into sentence groups that fit, so it truncates only when a
//! single sentence (or a key point) is itself too long, and reports the count.
mod deberta;
mod metrics;
mod model;

pub use metrics::{nli_metrics, FaithfulnessMetric, NliCoverMetric, NliMetrics, NliSimilarity};
pub use model::{label_order, NliArch, NliModel, NliProbs};

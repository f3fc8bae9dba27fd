//! The seam between the lean library and the model runtime. The `kpeval` binary has no
//! libtorch; commands that need a model are re-executed by `kpeval-torch`, which registers a
//! [`Backend`] built on rust-bert/tch.
use crate::error::Result;
use crate::metrics::{Metric, MetricKind};
use crate::summarize::{Summarizer, SummarizerSpec};
use serde::{Deserialize, Serialize};

/// Generation settings (transformers' names), recorded in the signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenerationConfig {
    /// Beams of beam search (the model's default when unset).
    pub num_beams: Option<usize>,
    /// Fewest tokens generated.
    pub min_length: Option<usize>,
    /// Most tokens generated.
    pub max_length: Option<usize>,
    /// No n-gram of this size is generated twice.
    pub no_repeat_ngram_size: Option<usize>,
    /// Beam search's length penalty exponent.
    pub length_penalty: Option<f64>,
    /// Beam search stops when every beam has finished.
    pub early_stopping: Option<bool>,
    /// Scores of tokens already generated are divided (positive) or multiplied (negative) by
    /// this (≥ 1; 1 = off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repetition_penalty: Option<f64>,
    /// No n-gram of this size found in the source is generated (0 = off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoder_no_repeat_ngram_size: Option<usize>,
    /// Sample instead of searching (seeded by `seed`, per input).
    pub do_sample: bool,
    /// Seed of sampling.
    pub seed: u64,
    /// `cpu`, `cuda` or `cuda:N`.
    pub device: String,
    /// How the summaries of a long source's chunks become its summary.
    pub long_merge: LongMerge,
    /// Never download model files (the CLI's `--offline`); not part of any signature.
    #[serde(skip)]
    pub offline: bool,
}

/// How a source longer than the model's context is summarized from its chunks' summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LongMerge {
    /// The chunk summaries, in order, one per line.
    #[default]
    Concat,
    /// The chunk summaries, joined, are summarized again (and again while they exceed the
    /// context), so the summary has the length of one.
    SecondPass,
}

impl std::str::FromStr for LongMerge {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        [LongMerge::Concat, LongMerge::SecondPass]
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("'{s}': expected concat or second-pass"))
    }
}

impl LongMerge {
    /// Its name (`concat`, `second-pass`).
    pub fn as_str(self) -> &'static str {
        match self {
            LongMerge::Concat => "concat",
            LongMerge::SecondPass => "second-pass",
        }
    }
}

impl Default for GenerationConfig {
    fn default() -> Self {
        GenerationConfig {
            num_beams: None,
            min_length: None,
            max_length: None,
            no_repeat_ngram_size: None,
            length_penalty: None,
            early_stopping: None,
            repetition_penalty: None,
            encoder_no_repeat_ngram_size: None,
            do_sample: false,
            seed: 12345,
            device: "cpu".into(),
            long_merge: LongMerge::Concat,
            offline: false,
        }
    }
}

/// Model settings of model-backed metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetricConfig {
    /// Sentence-embedding model: preset name, hub id or local folder.
    pub embedding_model: String,
    /// NLI model; None means NLI metrics are not computed.
    pub nli_model: Option<String>,
    /// Similarity threshold for thresholded key-point coverage/precision.
    pub kp_threshold: f64,
    /// `cpu`, `cuda` or `cuda:N`.
    pub device: String,
    /// Never download model files.
    pub offline: bool,
    /// Write the coverage judge's features into each verdict.
    pub kp_cover_features: bool,
}

impl Default for ModelMetricConfig {
    fn default() -> Self {
        ModelMetricConfig {
            embedding_model: "all-MiniLM-L6-v2".into(),
            nli_model: None,
            kp_threshold: 0.6,
            device: "cpu".into(),
            offline: false,
            kp_cover_features: false,
        }
    }
}

pub use crate::runtime::{Embedder, NliOutput, NliScorer, TokenVectors};

/// What a model runtime provides.
pub trait Backend: Send + Sync {
    /// A sentence-embedding model by name (store name, local folder or hub id).
    fn embedder(&self, model: &str, device: &str) -> Result<Box<dyn Embedder>>;
    /// `--model-threads`: threads of each forward pass (before any model is loaded).
    fn set_threads(&self, _n: usize) {}
    /// `--offline`: no model file is downloaded by this backend (hub models must be cached).
    fn set_offline(&self, _offline: bool) {}
    /// Log lines about the models loaded since the last call (hub files downloaded or taken
    /// from the cache, generation settings in effect), for the caller to show: the library
    /// never prints. Empty by default.
    fn take_notes(&self) -> Vec<String> {
        Vec::new()
    }
    /// An NLI classifier by name (local folder or hub id).
    fn nli(&self, model: &str, device: &str) -> Result<Box<dyn NliScorer>>;
    /// A seq2seq summarizer (`Model` specs) or an embedding one (MMR).
    fn summarizer(
        &self,
        spec: &SummarizerSpec,
        gen: &GenerationConfig,
    ) -> Result<Box<dyn Summarizer>>;
    /// A model-backed metric; `Ok(None)` with a reason when it cannot run with this configuration
    /// (e.g. no NLI model given), which is reported as not computed.
    fn metric(
        &self,
        kind: MetricKind,
        cfg: &ModelMetricConfig,
    ) -> Result<std::result::Result<Box<dyn Metric>, String>>;
}
